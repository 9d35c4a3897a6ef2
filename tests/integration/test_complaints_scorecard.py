"""The recruiting-agency scorecard against the real broker and database, through the
complaints service's own consumer (services/complaints/consumer.py) and API:

- migrants registered with an agency's licence (registration's own event data) and complaints
  walked through the complaints domain at set times (its own event data, each checked against
  its contract), published to RabbitMQ: counts, amounts, the exact median and the per-1,000
  rate as filed and registered; deliveries again change nothing; the CSV says the same;
- complaints filed and moved over HTTP, their events relayed from the outbox: the same
  figures for what the service really published (times are the real clock's there)."""
from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime, timedelta, timezone

import pytest

from services.complaints import api as complaints_api
from services.complaints import awards, bootstrap, categories, domain, hearings, intake, scorecard
from services.complaints.config import ComplaintsConfig
from services.complaints.consumer import consumer as complaints_consumer
from services.registration import domain as registration
from shared import contracts
from shared.auth import issue_token
from shared.consumer import Worker
from shared.events import Envelope
from shared.fields import today_in_bangladesh
from shared.outbox import OutboxStore
from shared.relay import Relay

from tests.consumer_probe import publish
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

AGENCY, OTHER = "RL-1234", "RL-77"
FILED = datetime(2026, 9, 1, 4, 0, tzinfo=timezone.utc)
LISTS = categories.load()
STAFF = {"user": "legal-1", "role": "legal_aid"}
OPERATOR = {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi"}


class Office:
    """The complaints service in process (API on a date the test sets) with its consumer
    running against the broker; events are published as their services would."""

    def __init__(self, infra, today: date, relay: bool = False):
        self.settings = infra.settings("complaints")
        self.service = bootstrap.build(self.settings, ComplaintsConfig())
        self.db = self.service.reads.db
        self.uow = bootstrap.unit_of_work(self.settings)
        self.worker = Worker(complaints_consumer, self.uow, self.settings)
        infra.background(self.worker, self.worker.run)
        assert self.worker.ready.wait(15)
        if relay:
            self.relay = Relay(OutboxStore(self.db), self.settings)
            infra.background(self.relay, self.relay.run)
        self.today = today
        self.http = complaints_api.create(self.settings, configure_logging=False, service=self.service).test_client()
        self.published: list[Envelope] = []

    @property
    def today(self) -> date:
        return self.service.today()

    @today.setter
    def today(self, value: date) -> None:
        self.service.today = lambda: value

    def publish(self, event: Envelope) -> None:
        contracts.check(event)
        publish(self.settings, event)
        self.published.append(event)

    def settled(self, event_ids=None) -> None:
        """Every event published (or given) applied: the consumer's inbox holds each."""
        ids = [f"complaints:{i}" for i in (event_ids or [e.id for e in self.published])]
        wait_for(lambda: self.db.inbox.count_documents({"_id": {"$in": ids}}) == len(ids), 30,
                 lambda: f"{len(ids) - self.db.inbox.count_documents({'_id': {'$in': ids}})} events not applied")

    def token(self, role="welfare_officer") -> dict:
        token = issue_token(self.settings, subject=f"{role}-1", role=role,
                            migrant_ref="PB-0000-0001" if role == "migrant" else None, audience="complaints")
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, role="welfare_officer", **headers):
        return self.http.get(f"/api/v1{path}", headers={**self.token(role), **headers})


# -- what registration and complaints publish ---------------------------------------------

def migrant_registered(n: int, licence: str | None) -> Envelope:
    reference = f"PB-0000-{n:04d}"
    details = {"name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "phone": f"+88017123{n:05d}", "nid": "1234567890",
               "destination_country": "SA", **({"recruiting_agency_licence": licence} if licence else {})}
    migrant = registration.new_migrant(details, reference=reference, actor=OPERATOR, now=FILED)
    return Envelope.new(type=registration.REGISTERED, source="registration", subject_type=registration.SUBJECT,
                        subject_id=reference, aggregate_version=1, data=registration.event_data(migrant))


