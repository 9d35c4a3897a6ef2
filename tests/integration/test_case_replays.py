"""Claims and complaints serve replays of their cases (shared/replay/): identity, started
after the cases were filed and their events published, learns the claimants' and
complainants' phones from them through the projection the live events use, so those
phones then sign in to a family token naming their case. Against the real broker and
database; safe to run twice; every snapshot satisfies its contract."""
from __future__ import annotations

import json

import pytest

from services.claims import api as claims_api
from services.claims import bootstrap as claims_bootstrap
from services.claims import consumer as claims_consumer
from services.claims import replay as claims_replay
from services.claims.config import ClaimsConfig
from services.complaints import api as complaints_api
from services.complaints import bootstrap as complaints_bootstrap
from services.complaints import consumer as complaints_consumer
from services.complaints import replay as complaints_replay
from services.identity import consumer as identity_consumer
from shared import contracts, mongo
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.replay import MongoStateReader, snapshot_event
from shared.spellings import normalise_phone

from tests.integration import test_claims_api as claims_tests
from tests.integration import test_complaints_api as complaints_tests
from tests.integration.test_identity_otp import Desk as IdentityDesk
from tests.integration.test_replay import run_command, serving, start_worker

pytestmark = pytest.mark.integration

REF, OTHER = claims_tests.REF, claims_tests.OTHER
RESTRICTED_PHONE = "+8801812345678"
STORY = "Eight months of wages were never paid, and worse things happened in the house."


@pytest.fixture
def identity(infra, tmp_path, monkeypatch):
    """Identity's API and database; its consumer is started by the test, late."""
    monkeypatch.setenv("SMS_ADAPTER", "dev")
    monkeypatch.setenv("SMS_DEV_OUTBOX", str(tmp_path / "sms-outbox.jsonl"))
    return IdentityDesk(infra, str(tmp_path / "sms-outbox.jsonl"))


def start_identity(infra, identity: IdentityDesk) -> None:
    """Its queue exists only from now on; its replays answer the command's end marker."""
    start_worker(infra, identity_consumer.consumer, identity.settings, identity.uow)
    identity_consumer.replays.start(identity.settings, identity.uow.db)


def publish_while_nobody_listens(settings) -> None:
    """The live events go out before identity has a queue: it hears none of them."""
    Relay(OutboxStore(mongo.database(settings)), settings).run(stop_when_idle=True)


def served(source, db) -> list:
    """The snapshot events `source` serves from `db`, as the replay server builds them."""
    reader = MongoStateReader(db)
    return [snapshot_event(source.event_type.split(".")[0], source, snapshot, "check")
            for page in reader.pages(source, 50) for snapshot in page]


def cases_known(identity) -> dict:
    return {row["_id"]: (row["kind"], row["phone"]) for row in identity.db.phone_cases.find()}


# -- claims --------------------------------------------------------------------------------

def claims_desk(infra) -> claims_tests.Desk:
    settings = infra.settings("claims")
    app = claims_api.create(settings, configure_logging=False,
                            config=ClaimsConfig(second_approval_above=claims_tests.THRESHOLD))
    desk = claims_tests.Desk(app, settings,
                             mongo.database(settings), claims_bootstrap.unit_of_work(settings))
    for n, reference in enumerate((REF, OTHER)):
        desk.apply(claims_tests.registration_event(
            "registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন", phone=f"+88017123456{n}9",
            registered_by={"user": "op", "role": "welfare_officer"}))
    return desk


def test_identity_learns_claimants_phones_from_claims_replay(infra, identity):
    claims = claims_desk(infra)
    first = claims.file(claims_tests.death_grant(REF))
    second = claims.file(claims_tests.death_grant(OTHER, heirs=[claims_tests.heir(3, 1, 1)]))
    assert first.status_code == 201 and second.status_code == 201, (first.json, second.json)
    first_id, second_id = first.json["claim_id"], second.json["claim_id"]
    publish_while_nobody_listens(claims.settings)
    serving(infra, claims_consumer.replays.start(claims.settings, claims.db, page_size=1))
    start_identity(infra, identity)
    assert cases_known(identity) == {}

    code, out, err = run_command(infra, "--to", "identity", "--from", "claims", "--timeout", "15")

    assert code == 0, err
    assert "claims: 2 to replay" in out and "identity: applied 2 of 2" in out, out
    heir_1, heir_3 = (normalise_phone(claims_tests.heir(n, 1, 1)["phone"]) for n in (1, 3))
    assert cases_known(identity) == {first_id: ("claim", heir_1), second_id: ("claim", heir_3)}
    family = identity.claims_of(identity.sign_in(heir_1)["access_token"])
    assert (family["role"], family["cases"]) == ("family", [first_id])

    again, out, err = run_command(infra, "--to", "identity", "--from", "claims", "--timeout", "15")
    assert again == 0 and "identity: applied 0 of 2" in out, err or out  # the same state: already known
    assert cases_known(identity) == {first_id: ("claim", heir_1), second_id: ("claim", heir_3)}


