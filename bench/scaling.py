"""Scaling: staff searches (passport, phone, reference) and listing pages with a small
and a large registry, timed through the API (in-process: auth, service, audit, JSON),
and explain() of each query the repository runs, which must show no collection scan."""
from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from pymongo.errors import BulkWriteError

from services.registration import api as registration_api
from services.registration import domain
from services.registration.repository import NEWEST_FIRST, MigrantRepository, ensure_indexes
from shared.pagination import position_after
from services.registration.validation import new_reference
from shared import mongo
from shared.auth import issue_token

from .env import BenchEnv, progress
from .report import Row

LOAD_BATCH = 500
REPEATS = {"passport": 20, "phone": 20, "reference": 20, "listing page 1": 5, "listing page 2": 5}


def load(db, size: int) -> list[dict]:
    """`size` registrations as the service stores them, one a minute back from now."""
    ensure_indexes(db)
    start = datetime.now(timezone.utc) - timedelta(minutes=size)
    actor = {"user": "bench", "role": "udc_operator", "udc_centre": "UDC Bench"}
    samples = []
    for first in range(0, size, LOAD_BATCH):
        batch = []
        for n in range(first, min(size, first + LOAD_BATCH)):
            details = {"name_en": "Karim Mia", "name_bn": "করিম মিয়া", "date_of_birth": "1990-07-15", "sex": "male",
                       "nid": f"{1000000000000 + n}", "passport_number": f"A{n:08d}",
                       "phone": f"+88018{n % 10**8:08d}", "district": "Sylhet", "upazila": "Beanibazar",
                       "destination_country": "QA", "occupation": "Driver"}
            batch.append(domain.new_migrant(details, reference=new_reference(), actor=actor,
                                            now=start + timedelta(minutes=n)))
        try:
            db.migrants.insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            # A batch that outlived the socket timeout is retried by the driver, and the
            # retry meets the rows the first try already wrote: those are fine.
            if any(error["code"] != 11000 for error in exc.details["writeErrors"]):
                raise
        samples += random.sample(batch, 3)
        if first and first % 20000 < LOAD_BATCH:
            progress(f"loaded {first:,} of {size:,}")
    return samples


def collection_scans(plan) -> list[str]:
    """Every COLLSCAN stage anywhere in an explain() plan."""
    if isinstance(plan, dict):
        found = ["COLLSCAN"] if plan.get("stage") == "COLLSCAN" else []
        return found + [s for value in plan.values() for s in collection_scans(value)]
    if isinstance(plan, list):
        return [s for value in plan for s in collection_scans(value)]
    return []


def measure(env: BenchEnv, size: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    settings = env.settings("registration", f"scaling{size}")
    db = mongo.database(settings)
    progress(f"loading {size:,} migrants")
    started = time.perf_counter()
    samples = load(db, size)
    progress(f"loaded {size:,} in {time.perf_counter() - started:.0f} s")
    http = registration_api.create(settings, configure_logging=False).test_client()
    headers = {"Authorization": f"Bearer {issue_token(settings, subject='bench', role='welfare_officer')}"}
    first_page = http.get("/api/v1/migrants?limit=20", headers=headers).json
    cursor = first_page["next_cursor"]
    queries = {
        "passport": lambda m: f"passport={m['passport_number']}",
        "phone": lambda m: f"phone={m['phone']}",
        "reference": lambda m: f"reference={m['reference']}",
        "listing page 1": lambda m: "limit=20",
        "listing page 2": lambda m: f"limit=20&cursor={cursor}",
    }
    timings = {}
    for name, query in queries.items():
        times = []
        for i in range(REPEATS[name]):
            sample = samples[i % len(samples)]
            started = time.perf_counter()
            response = http.get(f"/api/v1/migrants?{query(sample)}", headers=headers)
            times.append(time.perf_counter() - started)
            expected = 20 if name.startswith("listing") else 1
            if response.status_code != 200 or len(response.json["items"]) != expected:
                raise RuntimeError(f"{name}: {response.status_code} {response.json}")
        timings[name] = statistics.median(times) * 1000
    sample = samples[0]
    plans = {
        "passport": MigrantRepository.page_queries({"passport_number": sample["passport_number"]}, None),
        "phone": MigrantRepository.page_queries({"phone": sample["phone"]}, None),
        "reference": MigrantRepository.page_queries({"_id": sample["reference"]}, None),
        "listing page 1": MigrantRepository.page_queries({}, None),
        "listing page 2": MigrantRepository.page_queries({}, position_after(cursor)),
    }
    scans = {name: [scan for query in queries
                    for scan in collection_scans(db.migrants.find(query).sort(NEWEST_FIRST).limit(21)
                                                 .explain()["queryPlanner"]["winningPlan"])]
             for name, queries in plans.items()}
    return timings, scans


def run(env: BenchEnv, sizes: tuple[int, int]) -> list[Row]:
    small, large = sizes
    small_ms, small_scans = measure(env, small)
    large_ms, large_scans = measure(env, large)
    rows = []
    for name in REPEATS:
        scans = small_scans[name] + large_scans[name]
        plan = "explain: COLLSCAN!" if scans else "explain: index only, no COLLSCAN"
        rows.append(Row(f"4. {name}", f"ms at {small // 1000}k -> {large // 1000}k", small_ms[name], large_ms[name], plan))
    return rows