def migrant_moved(n: int, licence: str) -> Envelope:
    reference = f"PB-0000-{n:04d}"
    migrant = {"reference": reference, "recruiting_agency_licence": licence}
    return Envelope.new(type=registration.UPDATED, source="registration", subject_type=registration.SUBJECT,
                        subject_id=reference, aggregate_version=2,
                        data=registration.update_event_data(migrant, ["recruiting_agency_licence"],
                                                            {"user": "wo-1", "role": "welfare_officer"}))


class Complaint:
    """A complaint walked through the domain, each step's event as core raises it."""

    def __init__(self, office: Office, number: int, category: str, licences: list[str], claimed: int):
        respondents = [{"kind": "recruiting_agency", "name": f"Agency {licence}", "licence": licence}
                       for licence in licences]
        body = {"complainant": {"migrant_reference": f"PB-0000-{number:04d}", "name": "Rahim Uddin",
                                "phone": "01712345678"},
                "channel": "udc", "category": category, "respondents": respondents, "amount_claimed": claimed,
                "narrative": "The agency took the fee and the job abroad never existed."}
        self.office, self.now = office, FILED
        self.state = intake.new_complaint(body, complaint_id=f"CMP-2026-{number:08d}", receipt_number="CP-1",
                                          lists=LISTS, actor=STAFF, now=FILED)
        self.raise_(domain.RECEIVED_EVENT)

    def raise_(self, event_type: str, data_of=domain.event_data) -> Envelope:
        data = data_of(self.state)
        event = Envelope.new(type=event_type, source="complaints", subject_type=domain.SUBJECT,
                             subject_id=self.state["_id"], aggregate_version=self.state["version"], data=data)
        event = dataclasses.replace(event, occurred_at=self.now.isoformat().replace("+00:00", "Z"))
        self.office.publish(event)
        return event

    def step(self, fn, event_type: str, days: float = 0, data_of=domain.event_data, **kwargs) -> Envelope:
        self.now = FILED + timedelta(days=days)
        self.state = fn(self.state, actor=STAFF, now=self.now, **kwargs)
        return self.raise_(event_type, data_of)

    def heard(self) -> None:
        self.step(domain.start_scrutiny, domain.SCRUTINY_EVENT, 1)
        self.step(domain.acknowledge, domain.ACKNOWLEDGED_EVENT, 2, committee=["Deputy Director"])
        self.step(domain.send_notice, domain.NOTICE_SENT_EVENT, 3)
        first_hearing = lambda c: hearings.event_data(c, 1)  # noqa: E731
        self.step(hearings.schedule, domain.HEARING_SCHEDULED_EVENT, 4, first_hearing,
                  on=FILED.date() + timedelta(days=7), venue="BMET Dhaka", parties=["complainant", "recruiting_agency"],
                  today=FILED.date() + timedelta(4))
        self.step(hearings.hold, domain.HEARING_HELD_EVENT, 7, first_hearing,
                  attendance={"complainant": True, "recruiting_agency": True}, minutes="Both parties heard.")

    def closed(self, days: int) -> Envelope:
        self.heard()
        self.step(domain.dismiss, domain.DISMISSED_EVENT, 8, reason="No proof of the fee.")
        return self.step(domain.close, domain.CLOSED_EVENT, days, note=None)


DEADLINE = FILED.date() + timedelta(days=60)


