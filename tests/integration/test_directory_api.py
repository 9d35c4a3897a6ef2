"""The directory service against the real database and broker: public reads without a
token, an admin's PUT that creates and then replaces with If-Match (428 without, 412 when
stale), refusals as problem+json that leave nothing behind, agencies paged by licence and
found by name or licence through an index, each change's event in the outbox and on the
broker through the relay, and the seed loaded once however often it runs."""
from __future__ import annotations

import json

import pytest

from services.directory import api as directory_api
from services.directory import seed
from services.directory.repository import Entries
from shared import mongo
from shared.auth import issue_token
from shared.outbox import OutboxStore
from shared.relay import Relay

pytestmark = pytest.mark.integration

TODAY = "2026-11-28"
STORES = ("agencies", "countries", "links", "topics", "outbox", "audit")


def agency(name_en="Example Overseas", name_bn="উদাহরণ ওভারসিজ", **overrides):
    return {"name": {"bn": name_bn, "en": name_en}, "status": "valid", "valid_until": None,
            "last_checked": TODAY, **overrides}


def topic(**overrides):
    return {"kind": "migration_paper", "title": {"bn": "পাসপোর্ট", "en": "Passport"},
            "summary": {"bn": "পাসপোর্টের কপি লাগে।", "en": "A copy is asked for."},
            "who_may_apply": {"bn": "জিজ্ঞেস করুন।", "en": "Ask the passport office."},
            "where_to_go": [{"bn": "পাসপোর্ট অফিস", "en": "A passport office"}], "last_checked": TODAY, **overrides}


class Desk:
    """The directory API in process and its database."""

    def __init__(self, infra):
        self.settings = infra.settings("directory")
        self.app = directory_api.create(self.settings, configure_logging=False)
        self.service = self.app.config["DIRECTORY_SERVICE"]
        self.http = self.app.test_client()
        self.db = mongo.database(self.settings)

    def admin(self, if_match=None, role="admin"):
        token = issue_token(self.settings, subject="admin-1", role=role)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def put(self, path, body, if_match=None, **headers):
        return self.http.put(f"/api/v1{path}", json=body, headers={**self.admin(if_match), **headers})

    def events(self, event_type):
        return [row["envelope"] for row in self.db.outbox.find({"type": event_type}).sort([("created_at", 1)])]

    def stored(self) -> dict:
        return {name: self.db[name].count_documents({}) for name in STORES}


@pytest.fixture
def desk(infra):
    return Desk(infra)


def test_anyone_reads_what_an_admin_created_and_replaced_with_if_match(desk):
    created = desk.put("/agencies/rl 0123", agency())
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == "/api/v1/agencies/RL-123" and created.headers["ETag"] == '"1"'
    assert created.json["licence_number"] == "RL-123" and list(created.json["name"]) == ["bn", "en"]

    read = desk.http.get("/api/v1/agencies/RL-0123")  # no token: the guide is public
    assert read.status_code == 200 and read.json["status"] == "valid" and read.json["last_checked"] == TODAY
    assert desk.http.get("/api/v1/agencies/123").status_code == 404  # a path takes a licence, RL and all

    suspended = desk.put("/agencies/RL-123", agency(status="suspended"), if_match=read.headers["ETag"])
    assert suspended.status_code == 200 and suspended.headers["ETag"] == '"2"'
    assert desk.http.get("/api/v1/agencies/RL-123").json["status"] == "suspended"

    again = desk.put("/agencies/RL-123", agency(status="suspended"), if_match='"2"')
    assert again.status_code == 200 and again.headers["ETag"] == '"2"'  # the same entry: no new version

    changes = desk.events("directory.agency.changed")
    assert [(e["data"]["change"], e["data"]["status"], e["aggregate_version"]) for e in changes] == [
        ("created", "valid", 1), ("replaced", "suspended", 2)]
    assert changes[1]["data"]["by"] == {"user": "admin-1", "role": "admin"}
    audit = list(desk.db.audit.find({"subject_id": "RL-123"}).sort([("at", 1)]))
    assert [(a["action"], a["details"]["version"], a["actor"]["user"]) for a in audit] == [
        ("created", 1, "admin-1"), ("replaced", 2, "admin-1")]


