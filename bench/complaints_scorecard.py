"""The recruiting-agency scorecard's rows (issue 9):

- freshness: from a complaint filed (its state and `complaints.complaint.received` committed
  together, as filing does) until the scorecard's row for it exists (outbox -> relay ->
  RabbitMQ -> the complaints consumer running the scorecard's handlers), p50/p99 at a fixed
  rate, against the raw hop of latency.raw. Until core's API and consumer processes are
  merged, filing is the unit of work core's filing runs and the relay and consumer run in
  this process (shared.relay.Relay, shared.consumer.Worker), the same code as theirs;
- ranking: the ranked first page (20 agencies) at 100 agencies / 10k complaints and at 1k
  agencies / 100k complaints, projection rows bulk-inserted, through the routes in process
  (auth, audit, JSON), for a stored figure and for the one counted when read (awards unpaid
  past deadline); and explain() of the stored figure's read: its stage, no COLLSCAN.
"""
from __future__ import annotations

import random
import statistics
import threading
import time
from datetime import date, datetime, timedelta, timezone

from marshmallow import INCLUDE

from services.complaints import domain, scorecard
from services.complaints.scorecard_api import add_routes
from shared import contracts, mongo
from shared.audit import AuditTrail
from shared.auth import issue_token
from shared.consumer import EventConsumer, Worker
from shared.http.api import Api
from shared.http.app import create_app
from shared.outbox import OutboxStore
from shared.relay import Relay
from shared.uow import MongoUnitOfWork

from . import latency
from .env import BenchEnv, progress
from .report import Row, median, percentile
from .scaling import collection_scans

LICENCES = 50  # freshness: complaints spread over this many agencies
BATCH = 1000
CATEGORIES = ("no_job_on_arrival", "contract_breach", "unpaid_wages", "recruitment_fraud", "passport_withheld")
TODAY = date(2026, 11, 28)
REPEATS = 5


# -- freshness --------------------------------------------------------------------------------

class _Received(contracts.Contract):
    """Until core's contract for complaints.complaint.received is merged: its data as
    domain.event_data shapes it."""

    class Meta:
        unknown = INCLUDE


def _received_data(n: int) -> dict:
    return {"case_id": f"CMP-2026-B{n:07d}", "status": domain.RECEIVED, "document_ids": [],
            "receipt_number": f"CP-{n}", "migrant_reference": "PB-BENC-H000", "complainant_phone": "+8801712345678",
            "category": CATEGORIES[n % len(CATEGORIES)], "agency_licences": [f"RL-{1 + n % LICENCES}"],
            "restricted": False, "amount_claimed": 10000 + n}