def file_and_decide(office: Office) -> dict:
    """RL-1234: four complaints; two closed after 10 and 30 days (median 20), one awarded
    Tk 100,000 and paid Tk 40,000, one still received. RL-77: one complaint. Workers: five
    sent by RL-1234, one of whom moves to RL-77, which sent two; one migrant has no agency."""
    for n in range(1, 6):
        office.publish(migrant_registered(n, AGENCY))
    for n in (6, 7):
        office.publish(migrant_registered(n, OTHER))
    office.publish(migrant_registered(8, None))
    office.publish(migrant_moved(5, OTHER))

    awarded = Complaint(office, 1, "unpaid_wages", [AGENCY], 250000)
    awarded.heard()
    awarded.step(awards.decide, domain.AWARD_ISSUED_EVENT, 8, awards.event_data, kind=domain.AWARD_ISSUED,
                 amount=100000, payment_deadline=DEADLINE, instalments=None, terms=None,
                 today=FILED.date() + timedelta(days=8))
    awarded.step(awards.start_monitoring, domain.MONITORING_EVENT, 8, awards.event_data)
    paid = awarded.step(awards.record_payment, domain.PAYMENT_RECEIVED_EVENT, 20, awards.event_data, amount=40000,
                        paid_on=FILED.date() + timedelta(days=20), reference="BANK-1",
                        today=FILED.date() + timedelta(days=20))
    Complaint(office, 2, "contract_breach", [AGENCY], 50000).closed(10)
    closing = Complaint(office, 3, "unpaid_wages", [AGENCY], 70000).closed(30)
    Complaint(office, 4, "recruitment_fraud", [AGENCY], 30000)
    Complaint(office, 5, "passport_withheld", [OTHER], 0)
    office.settled()
    return {"paid": paid, "closing": closing}


EXPECTED = {
    AGENCY: {"licence": AGENCY, "complaints": 4, "open": 2, "resolved": 2, "withdrawn": 0,
             "median_days_to_close": 20.0, "amount_claimed": 400000, "amount_awarded": 100000, "amount_paid": 40000,
             "awards": 1, "awards_unpaid_past_deadline": 0, "workers_sent": 4, "complaints_per_1000_workers": 1000.0,
             "by_category": {"unpaid_wages": 2, "contract_breach": 1, "recruitment_fraud": 1}},
    OTHER: {"licence": OTHER, "complaints": 1, "open": 1, "resolved": 0, "withdrawn": 0,
            "median_days_to_close": None, "amount_claimed": 0, "amount_awarded": 0, "amount_paid": 0,
            "awards": 0, "awards_unpaid_past_deadline": 0, "workers_sent": 3, "complaints_per_1000_workers": 333.33,
            "by_category": {"passport_withheld": 1}},
}


@pytest.fixture
def office(infra):
    return Office(infra, today=DEADLINE)


def test_the_scorecard_matches_what_was_filed_and_registered(office):
    file_and_decide(office)
    for licence, expected in EXPECTED.items():
        answer = office.get(f"/agencies/{licence}/scorecard")
        assert answer.status_code == 200, answer.json
        assert answer.json == {**expected, "as_of": DEADLINE.isoformat()}
    assert office.get("/agencies/rl%201234/scorecard").json["licence"] == AGENCY  # as BMET's papers spell it
    ranked = office.get("/agencies/scorecard?rank_by=complaints").json
    assert ranked["items"] == [EXPECTED[AGENCY], EXPECTED[OTHER]] and ranked["next_cursor"] is None
    by_workers = office.get("/agencies/scorecard?rank_by=workers_sent&order=asc").json["items"]
    assert [(a["licence"], a["workers_sent"]) for a in by_workers] == [(OTHER, 3), (AGENCY, 4)]


def test_an_award_unpaid_after_its_deadline_counts_from_the_next_day(office):
    file_and_decide(office)
    assert office.get(f"/agencies/{AGENCY}/scorecard").json["awards_unpaid_past_deadline"] == 0
    office.today = DEADLINE + timedelta(days=1)
    assert office.get(f"/agencies/{AGENCY}/scorecard").json["awards_unpaid_past_deadline"] == 1
    ranked = office.get("/agencies/scorecard?rank_by=awards_unpaid_past_deadline").json["items"]
    assert [(a["licence"], a["awards_unpaid_past_deadline"]) for a in ranked] == [(AGENCY, 1), (OTHER, 0)]
    ranked = office.get("/agencies/scorecard?rank_by=awards_unpaid_past_deadline&order=asc").json["items"]
    assert [a["licence"] for a in ranked] == [OTHER, AGENCY]
    first = office.get("/agencies/scorecard?rank_by=awards_unpaid_past_deadline&limit=1").json
    rest = office.get(f"/agencies/scorecard?rank_by=awards_unpaid_past_deadline&limit=1&cursor={first['next_cursor']}")
    assert [a["licence"] for a in first["items"] + rest.json["items"]] == [AGENCY, OTHER]
    assert rest.json["next_cursor"] is None


