"""Stage clocks against the real database and broker: the timer marks a claim overdue once
however often and by however many timers it runs, a paused clock does not go overdue, and
the officers' queue filters by overdue and pages by due date, every filter by an index.
Time is set, never slept: the service and the timer take the same settable clock."""
from __future__ import annotations

import json
import signal
import threading
from datetime import datetime, timedelta, timezone

import pytest

from services.claims import bootstrap as claims_bootstrap
from services.claims import clocks
from services.claims.api import make_api
from services.claims.bootstrap import unit_of_work
from services.claims.config import ClaimsConfig
from services.claims.consumer import consumer as claims_consumer
from services.claims.repository import DueQueue, Reads, backfill_clocks
from services.claims.timers import Timer, TimerConfig
from shared import mongo
from shared.auth import issue_token
from shared.http.app import create_app
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests import processes
from tests.integration.test_claims_api import OTHER, REF, death_grant, registration_event
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Office:
    """The claims API in process with a settable clock, and timers on the same clock."""

    def __init__(self, infra):
        self.settings = infra.settings("claims")
        self.clock = Clock(T0)
        self.service = claims_bootstrap.build(self.settings, ClaimsConfig())
        self.service.clock = self.clock
        app = create_app(self.settings, make_api(self.service), title="claims", description="test", readiness={},
                         configure_logging=False)
        self.http, self.db, self.uow = app.test_client(), mongo.database(self.settings), unit_of_work(self.settings)
        for n, reference in enumerate((REF, OTHER)):
            claims_consumer.process(self.uow, registration_event(
                "registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন", phone=f"+88017123456{n}9",
                registered_by={"user": "op", "role": "welfare_officer"}))

    def headers(self, if_match=None):
        token = issue_token(self.settings, subject="officer-1", role="welfare_officer")
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def file(self, body) -> str:
        answer = self.http.post("/api/v1/claims", json=body, headers=self.headers())
        assert answer.status_code == 201, answer.json
        return answer.json["claim_id"]

    def legal_aid(self, reference=REF) -> str:
        return self.file({"type": "legal_aid", "migrant_reference": reference, "district": "Cumilla",
                          "event": {"country": "SA"}})

    def step(self, claim_id, rule, body):
        etag = self.http.get(f"/api/v1/claims/{claim_id}", headers=self.headers()).headers["ETag"]
        answer = self.http.post(f"/api/v1/claims/{claim_id}/{rule}", json=body, headers=self.headers(etag))
        assert answer.status_code == 200, answer.json
        return answer.json

    def timer(self, batch_size=100) -> Timer:
        return Timer(unit_of_work(self.settings), Reads(self.db), TimerConfig(batch_size=batch_size), self.clock)

    def overdue_events(self) -> list[dict]:
        return list(self.db.outbox.find({"type": "claims.claim.overdue"}))

    def queue(self, query="") -> list[str]:
        answer = self.http.get(f"/api/v1/queue?{query}", headers=self.headers())
        assert answer.status_code == 200, answer.json
        return [c["claim_id"] for c in answer.json["items"]]

    def queue_pages(self, query="", limit=1) -> list[str]:
        seen, cursor = [], None
        for _ in range(20):
            answer = self.http.get(f"/api/v1/queue?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else ""),
                                   headers=self.headers()).json
            seen += [c["claim_id"] for c in answer["items"]]
            cursor = answer["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError(f"the queue did not end: {seen}")


@pytest.fixture
def office(infra):
    return Office(infra)


def until_done(timer: Timer) -> int:
    marked, more = timer.tick()
    while more:
        done, more = timer.tick()
        marked += done
    return marked


def test_the_timer_marks_each_claim_overdue_once_run_twice_and_by_two_timers_at_once(infra, office):
    ids = [office.legal_aid(), office.legal_aid(OTHER), office.file(death_grant())]
    office.clock.now = T0 + 14 * DAY - timedelta(seconds=1)
    assert until_done(office.timer()) == 0  # not due yet
    office.clock.now = T0 + 31 * DAY
    timers, counts = [office.timer(batch_size=1), office.timer(batch_size=2)], []
    threads = [threading.Thread(target=lambda t=t: counts.append(until_done(t))) for t in timers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 3, counts
    assert until_done(office.timer()) == 0 and until_done(timers[0]) == 0  # and run again: nothing more

    events = office.overdue_events()
    assert sorted(e["envelope"]["data"]["case_id"] for e in events) == sorted(ids)
    for claim_id in ids:
        claim = office.http.get(f"/api/v1/claims/{claim_id}", headers=office.headers()).json
        assert claim["overdue_stages"] == ["documents_pending"] and claim["overdue"]["stage"] == "documents_pending"
        history = office.http.get(f"/api/v1/claims/{claim_id}/history", headers=office.headers()).json["items"]
        assert [h["type"] for h in history].count("claims.claim.overdue") == 1

    tap = infra.tap("claims.claim.overdue")
    relay = Relay(OutboxStore(office.db), office.settings)
    infra.background(relay, relay.run)
    published = tap.drain(expect=3, timeout=30)
    assert sorted(json.loads(body)["data"]["case_id"] for _, _, body in published) == sorted(ids)
    assert {json.loads(body)["data"]["stage"] for _, _, body in published} == {"documents_pending"}


def test_a_timer_that_read_the_claim_before_another_marked_it_writes_nothing(office):
    """The database decides: a mark made from a stale read matches no claim, so its event
    is never raised (Timer.mark raises the event only when the write matched)."""
    claim_id = office.legal_aid()
    stale = office.db.claims.find_one({"_id": claim_id})
    office.clock.now = T0 + 15 * DAY
    assert office.timer().mark(claim_id, office.clock.now) is True
    late = clocks.mark_overdue(stale, office.clock.now)
    assert late is not None  # by what it read, the claim was still unmarked
    assert office.uow.run(lambda tx: tx.due_queue.mark(late, stale["version"], "documents_pending")) is False
    again = {**late, "version": stale["version"] + 1}  # even one that guessed the version
    assert office.uow.run(lambda tx: tx.due_queue.mark(again, stale["version"] + 1, "documents_pending")) is False
    assert len(office.overdue_events()) == 1


def test_a_clock_paused_for_the_family_does_not_go_overdue_and_runs_on_when_they_answer(office):
    claim_id = office.legal_aid()
    office.clock.now = T0 + 10 * DAY
    paused = office.step(claim_id, "information-requests", {"source": "family", "note": "Send the job contract"})
    assert paused["clock"]["paused_for"] == "family" and paused["clock"]["due_at"] is None
    office.clock.now = T0 + 200 * DAY
    assert until_done(office.timer()) == 0 and office.overdue_events() == []
    assert office.queue("overdue=true") == []

    back = office.step(claim_id, "information-received", {"note": "It came by post"})
    assert back["status"] == "documents_pending"
    assert datetime.fromisoformat(back["clock"]["due_at"]) == T0 + 204 * DAY  # 10 days counted, 4 left of 14
    office.clock.now = T0 + 204 * DAY - timedelta(seconds=1)
    assert until_done(office.timer()) == 0
    office.clock.now = T0 + 204 * DAY
    assert until_done(office.timer()) == 1 and len(office.overdue_events()) == 1


def test_the_queue_is_by_due_date_with_an_overdue_filter_and_keyset_pages(office):
    first = office.legal_aid()                       # due T0 + 14 days
    office.clock.now = T0 + DAY
    second = office.legal_aid(OTHER)                 # due T0 + 15 days
    office.clock.now = T0 + 2 * DAY
    death = office.file(death_grant())               # due T0 + 32 days (30 for a death grant's documents)
    paused = office.legal_aid()                      # nothing due while the family is awaited
    office.step(paused, "information-requests", {"source": "family", "note": "Send the job contract"})
    office.step(second, "assignment", {"officer": "officer-7"})

    assert office.queue() == [first, second, death, paused]
    assert office.queue_pages() == [first, second, death, paused]
    office.clock.now = T0 + 14 * DAY + timedelta(hours=12)
    assert office.queue_pages("overdue=true") == [first]
    assert office.queue_pages("overdue=false") == [second, death, paused]
    office.clock.now = T0 + 16 * DAY
    assert office.queue_pages("overdue=true") == [first, second]
    assert office.queue("overdue=true&assignee=officer-7") == [second]
    assert office.queue("status=awaiting_information") == [paused]
    assert office.queue("type=death_grant&overdue=false") == [death]
    assert office.queue("district=Cumilla&limit=2") == [first, second]
    refused = office.http.get("/api/v1/queue?overdue=maybe", headers=office.headers())
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"


@pytest.mark.parametrize("filters", [{}, {"status": "under_review"}, {"type": "death_grant"}, {"district": "Cumilla"},
                                     {"assignee": "officer-7"}])
@pytest.mark.parametrize("overdue", [None, True, False])
def test_every_queue_filter_overdue_or_not_and_a_later_page_are_served_by_an_index(office, filters, overdue):
    office.legal_aid()
    overdue_at = None if overdue is None else (overdue, T0 + 20 * DAY)
    for after in (None, [T0 + 14 * DAY, "CLM-2026-ZZZZZZZZ"]):
        plans = json.dumps(DueQueue(office.db).explain(filters, overdue_at, after), default=str)
        assert "COLLSCAN" not in plans and "IXSCAN" in plans, (filters, overdue, plans)


def test_the_timers_query_is_served_by_its_index(office):
    office.legal_aid()
    plan = office.db.claims.find({"alarm_at": {"$lte": T0 + 20 * DAY}}).sort(
        [("alarm_at", 1), ("_id", 1)]).limit(100).explain()["queryPlanner"]["winningPlan"]
    assert "COLLSCAN" not in json.dumps(plan, default=str) and "alarms" in json.dumps(plan, default=str)


def test_a_note_is_kept_on_the_claim_audited_and_published(office):
    claim_id = office.legal_aid()
    answer = office.http.post(f"/api/v1/claims/{claim_id}/notes", json={"text": "Called the family; contract on its way"},
                              headers=office.headers())
    assert answer.status_code == 201, answer.json
    assert [(n["note_id"], n["text"], n["by"]) for n in answer.json["notes"]] == \
        [(1, "Called the family; contract on its way", "officer-1")]
    assert answer.headers["ETag"] == '"2"'
    assert office.db.audit.find_one({"subject_id": claim_id, "action": "add_note"})["actor"]["user"] == "officer-1"
    assert office.db.outbox.find_one({"type": "claims.claim.note_added"})["envelope"]["data"]["case_id"] == claim_id
    empty = office.http.post(f"/api/v1/claims/{claim_id}/notes", json={"text": ""}, headers=office.headers())
    assert empty.status_code == 422 and office.db.claims.find_one({"_id": claim_id})["version"] == 2
    missing = office.http.post("/api/v1/claims/CLM-2026-NOPE0000/notes", json={"text": "x"}, headers=office.headers())
    assert missing.status_code == 404


def test_two_timer_processes_publish_one_overdue_event_through_the_relay(infra, office, tmp_path, monkeypatch):
    """The processes as make run and docker-compose start them, on the real clock: a claim
    filed 40 days ago (a legal aid's documents are due in 14) is marked once, and its event
    reaches RabbitMQ once, though two timers tick every 0.2 s."""
    office.clock.now = datetime.now(timezone.utc) - 40 * DAY
    claim_id = office.legal_aid()
    monkeypatch.setenv("CLAIMS_TIMER_INTERVAL", "0.2")
    tap = infra.tap("claims.claim.overdue")
    started = [processes.timer("claims", office.settings, tmp_path, "timer-1").start(),
               processes.timer("claims", office.settings, tmp_path, "timer-2").start(),
               processes.relay("claims", office.settings, tmp_path).start()]
    try:
        wait_for(lambda: all("timer started" in p.log() for p in started[:2]), 15, "the timers did not start")
        published = tap.drain(expect=1, timeout=30)
        assert [json.loads(body)["data"]["case_id"] for _, _, body in published] == [claim_id]
        assert tap.drain(expect=0, timeout=3) == []  # both timers ticked on meanwhile
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes == [0, 0, 0], [p.log()[-2000:] for p in started]
    assert len(office.overdue_events()) == 1
    assert sum("marked overdue" in p.log() for p in started[:2]) == 1


def test_claims_filed_before_the_clocks_get_theirs_and_take_their_place_in_the_queue(office):
    older = office.legal_aid()
    office.clock.now = T0 + DAY
    newer = office.legal_aid(OTHER)
    office.db.claims.update_one({"_id": older}, {"$unset": {name: "" for name in
                                                            ("clock", "due_order", "alarm_at", "overdue",
                                                             "overdue_stages")}})
    assert backfill_clocks(office.db) == 1 and backfill_clocks(office.db) == 0
    claim = office.db.claims.find_one({"_id": older})
    assert claim["version"] == 1 and claim["clock"]["due_at"] == claim["alarm_at"] == T0 + 14 * DAY
    assert office.queue() == [older, newer]
