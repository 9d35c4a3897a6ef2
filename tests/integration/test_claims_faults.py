"""Fault injection for the claims consumer: documents' real relay publishes a stream of
verifications while the claims consumer process is SIGKILLed mid-stream and started again.
Nothing is lost (every claim reaches review, every event is in the inbox) and nothing is
applied twice (exactly one checklist event per verification, one ready_for_review per claim).

It takes about a minute: the killed process leaves a transaction open on one migrant's
row, and the database aborts it only after its transaction lifetime (60 s, as MongoDB's
transactionLifetimeLimitSeconds); until then the restarted consumer defers that event on
the write conflict, as it should."""
from __future__ import annotations

import pytest
from kombu import Connection

from services.claims import bootstrap as claims
from services.claims.consumer import consumer as claims_consumer
from shared import deadletters, mongo, topology
from shared.auth import Principal
from shared.events import Envelope
from shared.uow import MongoUnitOfWork
from tests import processes
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
CLAIMS = 24
DOC_TYPES = ("death_certificate", "passport_copy", "heirship_certificate", "nid_copy", "authorisation_letter")
OFFICER = Principal("fault-test", "welfare_officer")


def reference(n: int) -> str:
    return f"PB-{n:04d}-TEST"


def file_claims(settings) -> None:
    uow, service = claims.unit_of_work(settings), claims.build(settings)
    for n in range(CLAIMS):
        claims_consumer.process(uow, Envelope.new(
            type="registration.migrant.registered", source="registration", subject_type="migrant",
            subject_id=reference(n), aggregate_version=1,
            data={"reference": reference(n), "name_en": "Karim Mia", "name_bn": "করিম মিয়া",
                  "phone": "+8801812345678", "registered_by": {"user": "op", "role": "welfare_officer"}}))
        service.file(OFFICER, {"type": "burial_transport" if n % 2 else "death_grant",
                               "migrant_reference": reference(n), "district": "Sylhet",
                               "event": {"date": "2026-10-01", "country": "QA"},
                               "heirs": [{"name_en": "Amena", "name_bn": "আমেনা", "relation": "spouse",
                                          "nid": "1990123456", "phone": "+8801712345601",
                                          "payout": {"method": "bank", "provider": "Sonali",
                                                     "account_number": "00012345"},
                                          "share": {"numerator": 1, "denominator": 1}}]})


def verifications(settings) -> int:
    """Documents' outbox filled with a verification of each claim's documents (a death grant
    needs three of the five types, a burial grant four; the others are no item of theirs)."""
    uow = MongoUnitOfWork(mongo.database(settings), "documents")
    count = 0
    for n in range(CLAIMS):
        for k, doc_type in enumerate(DOC_TYPES):
            def verify(tx, n=n, k=k, doc_type=doc_type):
                tx.emit("documents.document.verified", subject_type="document", subject_id=f"DOC-{n}-{k}",
                        aggregate_version=2, data={"document_id": f"DOC-{n}-{k}", "owner": reference(n),
                                                   "doc_type": doc_type, "version": 1, "reason": None,
                                                   "by": {"user": "officer", "role": "welfare_officer"}})
            uow.run(verify)
            count += 1
    return count


def test_claims_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(infra, tmp_path):
    settings, documents = infra.settings("claims"), infra.settings("documents")
    file_claims(settings)
    with Connection(settings.amqp_url) as connection:  # routed before the consumer first starts
        topology.declare(connection, topology.Names(settings.amqp_prefix, "claims"), claims_consumer.binding_keys,
                         settings.retry_delays_ms)
    produced = verifications(documents)
    db = mongo.database(settings)
    applied = lambda: db.inbox.count_documents({"consumer": "claims"})  # noqa: E731 (registrations were direct)
    before = applied()

    relay = processes.relay("documents", documents, tmp_path).start()
    consumer = processes.consumer("claims", settings, tmp_path).start()
    try:
        wait_for(lambda: applied() - before >= produced // 4, 60, "the consumer made no progress")
        consumer.kill()
        consumer = processes.consumer("claims", settings, tmp_path).start()
        wait_for(lambda: applied() - before >= produced, 90,
                 lambda: f"applied {applied() - before} of {produced}:\n{consumer.log()[-2000:]}")
    finally:
        consumer.stop()
        relay.stop()

    outbox = db.outbox
    ticks = outbox.count_documents({"type": "claims.claim.checklist_updated"})
    assert ticks == CLAIMS * 3 + CLAIMS // 2, "one checklist event per verification a claim needs, no more"
    assert outbox.count_documents({"type": "claims.claim.ready_for_review"}) == CLAIMS
    assert db.claims.count_documents({"status": "under_review"}) == CLAIMS
    assert db.history.count_documents({}) == outbox.count_documents({})
    assert deadletters.DeadLetterQueue(settings).list() == []
