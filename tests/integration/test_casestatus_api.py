"""The case-status read API against the real database: who reads which timeline (a migrant
their own, another migrant 403, a family member their named case only, staff any and
audited, restricted complaints only their assignee, admins and the complainant), clear
JSON errors; and catch-up from complaints' and claims' real replays (python -m shared.replay),
with its progress output, no SMS, and nothing new the second time."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.casestatus import api as casestatus_api
from services.casestatus import bootstrap
from services.casestatus import consumer as casestatus_consumer
from services.claims import consumer as claims_consumer
from services.complaints import consumer as complaints_consumer
from shared.auth import issue_token
from tests.integration import test_case_replays as case_replays
from tests.integration import test_claims_api as claims_tests
from tests.integration.test_replay import run_command, serving, start_worker
from tests.unit.casestatus_builders import MIGRANT, PHONE, START, complaint, journey, registered

pytestmark = pytest.mark.integration

OTHER_PHONE = "+8801799999999"


class Desk:
    def __init__(self, infra):
        self.settings = infra.settings("casestatus")
        self.uow = bootstrap.unit_of_work(self.settings)
        self.db = self.uow.db
        self.http = casestatus_api.create(self.settings, configure_logging=False).test_client()

    def apply(self, *events):
        for event in events:
            casestatus_consumer.consumer.process(self.uow, event)

    def get(self, path, role=None, **claims):
        headers = {}
        if role:
            subject = claims.pop("subject", f"{role}-1")
            headers["Authorization"] = "Bearer " + issue_token(self.settings, subject=subject, role=role,
                                                               audience="casestatus", **claims)
        return self.http.get(f"/api/v1{path}", headers=headers)

    def ids(self, path, role, **claims):
        answer = self.get(path, role, **claims)
        assert answer.status_code == 200, answer.json
        return {item["id"] for item in answer.json["items"]}


@pytest.fixture
def desk(infra):
    return Desk(infra)


def restricted_complaint():
    received = complaint("received", "received", START, 1, restricted=True)
    assigned = complaint("assigned", "received", START + timedelta(hours=1), 2, restricted=True, assignee="legal-7")
    return received, assigned


def test_a_migrant_reads_their_own_timeline_and_nobody_else_s(desk):
    desk.apply(*journey())
    mine = desk.get(f"/migrants/{MIGRANT}/timeline", "migrant", migrant_ref=MIGRANT)
    assert mine.status_code == 200 and len(mine.json["items"]) == len(journey())
    other = desk.get(f"/migrants/{MIGRANT}/timeline", "migrant", migrant_ref="PB-9999-9999")
    assert other.status_code == 403 and other.content_type == "application/problem+json"
    family = desk.get(f"/migrants/{MIGRANT}/timeline", "family", subject=f"family:{PHONE}", cases=["CLM-1"])
    assert family.status_code == 403
    assert desk.get(f"/migrants/{MIGRANT}/timeline").status_code == 401
    assert desk.get("/migrants/PB-0000-0000/timeline", "welfare_officer").status_code == 404


def test_a_family_member_reads_the_case_their_sign_in_names_and_nothing_else(desk):
    desk.apply(*journey())
    family = {"subject": "family:+8801811111111", "cases": ["CLM-1"]}
    answer = desk.get("/cases/CLM-1/timeline?lang=en", "family", **family)
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "approved" and answer.json["next_steps"]["status"] == "approved"
    types = [item["type"] for item in answer.json["items"]]
    assert "documents.document.rejected" in types and not any(t.startswith("complaints.") for t in types)
    assert desk.get("/cases/CMP-1/timeline", "family", **family).status_code == 403
    assert desk.get("/cases/CLM-404/timeline", "welfare_officer").status_code == 404


def test_staff_read_any_timeline_and_each_read_is_audited(desk):
    desk.apply(*journey())
    assert desk.get(f"/migrants/{MIGRANT}/timeline", "welfare_officer", subject="officer-9").status_code == 200
    assert desk.get("/cases/CMP-1/timeline", "udc_operator", subject="op-3", udc_centre="UDC X").status_code == 200
    desk.get(f"/migrants/{MIGRANT}/timeline", "migrant", migrant_ref=MIGRANT)  # the person's own read is not
    trail = [(r["actor"]["user"], r["action"], r["subject_id"]) for r in desk.db.audit.find({}).sort("at", 1)]
    assert trail == [("officer-9", "read_timeline", MIGRANT), ("op-3", "read_case_timeline", "CMP-1")]


def test_a_restricted_complaint_shows_only_to_its_assignee_admins_and_the_complainant(desk):
    received, assigned = restricted_complaint()
    desk.apply(registered(), received, assigned)
    hidden = {received.id, assigned.id}
    path = f"/migrants/{MIGRANT}/timeline?limit=1"
    officer = desk.get(path, "welfare_officer")
    # Filtered in the query: a page of one is full and holds no restricted entry, and none follows.
    assert [i["id"] for i in officer.json["items"]] == [registered().id] and officer.json["next_cursor"] is None
    assert officer.json["open_cases"] == []
    assert desk.ids(f"/migrants/{MIGRANT}/timeline", "legal_aid", subject="legal-8").isdisjoint(hidden)
    for role, claims in (("legal_aid", {"subject": "legal-7"}), ("admin", {}), ("migrant", {"migrant_ref": MIGRANT})):
        assert hidden <= desk.ids(f"/migrants/{MIGRANT}/timeline", role, **claims), role
    assert desk.get("/cases/CMP-1/timeline", "welfare_officer").status_code == 403
    assert desk.db.audit.find_one({"action": "read_case_timeline_refused"})
    named = desk.get("/cases/CMP-1/timeline", "family", subject=f"family:{OTHER_PHONE}", cases=["CMP-1"])
    assert named.status_code == 403  # named by the token, but not the phone that filed it
    assert desk.ids("/cases/CMP-1/timeline", "family", subject=f"family:{PHONE}", cases=["CMP-1"]) == hidden


def test_bad_input_is_a_clear_json_error(desk):
    desk.apply(registered())
    for query in ("lang=fr", "limit=0", "limit=1000", "cursor=%%%", "cursor=WzEsMl0", "colour=red"):
        answer = desk.get(f"/migrants/{MIGRANT}/timeline?{query}", "migrant", migrant_ref=MIGRANT)
        assert answer.status_code in (400, 422) and answer.content_type == "application/problem+json", query


def test_openapi_and_health(desk):
    document = desk.http.get("/openapi.json").json
    assert {"/api/v1/migrants/{reference}/timeline", "/api/v1/cases/{case_id}/timeline"} <= set(document["paths"])
    assert desk.http.get("/health/live").status_code == 200


# -- catch-up ------------------------------------------------------------------------------

def test_catch_up_from_complaints_replay_builds_timelines_without_sms(infra, desk):
    complaints = case_replays.complaints_desk(infra)
    open_id, restricted_id = case_replays.file_two(complaints)
    case_replays.publish_while_nobody_listens(complaints.settings)  # before case status had a queue
    serving(infra, complaints_consumer.replays.start(complaints.settings, complaints.db, page_size=1))
    start_worker(infra, casestatus_consumer.consumer, desk.settings, desk.uow)
    casestatus_consumer.replays.start(desk.settings, desk.db)

    code, out, err = run_command(infra, "--to", "casestatus", "--from", "complaints", "--timeout", "15")

    assert code == 0, err
    assert "complaints: 2 to replay" in out and "casestatus: applied 2 of 2" in out, out
    timeline = desk.get(f"/migrants/{case_replays.REF}/timeline?lang=en", "admin").json
    cases = {item["case"]["id"] for item in timeline["items"]}
    assert cases == {open_id, restricted_id} and all(item["replayed"] for item in timeline["items"])
    texts = [item["text"] for item in timeline["items"]]
    assert any(text.endswith("is now: at the hearing stage.") for text in texts), texts
    steps = {case["case_id"]: case for case in timeline["open_cases"]}
    assert steps[open_id]["next_hearing"]["venue"] == "BMET Dhaka, room 3"
    officer = desk.ids(f"/migrants/{case_replays.REF}/timeline", "welfare_officer")
    assert officer and all(not entry.startswith(f"replay:{restricted_id}") for entry in officer)
    assert desk.db.notifications.count_documents({}) == 0
    before = desk.db.entries.count_documents({})

    again, out, err = run_command(infra, "--to", "casestatus", "--from", "complaints", "--timeout", "15")
    assert again == 0 and "casestatus: applied 0 of 2" in out, err or out
    assert desk.db.entries.count_documents({}) == before and desk.db.notifications.count_documents({}) == 0


def test_catch_up_from_claims_replay_tells_the_approved_amount(infra, desk):
    claims = case_replays.claims_desk(infra)
    claim_id, _ = claims_tests.approved_claim(claims)  # recommended, then approved by a second officer
    assert claims.step(claim_id, "approval", {}, user="officer-2").json["status"] == "approved"
    case_replays.publish_while_nobody_listens(claims.settings)
    serving(infra, claims_consumer.replays.start(claims.settings, claims.db, page_size=1))
    start_worker(infra, casestatus_consumer.consumer, desk.settings, desk.uow)
    casestatus_consumer.replays.start(desk.settings, desk.db)

    code, out, err = run_command(infra, "--to", "casestatus", "--from", "claims", "--timeout", "15")

    assert code == 0 and "casestatus: applied 1 of 1" in out, err or out
    timeline = desk.get(f"/migrants/{case_replays.REF}/timeline?lang=en", "migrant", migrant_ref=case_replays.REF)
    assert timeline.json["items"][0]["text"].endswith("is now: approved."), timeline.json
    [steps] = timeline.json["open_cases"]
    assert (steps["case_id"], steps["amount"], steps["steps"][0]) == (claim_id, 300000, "Tk 3,00,000 will be sent to you.")
    bangla = desk.get(f"/migrants/{case_replays.REF}/timeline", "migrant", migrant_ref=case_replays.REF).json
    assert bangla["open_cases"][0]["steps"][0] == "৩,০০,০০০ টাকা পাঠানো হবে।"
    assert desk.db.notifications.count_documents({}) == 0
