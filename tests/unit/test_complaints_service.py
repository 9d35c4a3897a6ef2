"""The complaints service layer over in-memory ports (the fakes below keep the real
contracts: all or nothing, events only on commit, a stale version refused), and its
settings: a bad value stops start-up."""
from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from services.complaints import bootstrap, categories, domain
from services.complaints.config import ComplaintsConfig
from services.complaints.repository import DuplicateComplaint, matches
from services.complaints.service import ComplaintsService
from shared.auth import Principal
from shared.config import Settings
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from tests import harness
from tests.unit.fake_tx import FakeTxBase, FakeUnitOfWorkBase

REF, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
LAWYER = Principal("legal-1", "legal_aid")
OTHER_LAWYER = Principal("legal-2", "legal_aid")
ADMIN = Principal("admin-1", "admin")
MIGRANT = Principal("m-1", "migrant", migrant_ref=REF)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()


# -- fakes behind the service's ports ----------------------------------------------------------

class FakeComplaints:
    def __init__(self, store: dict):
        self.store = store

    def add(self, complaint):
        if complaint["_id"] in self.store or any(c["receipt_number"] == complaint["receipt_number"]
                                                 for c in self.store.values()):
            raise DuplicateComplaint()
        self.store[complaint["_id"]] = copy.deepcopy(complaint)

    def get(self, complaint_id):
        found = self.store.get(complaint_id)
        return copy.deepcopy(found) if found else None

    def replace(self, complaint, expected_version):
        if self.store.get(complaint["_id"], {}).get("version") != expected_version:
            raise PreconditionFailed("stale")
        self.store[complaint["_id"]] = copy.deepcopy(complaint)

    def search(self, alternatives, limit, after):
        rows = {c["_id"]: c for query, residual in alternatives for c in self.store.values()
                if matches(c, query) and matches(c, residual)}
        ordered = sorted(rows.values(), key=lambda c: (c["created_at"], c["_id"]), reverse=True)
        if after:
            ordered = [c for c in ordered if (c["created_at"], c["_id"]) < tuple(after)]
        return copy.deepcopy(ordered[:limit])


class FakeHistory:
    def __init__(self, store: dict):
        self.store = store

    def add(self, entry):
        assert entry["_id"] not in self.store, "history written twice for one event"
        self.store[entry["_id"]] = dict(entry)

    def page(self, complaint_id, limit, after):
        rows = sorted((e for e in self.store.values() if e["complaint_id"] == complaint_id),
                      key=lambda e: (e["occurred_at"], e["_id"]), reverse=True)
        return rows[:limit]


class FakeRows:
    """A projection: migrants, documents or claims."""

    def __init__(self, store: dict):
        self.store = store

    def get(self, key):
        return copy.deepcopy(self.store.get(key))

    def update(self, key, changes):
        self.store.setdefault(key, {"_id": key}).update(changes)

    def save(self, row):
        self.store[row["_id"]] = dict(row)


class FakeAudit:
    def __init__(self, entries: list):
        self.entries = entries

    def record(self, actor, action, subject_type, subject_id, **details):
        self.entries.append((actor.subject, action, subject_id))


class FakeTx(FakeTxBase):
    source = "complaints"

    complaints = property(lambda self: FakeComplaints(self.state["complaints"]))
    history = property(lambda self: FakeHistory(self.state["history"]))
    migrants = property(lambda self: FakeRows(self.state["migrants"]))
    documents = property(lambda self: FakeRows(self.state["documents"]))
    claims = property(lambda self: FakeRows(self.state["claims"]))
    audit = property(lambda self: FakeAudit(self.state["audit"]))


class FakeUnitOfWork(FakeUnitOfWorkBase):
    tx_class = FakeTx


class FakeReads:
    """Reads outside a transaction: the state as committed (looked up each time, since a
    rolled-back unit of work puts back its snapshot)."""

    def __init__(self, uow):
        self.uow = uow

    complaints = property(lambda self: FakeComplaints(self.uow.state["complaints"]))
    history = property(lambda self: FakeHistory(self.uow.state["history"]))


@pytest.fixture
def uow():
    uow = FakeUnitOfWork({"complaints": {}, "history": {}, "migrants": {}, "documents": {}, "claims": {}, "audit": []})
    uow.reads_audited = []  # the service's audit trail of reads, outside any transaction
    for reference in (REF, OTHER):
        uow.state["migrants"][reference] = {"_id": reference, "registered": True}
    return uow