def test_events_delivered_again_change_nothing(office):
    events = file_and_decide(office)
    before = office.get(f"/agencies/{AGENCY}/scorecard").json
    for event in (events["paid"], events["closing"], office.published[0]):
        publish(office.settings, event)  # the broker delivers it again
    office.settled()
    wait_for(lambda: office.worker.processed >= len(office.published) + 3, 20, "the copies were not delivered")
    for event in (events["paid"], events["closing"]):  # and past the inbox, the rows' versions hold
        office.uow.run(lambda tx, e=event: scorecard.complaint_changed(e, tx))
    assert office.get(f"/agencies/{AGENCY}/scorecard").json == before


def test_the_csv_has_the_same_numbers(office):
    file_and_decide(office)
    answer = office.get("/agencies/scorecard?rank_by=complaints", Accept="text/csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert [row["licence"] for row in rows] == [AGENCY, OTHER]
    for row in rows:
        expected = EXPECTED[row["licence"]]
        for name, value in row.items():
            if name != "licence":
                assert value == ("" if expected[name] is None else str(expected[name])), name
    assert office.get("/agencies/scorecard?format=csv").data == answer.data


def test_pages_follow_the_ranking_and_staff_reads_are_audited(office):
    file_and_decide(office)
    first = office.get("/agencies/scorecard?rank_by=median_days_to_close&limit=1").json
    assert [a["licence"] for a in first["items"]] == [AGENCY] and first["next_cursor"]
    second = office.get(f"/agencies/scorecard?rank_by=median_days_to_close&limit=1&cursor={first['next_cursor']}")
    assert [a["licence"] for a in second.json["items"]] == [OTHER] and second.json["next_cursor"] is None
    audited = list(office.db.audit.find({"subject_type": "agency_scorecard"}))
    assert len(audited) == 2 and audited[0]["details"]["rank_by"] == "median_days_to_close"
    assert office.get(f"/agencies/{AGENCY}/scorecard", role="migrant").status_code == 200
    assert office.db.audit.count_documents({"subject_type": "agency_scorecard"}) == 2  # migrants: not audited


def test_unknown_agencies_and_bad_queries_are_clear_problems(office):
    assert office.get("/agencies/RL-999/scorecard").status_code == 404
    assert office.get("/agencies/not-a-licence/scorecard").status_code == 404
    assert office.get("/agencies/scorecard?rank_by=name").json["errors"].keys() == {"rank_by"}
    assert office.get("/agencies/scorecard?cursor=bm9wZQ").status_code == 422
    assert office.get("/agencies/scorecard").status_code == 200
    assert office.http.get("/api/v1/agencies/scorecard").status_code == 401


def test_a_ranked_first_page_reads_an_index(office):
    reads = scorecard.ScorecardReads(office.db)
    for metric in scorecard.METRICS:
        if metric != scorecard.UNPAID:
            assert "IXSCAN" in str(reads.explain(metric)), metric


# -- through the complaints API and its relay -------------------------------------------------

def api_intake(number: int, licence: str, category: str = "unpaid_wages") -> dict:
    return {"complainant": {"migrant_reference": f"PB-0000-{number:04d}", "name": "Rahim Uddin",
                            "phone": "01712345678"},
            "channel": "udc", "category": category,
            "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": licence}],
            "amount_claimed": 250000, "narrative": "Eight months of wages were never paid by the employer.",
            "district": "Cumilla"}


