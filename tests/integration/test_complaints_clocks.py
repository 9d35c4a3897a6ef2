"""Complaint clocks against the real database and broker: the timer marks a complaint overdue
once per stage however often and by however many timers it runs, a referral's delay is the
body's while the disposal clock stands still, and staff's queue goes by due date with an
overdue filter, restricted complaints only for their assignee, every query on an index.
Time is set, never slept: the service and the timers take the same settable clock."""
from __future__ import annotations

import json
import signal
import threading
from datetime import datetime, timedelta, timezone

import pytest

from services.complaints import api as complaints_api
from services.complaints import bootstrap as complaints_bootstrap
from services.complaints.config import ComplaintsConfig
from services.complaints.consumer import consumer as complaints_consumer
from services.complaints.due_queue import DueQueue, visible_to
from services.complaints.repository import Reads
from services.complaints.timers import Timer, TimerConfig
from shared import mongo
from shared.auth import Principal, issue_token
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests import processes
from tests.integration.test_complaints_api import HELD, OTHER, PARTIES, REF, TO_NOTICE, intake, registration_event
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)  # 09:00 in Dhaka
DAY = timedelta(days=1)
DHAKA = timedelta(hours=6)
OVERDUE = "complaints.complaint.overdue"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, days: float) -> None:
        self.now = T0 + days * DAY


class Office:
    """The complaints API in process with a settable clock (and Dhaka's date from it), and
    timers on the same clock."""

    def __init__(self, infra):
        self.settings = infra.settings("complaints")
        self.clock = Clock(T0)
        self.service = complaints_bootstrap.build(self.settings, ComplaintsConfig())
        self.service.clock = self.clock
        self.service.today = lambda: (self.clock() + DHAKA).date()
        app = complaints_api.create(self.settings, configure_logging=False, service=self.service)
        self.http, self.db = app.test_client(), mongo.database(self.settings)
        self.uow = complaints_bootstrap.unit_of_work(self.settings)
        for n, reference in enumerate((REF, OTHER)):
            complaints_consumer.process(self.uow, registration_event(
                "registered", reference, 1, name_en="Rahim Uddin", name_bn="রহিম উদ্দিন", phone=f"+88017123456{n}9",
                registered_by={"user": "op", "role": "admin"}))

    def headers(self, role="legal_aid", user="legal_aid-1", if_match=None):
        token = issue_token(self.settings, subject=user, role=role)
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def file(self, **overrides) -> str:
        answer = self.http.post("/api/v1/complaints", json=intake(**overrides), headers=self.headers())
        assert answer.status_code == 201, answer.json
        return answer.json["complaint_id"]

    def get(self, complaint_id) -> dict:
        return self.http.get(f"/api/v1/complaints/{complaint_id}", headers=self.headers("admin", "admin-1")).json

    def step(self, complaint_id, rule, body=None) -> dict:
        etag = self.http.get(f"/api/v1/complaints/{complaint_id}", headers=self.headers("admin", "admin-1")) \
            .headers["ETag"]
        answer = self.http.post(f"/api/v1/complaints/{complaint_id}/{rule}", json=body or {},
                                headers=self.headers("admin", "admin-1", if_match=etag))
        assert answer.status_code == 200, (rule, answer.json)
        return answer.json

    def hearing_day(self, days: float) -> str:
        return (T0 + days * DAY + DHAKA).date().isoformat()

    def timer(self, batch_size=100) -> Timer:
        return Timer(complaints_bootstrap.unit_of_work(self.settings), Reads(self.db),
                     TimerConfig(batch_size=batch_size), self.clock)

    def overdue_events(self) -> list[dict]:
        return [row["envelope"] for row in self.db.outbox.find({"type": OVERDUE}).sort("created_at", 1)]

    def queue(self, query="", user="legal_aid-1", role="legal_aid") -> list[str]:
        answer = self.http.get(f"/api/v1/queue?{query}", headers=self.headers(role, user))
        assert answer.status_code == 200, answer.json
        return [c["complaint_id"] for c in answer.json["items"]]

    def queue_pages(self, query="", limit=1) -> list[str]:
        seen, cursor = [], None
        for _ in range(20):
            answer = self.http.get(f"/api/v1/queue?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else ""),
                                   headers=self.headers()).json
            seen += [c["complaint_id"] for c in answer["items"]]
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


