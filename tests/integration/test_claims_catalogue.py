"""The claim-type catalogue changed by an admin through the API, against the real database:
versions with effective dates, the shipped file as version 1, a bad catalogue refused whole,
claims judged by the version they were filed under, admin-only publishing under If-Match."""
from __future__ import annotations

import copy
import json
import threading
from datetime import timedelta

import pytest

from services.claims import api as claims_api
from services.claims import catalogue
from services.claims.bootstrap import unit_of_work
from services.claims.config import ClaimsConfig
from services.claims.consumer import consumer as claims_consumer
from shared import mongo
from shared.auth import issue_token
from shared.fields import today_in_bangladesh

from tests.integration.test_claims_api import OTHER, OVERRIDE, REF, death_grant, registration_event

pytestmark = pytest.mark.integration

SHIPPED = json.loads(catalogue.DEFAULT_PATH.read_text(encoding="utf-8"))
VERSIONS = "/api/v1/claim-types/versions"
# What a refused publication must not leave behind.
STORES = ("catalogue_versions", "outbox", "audit")


def next_catalogue(label="2026-12-1", days_from_today=0, change=None) -> dict:
    """The shipped catalogue with its own label and date: death grant raised to Tk 3,50,000."""
    raw = copy.deepcopy(SHIPPED)
    raw.update(version=label, effective_from=(today_in_bangladesh() + timedelta(days=days_from_today)).isoformat())
    death = next(t for t in raw["types"] if t["code"] == "death_grant")
    death["amount"] = {"rule": "fixed", "amount": 350000}
    if change:
        change(raw)
    return raw


class Board:
    """The claims API in process as its admins and officers see it, and its database."""

    def __init__(self, infra):
        self.settings = infra.settings("claims")
        self.app = claims_api.create(self.settings, configure_logging=False,
                                     config=ClaimsConfig(second_approval_above=10_000_000))
        self.http, self.db = self.app.test_client(), mongo.database(self.settings)
        uow = unit_of_work(self.settings)
        for reference in (REF, OTHER):
            claims_consumer.process(uow, registration_event(
                "registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন", phone="+8801712345609",
                registered_by={"user": "op", "role": "welfare_officer"}))

    def headers(self, role="admin", user=None, if_match=None) -> dict:
        token = issue_token(self.settings, subject=user or f"{role}-1", role=role,
                            migrant_ref=REF if role == "migrant" else None)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def publish(self, raw, if_match='"1"', role="admin", user=None):
        return self.http.post(VERSIONS, json=raw, headers=self.headers(role, user, if_match))

    def versions(self, role="welfare_officer"):
        return self.http.get(VERSIONS, headers=self.headers(role))

    def in_force(self):
        return self.http.get("/api/v1/claim-types")  # no token: public

    def stored(self) -> dict:
        return {name: self.db[name].count_documents({}) for name in STORES}

    def file(self, body=None):
        return self.http.post("/api/v1/claims", json=body or death_grant(), headers=self.headers("welfare_officer"))


@pytest.fixture
def board(infra):
    return Board(infra)


def test_the_shipped_file_is_version_1_and_the_catalogue_in_force_is_public(board):
    public = board.in_force()
    assert public.status_code == 200, public.json
    assert public.json["number"] == 1 and public.json["version"] == SHIPPED["version"]
    assert {t["code"] for t in public.json["types"]} == {t["code"] for t in SHIPPED["types"]}
    listed = board.versions()
    assert listed.status_code == 200 and listed.headers["ETag"] == '"1"'
    [seeded] = listed.json["items"]
    assert seeded["state"] == "in_force" and seeded["published_by"] is None
    assert board.db.outbox.count_documents({}) == 0  # installing is nobody's act: no event
    # A second start finds version 1 and seeds nothing more.
    claims_api.create(board.settings, configure_logging=False)
    assert board.db.catalogue_versions.count_documents({}) == 1


def test_versions_are_for_staff_and_publishing_for_admins_only(board):
    assert board.versions(role="migrant").status_code == 403
    assert board.http.get(VERSIONS).status_code == 401
    before = board.stored()
    for role in ("welfare_officer", "udc_operator", "legal_aid"):
        refused = board.publish(next_catalogue(), role=role)
        assert refused.status_code == 403, (role, refused.json)
    assert board.stored() == before


def test_an_admin_publishes_a_version_that_is_in_force_from_its_date_audited_and_announced(board):
    published = board.publish(next_catalogue(), user="admin-7")
    assert published.status_code == 201, published.json
    assert published.headers["ETag"] == '"2"'
    assert published.headers["Location"].endswith("/claim-types/versions/2")
    assert published.json["state"] == "in_force" and published.json["published_by"]["user"] == "admin-7"
    assert board.in_force().json["number"] == 2
    read = board.http.get(published.headers["Location"], headers=board.headers("welfare_officer"))
    death = next(t for t in read.json["types"] if t["code"] == "death_grant")
    assert death["amount"] == {"rule": "fixed", "amount": 350000}
    assert [v["state"] for v in board.versions().json["items"]] == ["in_force", "superseded"]
    event = board.db.outbox.find_one({"type": "claims.catalogue.published", "aggregate_version": 2})["envelope"]
    assert event["data"]["number"] == 2 and event["data"]["version"] == "2026-12-1"
    assert event["data"]["published_by"]["user"] == "admin-7"
    audit = board.db.audit.find_one({"action": "publish"})
    assert audit["subject_type"] == "catalogue" and audit["subject_id"] == "2" and audit["actor"]["user"] == "admin-7"