def test_complaints_filed_and_decided_over_http_reach_the_scorecard(infra):
    office = Office(infra, today=today_in_bangladesh(), relay=True)
    for n in (1, 2, 3):
        office.publish(migrant_registered(n, AGENCY))
    office.publish(migrant_registered(4, OTHER))
    office.settled()
    staff = office.token("legal_aid")

    def step(complaint_id, rule, body=None):
        etag = office.http.get(f"/api/v1/complaints/{complaint_id}", headers=staff).headers["ETag"]
        answer = office.http.post(f"/api/v1/complaints/{complaint_id}/{rule}", json=body or {},
                                  headers={**office.token("admin"), "If-Match": etag})
        assert answer.status_code == 200, (rule, answer.json)

    def file(body) -> str:
        answer = office.http.post("/api/v1/complaints", json=body, headers=staff)
        assert answer.status_code == 201, answer.json
        return answer.json["complaint_id"]

    def day(n: int) -> str:
        return (office.today + timedelta(days=n)).isoformat()

    heard = [("scrutiny", {}), ("acknowledgement", {"committee": ["Deputy Director (Legal)"]}), ("notice", {}),
             ("hearings", {"date": day(7), "venue": "BMET Dhaka", "parties": ["complainant", "recruiting_agency"]}),
             ("hearings/held", {"attendance": {"complainant": True, "recruiting_agency": True},
                                "minutes": "Both parties were heard."})]
    awarded, dismissed, withdrawn = (file(api_intake(n, AGENCY, category))
                                     for n, category in ((1, "unpaid_wages"), (2, "contract_breach"),
                                                         (3, "unpaid_wages")))
    file(api_intake(4, OTHER, "passport_withheld"))
    for rule, body in [*heard, ("outcome", {"kind": "award_issued", "amount": 100000, "payment_deadline": day(60)}),
                       ("compliance-monitoring", {}), ("payments", {"amount": 40000, "paid_on": day(0)})]:
        step(awarded, rule, body)
    for rule, body in [*heard, ("dismissal", {"reason": "No proof of the fee."}), ("closure", {"note": "Closed after the dismissal."})]:
        step(dismissed, rule, body)
    step(withdrawn, "withdrawal", {"reason": "Paid back by the agency."})
    outbox = [row["envelope"] for row in office.db.outbox.find({"aggregate": {"$regex": "^complaint:"}})]
    office.settled([e["id"] for e in outbox])

    card = office.get(f"/agencies/{AGENCY}/scorecard").json
    median = card.pop("median_days_to_close")
    assert 0 <= median < 0.1  # filed and closed within this test, on the real clock
    assert card == {"licence": AGENCY, "complaints": 3, "open": 1, "resolved": 1, "withdrawn": 1,
                    "amount_claimed": 750000, "amount_awarded": 100000, "amount_paid": 40000, "awards": 1,
                    "awards_unpaid_past_deadline": 0, "workers_sent": 3, "complaints_per_1000_workers": 1000.0,
                    "by_category": {"unpaid_wages": 2, "contract_breach": 1}, "as_of": office.today.isoformat()}
    other = office.get(f"/agencies/{OTHER}/scorecard").json
    assert (other["complaints"], other["open"], other["workers_sent"], other["complaints_per_1000_workers"]) == \
        (1, 1, 1, 1000.0)
    office.today = office.today + timedelta(days=61)
    assert office.get(f"/agencies/{AGENCY}/scorecard").json["awards_unpaid_past_deadline"] == 1

    before = office.get("/agencies/scorecard?format=csv").data
    for envelope in outbox:  # every event of the complaints delivered again
        publish(office.settings, Envelope.from_dict(envelope))
    wait_for(lambda: office.worker.processed >= len(office.published) + 2 * len(outbox), 30,
             "the copies were not delivered")
    assert office.get("/agencies/scorecard?format=csv").data == before
    assert before.decode("utf-8-sig").splitlines()[1].startswith(f"{AGENCY},3,1,1,1,")
