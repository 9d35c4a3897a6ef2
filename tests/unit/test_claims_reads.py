"""Who reads which claim, at the claims service layer over in-memory reads: staff any
(audited), a migrant their own, a family member the claims their token names and nothing
else (not audited); a family member takes no step."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.claims import catalogue
from services.claims.service import ClaimsService
from shared.auth import Principal
from shared.errors import Forbidden, NotFound

WORKER, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
GRANT, MEDICAL, OTHERS = "CLM-2026-AAAAAAAA", "CLM-2026-BBBBBBBB", "CLM-2026-CCCCCCCC"
HEIR = Principal("phone-01811000000", "family", cases=(GRANT, "CMP-2026-DDDDDDDD"))
OFFICER = Principal("officer-1", "welfare_officer")
MIGRANT = Principal("m-1", "migrant", migrant_ref=WORKER)
START = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def claim(claim_id, reference, day, claim_type="death_grant", status="documents_pending"):
    return {"_id": claim_id, "claim_id": claim_id, "migrant_reference": reference, "type": claim_type,
            "status": status, "version": 1, "created_at": START + timedelta(days=day)}


class FakeClaims:
    def __init__(self, rows):
        self.rows = {row["_id"]: row for row in rows}

    def get(self, claim_id):
        return self.rows.get(claim_id)

    def search(self, filters, limit, after):
        found = sorted((c for c in self.rows.values() if all(c.get(k) == v for k, v in filters.items())),
                       key=lambda c: (c["created_at"], c["_id"]), reverse=True)
        if after:
            found = [c for c in found if (c["created_at"], c["_id"]) < tuple(after)]
        return found[:limit]


class FakeHistory:
    def page(self, claim_id, limit, after):
        return [{"_id": f"EV-{claim_id}", "claim_id": claim_id, "summary": "Claim filed",
                 "occurred_at": START}][:limit]


class FakeReads:
    def __init__(self, rows):
        self.claims, self.history = FakeClaims(rows), FakeHistory()


class FakeAudit:
    def __init__(self):
        self.entries = []

    def record(self, actor, action, subject_type, subject_id, **details):
        self.entries.append((actor.subject, action, subject_id))


class NoWrites:
    """A family member's attempt must be refused before any transaction starts."""

    def run(self, fn):
        raise AssertionError("a refused principal reached the unit of work")


@pytest.fixture
def service():
    rows = [claim(GRANT, WORKER, 1), claim(MEDICAL, WORKER, 2, "medical_aid", "under_review"),
            claim(OTHERS, OTHER, 3)]
    return ClaimsService(NoWrites(), FakeReads(rows), FakeAudit(), catalogue.load())


def ids(page):
    return [c["claim_id"] for c in page["items"]]


def test_an_heir_reads_the_claim_their_token_names_and_its_history_unaudited(service):
    assert service.get(HEIR, GRANT)["migrant_reference"] == WORKER
    assert [e["event_id"] for e in service.history(HEIR, GRANT, 20, None)["items"]] == [f"EV-{GRANT}"]
    assert service.audit.entries == []


def test_an_heir_does_not_see_the_workers_other_claims_nor_anyone_elses(service):
    for claim_id in (MEDICAL, OTHERS, "CLM-2026-ZZZZZZZZ"):
        with pytest.raises(NotFound, match="No claim with that number"):
            service.get(HEIR, claim_id)
        with pytest.raises(NotFound):
            service.history(HEIR, claim_id, 20, None)


def test_an_heirs_list_is_the_named_claims_that_exist_whatever_they_filter(service):
    assert ids(service.search(HEIR, {}, 20, None)) == [GRANT]
    assert ids(service.search(HEIR, {"migrant_reference": WORKER}, 20, None)) == [GRANT]
    assert ids(service.search(HEIR, {"status": "under_review"}, 20, None)) == []
    assert ids(service.search(HEIR, {"migrant_reference": OTHER}, 20, None)) == []
    assert service.audit.entries == []


def test_a_family_list_pages_newest_first_and_skips_named_claims_that_do_not_exist(service):
    everything = Principal("phone-01811000000", "family", cases=(GRANT, OTHERS, MEDICAL, "CLM-2026-ZZZZZZZZ"))
    first = service.search(everything, {}, 2, None)
    assert ids(first) == [OTHERS, MEDICAL] and first["next_cursor"]
    rest = service.search(everything, {}, 2, first["next_cursor"])
    assert ids(rest) == [GRANT] and rest["next_cursor"] is None


def test_staff_and_migrant_reads_are_as_before(service):
    assert ids(service.search(OFFICER, {}, 20, None)) == [OTHERS, MEDICAL, GRANT]
    assert ("officer-1", "read", GRANT) in service.audit.entries
    assert ids(service.search(MIGRANT, {}, 20, None)) == [MEDICAL, GRANT]
    with pytest.raises(NotFound):
        service.get(MIGRANT, OTHERS)
    assert service.get(MIGRANT, GRANT)["claim_id"] == GRANT


def test_an_heir_takes_no_step_adds_no_note_files_nothing_and_has_no_queue(service):
    for attempt in (lambda: service.withdraw(HEIR, GRANT, {"reason": "Not needed"}, '"1"'),
                    lambda: service.close(HEIR, GRANT, {}, '"1"'),
                    lambda: service.add_note(HEIR, GRANT, {"text": "Please hurry"}),
                    lambda: service.file(HEIR, {"type": "death_grant", "migrant_reference": WORKER}),
                    lambda: service.due_queue(HEIR, {}, None, 20, None)):
        with pytest.raises(Forbidden):
            attempt()