def make_service(uow, config=ComplaintsConfig(), **ports) -> ComplaintsService:
    numbers = itertools.count(1)
    service = ComplaintsService(uow, FakeReads(uow), FakeAudit(uow.reads_audited), categories.load(), config,
                                clock=lambda: NOW, today=lambda: TODAY,
                                make_id=lambda: f"CMP-2026-{next(numbers):08d}", **ports)
    return service


@pytest.fixture
def service(uow):
    return make_service(uow)


def intake(reference=REF, **overrides):
    return {"complainant": {"migrant_reference": reference, "name": "Rahim Uddin", "phone": "01712345678",
                            "relation": "self"},
            "channel": "udc", "category": "unpaid_wages",
            "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": "RL-1234"}],
            "amount_claimed": 250000, "narrative": "Eight months of wages were never paid by the employer.",
            "district": "Cumilla", "restricted": False, **overrides}


def tag(complaint) -> str:
    return f'"{complaint["version"]}"'


def heard(service, complaint_id):
    c = service.get(ADMIN, complaint_id)
    for step in (lambda c: service.start_scrutiny(LAWYER, complaint_id, tag(c)),
                 lambda c: service.acknowledge(LAWYER, complaint_id, {"committee": ["DD"]}, tag(c)),
                 lambda c: service.send_notice(LAWYER, complaint_id, tag(c)),
                 lambda c: service.schedule_hearing(LAWYER, complaint_id, {
                     "date": TODAY + timedelta(days=7), "venue": "BMET", "parties": ["complainant", "sub_agent"]},
                     tag(c)),
                 lambda c: service.hold_hearing(LAWYER, complaint_id, {
                     "attendance": {"complainant": True, "sub_agent": False}, "minutes": "Heard."}, tag(c))):
        c = step(c)
    return c


# -- intake --------------------------------------------------------------------------------------

def test_intake_issues_a_receipt_number_sets_the_targets_and_writes_event_and_history_together(uow, service):
    filed = service.file(LAWYER, intake())
    assert filed["receipt_number"].startswith("CP-") and filed["status"] == "received"
    assert filed["target_days"] == {"scrutiny": 7, "acknowledgement": 15, "disposal": 90}
    assert filed["linked_claims"] == [] and filed["due_order"] == NOW + timedelta(days=7)  # scrutiny's due date
    [event] = uow.outbox
    assert event.type == domain.RECEIVED_EVENT and event.data["receipt_number"] == filed["receipt_number"]
    [line] = uow.state["history"].values()
    assert (line["summary"], line["complaint_id"]) == ("Complaint received", filed["complaint_id"])
    assert line["summary_bn"] == "অভিযোগ গ্রহণ করা হয়েছে"


def test_targets_are_the_configured_ones(uow):
    config = ComplaintsConfig(scrutiny_days=3, acknowledgement_days=10, disposal_days=60)
    assert make_service(uow, config).file(LAWYER, intake())["target_days"] == {
        "scrutiny": 3, "acknowledgement": 10, "disposal": 60}


def test_an_unregistered_migrant_is_404_and_nothing_is_written(uow, service):
    with pytest.raises(NotFound):
        service.file(LAWYER, intake(reference="PB-ZZZZ-ZZZZ"))
    assert uow.state["complaints"] == {} and uow.outbox == [] and uow.state["history"] == {}


def test_a_migrant_files_only_their_own_complaint(uow, service):
    with pytest.raises(Forbidden):
        service.file(MIGRANT, intake(reference=OTHER))
    assert service.file(MIGRANT, intake())["filed_by"]["migrant_ref"] == REF


def test_a_clash_of_drawn_receipt_numbers_is_drawn_again(uow):
    receipts = iter(["CP-2345-678X", "CP-2345-678X", "CP-ABCD-EFGH"])
    service = make_service(uow, make_receipt=lambda: next(receipts))
    assert [service.file(LAWYER, intake())["receipt_number"] for _ in range(2)] == ["CP-2345-678X", "CP-ABCD-EFGH"]


# -- steps ---------------------------------------------------------------------------------------

def test_a_step_needs_the_current_version(uow, service):
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    with pytest.raises(PreconditionRequired):
        service.start_scrutiny(LAWYER, complaint_id, None)
    with pytest.raises(PreconditionFailed):
        service.start_scrutiny(LAWYER, complaint_id, '"2"')
    with pytest.raises(PreconditionFailed):
        service.start_scrutiny(LAWYER, complaint_id, 'W/"1"')
    assert len(uow.outbox) == 1
    assert service.start_scrutiny(LAWYER, complaint_id, '"1"')["status"] == "scrutiny"


