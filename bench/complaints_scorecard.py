"""The recruiting-agency scorecard's rows (issue 9):

- freshness: from a complaint filed through the complaints API (gunicorn) until the
  scorecard's row for it exists (its outbox -> the complaints relay -> RabbitMQ -> the
  complaints consumer, which folds it into the scorecard), p50/p99 at a fixed rate, against
  the raw hop of latency.raw;
- ranking: the ranked first page (20 agencies) at 100 agencies / 10k complaints and at 1k
  agencies / 100k complaints, projection rows bulk-inserted, through the routes in process
  (auth, audit, JSON), for a stored figure and for the one counted when read (awards unpaid
  past deadline: every agency's row read and ranked in memory); and explain() of the stored
  figure's read: its stage, no COLLSCAN.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from services.complaints import bootstrap as complaints_bootstrap
from services.complaints import domain, scorecard
from services.complaints.scorecard_api import add_routes
from shared import mongo
from shared.audit import AuditTrail
from shared.auth import issue_token
from shared.http.api import Api
from shared.http.app import create_app
from tests import processes

from . import latency
from .env import BenchEnv, progress
from .report import Row, median, percentile
from .scaling import collection_scans
from .services import consumer_bound, post

LICENCES = 50  # freshness: complaints spread over this many agencies
BATCH = 1000
CATEGORIES = ("no_job_on_arrival", "contract_breach", "unpaid_wages", "recruitment_fraud", "passport_withheld")
TODAY = date(2026, 11, 28)
REPEATS = 5


# -- freshness --------------------------------------------------------------------------------

def known_migrants(db, count: int) -> list[str]:
    """`count` migrants as the complaints service learns them from registration (intake needs one)."""
    references = [f"PB-BNCH-{n:04d}" for n in range(count)]
    db.migrants.insert_many([{"_id": ref, "registered": True, "name_en": "Karim Mia", "name_bn": "করিম মিয়া",
                              "phone": "+8801812345678"} for ref in references])
    return references


def intake(reference: str, n: int) -> dict:
    return {"complainant": {"migrant_reference": reference, "name": "Karim Mia", "phone": "01812345678"},
            "channel": "udc", "category": CATEGORIES[n % len(CATEGORIES)], "district": "Cumilla",
            "respondents": [{"kind": "recruiting_agency", "name": "Bench Overseas", "licence": f"RL-{1 + n % LICENCES}"}],
            "amount_claimed": 10000 + n, "narrative": "The agency took the fee and the job abroad never existed."}


def freshness_project(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    count = int(rate * seconds)
    settings = env.settings("complaints", f"scorecard{n}")
    db = mongo.database(settings)
    complaints_bootstrap.prepare_database(db)
    references = known_migrants(db, count)
    log_dir = Path(env.tmp) / f"scorecard{n}"
    log_dir.mkdir(parents=True, exist_ok=True)
    token = issue_token(settings, subject="bench-lawyer", role="legal_aid")
    started = [consumer_bound("complaints", settings, log_dir), processes.relay("complaints", settings, log_dir).start()]
    api, base_url = processes.api("complaints", settings, log_dir)
    started.append(api.start())

    def file(i: int) -> str:
        status, body = post(base_url, "/api/v1/complaints", token, intake(references[i], i))
        if status != 201:
            raise RuntimeError(f"filing answered {status}: {body}")
        return body["complaint_id"]

    try:
        processes.wait_ready(base_url, api)
        with latency.Visibility(db[scorecard.COMPLAINTS], "_id") as visible:
            done = latency.paced(rate, seconds, file)
            visible.wait_for(set(done), timeout=60)
    finally:
        for process in started:
            process.stop()
    return latency.latencies_ms(done, visible.seen)


def freshness(env: BenchEnv, rate: float, seconds: float, runs: int) -> list[Row]:
    raw_p, project_p = {50: [], 99: []}, {50: [], 99: []}
    for n in range(1, runs + 1):
        progress(f"scorecard freshness run {n}/{runs}: raw hop at {rate:.0f}/s for {seconds:.0f} s")
        raw_ms = latency.raw(env, 200 + n, rate, seconds)
        progress(f"scorecard freshness run {n}/{runs}: POST /complaints -> relay -> consumer -> scorecard row "
                 f"at {rate:.0f}/s")
        project_ms = freshness_project(env, n, rate, seconds)
        for pct in raw_p:
            raw_p[pct].append(percentile(raw_ms, pct))
            project_p[pct].append(percentile(project_ms, pct))
        progress(f"scorecard freshness run {n}/{runs}: p50 raw {raw_p[50][-1]:.1f} ms, "
                 f"project {project_p[50][-1]:.1f} ms; p99 {raw_p[99][-1]:.1f} / {project_p[99][-1]:.1f} ms")
    note = (f"{rate:.0f} complaints/s for {seconds:.0f} s; complaints' 201 -> the scorecard row (relay -> RabbitMQ "
            "-> complaints consumer); baseline: latency.raw's hop")
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
    unpaid: dict[str, dict[str, int]] = {licence: {} for licence in figures}
    opened = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows = []
    for n in range(complaints):
        licence = f"RL-{1 + int(agencies * rng.random() ** 3)}"  # skewed: a few agencies draw many complaints
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
        if awarded > paid:
            unpaid[licence][deadline] = unpaid[licence].get(deadline, 0) + 1
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
        documents.append({"_id": licence, **agency, "by_category": {}, "unpaid_by_deadline": unpaid[licence],
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
                plan if n == 0 else "counted when read from each agency's unpaid awards by deadline, ranked in memory")
            for n, name in enumerate(VIEWS)]