def test_complaints_overdue_in_scrutiny_are_marked_once_and_published_once_with_two_timers(infra, office):
    ids = [office.file(), office.file(complainant={"migrant_reference": OTHER, "name": "Karim Mia",
                                                   "phone": "01812345678"}), office.file()]
    office.clock.at(7 - 1 / 86400)
    assert until_done(office.timer()) == 0  # not due yet
    office.clock.at(7.5)
    timers, counts = [office.timer(batch_size=1), office.timer(batch_size=2)], []
    threads = [threading.Thread(target=lambda t=t: counts.append(until_done(t))) for t in timers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 3, counts
    assert until_done(office.timer()) == 0 and until_done(timers[0]) == 0  # and run again: nothing more

    events = office.overdue_events()
    assert sorted(e["data"]["case_id"] for e in events) == sorted(ids)
    assert {(e["data"]["stage"], when(e["data"]["due_at"])) for e in events} == {("scrutiny", T0 + 7 * DAY)}
    for complaint_id in ids:
        complaint = office.get(complaint_id)
        assert complaint["overdue_stages"] == ["scrutiny"] and complaint["overdue"]["stage"] == "scrutiny"
        history = office.http.get(f"/api/v1/complaints/{complaint_id}/history", headers=office.headers()).json
        assert [h["type"] for h in history["items"]].count(OVERDUE) == 1

    tap = infra.tap(OVERDUE)
    relay = Relay(OutboxStore(office.db), office.settings)
    infra.background(relay, relay.run)
    published = tap.drain(expect=3, timeout=30)
    assert sorted(json.loads(body)["data"]["case_id"] for _, _, body in published) == sorted(ids)
    assert {json.loads(body)["data"]["stage"] for _, _, body in published} == {"scrutiny"}


def test_a_marked_stage_is_not_marked_again_on_later_ticks_and_the_next_due_stage_is(office):
    complaint_id = office.file()
    office.clock.at(8)
    assert until_done(office.timer()) == 1
    office.clock.at(9)
    office.step(complaint_id, "scrutiny")  # late: the scrutiny clock stops, its mark stays on record
    for days in (10, 12, 14.9):
        office.clock.at(days)
        assert until_done(office.timer()) == 0
    office.clock.at(15)
    assert until_done(office.timer()) == 1  # acknowledgement, 15 days from filing
    office.clock.at(40)
    assert until_done(office.timer()) == 0
    assert [e["data"]["stage"] for e in office.overdue_events()] == ["scrutiny", "acknowledgement"]
    complaint = office.get(complaint_id)
    assert complaint["overdue_stages"] == ["scrutiny", "acknowledgement"]
    assert complaint["overdue"]["stage"] == "acknowledgement"
    assert complaint["clocks"]["scrutiny"]["state"] == "stopped"


def test_a_referral_past_its_due_date_is_marked_as_the_bodys_while_the_disposal_clock_stands_still(office):
    complaint_id = office.file()
    office.clock.at(1)
    office.step(complaint_id, "scrutiny")
    office.step(complaint_id, *TO_NOTICE[1])
    office.step(complaint_id, *TO_NOTICE[2])
    office.step(complaint_id, "hearings", {"date": office.hearing_day(5), "venue": "BMET Dhaka", "parties": PARTIES})
    office.clock.at(5)
    office.step(complaint_id, "hearings/held", HELD)
    office.clock.at(10)
    referred = office.step(complaint_id, "referrals", {"body": "mission_labour_wing", "note": "Recover the wages"})
    assert when(referred["referrals"][0]["due_at"]) == T0 + 40 * DAY  # COMPLAINTS_REFERRAL_DAYS: 30
    assert referred["clocks"]["disposal"]["state"] == "paused"

    office.clock.at(39)
    assert until_done(office.timer()) == 0
    office.clock.at(41)
    assert until_done(office.timer()) == 1
    [event] = office.overdue_events()
    assert (event["data"]["stage"], when(event["data"]["due_at"])) == ("referral:1", T0 + 40 * DAY)
    held = office.get(complaint_id)
    assert held["overdue"]["stage"] == "referral:1"
    assert held["clocks"]["disposal"]["state"] == "paused" and held["clocks"]["disposal"]["counted_seconds"] == 10 * 86400

    office.clock.at(50)
    back = office.step(complaint_id, "referrals/1", {"state": "declined", "note": "Not within our remit"})
    # 10 days counted before the referral, 80 left from day 50: the body's 40 days are not the office's
    assert when(back["clocks"]["disposal"]["due_at"]) == T0 + 130 * DAY and back["overdue"] is None
    office.clock.at(130 - 1 / 86400)
    assert until_done(office.timer()) == 0
    office.clock.at(130)
    assert until_done(office.timer()) == 1
    assert [e["data"]["stage"] for e in office.overdue_events()] == ["referral:1", "disposal"]


def test_the_queue_is_by_due_date_with_an_overdue_filter_and_keyset_pages(office):
    first = office.file()                                            # scrutiny due day 7
    office.clock.at(1)
    second = office.file(district="Sylhet")                          # due day 8
    office.clock.at(2)
    third = office.file(respondents=[{"kind": "recruiting_agency", "name": "Other Overseas", "licence": "RL-77"}])
    office.step(third, "scrutiny")                                   # acknowledgement due day 17
    office.step(second, "assignment", {"assignee": "legal_aid-7"})
    decided = office.file()
    office.step(decided, "withdrawal", {"reason": "The agency paid"})  # nothing due: last

    assert office.queue() == [first, second, third, decided]
    assert office.queue_pages() == [first, second, third, decided]
    office.clock.at(7.5)
    assert office.queue_pages("overdue=true") == [first]
    assert office.queue_pages("overdue=false") == [second, third, decided]
    office.clock.at(9)
    assert office.queue_pages("overdue=true") == [first, second]
    assert office.queue("overdue=true&assignee=legal_aid-7") == [second]
    assert office.queue("status=scrutiny") == [third]
    assert office.queue("district=Sylhet") == [second]
    assert office.queue("agency_licence=RL-77&overdue=false") == [third]
    assert office.queue("status=received&district=Cumilla") == [first]
    refused = office.http.get("/api/v1/queue?overdue=maybe", headers=office.headers())
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"


def test_restricted_complaints_are_absent_from_the_queue_for_staff_they_are_not_assigned_to(office):
    secret = office.file(restricted=True, category="abuse_unsafe_work")
    office.clock.at(1)
    open_one = office.file()
    office.step(secret, "assignment", {"assignee": "legal_aid-7"})
    office.clock.at(2)
    unassigned_secret = office.file(restricted=True)

    assert office.queue(user="legal_aid-2") == [open_one]
    assert office.queue("overdue=false&status=received", user="legal_aid-2") == [open_one]
    assert office.queue(user="legal_aid-7") == [secret, open_one]
    assert office.queue("assignee=legal_aid-7", user="legal_aid-7") == [secret]
    assert office.queue("assignee=legal_aid-7", user="legal_aid-2") == []
    assert office.queue(role="admin", user="admin-1") == [secret, open_one, unassigned_secret]


STAFF, ADMIN = Principal("legal_aid-7", "legal_aid"), Principal("admin-1", "admin")


@pytest.mark.parametrize("filters", [{}, {"status": "hearing"}, {"category": "unpaid_wages"}, {"district": "Cumilla"},
                                     {"assignee": "legal_aid-7"}, {"agency_licences": "RL-1234"},
                                     {"status": "received", "district": "Cumilla", "category": "unpaid_wages"}])
@pytest.mark.parametrize("overdue", [None, True, False])
@pytest.mark.parametrize("principal", [STAFF, ADMIN], ids=["staff", "admin"])
def test_every_queue_filter_overdue_or_not_for_staff_or_admin_and_a_later_page_use_an_index(office, filters, overdue,
                                                                                             principal):
    office.file()
    office.file(restricted=True)
    overdue_at = None if overdue is None else (overdue, T0 + 20 * DAY)
    for after in (None, [T0 + 7 * DAY, "CMP-2026-ZZZZZZZZ"]):
        plans = json.dumps(DueQueue(office.db).explain({**filters, **visible_to(principal)}, overdue_at, after),
                           default=str)
        assert "COLLSCAN" not in plans and "IXSCAN" in plans, (filters, overdue, plans)


def test_the_timers_query_is_served_by_its_index(office):
    office.file()
    plan = office.db.complaints.find({"alarm_at": {"$lte": T0 + 20 * DAY}}).sort(
        [("alarm_at", 1), ("_id", 1)]).limit(100).explain()["queryPlanner"]["winningPlan"]
    assert "COLLSCAN" not in json.dumps(plan, default=str) and "alarms" in json.dumps(plan, default=str)


def test_two_timer_processes_publish_one_overdue_event_through_the_relay(infra, office, tmp_path, monkeypatch):
    """The processes as make run and docker-compose start them, on the real clock: a complaint
    filed 10 days ago (scrutiny is due in 7) is marked once, and its event reaches RabbitMQ
    once, though two timers tick every 0.2 s."""
    office.clock.now = datetime.now(timezone.utc) - 10 * DAY
    complaint_id = office.file()
    monkeypatch.setenv("COMPLAINTS_TIMER_INTERVAL", "0.2")
    tap = infra.tap(OVERDUE)
    started = [processes.timer("complaints", office.settings, tmp_path, "timer-1").start(),
               processes.timer("complaints", office.settings, tmp_path, "timer-2").start(),
               processes.relay("complaints", office.settings, tmp_path).start()]
    try:
        wait_for(lambda: all("timer started" in p.log() for p in started[:2]), 15, "the timers did not start")
        published = tap.drain(expect=1, timeout=30)
        assert [json.loads(body)["data"]["case_id"] for _, _, body in published] == [complaint_id]
        assert tap.drain(expect=0, timeout=3) == []  # both timers ticked on meanwhile
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes == [0, 0, 0], [p.log()[-2000:] for p in started]
    assert len(office.overdue_events()) == 1
    assert sum("marked overdue" in p.log() for p in started[:2]) == 1
