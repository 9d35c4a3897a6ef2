"""The case-status consumer as it runs, against the real RabbitMQ and database: events
published to the exchange reach `python -m services.casestatus.consumer`, which writes each
migrant's timeline (read back through the API in both languages) and queues the SMS; an
event delivered twice is one entry and one SMS; events out of order read in the order they
happened with the right "what's next"; the timeline pages by index."""
from __future__ import annotations

import pytest
from kombu import Connection

from services.casestatus import api as casestatus_api
from services.casestatus import bootstrap
from services.casestatus.consumer import consumer as casestatus_consumer
from services.casestatus.repository import Reads
from shared import mongo, topology
from shared.auth import issue_token
from tests import processes
from tests.consumer_probe import publish
from tests.unit.casestatus_builders import MIGRANT, PHONE, START, decided, journey, registered
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

EXPECTED_EN = ["Your application was approved.",
               "Hearing 1 was postponed; the next hearing is on 12 December 2026 at DEMO Cumilla.",
               "All documents are verified; an officer is reviewing the application."]
EXPECTED_BN = ["আপনার আবেদন মঞ্জুর হয়েছে।",
               "১ নম্বর শুনানি মুলতবি হয়েছে; পরের শুনানি ১২ ডিসেম্বর ২০২৬ তারিখে, DEMO Cumilla-এ।",
               "সব কাগজ যাচাই হয়েছে; একজন কর্মকর্তা আবেদনটি পর্যালোচনা করছেন।"]
SMS_TYPES = ["claims.claim.approved", "complaints.complaint.hearing_adjourned",
             "complaints.complaint.hearing_scheduled", "documents.document.rejected"]


class Desk:
    """The case-status consumer process, its database and its API in process."""

    def __init__(self, infra, log_dir):
        self.settings = infra.settings("casestatus")
        with Connection(self.settings.amqp_url) as connection:  # events published before it starts are routed
            topology.declare(connection, topology.Names(self.settings.amqp_prefix, "casestatus"),
                             casestatus_consumer.binding_keys, self.settings.retry_delays_ms)
        self.process = processes.consumer("casestatus", self.settings, log_dir).start()
        self.db = mongo.database(self.settings)
        self.http = casestatus_api.create(self.settings, configure_logging=False).test_client()

    def publish(self, *events):
        for event in events:
            publish(self.settings, event)

    def applied(self) -> int:
        return self.db.inbox.count_documents({"consumer": "casestatus"})

    def wait_applied(self, count: int) -> None:
        wait_for(lambda: self.applied() >= count, 60,
                 lambda: f"applied {self.applied()} of {count}\n{self.process.log()}")

    def token(self, role="migrant", **claims):
        subject = claims.pop("subject", f"{role}-1")
        if role == "migrant":
            claims.setdefault("migrant_ref", MIGRANT)
        return issue_token(self.settings, subject=subject, role=role, audience="casestatus", **claims)

    def timeline(self, lang="bn", limit=50, cursor=None, token=None):
        query = f"?lang={lang}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        return self.http.get(f"/api/v1/migrants/{MIGRANT}/timeline{query}",
                             headers={"Authorization": f"Bearer {token or self.token()}"})

    def stop(self):
        self.process.stop()


@pytest.fixture
def desk(infra, tmp_path):
    desk = Desk(infra, tmp_path)
    yield desk
    desk.stop()


def test_a_journey_through_the_broker_is_the_timeline_in_both_languages_with_its_sms(desk):
    events = journey()
    desk.publish(*events)
    desk.wait_applied(len(events))

    english = desk.timeline("en")
    assert english.status_code == 200, english.json
    assert [item["id"] for item in english.json["items"]] == [e.id for e in reversed(events)]
    assert [item["text"] for item in english.json["items"][:3]] == EXPECTED_EN
    assert english.json["items"][-1]["when"] == "20 November 2026, 10:00"
    bangla = desk.timeline()  # Bangla unless asked
    assert [item["text"] for item in bangla.json["items"][:3]] == EXPECTED_BN
    assert bangla.json["items"][-1]["when"] == "২০ নভেম্বর ২০২৬, ১০:০০"
    steps = {case["case_id"]: case for case in english.json["open_cases"]}
    assert steps["CMP-1"]["steps"][0] == "Come to the hearing on 12 December 2026 at DEMO Cumilla. Bring your papers."
    assert steps["CLM-1"]["status"] == "approved"

    sms = list(desk.db.notifications.find({}))
    assert sorted(s["event_id"].split(":")[0] for s in sms) == SMS_TYPES
    assert {(s["to"], s["state"], s["migrant"]) for s in sms} == {(PHONE, "queued", MIGRANT)}


def test_an_event_delivered_twice_is_one_entry_and_one_sms(desk):
    rejected = decided("DOC-MED", "medical_report", START, 2, "rejected", "The scan cannot be read")
    desk.publish(registered(), rejected, rejected)
    desk.wait_applied(2)
    wait_for(lambda: "duplicate delivery ignored" in desk.process.log(), 30, desk.process.log)
    assert desk.db.entries.count_documents({}) == 2
    assert [s["event_id"] for s in desk.db.notifications.find({})] == [rejected.id]


def test_events_out_of_order_read_in_the_order_they_happened_with_the_right_next_steps(desk):
    events = journey()
    desk.publish(*reversed(events))
    desk.wait_applied(len(events))  # late ones applied too, none skipped as superseded
    answer = desk.timeline("en").json
    assert [item["id"] for item in answer["items"]] == [e.id for e in reversed(events)]
    steps = {case["case_id"]: case for case in answer["open_cases"]}
    assert steps["CMP-1"]["next_hearing"] == {"date": "2026-12-12", "venue": "DEMO Cumilla"}
    assert steps["CLM-1"]["status"] == "approved" and steps["CLM-1"]["missing_documents"] == []
    # Only the news of the moment is sent: the adjournment, not the date it moved from.
    types = sorted(s["event_id"].split(":")[0] for s in desk.db.notifications.find({}))
    assert "complaints.complaint.hearing_scheduled" not in types and "claims.claim.approved" in types


def test_the_timeline_pages_newest_first_by_index(desk):
    events = journey()
    desk.publish(*events)
    desk.wait_applied(len(events))
    seen, cursor = [], None
    while True:
        page = desk.timeline(limit=5, cursor=cursor)
        assert page.status_code == 200, page.json
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen == [e.id for e in reversed(events)]
    entries = Reads(desk.db).entries
    last = desk.db.entries.find_one({"_id": events[5].id})
    after = [last["occurred_at"], last["aggregate"]["version"], last["_id"]]
    for filters, index in (({"migrant_reference": MIGRANT}, "by_migrant"),
                           ({"migrant_reference": MIGRANT, "restricted_case": None}, "by_migrant_seen_by_staff"),
                           ({"case_ids": "CLM-1"}, "by_case")):
        for plan in entries.explain_page(filters, after) + entries.explain_page(filters, None):
            assert f"'{index}'" in str(plan) and "COLLSCAN" not in str(plan), (filters, plan)
    bad = desk.timeline(cursor="bm90LWEtY3Vyc29y")
    assert bad.status_code in (400, 422) and bad.json["errors"]["cursor"]
    assert desk.timeline(lang="fr").status_code in (400, 422)


def test_the_service_starts_on_an_empty_database_with_its_indexes(infra):
    db = bootstrap.unit_of_work(infra.settings("casestatus")).db
    names = {index["name"] for index in db.entries.list_indexes()}
    assert {"by_migrant", "by_migrant_seen_by_staff", "by_case", "by_aggregate"} <= names
