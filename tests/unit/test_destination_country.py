"""The destination country reaches claims (for reports by destination): registration
publishes it with a registration, a change and a replay, within their contracts and with no
identity number; claims keeps it of each migrant and records it on each claim at filing."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.claims import projections
from services.claims import replay as claims_replay
from services.registration import replay as registration_replay
from shared import replay
from shared.contracts import PERSONAL_IDENTIFIERS
from shared.events import Envelope
from tests.unit.registration_fakes import FakeAudit, FakeUnitOfWork, build_service
from tests.unit.test_claims_domain import MIGRANT, death_filing, file
from tests.unit.test_registration_service import OFFICER, OPERATOR, details
from tests.unit.test_replay import migrant as stored_migrant


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def registration(uow):
    return build_service(uow, FakeAudit())


def test_a_registration_publishes_the_destination_country(registration, uow):
    registration.register(OPERATOR, details(destination_country="MY"))
    data = uow.outbox[0].data  # the fake unit of work checks each event against its contract
    assert data["destination_country"] == "MY"
    assert not set(data) & PERSONAL_IDENTIFIERS


def test_a_changed_destination_is_published_with_the_change(registration, uow):
    reference = registration.register(OPERATOR, details())["reference"]
    registration.update(OFFICER, reference, {"destination_country": "QA", "nid": "5555555555"}, '"1"')
    assert uow.outbox[-1].data["values"] == {"destination_country": "QA"}


def test_a_replayed_migrant_carries_the_destination_country():
    snapshot = registration_replay.snapshots(None, [stored_migrant(destination_country="AE")])[0]
    event = replay.snapshot_event("registration", registration_replay.MIGRANTS_SOURCE, snapshot, "r")
    assert event.data["destination_country"] == "AE"
    assert "destination_country" in registration_replay.STORED_FIELDS


class Migrants:
    def __init__(self):
        self.rows: dict[str, dict] = {}

    def update(self, reference, changes):
        self.rows.setdefault(reference, {"_id": reference}).update(changes)

    def get(self, reference):
        return self.rows.get(reference)


def claims_tx():
    return SimpleNamespace(migrants=Migrants(), claims=SimpleNamespace(open_of=lambda reference: []))


def registration_event(action, version=1, **data):
    return Envelope.new(type=f"registration.migrant.{action}", source="registration", subject_type="migrant",
                        subject_id="PB-2345-6789", aggregate_version=version,
                        data={"reference": "PB-2345-6789", **data})


def test_claims_keeps_each_migrants_destination_from_registration_its_changes_and_replays():
    tx = claims_tx()
    projections.migrant_registered(registration_event("registered", name_en="R", name_bn="র", phone="+8801712345678",
                                                      registered_by={"user": "o", "role": "admin"},
                                                      destination_country="SA"), tx)
    assert tx.migrants.get("PB-2345-6789")["destination_country"] == "SA"
    projections.migrant_updated(registration_event("updated", 2, changed=["destination_country"],
                                                   values={"destination_country": "KW"}), tx)
    assert tx.migrants.get("PB-2345-6789")["destination_country"] == "KW"
    claims_replay.learn_migrant(registration_event("snapshot", 3, name_en="R", name_bn="র", phone="+8801712345678",
                                                   registered_by={"user": "o", "role": "admin"}, steps=[],
                                                   membership=None, destination_country="OM"), tx)
    assert tx.migrants.get("PB-2345-6789")["destination_country"] == "OM"


def test_a_claim_records_where_its_event_happened_else_the_registered_destination():
    migrant = {**MIGRANT, "destination_country": "MY"}
    assert file(death_filing(), migrant=migrant)["destination_country"] == "SA"  # the death was in SA
    legal_aid = {"type": "pkb_loan_referral", "migrant_reference": MIGRANT["_id"], "district": "Cumilla", "event": {}}
    assert file(legal_aid, migrant=migrant)["destination_country"] == "MY"
    assert file(legal_aid, migrant=MIGRANT)["destination_country"] is None  # registration has not said