def test_the_hearing_cap_comes_from_the_settings(uow):
    service = make_service(uow, ComplaintsConfig(hearing_cap=1))
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    c = heard(service, complaint_id)
    second = {"date": TODAY + timedelta(days=14), "venue": "BMET", "parties": ["complainant", "sub_agent"]}
    with pytest.raises(Conflict) as refused:
        service.schedule_hearing(LAWYER, complaint_id, second, tag(c))
    assert refused.value.extra["cap"] == 1
    again = service.schedule_hearing(LAWYER, complaint_id, {**second, "over_cap_reason": "New evidence"}, tag(c))
    assert len(again["hearings"]) == 2 and uow.outbox[-1].data["hearing_no"] == 2


def test_the_payment_that_pays_the_whole_is_followed_by_complied_each_with_its_own_version(uow, service):
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    c = heard(service, complaint_id)
    c = service.decide(LAWYER, complaint_id, {"kind": "settled", "amount": 1000,
                                              "payment_deadline": TODAY + timedelta(days=30)}, tag(c))
    c = service.start_monitoring(LAWYER, complaint_id, tag(c))
    c = service.record_payment(LAWYER, complaint_id, {"amount": 400, "paid_on": TODAY}, tag(c))
    c = service.record_payment(LAWYER, complaint_id, {"amount": 600, "paid_on": TODAY, "reference": "B-2"}, tag(c))
    assert (c["status"], c["paid_total"]) == ("complied", 1000)
    last = [(e.type.rsplit(".", 1)[1], e.aggregate_version, e.data["status"], e.data.get("payment_amount"))
            for e in uow.outbox[-3:]]
    assert last == [("payment_received", c["version"] - 2, "compliance_monitoring", 400),
                    ("payment_received", c["version"] - 1, "compliance_monitoring", 600),
                    ("complied", c["version"], "complied", None)]
    with pytest.raises(Conflict):  # complied: no more payments
        service.record_payment(LAWYER, complaint_id, {"amount": 1, "paid_on": TODAY}, tag(c))


def test_not_complied_only_after_the_deadline(uow, service):
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    c = heard(service, complaint_id)
    c = service.decide(LAWYER, complaint_id, {"kind": "award_issued", "amount": 1000,
                                              "payment_deadline": TODAY + timedelta(days=30)}, tag(c))
    c = service.start_monitoring(LAWYER, complaint_id, tag(c))
    with pytest.raises(Conflict):
        service.mark_not_complied(LAWYER, complaint_id, tag(c))
    service.today = lambda: TODAY + timedelta(days=31)
    assert service.mark_not_complied(LAWYER, complaint_id, tag(c))["status"] == "not_complied"


def test_reopening_is_within_the_configured_window(uow):
    service = make_service(uow, ComplaintsConfig(reopen_window_days=10))
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    c = heard(service, complaint_id)
    c = service.dismiss(LAWYER, complaint_id, {"reason": "No evidence"}, tag(c))
    c = service.close(LAWYER, complaint_id, {}, tag(c))
    service.clock = lambda: NOW + timedelta(days=11)
    with pytest.raises(Conflict, match="within 10 days"):
        service.reopen(LAWYER, complaint_id, {"reason": "New evidence"}, tag(c))
    service.clock = lambda: NOW + timedelta(days=9)
    assert service.reopen(LAWYER, complaint_id, {"reason": "New evidence"}, tag(c))["status"] == "reopened"


def test_evidence_is_a_known_document_of_the_complainant(uow, service):
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    uow.state["documents"].update({"D-MINE": {"_id": "D-MINE", "owner": REF, "doc_type": "job_contract"},
                                   "D-THEIRS": {"_id": "D-THEIRS", "owner": OTHER, "doc_type": "job_contract"}})
    with pytest.raises(NotFound):
        service.attach_evidence(LAWYER, complaint_id, {"document_id": "D-NONE"}, '"1"')
    with pytest.raises(Invalid):
        service.attach_evidence(LAWYER, complaint_id, {"document_id": "D-THEIRS"}, '"1"')
    attached = service.attach_evidence(LAWYER, complaint_id, {"document_id": "D-MINE"}, '"1"')
    assert attached["evidence"][0]["document_id"] == "D-MINE" and uow.outbox[-1].data["document_ids"] == ["D-MINE"]