def freshness_project(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    settings = env.settings("complaints", f"scorecard{n}")
    db = mongo.database(settings)
    mongo.prepare(db, [scorecard.ensure_indexes])
    uow = MongoUnitOfWork(db, "complaints")
    consumer = EventConsumer("complaints")
    for event_type in scorecard.COMPLAINT_EVENTS:
        consumer.handles(event_type)(scorecard.complaint_changed)
    worker, relay = Worker(consumer, uow, settings), Relay(OutboxStore(db), settings)
    threads = [(worker, worker.run), (relay, relay.run)]
    running = [threading.Thread(target=target, daemon=True) for _, target in threads]
    for thread in running:
        thread.start()
    if not worker.ready.wait(30):
        raise RuntimeError("the consumer never bound its queue")

    def file(i: int) -> str:
        data = _received_data(n * 1_000_000 + i)
        uow.run(lambda tx: (tx.db["complaints"].insert_one({"_id": data["case_id"], "status": domain.RECEIVED},
                                                           session=tx.session),
                            tx.emit(domain.RECEIVED_EVENT, subject_type=domain.SUBJECT, subject_id=data["case_id"],
                                    aggregate_version=1, data=data)))
        return data["case_id"]

    try:
        with contracts.defined({(domain.RECEIVED_EVENT, 1): _Received}), \
                latency.Visibility(db[scorecard.COMPLAINTS], "_id") as visible:
            done = latency.paced(rate, seconds, file)
            visible.wait_for(set(done), timeout=60)
    finally:
        worker.stop()
        relay.stop()
        for thread in running:
            thread.join(10)
    return latency.latencies_ms(done, visible.seen)


def freshness(env: BenchEnv, rate: float, seconds: float, runs: int) -> list[Row]:
    raw_p, project_p = {50: [], 99: []}, {50: [], 99: []}
    for n in range(1, runs + 1):
        progress(f"scorecard freshness run {n}/{runs}: raw hop at {rate:.0f}/s for {seconds:.0f} s")
        raw_ms = latency.raw(env, 200 + n, rate, seconds)
        progress(f"scorecard freshness run {n}/{runs}: complaint filed -> scorecard row at {rate:.0f}/s")
        project_ms = freshness_project(env, n, rate, seconds)
        for pct in raw_p:
            raw_p[pct].append(percentile(raw_ms, pct))
            project_p[pct].append(percentile(project_ms, pct))
        progress(f"scorecard freshness run {n}/{runs}: p50 raw {raw_p[50][-1]:.1f} ms, "
                 f"project {project_p[50][-1]:.1f} ms; p99 {raw_p[99][-1]:.1f} / {project_p[99][-1]:.1f} ms")
    note = (f"{rate:.0f} complaints/s for {seconds:.0f} s; filing's commit -> the scorecard row (outbox -> relay -> "
            "RabbitMQ -> consumer, in process until core's processes are merged); baseline: latency.raw's hop")
    return [Row(f"complaint filed -> scorecard p{pct}", "ms", median(raw_p[pct]), median(project_p[pct]),
                note if pct == 50 else "") for pct in (50, 99)]


# -- ranking at two sizes ------------------------------------------------------------------------

def load(db, agencies: int, complaints: int) -> None:
    """Projection rows as the handlers leave them: `complaints` rows spread over `agencies`
    licences (a tenth with an award, some unpaid past the deadline), and each agency's figures."""
    mongo.prepare(db, [scorecard.ensure_indexes])
    rng = random.Random(9)
    figures = {f"RL-{a + 1}": {name: 0 for name in (*scorecard.COUNTED, "workers_sent")} for a in range(agencies)}
    days: dict[str, list[float]] = {licence: [] for licence in figures}
    opened = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows = []
    for n in range(complaints):
        licence = f"RL-{1 + int(rng.paretovariate(1.2)) % agencies}"  # a few agencies draw most complaints
        closed = n % 3 == 0
        awarded = 50000 if n % 10 == 0 else 0
        paid = awarded // 2 if n % 20 == 0 else awarded
        to_close = round(rng.uniform(5, 200), 4) if closed else None
        deadline = (TODAY - timedelta(days=rng.randint(-60, 60))).isoformat() if awarded else None
        rows.append({"_id": f"CMP-2026-{n:08d}", "version": 5, "licences": [licence],
                     "category": CATEGORIES[n % len(CATEGORIES)], "status": domain.CLOSED if closed else domain.HEARING,
                     "opened_at": opened, "closed_at": opened + timedelta(days=to_close) if closed else None,
                     "days_to_close": to_close, "amount_claimed": 100000, "amount_awarded": awarded,
                     "amount_paid": paid, "payment_deadline": deadline,
                     "unpaid_deadline": deadline if awarded > paid else None})
        agency = figures[licence]
        agency["complaints"] += 1
        agency["open" if not closed else "resolved"] += 1
        agency["awards"] += int(awarded > 0)
        for name, value in (("amount_claimed", 100000), ("amount_awarded", awarded), ("amount_paid", paid)):
            agency[name] += value
        if closed:
            days[licence].append(to_close)
        if len(rows) == BATCH:
            db[scorecard.COMPLAINTS].insert_many(rows, ordered=False)
            rows = []
    if rows:
        db[scorecard.COMPLAINTS].insert_many(rows, ordered=False)
    documents = []
    for licence, agency in figures.items():
        agency["workers_sent"] = rng.randint(0, 5000)
        documents.append({"_id": licence, **agency, "by_category": {},
                          "median_days_to_close": scorecard.median(days[licence]),
                          "complaints_per_1000_workers": scorecard.per_thousand(agency["complaints"],
                                                                                agency["workers_sent"])})
    db[scorecard.AGENCIES].insert_many(documents, ordered=False)


VIEWS = {"by complaints per 1,000 workers": "complaints_per_1000_workers",
         "by awards unpaid past deadline": scorecard.UNPAID}


def ranking_measure(env: BenchEnv, agencies: int, complaints: int) -> tuple[dict[str, float], str, list[str]]:
    settings = env.settings("complaints", f"ranking{agencies}")
    db = mongo.database(settings)
    progress(f"loading {agencies:,} agencies and {complaints:,} complaints")
    began = time.perf_counter()
    load(db, agencies, complaints)
    progress(f"loaded in {time.perf_counter() - began:.0f} s")
    api = Api("complaints")
    reads = scorecard.ScorecardReads(db)
    add_routes(api, reads, AuditTrail(db), today=lambda: TODAY)
    http = create_app(settings, api, title="complaints", description="scorecard", readiness={},
                      configure_logging=False).test_client()
    token = issue_token(settings, subject="bench-officer", role="welfare_officer", audience="complaints")
    timings = {}
    for name, metric in VIEWS.items():
        times = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            answer = http.get(f"/api/v1/agencies/scorecard?rank_by={metric}&limit=20",
                              headers={"Authorization": f"Bearer {token}"})
            times.append(time.perf_counter() - began)
            if answer.status_code != 200 or len(answer.json["items"]) != 20:
                raise RuntimeError(f"{name}: {answer.status_code} {str(answer.json)[:300]}")
        timings[name] = statistics.median(times) * 1000
    plan = reads.explain("complaints_per_1000_workers")
    stage = _stages(plan)
    progress(f"ranking at {agencies:,}/{complaints:,}: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in timings.items())
             + f"; plan {stage}")
    print(f"  explain (ranked by complaints per 1,000 workers, {agencies:,} agencies): {stage}")
    return timings, stage, collection_scans(plan)


def _stages(plan) -> str:
    """The plan's stages, outermost first (e.g. LIMIT > FETCH > IXSCAN rank_...)."""
    names, node = [], plan
    while isinstance(node, dict):
        names.append(node.get("stage", "?") + (f" {node['indexName']}" if node.get("indexName") else ""))
        node = node.get("inputStage") or (node.get("inputStages") or [None])[0]
    return " > ".join(names)


def ranking(env: BenchEnv, sizes: tuple[tuple[int, int], tuple[int, int]]) -> list[Row]:
    (small_agencies, small_complaints), (agencies, complaints) = sizes
    small_ms, _, small_scans = ranking_measure(env, small_agencies, small_complaints)
    large_ms, stage, large_scans = ranking_measure(env, agencies, complaints)
    plan = "explain: COLLSCAN!" if small_scans or large_scans else f"explain: {stage}"
    return [Row(f"scorecard ranking, {name}", f"ms at {small_agencies}/{small_complaints // 1000}k -> "
                f"{agencies}/{complaints // 1000}k", small_ms[name], large_ms[name],
                plan if n == 0 else "the unpaid awards past deadline from their index, counted when read")
            for n, name in enumerate(VIEWS)]