def test_every_kind_is_created_read_and_listed_bangla_first(desk):
    country = {"name": {"bn": "সৌদি আরব", "en": "Saudi Arabia"},
               "mission": {"name": {"bn": "বাংলাদেশ দূতাবাস, রিয়াদ", "en": "Embassy of Bangladesh, Riyadh"},
                           "labour_wing": {"phone": None, "email": None, "address": None, "url": None}},
               "last_checked": TODAY}
    link = {"title": {"bn": "মুক্তপাঠ", "en": "Muktopaath"}, "url": "https://muktopaath.gov.bd",
            "purpose": {"bn": "অনলাইন কোর্স", "en": "Online courses"}, "last_checked": TODAY}
    assert desk.put("/countries/sa", country).status_code == 201
    assert desk.put("/links/muktopaath", link).status_code == 201
    assert desk.put("/guide/topics/passport", topic()).status_code == 201

    assert desk.put("/countries/OM", {"name": {"bn": "ওমান", "en": "Oman"}, "last_checked": TODAY, "mission": {
        "name": {"bn": "বাংলাদেশ দূতাবাস, মাস্কাট", "en": "Embassy of Bangladesh, Muscat"}}}).status_code == 201
    countries = desk.http.get("/api/v1/countries").json["items"]
    assert [(c["code"], c["mission"]["labour_wing"]) for c in countries] == [
        ("OM", {"phone": None, "email": None, "address": None, "url": None}),
        ("SA", {"phone": None, "email": None, "address": None, "url": None})]
    assert desk.http.get("/api/v1/links").json["items"][0]["url"] == "https://muktopaath.gov.bd"
    topics = desk.http.get("/api/v1/guide/topics").json["items"]
    assert topics == [{"id": "passport", "kind": "migration_paper", "title": {"bn": "পাসপোর্ট", "en": "Passport"},
                       "summary": topic()["summary"], "last_checked": TODAY}]
    assert desk.http.get("/api/v1/guide/topics?kind=complaint").json["items"] == []
    detail = desk.http.get("/api/v1/guide/topics/passport").json
    assert detail["documents"] == [] and detail["forms"] == [] and detail["amounts"] is None
    assert detail["where_to_go"] == topic()["where_to_go"] and detail["sources"] == []
    assert [e["type"] for e in desk.db.outbox.find({}).sort([("created_at", 1)])] == [
        "directory.country.changed", "directory.link.changed", "directory.topic.changed", "directory.country.changed"]


def test_replacing_needs_the_current_if_match_and_a_create_none(desk):
    assert desk.put("/guide/topics/passport", topic()).status_code == 201
    missing = desk.put("/guide/topics/passport", topic(position=5))
    assert missing.status_code == 428 and missing.mimetype == "application/problem+json"
    stale = desk.put("/guide/topics/passport", topic(position=5), if_match='"7"')
    assert stale.status_code == 412 and stale.json["current_version"] == 1
    weak = desk.put("/guide/topics/passport", topic(position=5), if_match='W/"1"')
    assert weak.status_code == 412
    nothing_to_match = desk.put("/guide/topics/visa", topic(), if_match='"1"')
    assert nothing_to_match.status_code == 412
    assert desk.http.get("/api/v1/guide/topics/visa").status_code == 404
    assert desk.http.get("/api/v1/guide/topics/passport").json["version"] == 1
    assert len(desk.events("directory.topic.changed")) == 1


