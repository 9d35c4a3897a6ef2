"""Claims started after migrants were registered and their papers verified learns that
past from registration's and documents' replays (shared/replay/), as the live events
would have told it: filing then finds the migrant, their membership and their papers."""
from __future__ import annotations

from datetime import date

import pytest

from services.claims import api as claims_api
from services.claims import consumer as claims_consumer
from services.claims.bootstrap import unit_of_work
from shared import mongo
from shared.auth import issue_token
from shared.events import Envelope
from tests.integration.test_claims_api import death_grant
from tests.integration.test_replay import OFFICER, Registration, run_command, start_worker

pytestmark = pytest.mark.integration


def test_claims_learns_migrants_and_verified_papers_from_before_its_queue(infra):
    registration = Registration(infra)
    [reference] = registration.register(1)
    registration.service.activate_membership(OFFICER, reference, {"number": "WEWB-7", "valid_until": date(2030, 1, 1)})
    registration.publish()  # while claims had no queue: it heard nothing
    registration.serve_replays(page_size=2)

    settings = infra.settings("claims")
    uow = unit_of_work(settings)
    start_worker(infra, claims_consumer.consumer, settings, uow)
    claims_consumer.replays.start(settings, uow.db)  # answers the command's end marker
    http = claims_api.create(settings, configure_logging=False).test_client()
    token = issue_token(settings, subject="officer-1", role="welfare_officer")
    headers = {"Authorization": f"Bearer {token}"}
    assert http.post("/api/v1/claims", json=death_grant(reference), headers=headers).status_code == 404

    code, out, err = run_command(infra, "--to", "claims", "--from", "registration", "--timeout", "15")
    assert code == 0, err
    assert "claims: applied 1 of 1" in out, out
    learnt = mongo.database(settings).migrants.find_one({"_id": reference})
    assert learnt["phone"] == "+8801712300000" and learnt["membership"]["number"] == "WEWB-7"
    assert learnt["membership"]["activated_on"] == date.today().isoformat()

    # A passport the vault verified long ago, as documents' replay delivers it.
    claims_consumer.consumer.process(uow, Envelope.new(
        type="documents.document.snapshot", source="documents", subject_type="document", subject_id="DOC-OLD-1",
        aggregate_version=3, data={"document_id": "DOC-OLD-1", "owner": reference, "doc_type": "passport_copy",
                                   "version": 1, "status": "verified", "reason": None, "case_ids": [],
                                   "content_sha256": "a" * 64, "deleted": False}))
    filed = http.post("/api/v1/claims", json=death_grant(reference), headers=headers)
    assert filed.status_code == 201, filed.json
    passport = next(i for i in filed.json["checklist"] if i["doc_types"] == ["passport_copy"])
    assert (passport["status"], passport["document_id"]) == ("verified", "DOC-OLD-1")

    before = mongo.database(settings).migrants.find_one({"_id": reference})
    again, out, err = run_command(infra, "--to", "claims", "--from", "registration", "--timeout", "15")
    assert again == 0 and "claims: applied 0 of 1" in out, err or out  # safe to run twice
    assert mongo.database(settings).migrants.find_one({"_id": reference}) == before
