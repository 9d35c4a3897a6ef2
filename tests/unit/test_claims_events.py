"""Claims events: every type the domain raises has its contract, and what it carries is
what documents reads for legal hold ("closed" lifts it) plus the migrant, the phone and the
taka approved, and for a payment the taka paid."""
from __future__ import annotations

from services.claims import domain, replay
from shared import contracts
from shared.uow import Tx

from tests.unit.test_claims_domain import ALL_VERIFIED, NOW, OFFICER, SECOND, approve, file, ordered, pay


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


def emitted(event_type: str, claim: dict, **extra):
    tx = Tx(db=None, session=None, source="claims")
    return tx.emit(event_type, subject_type="claim", subject_id=claim["_id"], aggregate_version=claim["version"],
                   data=domain.event_data(claim, **extra)).data


def test_every_claim_event_carries_the_approved_amount_null_before_a_decision():
    claim = file(documents=ALL_VERIFIED)
    assert emitted(domain.SUBMITTED_EVENT, claim)["approved_amount"] is None
    recommended = approve(claim, threshold=100000)
    assert emitted(domain.RECOMMENDED_EVENT, recommended)["approved_amount"] is None  # a recommendation decides nothing
    approved = approve(recommended, actor=SECOND, threshold=100000)
    assert emitted(domain.APPROVED_EVENT, approved)["approved_amount"] == 300000
    closed = domain.close(approved, note=None, actor=OFFICER, now=NOW)
    assert emitted(domain.CLOSED_EVENT, closed)["approved_amount"] == 300000
    assert emitted(domain.REJECTED_EVENT, domain.reject(
        claim, code="x", text_en="No", text_bn="না", actor=OFFICER, now=NOW))["approved_amount"] is None


def test_a_payment_event_carries_the_payment_and_the_total_paid_so_far():
    first = pay(ordered(), 150000, 1, "R1")
    assert {k: v for k, v in emitted(domain.PAYMENT_RECORDED, first, **domain.payment_data(first)).items()
            if k in ("approved_amount", "payment_amount", "paid_total")} == {
        "approved_amount": 300000, "payment_amount": 150000, "paid_total": 150000}
    paid = pay(first, 150000, 2, "R2")
    data = emitted(domain.PAID_EVENT, paid, **domain.payment_data(paid))
    assert (data["status"], data["payment_amount"], data["paid_total"]) == ("paid", 150000, 300000)
    assert "account" not in data and "heirs" not in data  # where the money went stays in claims


def test_a_claim_snapshot_carries_what_live_events_do_within_its_contract():
    approved = approve(file(documents=ALL_VERIFIED))
    tx = Tx(db=None, session=None, source="claims")
    data = tx.emit(replay.SNAPSHOT, subject_type="claim", subject_id=approved["_id"],
                   aggregate_version=approved["version"], data=replay.snapshot_data(approved)).data
    assert (data["approved_amount"], data["paid_total"]) == (300000, 0)
    assert set(domain.event_data(approved)) <= set(data)