@pytest.mark.parametrize("why, path, body, status, field", [
    ("English in the Bangla text", "/agencies/RL-5", agency(name_bn="Example Overseas"), 422, "name"),
    ("no English text", "/agencies/RL-5", {**agency(), "name": {"bn": "উদাহরণ"}}, 422, "name"),
    ("a status not in the list", "/agencies/RL-5", agency(status="blacklisted"), 422, "status"),
    ("checked tomorrow", "/agencies/RL-5", agency(last_checked="2999-01-01"), 422, "last_checked"),
    ("a date that is not one", "/agencies/RL-5", agency(last_checked="28/11/2026"), 422, "last_checked"),
    ("an unknown field", "/agencies/RL-5", agency(rating=5), 422, "rating"),
    ("a licence no agency has", "/agencies/ABC-5", agency(), 404, None),
    ("a country code of three letters", "/countries/SAU",
     {"name": {"bn": "সৌদি আরব", "en": "Saudi Arabia"}, "last_checked": TODAY,
      "mission": {"name": {"bn": "বাংলাদেশ দূতাবাস, রিয়াদ", "en": "Embassy of Bangladesh, Riyadh"}}}, 404, None),
    ("a country without its mission", "/countries/SA",
     {"name": {"bn": "সৌদি আরব", "en": "Saudi Arabia"}, "last_checked": TODAY}, 422, "mission"),
    ("a link to a plain http address", "/links/bdjobs",
     {"title": {"bn": "বিডিজবস", "en": "bdjobs"}, "url": "http://bdjobs.com",
      "purpose": {"bn": "চাকরি", "en": "Jobs"}, "last_checked": TODAY}, 422, "url"),
    ("a topic kind not in the list", "/guide/topics/visa", topic(kind="visa"), 422, "kind"),
    ("a form without its Bangla title", "/guide/topics/visa",
     topic(forms=[{"title": {"bn": "", "en": "Form"}, "url": None}]), 422, "forms"),
])
def test_bad_input_is_a_json_problem_and_writes_nothing(desk, why, path, body, status, field):
    answer = desk.put(path, body)
    assert answer.status_code == status, (why, answer.json)
    assert answer.mimetype == "application/problem+json"
    if field:
        assert field in answer.json["errors"], (why, answer.json)
    assert desk.stored() == dict.fromkeys(STORES, 0)


def test_malformed_json_is_400_and_only_an_admin_writes(desk):
    broken = desk.http.put("/api/v1/agencies/RL-5", data="{not json", content_type="application/json",
                           headers=desk.admin())
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    assert desk.http.put("/api/v1/agencies/RL-5", json=agency()).status_code == 401
    assert desk.put("/agencies/RL-5", agency(), **desk.admin(role="welfare_officer")).status_code == 403
    unknown = desk.http.get("/api/v1/countries/ZZ")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert desk.stored() == dict.fromkeys(STORES, 0)


def test_agencies_page_in_licence_order_by_status_and_by_name_or_licence(desk):
    names = {9: ("Al Noor Overseas", "আল নূর ওভারসিজ"), 10: ("Bengal Manpower", "বেঙ্গল ম্যানপাওয়ার"),
             123: ("Noor Travels", "নূর ট্রাভেলস"), 4000: ("Desh Overseas", "দেশ ওভারসিজ")}
    for number, (en, bn) in names.items():
        status = "cancelled" if number == 10 else "valid"
        assert desk.put(f"/agencies/RL-{number}", agency(en, bn, status=status)).status_code == 201

    first = desk.http.get("/api/v1/agencies?limit=2").json
    second = desk.http.get(f"/api/v1/agencies?limit=2&cursor={first['next_cursor']}").json
    assert [a["licence_number"] for a in first["items"] + second["items"]] == ["RL-9", "RL-10", "RL-123", "RL-4000"]
    assert second["next_cursor"] is None
    assert set(first["items"][0]) == {"licence_number", "name", "status", "valid_until", "last_checked"}

    def found(query):
        answer = desk.http.get(f"/api/v1/agencies?{query}")
        assert answer.status_code == 200, answer.json
        return [a["licence_number"] for a in answer.json["items"]]

    assert found("status=cancelled") == ["RL-10"]
    assert found("q=noor") == ["RL-9", "RL-123"]  # the beginning of a word of the name
    assert found("q=নূর") == ["RL-9", "RL-123"]
    assert found("q=overseas&status=valid") == ["RL-9", "RL-4000"]
    assert found("q=al noor") == ["RL-9"]
    assert found("q=rl-0123") == found("q=123") == ["RL-123"]
    assert found("q=123&status=cancelled") == []
    assert desk.http.get("/api/v1/agencies?cursor=nonsense").status_code == 422
    assert desk.http.get("/api/v1/agencies?status=blacklisted").status_code == 422


@pytest.mark.parametrize("status, words, after", [
    (None, [], None), (None, [], 10), ("valid", [], None), ("valid", [], 10), (None, ["noor"], None),
    (None, ["noor"], 10), ("valid", ["noor"], 10), (None, ["al", "noor"], 10)])
