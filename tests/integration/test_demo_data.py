"""The demo loader (demo/) against the real system: tests/browser/stack.py's stack (SecantusDB,
RabbitMQ, every API over HTTP, their relays and consumers as processes), its APIs trusting the
session's development key as `make run`'s do. What it made is read back through the APIs."""
from __future__ import annotations

from datetime import timedelta

import pytest

from demo import plan
from demo.__main__ import SERVICES, load
from demo.client import Client, Tokens
from services.claims import domain as claims
from services.complaints import domain as complaints
from shared.fields import today_in_bangladesh
from tests.browser.stack import stack_session

SEED, PEOPLE = 7, 25
pytestmark = pytest.mark.timeout(900)  # a stack of a dozen processes, then 25 people loaded twice
UNPAID = {complaints.NOT_COMPLIED, complaints.ENFORCEMENT}


@pytest.fixture(scope="module")
def stack(mongo_uri, amqp_url, tmp_path_factory):
    with stack_session(mongo_uri, amqp_url, tmp_path_factory.mktemp("demo-stack"), trust_dev_key=True) as stack:
        yield stack


def client(stack, **urls) -> Client:
    return Client({**{name: stack.urls[name] for name in SERVICES}, **urls},
                  Tokens(stack.settings["registration"], stack.infra.dev_key_file))


def statuses(api: Client, service: str, path: str, wanted) -> dict[str, list[dict]]:
    admin = api.tokens("admin", "test.admin")  # an admin sees restricted complaints too
    return {status: api.must(service, "GET", path, admin, params={"status": status, "limit": 100}).body["items"]
            for status in wanted}


def test_the_loader_reaches_every_status_and_a_second_run_on_a_later_day_adds_nobody(stack):
    api = client(stack)
    first = load(api, plan.plan(SEED, PEOPLE), workers=4)
    assert first["failed"] == [] and first["registered"] == PEOPLE
    assert first["waiting"] == sum(p.complaint is not None and p.complaint.target in UNPAID
                                   for p in plan.plan(SEED, PEOPLE)) > 0

    found = statuses(api, "claims", "/claims", plan.CLAIM_TARGETS)
    assert [s for s, items in found.items() if not items] == []
    assert all(item["status"] == status for status, items in found.items() for item in items)
    found = statuses(api, "complaints", "/complaints", set(plan.COMPLAINT_TARGETS) - UNPAID)
    assert [s for s, items in found.items() if not items] == []
    awaiting_deadline = statuses(api, "complaints", "/complaints", UNPAID)
    assert awaiting_deadline == {status: [] for status in UNPAID}

    # Papers in the vault, and case status's timeline of a claimant, fed by the events.
    claimant = next(o for o in first["outcomes"] if o.claim and o.claim[1] == claims.CLOSED)
    officer = api.tokens("welfare_officer", "test.officer")
    papers = api.must("documents", "GET", f"/migrants/{claimant.reference}/documents", officer).body["items"]
    assert sorted(p["document_id"] for p in papers) == sorted(claimant.documents) and len(papers) >= 5

    def timeline() -> set[str]:
        page = api.must("casestatus", "GET", f"/migrants/{claimant.reference}/timeline", officer,
                        params={"lang": "en", "limit": 100}).body
        return {entry["type"] for entry in page["items"]}

    stack.wait_for(lambda: {"registration.migrant.registered", "documents.document.verified",
                            "claims.claim.submitted", "claims.claim.paid", "claims.claim.closed"} <= timeline(),
                   message=f"case status has no whole timeline for {claimant.reference}")

    # Two days later, by the complaints service's clock: the unpaid awards are past their deadline.
    from services.complaints import api as complaints_api, bootstrap

    later = bootstrap.build(stack.settings["complaints"])
    later.today = lambda: today_in_bangladesh() + timedelta(days=2)
    url = stack.serve("complaints-later", complaints_api.create(stack.settings["complaints"], configure_logging=False,
                                                                 service=later))
    second = load(client(stack, complaints=url), plan.plan(SEED, PEOPLE), workers=4)
    assert second["failed"] == [] and second["registered"] == 0 and second["skipped"] == PEOPLE
    assert second["waiting"] == 0
    found = statuses(api, "complaints", "/complaints", UNPAID)
    assert [s for s, items in found.items() if not items] == []
    assert all(item["enforcement"]["action"] == "recommend_licence_suspension"
               for item in found[complaints.ENFORCEMENT])
