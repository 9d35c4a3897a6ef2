"""Complaints started after migrants were registered and their papers uploaded learns that
past from registration's and documents' replays (shared/replay/), as the live events would
have told it: intake then finds the migrant, and their old document is accepted as evidence."""
from __future__ import annotations

import pytest

from services.complaints import api as complaints_api
from services.complaints import consumer as complaints_consumer
from services.complaints.bootstrap import unit_of_work
from shared import mongo
from shared.auth import issue_token
from shared.events import Envelope
from tests.integration.test_complaints_api import intake
from tests.integration.test_replay import Registration, run_command, start_worker

pytestmark = pytest.mark.integration


def test_complaints_learns_migrants_and_their_documents_from_before_its_queue(infra):
    registration = Registration(infra)
    [reference] = registration.register(1)
    registration.publish()  # while complaints had no queue: it heard nothing
    registration.serve_replays(page_size=2)

    settings = infra.settings("complaints")
    uow = unit_of_work(settings)
    start_worker(infra, complaints_consumer.consumer, settings, uow)
    complaints_consumer.replays.start(settings, uow.db)  # answers the command's end marker
    http = complaints_api.create(settings, configure_logging=False).test_client()
    headers = lambda **more: {"Authorization": "Bearer " + issue_token(  # noqa: E731
        settings, subject="legal-1", role="legal_aid"), **more}
    assert http.post("/api/v1/complaints", json=intake(reference), headers=headers()).status_code == 404

    code, out, err = run_command(infra, "--to", "complaints", "--from", "registration", "--timeout", "15")
    assert code == 0, err
    assert "complaints: applied 1 of 1" in out, out
    assert mongo.database(settings).migrants.find_one({"_id": reference})["registered"] is True
    filed = http.post("/api/v1/complaints", json=intake(reference), headers=headers())
    assert filed.status_code == 201, filed.json

    # A document the vault has held long since, as documents' replay delivers it.
    complaints_consumer.consumer.process(uow, Envelope.new(
        type="documents.document.snapshot", source="documents", subject_type="document", subject_id="DOC-OLD-1",
        aggregate_version=3, data={"document_id": "DOC-OLD-1", "owner": reference, "doc_type": "job_contract",
                                   "version": 1, "status": "verified", "reason": None, "case_ids": [],
                                   "content_sha256": "a" * 64, "deleted": False}))
    attached = http.post(f"/api/v1/complaints/{filed.json['complaint_id']}/evidence", json={"document_id": "DOC-OLD-1"},
                         headers=headers(**{"If-Match": filed.headers["ETag"]}))
    assert attached.status_code == 200, attached.json

    again, out, err = run_command(infra, "--to", "complaints", "--from", "registration", "--timeout", "15")
    assert again == 0 and "complaints: applied 0 of 1" in out, err or out  # safe to run twice