def test_only_a_claim_of_the_same_migrant_is_linked(uow, service):
    complaint_id = service.file(LAWYER, intake())["complaint_id"]
    uow.state["claims"].update({"CLM-1": {"_id": "CLM-1", "migrant_reference": REF},
                                "CLM-2": {"_id": "CLM-2", "migrant_reference": OTHER}})
    for claim_id in ("CLM-2", "CLM-404"):
        with pytest.raises(Invalid):
            service.link_claim(LAWYER, complaint_id, {"claim_id": claim_id}, '"1"')
    linked = service.link_claim(LAWYER, complaint_id, {"claim_id": "CLM-1"}, '"1"')
    assert [c["claim_id"] for c in linked["linked_claims"]] == ["CLM-1"]
    assert uow.outbox[-1].type == domain.CLAIM_LINKED_EVENT


def test_a_migrant_withdraws_their_own_complaint_and_cannot_see_anyone_elses(uow, service):
    mine = service.file(LAWYER, intake())["complaint_id"]
    theirs = service.file(LAWYER, intake(reference=OTHER))["complaint_id"]
    with pytest.raises(NotFound):
        service.withdraw(MIGRANT, theirs, {"reason": "Not mine"}, '"1"')
    assert service.withdraw(MIGRANT, mine, {"reason": "Paid in the end"}, '"1"')["status"] == "withdrawn"


# -- reads -----------------------------------------------------------------------------------------

def test_a_restricted_complaint_exists_only_for_its_assignee_admins_and_the_complainant(uow, service):
    secret = service.file(LAWYER, intake(restricted=True))["complaint_id"]
    public = service.file(LAWYER, intake(reference=OTHER))["complaint_id"]
    service.assign(ADMIN, secret, {"assignee": "legal-1"}, '"1"')
    with pytest.raises(NotFound):
        service.get(OTHER_LAWYER, secret)
    with pytest.raises(NotFound):
        service.start_scrutiny(OTHER_LAWYER, secret, '"2"')
    listed = service.search(OTHER_LAWYER, {}, 20, None)["items"]
    assert [c["complaint_id"] for c in listed] == [public]
    assert {c["complaint_id"] for c in service.search(LAWYER, {}, 20, None)["items"]} == {secret, public}
    assert {c["complaint_id"] for c in service.search(ADMIN, {}, 20, None)["items"]} == {secret, public}
    assert [c["complaint_id"] for c in service.search(MIGRANT, {}, 20, None)["items"]] == [secret]
    assert service.get(MIGRANT, secret)["restricted"] is True
    assert ("legal-2", "read_refused", secret) in uow.reads_audited and ("legal-1", "read", secret) in \
        uow.reads_audited
    assert not any(user == "m-1" for user, _, _ in uow.reads_audited)


def test_related_complaints_share_a_licence_or_a_sub_agent_phone(uow, service):
    first = service.file(LAWYER, intake(respondents=[
        {"kind": "recruiting_agency", "name": "EO", "licence": "RL-1234"},
        {"kind": "sub_agent", "name": "Karim", "phone": "01811111111"}]))["complaint_id"]
    by_phone = service.file(LAWYER, intake(reference=OTHER, respondents=[
        {"kind": "sub_agent", "name": "K.", "phone": "+8801811111111"}]))["complaint_id"]
    by_licence = service.file(LAWYER, intake(respondents=[{"kind": "recruiting_agency", "name": "E",
                                                           "licence": "1234"}]))["complaint_id"]
    service.file(LAWYER, intake(respondents=[{"kind": "recruiting_agency", "name": "Z", "licence": "RL-9"}]))
    related = service.related(LAWYER, first, 20, None)["items"]
    assert sorted(c["complaint_id"] for c in related) == sorted([by_phone, by_licence])
    assert [c["complaint_id"] for c in service.related(MIGRANT, first, 20, None)["items"]] == [by_licence]


def test_a_migrant_may_not_ask_for_someone_elses_complaints(service):
    with pytest.raises(Forbidden):
        service.search(MIGRANT, {"migrant_reference": OTHER}, 20, None)


# -- a family member reads the complaints their token names ----------------------------------------

def family(*cases):
    return Principal("phone-01811000000", "family", cases=cases)


def by_family(**overrides):
    return intake(complainant={"migrant_reference": REF, "name": "Amena Begum", "phone": "01811000000",
                               "relation": "family"}, **overrides)