def test_every_agency_filter_and_a_later_page_are_served_by_an_index(desk, status, words, after):
    for number in range(1, 4):
        assert desk.put(f"/agencies/RL-{number}", agency(f"Noor {number}")).status_code == 201
    plans = json.dumps(Entries(desk.db, "agency").explain_agency_page(status, words, after), default=str)
    assert "COLLSCAN" not in plans and "IXSCAN" in plans, plans


def test_a_change_is_published_by_the_relay(infra, desk):
    tap = infra.tap("directory.#")
    relay = Relay(OutboxStore(desk.db), desk.settings)
    infra.background(relay, relay.run)
    assert desk.put("/links/bideshjatra", {"title": {"bn": "বিদেশযাত্রা", "en": "Bideshjatra"},
                                           "url": "https://bideshjatra.gov.bd",
                                           "purpose": {"bn": "প্রস্তুতি", "en": "Preparation"},
                                           "last_checked": TODAY}).status_code == 201
    messages = tap.drain(expect=1)
    assert [m[0].routing_key for m in messages] == ["directory.link.changed"]
    event = json.loads(messages[0][2])
    assert event["data"] == {"id": "bideshjatra", "change": "created", "last_checked": TODAY,
                             "by": {"user": "admin-1", "role": "admin"},
                             "title": {"bn": "বিদেশযাত্রা", "en": "Bideshjatra"}, "url": "https://bideshjatra.gov.bd"}


def test_the_seed_loads_once_and_leaves_an_admins_change_alone(desk):
    entries = seed.read(seed.DirectoryConfig().seed_path, desk.service.today())
    lines: list[str] = []
    first = seed.load(desk.service, entries, say=lines.append)
    assert first == {"created": len(entries)} and len(lines) == len(entries) and lines[0].startswith("[1/")
    kinds = {kind for kind, _, _ in entries}
    assert kinds == {"country", "link", "topic"}  # no agency: the reference names no real licence
    outbox = desk.db.outbox.count_documents({})
    assert outbox == len(entries)

    tag = desk.http.get("/api/v1/links/bibhui").headers["ETag"]
    body = {k: v for k, v in desk.http.get("/api/v1/links/bibhui").json.items()
            if k not in ("id", "version", "updated_at")}
    assert body["url"] is None  # not an address anyone here is sure of
    assert desk.put("/links/bibhui", {**body, "url": "https://example.gov.bd"}, if_match=tag).status_code == 200

    again = seed.load(desk.service, entries, say=lines.append)
    assert again == {"kept": len(entries)}
    assert desk.http.get("/api/v1/links/bibhui").json["url"] == "https://example.gov.bd"
    assert desk.db.outbox.count_documents({}) == outbox + 1  # the admin's change only

    forced = seed.load(desk.service, entries, force=True, say=lines.append)
    assert forced == {"replaced": 1, "unchanged": len(entries) - 1}
    assert desk.http.get("/api/v1/links/bibhui").json["url"] is None


def test_the_seed_refuses_a_bad_file_before_writing_anything(desk, tmp_path):
    bad = tmp_path / "seed.json"
    bad.write_text(json.dumps({"agencies": [{"licence_number": "RL-1", **agency(), "phone": "12345"}]}))
    with pytest.raises(seed.SeedError, match="phone"):
        seed.read(bad, desk.service.today())
    bad.write_text(json.dumps({"agencies": [{"licence_number": "RL-1", **agency(last_checked="2999-01-01")}]}))
    with pytest.raises(seed.SeedError, match="last_checked"):
        seed.read(bad, desk.service.today())
    assert desk.stored() == dict.fromkeys(STORES, 0)


def test_the_seed_command_seeds_a_first_start_once(desk, monkeypatch, capsys):
    monkeypatch.setenv("MONGO_URI", desk.settings.mongo_uri)
    monkeypatch.setenv("MONGO_DB", desk.settings.database)
    monkeypatch.delenv("DIRECTORY_SEED_FILE", raising=False)
    assert seed.main(["--if-empty"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("Seeding the directory from ") and "Done: 22 created" in first
    assert desk.http.get("/api/v1/guide/topics/complaint").json["amounts"] == {"bn": "বিনা খরচে।",
                                                                               "en": "Free of charge."}
    assert seed.main(["--if-empty"]) == 0
    assert "nothing seeded" in capsys.readouterr().out
    assert seed.main([]) == 0 and "Done: 22 kept" in capsys.readouterr().out
    assert desk.db.outbox.count_documents({}) == 22