def test_a_version_dated_tomorrow_is_scheduled_and_claims_are_filed_under_the_one_in_force(board):
    assert board.publish(next_catalogue(days_from_today=1)).status_code == 201
    assert board.in_force().json["number"] == 1
    assert [v["state"] for v in board.versions().json["items"]] == ["scheduled", "in_force"]
    filed = board.file()
    assert filed.json["catalogue_number"] == 1 and filed.json["amount_rule"]["amount"] == 300000


@pytest.mark.parametrize("change, says", [
    (lambda r: r["types"][1].update(amount={"rule": "fixed"}), "death_grant"),
    (lambda r: r["types"].append(copy.deepcopy(r["types"][0])), "listed twice"),
    (lambda r: r["types"][0].update(documents=[["Death Certificate"]]), "documents"),
    (lambda r: r.update(effective_from="2026-01-01"), "effective_from"),
    (lambda r: r.update(version=SHIPPED["version"]), "taken by version 1"),
    (lambda r: r.update(version=" "), "version"),
    (lambda r: r.update(types=[]), "types"),
])
def test_a_catalogue_that_does_not_hold_together_is_422_naming_the_problem_and_leaves_nothing(board, change, says):
    before = board.stored()
    refused = board.publish(next_catalogue(change=change))
    assert refused.status_code == 422, refused.json
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert says in json.dumps(refused.json, ensure_ascii=False)
    assert board.stored() == before
    assert board.in_force().json["number"] == 1


def test_a_claim_keeps_the_version_it_was_filed_under_and_is_judged_by_it(board):
    old = board.file().json
    assert old["catalogue_number"] == 1
    assert board.publish(next_catalogue()).status_code == 201
    new = board.file(death_grant(OTHER)).json
    assert new["catalogue_number"] == 2 and new["amount_rule"]["amount"] == 350000
    kept = board.http.get(f"/api/v1/claims/{old['claim_id']}", headers=board.headers("welfare_officer")).json
    assert kept["catalogue_number"] == 1 and kept["amount_rule"]["amount"] == 300000
    # Officers decide the old claim by version 1's rule: Tk 3,50,000 is above it, Tk 3,00,000 is the rule.
    board.db.claims.update_one({"_id": old["claim_id"]}, {"$set": {"status": "under_review"}})  # papers aside
    step = f"/api/v1/claims/{old['claim_id']}/approval"
    above = board.http.post(step, json={"amount": 350000, **OVERRIDE},
                            headers=board.headers("welfare_officer", if_match=f'"{old["version"]}"'))
    assert above.status_code == 422 and "300000" in above.json["errors"]["amount"][0]
    approved = board.http.post(step, json=OVERRIDE, headers=board.headers("welfare_officer",
                                                                          if_match=f'"{old["version"]}"'))
    assert approved.status_code == 200, approved.json
    assert approved.json["approved_amount"] == 300000 and approved.json["catalogue_number"] == 1


def test_a_type_added_by_a_new_version_is_filed_and_one_it_removed_is_refused_without_a_restart(board):
    def swap(raw):
        legal = next(t for t in raw["types"] if t["code"] == "legal_aid")
        raw["types"].remove(legal)
        raw["types"].append({**legal, "code": "legal_aid_abroad", "name_en": "Legal aid abroad"})
    assert board.publish(next_catalogue(change=swap)).status_code == 201
    body = {"migrant_reference": REF, "district": "Cumilla", "event": {"country": "SA"}}
    added = board.file({**body, "type": "legal_aid_abroad"})
    assert added.status_code == 201, added.json
    assert added.json["name_en"] == "Legal aid abroad"
    removed = board.file({**body, "type": "legal_aid"})
    assert removed.status_code == 422 and "type" in removed.json["errors"]


def test_two_admins_who_read_the_same_version_cannot_overwrite_each_other(board):
    etag = board.versions(role="admin").headers["ETag"]
    first = board.publish(next_catalogue("2026-12-a"), if_match=etag, user="admin-1")
    assert first.status_code == 201
    before = board.stored()
    second = board.publish(next_catalogue("2026-12-b"), if_match=etag, user="admin-2")
    assert second.status_code == 412 and second.json["latest_version"] == 2
    assert board.publish(next_catalogue("2026-12-b"), if_match=None).status_code == 428
    assert board.stored() == before
    assert board.publish(next_catalogue("2026-12-b"), if_match='"2"', user="admin-2").status_code == 201


def test_two_admins_publishing_at_the_same_moment_on_the_same_version_make_one_version(board):
    answers, start = [], threading.Barrier(2)

    def publish(label):
        start.wait(timeout=10)
        answers.append(board.app.test_client().post(
            VERSIONS, json=next_catalogue(label), headers=board.headers(if_match='"1"')).status_code)
    threads = [threading.Thread(target=publish, args=(f"2026-12-{n}",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [201, 412]
    assert board.db.catalogue_versions.count_documents({}) == 2
    assert board.db.outbox.count_documents({"type": "claims.catalogue.published"}) == 1


@pytest.mark.parametrize("extra", [{"$where": "1"}, {"a.b": 1}, {"": 1}, {"notes": {"$gt": 1}}])
def test_keys_a_catalogue_may_carry_beside_its_own_are_stored_as_sent_or_refused_never_a_500(board, extra):
    def add(raw):
        raw.update(extra)
        raw["types"][0].update(extra)
    answer = board.publish(next_catalogue(change=add))
    assert answer.status_code in (201, 422), answer.json
    if answer.status_code == 201:
        stored = board.db.catalogue_versions.find_one({"_id": 2})["document"]
        assert {k: stored[k] for k in extra} == extra