def test_a_family_member_reads_the_complaint_they_filed_and_its_history_unaudited(uow, service):
    theirs = service.file(LAWYER, by_family())["complaint_id"]
    heard_before = list(uow.reads_audited)
    assert service.get(family(theirs), theirs)["complainant"]["name"] == "Amena Begum"
    assert [e["summary"] for e in service.history(family(theirs), theirs, 20, None)["items"]] == ["Complaint received"]
    assert uow.reads_audited == heard_before  # staff reads are audited; a family member's are theirs


def test_a_family_member_sees_no_other_complaint_of_the_same_worker(uow, service):
    theirs = service.file(LAWYER, by_family())["complaint_id"]
    workers = service.file(LAWYER, intake())["complaint_id"]
    for read in (lambda: service.get(family(theirs), workers),
                 lambda: service.history(family(theirs), workers, 20, None),
                 lambda: service.related(family(theirs), workers, 20, None)):
        with pytest.raises(NotFound):
            read()
    assert [c["complaint_id"] for c in service.search(family(theirs), {}, 20, None)["items"]] == [theirs]
    # Asking for the worker's complaints by reference finds only the named ones among them.
    assert [c["complaint_id"] for c in service.search(family(theirs), {"migrant_reference": REF}, 20,
                                                      None)["items"]] == [theirs]


def test_a_family_list_is_exactly_the_named_complaints_that_exist_newest_first_and_paged(uow, service):
    named = [service.file(LAWYER, by_family())["complaint_id"] for _ in range(3)]
    service.file(LAWYER, by_family())  # filed by the same phone, but this token does not name it
    principal = family(*named, "CMP-2026-99999999", "CLM-2026-00000001")
    first = service.search(principal, {}, 2, None)
    assert [c["complaint_id"] for c in first["items"]] == [named[2], named[1]] and first["next_cursor"]
    rest = service.search(principal, {}, 2, first["next_cursor"])
    assert [c["complaint_id"] for c in rest["items"]] == [named[0]] and rest["next_cursor"] is None
    service.start_scrutiny(LAWYER, named[1], '"1"')
    assert [c["complaint_id"] for c in service.search(principal, {"status": "scrutiny"}, 20,
                                                      None)["items"]] == [named[1]]


def test_the_workers_own_confidential_complaint_stays_hidden_from_a_phone_named_on_it(uow, service):
    own = service.file(LAWYER, intake(restricted=True))["complaint_id"]  # relation self
    filed_by_them = service.file(LAWYER, by_family(restricted=True))["complaint_id"]
    principal = family(own, filed_by_them)
    with pytest.raises(NotFound):
        service.get(principal, own)
    assert service.get(principal, filed_by_them)["restricted"] is True
    assert [c["complaint_id"] for c in service.search(principal, {}, 20, None)["items"]] == [filed_by_them]


def test_a_family_member_takes_no_step_files_nothing_and_has_no_queue(uow, service):
    theirs = service.file(LAWYER, by_family())["complaint_id"]
    with pytest.raises(Forbidden):
        service.withdraw(family(theirs), theirs, {"reason": "Paid in the end"}, '"1"')
    with pytest.raises(Forbidden):
        service.start_scrutiny(family(theirs), theirs, '"1"')
    with pytest.raises(Forbidden):
        service.file(family(theirs), by_family())
    with pytest.raises(Forbidden):
        service.due_queue(family(theirs), {}, None, 20, None)
    assert service.get(ADMIN, theirs)["status"] == "received" and len(uow.state["complaints"]) == 1


def test_related_complaints_for_a_family_member_are_their_named_ones_only(uow, service):
    first, second = (service.file(LAWYER, by_family())["complaint_id"] for _ in range(2))
    service.file(LAWYER, intake())  # the same agency, the worker's own
    assert [c["complaint_id"] for c in service.related(family(first, second), first, 20, None)["items"]] == [second]
    assert service.related(family(first), first, 20, None)["items"] == []


@pytest.mark.parametrize("conditions, expected", [
    ({"agency_licences": "RL-1"}, True), ({"agency_licences": "RL-2"}, False),
    ({"respondents.phone": "+8801811111111"}, True), ({"complainant.migrant_reference": REF}, True),
    ({"assignee": None}, True), ({"assignee": "legal-1"}, False), ({}, True)])
def test_the_conditions_checked_in_memory_match_as_mongodb_would(conditions, expected):
    complaint = {"agency_licences": ["RL-1"], "assignee": None, "complainant": {"migrant_reference": REF},
                 "respondents": [{"kind": "recruiting_agency"}, {"kind": "sub_agent", "phone": "+8801811111111"}]}
    assert matches(complaint, conditions) is expected