def test_a_claim_snapshot_is_the_claim_now_within_its_contract_and_without_the_heirs(infra):
    claims = claims_desk(infra)
    claim_id, _ = claims_tests.approved_claim(claims)  # recommended, then approved by a second officer
    assert claims.step(claim_id, "approval", {}, user="officer-2").json["status"] == "approved"
    assert claims.step(claim_id, "payment-order").json["status"] == "payment_ordered"
    paid = claims.step(claim_id, "payments", {"amount": 150000, "method": "bank", "account": "0001231",
                                              "reference": "BEFTN-0001", "heir_id": 1})
    assert paid.status_code == 200, paid.json
    [event] = served(claims_replay.CLAIMS_SOURCE, claims.db)

    contracts.check(event)
    stored = claims.db.claims.find_one({"_id": claim_id})
    assert (event.type, event.subject.type, event.subject.id) == ("claims.claim.snapshot", "claim", stored["_id"])
    assert event.aggregate_version == stored["version"]
    data = event.data
    assert (data["case_id"], data["status"], data["claim_type"], data["migrant_reference"]) == (
        stored["_id"], stored["status"], "death_grant", REF)
    assert data["filed_on"] == stored["filed_on"] and data["filed_at"] and data["updated_at"]
    assert (data["status"], data["approved_amount"], data["paid_total"]) == ("payment_ordered", 300000, 150000)
    assert data["document_ids"] == [f"DOC-{REF}-{n}" for n in (1, 2, 3)]  # the checklist's, as live events say
    text = json.dumps(data)
    assert "heirs" not in data and "19901234567" not in text and "BEFTN" not in text and "0001231" not in text


# -- complaints ----------------------------------------------------------------------------

def complaints_desk(infra) -> complaints_tests.Desk:
    settings = infra.settings("complaints")
    service = complaints_bootstrap.build(settings)
    desk = complaints_tests.Desk(complaints_api.create(settings, configure_logging=False, service=service),
                                 settings, mongo.database(settings), complaints_bootstrap.unit_of_work(settings),
                                 service)
    desk.apply(complaints_tests.registration_event(
        "registered", REF, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন", phone="+8801712345609",
        registered_by={"user": "op", "role": "admin"}))
    return desk


def file_two(desk) -> tuple[str, str]:
    """An open complaint with a hearing to come, and a restricted one from another phone."""
    open_ = desk.file()
    restricted = desk.file(complaints_tests.intake(
        REF, restricted=True, narrative=STORY,
        complainant={"migrant_reference": REF, "name": "Rahim Uddin", "phone": RESTRICTED_PHONE}))
    assert open_.status_code == 201 and restricted.status_code == 201, (open_.json, restricted.json)
    desk.walk(open_.json["complaint_id"], *complaints_tests.TO_NOTICE, ("assignment", {"assignee": "legal_aid-7"}),
              ("hearings", complaints_tests.hearing(7)))
    return open_.json["complaint_id"], restricted.json["complaint_id"]


def test_identity_learns_complainants_phones_from_complaints_replay(infra, identity):
    complaints = complaints_desk(infra)
    open_id, restricted_id = file_two(complaints)
    publish_while_nobody_listens(complaints.settings)
    serving(infra, complaints_consumer.replays.start(complaints.settings, complaints.db, page_size=1))
    start_identity(infra, identity)
    assert cases_known(identity) == {}

    code, out, err = run_command(infra, "--to", "identity", "--from", "complaints", "--timeout", "15")

    assert code == 0, err
    assert "identity: applied 2 of 2" in out, out
    known = {open_id: ("complaint", "+8801712345678"), restricted_id: ("complaint", RESTRICTED_PHONE)}
    assert cases_known(identity) == known
    family = identity.claims_of(identity.sign_in(RESTRICTED_PHONE)["access_token"])
    assert (family["role"], family["cases"]) == ("family", [restricted_id])

    again, out, err = run_command(infra, "--to", "identity", "--from", "complaints", "--timeout", "15")
    assert again == 0 and "identity: applied 0 of 2" in out, err or out
    assert cases_known(identity) == known


def test_a_complaint_snapshot_is_the_complaint_now_within_its_contract_and_never_its_story(infra):
    complaints = complaints_desk(infra)
    open_id, restricted_id = file_two(complaints)
    settled_id = complaints_tests.awarded(complaints, deadline=30)  # settled for Tk 90,000, being monitored
    complaints.walk(settled_id, ("payments", {"amount": 10000, "paid_on": complaints_tests.day(0)}))
    events = {event.subject.id: event for event in served(complaints_replay.COMPLAINTS_SOURCE, complaints.db)}
    assert set(events) == {open_id, restricted_id, settled_id}
    for event in events.values():
        contracts.check(event)
        stored = complaints.db.complaints.find_one({"_id": event.subject.id})
        assert event.type == "complaints.complaint.snapshot" and event.aggregate_version == stored["version"]
        assert event.data["status"] == stored["status"] and event.data["receipt_number"] == stored["receipt_number"]

    scheduled = events[open_id].data
    assert scheduled["next_hearing"] == {"date": complaints_tests.day(7), "venue": "BMET Dhaka, room 3"}
    assert (scheduled["outcome"], scheduled["paid_total"], scheduled["restricted"]) == (None, 0, False)
    assert (scheduled["assignee"], events[restricted_id].data["assignee"]) == ("legal_aid-7", None)
    settled = events[settled_id].data
    assert (settled["status"], settled["next_hearing"], settled["paid_total"]) == ("compliance_monitoring", None, 10000)
    assert settled["outcome"] == {"kind": "settled", "amount": 90000, "payment_deadline": complaints_tests.day(30)}
    restricted = events[restricted_id].data
    assert restricted["restricted"] is True and restricted["next_hearing"] is None
    assert "narrative" not in restricted and STORY not in json.dumps(restricted)


def test_the_case_snapshots_are_served_and_learnt_but_never_bound_to_the_events_exchange():
    assert claims_consumer.replays.sources == [claims_replay.CLAIMS_SOURCE]
    assert complaints_consumer.replays.sources == [complaints_replay.COMPLAINTS_SOURCE]
    identity = identity_consumer.consumer
    assert not [key for key in identity.binding_keys if key.endswith(".snapshot")]
    for event_type in ("claims.claim.snapshot", "complaints.complaint.snapshot"):
        assert len(identity.handlers_for(event_type)) == 2  # learnt, and the guard for snapshots not learnt
