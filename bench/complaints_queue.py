"""The complaints queue (issue 9): the first page by due date at a small and a large number of
complaints, p50/p99 of the repository's page (services/complaints/due_queue.py, with the
restricted-visibility filter a staff member's query carries), and explain() of every query a
page runs: an index, no COLLSCAN.

Complaints are inserted directly in bulk as intake makes them, with their clocks applied
(due_order, alarm_at), spread over statuses, categories, districts, agencies, assignees and
a few restricted ones; filed evenly over the last 200 days, so many are overdue.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from pymongo.errors import BulkWriteError

from services.complaints import categories, clocks, domain, due_queue, intake
from shared import mongo
from shared.auth import Principal

from .env import BenchEnv, progress
from .report import Row, percentile
from .scaling import collection_scans

LOAD_BATCH = 500
REPEATS = 20
SPREAD = timedelta(days=200)
DISTRICTS = ("Cumilla", "Sylhet", "Chattogram", "Dhaka", "Tangail", "Noakhali", "Brahmanbaria", "Chandpur")
STATUSES = (domain.RECEIVED, domain.SCRUTINY, domain.ACKNOWLEDGED, domain.NOTICE_TO_RESPONDENT, domain.HEARING,
            domain.HEARING, domain.AWARD_ISSUED, domain.CLOSED)
STAFF = Principal("legal-7", "legal_aid")
TARGETS = {"scrutiny": 7, "acknowledgement": 15, "disposal": 90}
# view -> (filters, overdue)
VIEWS = {"first page": ({}, None), "overdue": ({}, True), "by status": ({"status": domain.HEARING}, None),
         "by agency": ({"agency_licences": "RL-17"}, None),
         "by status and district": ({"status": domain.HEARING, "district": "Sylhet"}, None)}


def complaint(n: int, lists, now: datetime) -> dict:
    actor = {"user": "bench", "role": "udc_operator"}
    details = {"complainant": {"migrant_reference": f"PB-{n % 10000:04d}-BNCH", "name": "Rahim Uddin",
                               "phone": "01712345678"},
               "channel": "udc", "category": tuple(lists.categories)[n % len(lists.categories)],
               "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": f"RL-{n % 40 + 1}"},
                               {"kind": "employer_abroad", "name": "Gulf Build LLC", "country": "SA"}],
               "amount_claimed": 50000 + n % 200000, "narrative": "Eight months of wages were never paid.",
               "district": DISTRICTS[n // len(STATUSES) % len(DISTRICTS)], "restricted": n % 20 == 0}
    c = intake.new_complaint(details, complaint_id=f"CMP-B-{n:08d}", receipt_number=f"CP-B-{n:08d}", lists=lists,
                             actor=actor, now=now)
    c.update(target_days=TARGETS, linked_claims=[], status=STATUSES[n % len(STATUSES)],
             assignee=f"legal-{n % 20}" if n % 3 else None)
    clocks.apply(c, now)
    return c


def load(db, size: int) -> None:
    due_queue.ensure_indexes(db)
    lists = categories.load()
    start, step = datetime.now(timezone.utc) - SPREAD, SPREAD / size
    for first in range(0, size, LOAD_BATCH):
        batch = [complaint(n, lists, start + n * step) for n in range(first, min(size, first + LOAD_BATCH))]
        try:
            db[due_queue.COMPLAINTS].insert_many(batch, ordered=False)
        except BulkWriteError as exc:  # a retried batch meets the rows its first try wrote
            if any(error["code"] != 11000 for error in exc.details["writeErrors"]):
                raise
        if first and first % 20000 < LOAD_BATCH:
            progress(f"loaded {first:,} of {size:,} complaints")


def measure(env: BenchEnv, size: int) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    # SecantusDB reads every candidate of a page: give a 100k first page time to answer.
    db = mongo.database(env.settings("complaints", f"cqueue{size}", db_timeout_ms=10_000))
    progress(f"loading {size:,} complaints")
    started = time.perf_counter()
    load(db, size)
    progress(f"loaded {size:,} complaints in {time.perf_counter() - started:.0f} s")
    queue, now = due_queue.DueQueue(db), datetime.now(timezone.utc)
    visible = due_queue.visible_to(STAFF)
    timings, scans = {}, {}
    for name, (filters, overdue) in VIEWS.items():
        overdue_at = None if overdue is None else (overdue, now)
        times = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            rows = queue.page({**filters, **visible}, overdue_at, 21, None)
            times.append((time.perf_counter() - began) * 1000)
            if len(rows) != 21:
                raise RuntimeError(f"{name}: a first page of {len(rows)} complaints, not 21")
        timings[name] = times
        plans = queue.explain({**filters, **visible}, overdue_at, None)
        scans[name] = [scan for plan in plans for scan in collection_scans(plan)]
    progress(f"queue at {size:,}: " + ", ".join(f"{name} p50 {percentile(ms, 50):.1f} ms"
                                                for name, ms in timings.items()))
    return timings, scans


def run(env: BenchEnv, sizes: tuple[int, int]) -> list[Row]:
    small, large = sizes
    small_ms, small_scans = measure(env, small)
    env.drop_databases()  # SecantusDB slows as it holds more: the large run starts clean
    large_ms, large_scans = measure(env, large)
    rows = []
    for name in VIEWS:
        plan = "explain: COLLSCAN!" if small_scans[name] + large_scans[name] else "explain: IXSCAN, no COLLSCAN"
        for pct in (50, 99):
            rows.append(Row(f"complaints queue, {name} p{pct}", f"ms at {small // 1000}k -> {large // 1000}k",
                            percentile(small_ms[name], pct), percentile(large_ms[name], pct),
                            f"{plan}; {REPEATS} first pages of 21, staff visibility filter" if pct == 50 else ""))
    return rows