# -- settings --------------------------------------------------------------------------------------

def test_settings_default_to_the_charter_and_come_from_the_environment():
    assert ComplaintsConfig.from_env({}) == ComplaintsConfig(hearing_cap=3, reopen_window_days=90, scrutiny_days=7,
                                                             acknowledgement_days=15, disposal_days=90,
                                                             referral_days=30, categories_path=None)
    assert ComplaintsConfig.from_env({"COMPLAINTS_HEARING_CAP": "4", "COMPLAINTS_DISPOSAL_DAYS": " 60 ",
                                      "COMPLAINTS_CATEGORIES": "/etc/lists.json"}) == \
        ComplaintsConfig(hearing_cap=4, disposal_days=60, categories_path="/etc/lists.json")


@pytest.mark.parametrize("variable, value", [
    ("COMPLAINTS_HEARING_CAP", "three"), ("COMPLAINTS_HEARING_CAP", "0"), ("COMPLAINTS_REOPEN_WINDOW_DAYS", "-1"),
    ("COMPLAINTS_SCRUTINY_DAYS", "7.5"), ("COMPLAINTS_ACKNOWLEDGEMENT_DAYS", "0"), ("COMPLAINTS_DISPOSAL_DAYS", "1e3"),
    ("COMPLAINTS_REFERRAL_DAYS", "99999")])
def test_a_bad_setting_stops_start_up_naming_it(variable, value):
    with pytest.raises(ValueError, match=variable):
        ComplaintsConfig.from_env({variable: value})


def test_a_lists_file_that_does_not_hold_together_stops_start_up(tmp_path):
    broken = tmp_path / "lists.json"
    broken.write_text('{"categories": [{"code": "other", "name_en": "Other"}]}', encoding="utf-8")
    settings = Settings(service="complaints", mongo_uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=10")
    with pytest.raises(categories.CategoriesError):  # before any connection is tried
        bootstrap.build(settings, ComplaintsConfig(categories_path=str(broken)))


# -- the OpenAPI document ----------------------------------------------------------------------------

def openapi_document():
    from types import SimpleNamespace

    from services.complaints.api import make_api
    from shared.http.app import create_app
    api = make_api(SimpleNamespace(lists=categories.load()))  # routes need only the lists
    app = create_app(Settings(service="complaints", jwt_dev_key_file=harness.dev_key_file()), api, title="Probashi complaints",
                     description="d", readiness={}, configure_logging=False)
    return app.test_client().get("/openapi.json").json


def test_every_step_requires_if_match_and_documents_428_412_and_409():
    document = openapi_document()
    steps = [(path, op["post"]) for path, op in document["paths"].items()
             if path.startswith("/api/v1/complaints/{complaint_id}/") and "post" in op]
    assert len(steps) == 20
    for path, op in steps:
        assert [p["name"] for p in op["parameters"] if p["in"] == "header"] == ["If-Match"], path
        assert {"409", "412", "428"} <= set(op["responses"]), path
        assert "ETag" in op["responses"]["200"]["headers"], path


def test_the_intake_body_names_the_lists_and_what_identifies_each_kind_of_respondent():
    document = openapi_document()
    body = document["components"]["schemas"][document["paths"]["/api/v1/complaints"]["post"]["requestBody"]
                                             ["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert body["properties"]["category"]["enum"] == list(categories.load().categories)
    rules = body["allOf"][0]["properties"]["respondents"]["items"]["anyOf"]
    assert {r["properties"]["kind"]["enum"][0]: r["required"] for r in rules} == {
        "recruiting_agency": ["licence"], "sub_agent": ["phone"], "employer_abroad": ["country"]}


def test_a_family_member_reads_complaints_and_the_scorecard_and_does_nothing_else_as_the_document_says():
    document = openapi_document()
    family = sorted(f"{method.upper()} {path}" for path, ops in document["paths"].items()
                    for method, op in ops.items() if "family" in op.get("description", "").split("Roles: ")[-1])
    assert family == ["GET /api/v1/agencies/scorecard", "GET /api/v1/agencies/{licence}/scorecard",
                      "GET /api/v1/complaints", "GET /api/v1/complaints/{complaint_id}",
                      "GET /api/v1/complaints/{complaint_id}/history", "GET /api/v1/complaints/{complaint_id}/related"]
