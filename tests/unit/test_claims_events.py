"""Claims events: every type the domain raises has its contract, and what it carries is
what documents reads for legal hold ("closed" lifts it) plus the migrant and the phone."""
from __future__ import annotations

from services.claims import domain, replay
from shared import contracts
from shared.uow import Tx

from tests.unit.test_claims_domain import ALL_VERIFIED, NOW, OFFICER, file


def test_the_domain_raises_exactly_the_contracted_claims_events():
    # and the replay serves the snapshot, sent only to the service that asked
    assert set(domain.EVENT_TYPES) | {replay.SNAPSHOT} == set(contracts.types_matching("claims.claim.*"))


def test_a_filed_and_a_closed_claim_pass_their_contracts():
    tx = Tx(db=None, session=None, source="claims")
    claim = file(documents=ALL_VERIFIED)
    tx.emit(domain.SUBMITTED_EVENT, subject_type="claim", subject_id=claim["_id"], aggregate_version=1,
            data=domain.event_data(claim))
    closed = domain.close(domain.withdraw(claim, reason="x", actor=OFFICER, now=NOW), note=None, actor=OFFICER,
                          now=NOW)
    event = tx.emit(domain.CLOSED_EVENT, subject_type="claim", subject_id=claim["_id"], aggregate_version=3,
                    data=domain.event_data(closed))
    assert event.data["status"] == "closed" and event.data["document_ids"] == ["D1", "D2", "D3"]
