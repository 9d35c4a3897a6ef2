"""Case status (issue 11): how soon an event is on the timeline, and how the timeline's first
page holds up when the entries collection is large.

- timeline_latency: a steady stream of mixed events (a registration, a document uploaded and
  rejected, a claim approved, a hearing scheduled: what the four services publish, contract
  checked) published to the exchange at a fixed rate, through the real broker to the real
  consumer process (`python -m services.casestatus.consumer`); from the publish until its
  entry is in `entries` (a change stream), p50/p99. Baseline: row 3's raw hop at the same
  rate (pika publish -> pika consumer -> an inbox + projection transaction).
- timeline_page: the first page (20 entries, Bangla) of one migrant with 1,000 entries,
  through the API in process (auth, JSON; staff also audited), first with only her entries in
  the collection (the baseline), then among `total` entries of other migrants, bulk-inserted
  straight into the database as the consumer writes them. explain() names the index each
  query uses; a COLLSCAN is reported.
"""
from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pika

from services.casestatus import api as casestatus_api
from services.casestatus import bootstrap, entries
from services.casestatus.repository import ENTRIES, Reads
from shared import contracts, mongo
from shared.auth import issue_token
from shared.events import Envelope
from tests import processes
from tests.load import queue_consumed

from . import latency
from .env import AMQP_URL, BenchEnv, progress
from .report import Row, median, percentile
from .scaling import collection_scans

MIGRANT_ENTRIES = 1000
LOAD_BATCH = 5000
REPEATS = 20
STAFF = {"user": "officer-1", "role": "welfare_officer"}


def _event(event_type: str, subject: tuple[str, str], version: int, data: dict, at: datetime) -> Envelope:
    event = Envelope.new(type=event_type, source=event_type.split(".")[0], subject_type=subject[0],
                         subject_id=subject[1], aggregate_version=version, data=data)
    event = dataclasses.replace(event, occurred_at=at.isoformat().replace("+00:00", "Z"))
    contracts.check(event)
    return event


def mixed(n: int, at: datetime) -> Envelope:
    """The nth event of the stream: five kinds in turn, each for its own migrant or case."""
    ref, kind = f"PB-{n:04d}-LTNC", n % 5
    if kind == 0:
        return _event("registration.migrant.registered", ("migrant", ref), 1, {
            "reference": ref, "name_en": "Rahima Akter", "name_bn": "রহিমা আক্তার", "phone": f"+88017{n:08d}",
            "registered_by": {"user": "udc-1", "role": "udc_operator"}}, at)
    if kind in (1, 2):
        doc = f"DOC-LT{n:08d}"
        action = "uploaded" if kind == 1 else "rejected"
        data = ({"document_id": doc, "version": 1, "owner": ref, "doc_type": "medical_report",
                 "content_sha256": "a" * 64, "size": 1000, "content_type": "application/pdf", "issuer": None,
                 "issue_date": None, "case_id": None, "uploaded_by": STAFF,
                 "uploaded_at": at.isoformat().replace("+00:00", "Z"), "seq": 1, "record_hash": "b" * 64}
                if kind == 1 else
                {"document_id": doc, "owner": ref, "doc_type": "medical_report", "version": 1,
                 "reason": "The scan cannot be read", "by": STAFF})
        return _event(f"documents.document.{action}", ("document", doc), 1 if kind == 1 else 2, data, at)
    if kind == 3:
        claim = f"CLM-2026-L{n:07d}"
        return _event("claims.claim.approved", ("claim", claim), 3, {
            "case_id": claim, "status": "approved", "document_ids": [], "claim_type": "medical_aid",
            "migrant_reference": ref, "claimant_phone": f"+88017{n:08d}", "approved_amount": 50000}, at)
    complaint = f"CMP-2026-L{n:07d}"
    return _event("complaints.complaint.hearing_scheduled", ("complaint", complaint), 5, {
        "case_id": complaint, "status": "hearing", "document_ids": [], "receipt_number": f"CP-L{n:07d}",
        "migrant_reference": ref, "complainant_phone": f"+88017{n:08d}", "category": "unpaid_wages",
        "agency_licences": ["RL-1234"], "restricted": False, "assignee": None, "hearing_no": 1,
        "date": (at + timedelta(days=30)).date().isoformat(), "venue": "DEMO Cumilla",
        "parties": ["complainant", "recruiting_agency"]}, at)


def stream_latency(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    settings = env.settings("casestatus", f"cslatency{n}")
    db = mongo.database(settings)
    bootstrap.prepare_database(db)
    log_dir = Path(env.tmp) / f"cslatency{n}"
    log_dir.mkdir(parents=True, exist_ok=True)
    consumer = processes.consumer("casestatus", settings, log_dir).start()
    try:
        queue = f"{settings.amqp_prefix}.casestatus"
        deadline = time.monotonic() + 30
        while not queue_consumed(AMQP_URL, queue):  # bound key by key: consumed means bound
            if time.monotonic() > deadline:
                raise RuntimeError(f"the casestatus consumer never consumed its queue:\n{consumer.log()}")
            time.sleep(0.2)
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        channel.confirm_delivery()
        sent: dict[str, float] = {}
        lock = threading.Lock()

        def publish(i: int) -> str:  # one channel: paced() calls from threads, so serialise
            event = mixed(i, datetime.now(timezone.utc))
            with lock:
                sent[event.id] = time.perf_counter()
                channel.basic_publish(f"{settings.amqp_prefix}.events", event.type, event.to_json(),
                                      pika.BasicProperties(**event.amqp_properties()), mandatory=True)
            return event.id

        with latency.Visibility(db[ENTRIES], "_id") as visible:
            done = latency.paced(rate, seconds, publish)
            visible.wait_for(set(done), timeout=60)
        connection.close()
    finally:
        consumer.stop()
    sms = db.notifications.count_documents({})
    progress(f"case status latency run {n}: {len(sent)} events applied, {sms} SMS queued")
    return latency.latencies_ms(sent, visible.seen)


def timeline_latency(env: BenchEnv, rate: float, seconds: float, runs: int) -> list[Row]:
    raw_p, project_p = {50: [], 99: []}, {50: [], 99: []}
    for n in range(1, runs + 1):
        progress(f"case status latency run {n}/{runs}: raw hop at {rate:.0f}/s for {seconds:.0f} s")
        raw_ms = latency.raw(env, 100 + n, rate, seconds)
        progress(f"case status latency run {n}/{runs}: mixed events -> broker -> casestatus consumer -> entry")
        project_ms = stream_latency(env, n, rate, seconds)
        for pct in raw_p:
            raw_p[pct].append(percentile(raw_ms, pct))
            project_p[pct].append(percentile(project_ms, pct))
        progress(f"case status latency run {n}/{runs}: p50 raw {raw_p[50][-1]:.1f} ms, "
                 f"project {project_p[50][-1]:.1f} ms, p99 {project_p[99][-1]:.1f} ms")
    note = (f"{rate:.0f} mixed events/s for {seconds:.0f} s (registered, uploaded, rejected, claim approved, hearing "
            "scheduled): publish -> casestatus consumer -> its entry; baseline: row 3's raw hop")
    return [Row(f"11. event -> timeline entry p{pct}", "ms", median(raw_p[pct]), median(project_p[pct]),
                note if pct == 50 else "") for pct in (50, 99)]


# -- the first page among many ----------------------------------------------------------------

def templates() -> list[dict]:
    """One entry of each kind, as the consumer writes it (entries.entry + what add() stores)."""
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made = []
    for i in range(5):
        entry = entries.entry(mixed(i, at))
        made.append({**entry, "case_ids": entry["audience"]["case_ids"], "restricted_case": None})
    return made


def entry_rows(migrant: str, first: int, count: int, start: datetime, kinds: list[dict]):
    for i in range(first, first + count):
        template = kinds[i % len(kinds)]
        at = start + timedelta(minutes=i)
        yield {**template, "_id": f"{migrant}:{i}", "occurred_at": at, "migrant_reference": migrant,
               "aggregate": {**template["aggregate"], "version": 1},
               "audience": {**template["audience"], "migrant_reference": migrant}}


def insert(db, rows) -> None:
    while True:
        batch = list(itertools.islice(rows, LOAD_BATCH))
        if not batch:
            return
        db[ENTRIES].insert_many(batch, ordered=False)


def load_others(db, total: int, per_migrant: int = 50) -> None:
    kinds, start = templates(), datetime(2025, 1, 1, tzinfo=timezone.utc)
    started, loaded = time.perf_counter(), 0
    for n in itertools.count():
        if loaded >= total:
            break
        count = min(per_migrant, total - loaded)
        insert(db, entry_rows(f"PB-{n:06d}-OTHR", 0, count, start + timedelta(seconds=n), kinds))
        loaded += count
        if loaded % 50_000 < per_migrant:
            rate = loaded / (time.perf_counter() - started)
            progress(f"loaded {loaded:,} of {total:,} other entries ({rate:,.0f}/s)")


def page_times(client, reference: str, token: str) -> list[float]:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        answer = client.get(f"/api/v1/migrants/{reference}/timeline?lang=bn&limit=20",
                            headers={"Authorization": f"Bearer {token}"})
        times.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200 or len(answer.json["items"]) != 20:
            raise RuntimeError(f"first page answered {answer.status_code}: {answer.json}")
    return times


def plans(db, reference: str) -> dict[str, tuple[list[str], list[str]]]:
    """Per query a page runs (a migrant's, other staff's open entries): (indexes, COLLSCANs)."""
    found = {}
    for name, filters in (("migrant", {"migrant_reference": reference}),
                          ("staff", {"migrant_reference": reference, "restricted_case": None})):
        explained = Reads(db).entries.explain_page(filters, None)
        found[name] = (sorted(set(index_names(explained))), [s for p in explained for s in collection_scans(p)])
    return found


def index_names(plan) -> list[str]:
    if isinstance(plan, dict):
        own = [plan["indexName"]] if plan.get("indexName") else []
        return own + [name for value in plan.values() for name in index_names(value)]
    if isinstance(plan, list):
        return [name for value in plan for name in index_names(value)]
    return []


def timeline_page(env: BenchEnv, total: int) -> list[Row]:
    settings = env.settings("casestatus", f"cspage{total}", db_timeout_ms=30_000)
    db = mongo.database(settings)
    bootstrap.prepare_database(db)
    reference = "PB-0001-TMLN"
    insert(db, entry_rows(reference, 0, MIGRANT_ENTRIES, datetime(2025, 6, 1, tzinfo=timezone.utc), templates()))
    db.facts.insert_one({"_id": reference, "cases": {}, "documents": {}, "phone": None, "document_cases": {}})
    client = casestatus_api.create(settings, configure_logging=False).test_client()
    tokens = {"migrant": issue_token(settings, subject="m", role="migrant", migrant_ref=reference,
                                     audience="casestatus"),
              "staff": issue_token(settings, subject="officer-1", role="welfare_officer", audience="casestatus")}
    alone = {who: page_times(client, reference, token) for who, token in tokens.items()}
    progress(f"first page with her {MIGRANT_ENTRIES:,} entries alone: "
             + ", ".join(f"{who} p50 {percentile(ms, 50):.1f} ms" for who, ms in alone.items()))
    progress(f"bulk-inserting {total - MIGRANT_ENTRIES:,} entries of other migrants")
    started = time.perf_counter()
    load_others(db, total - MIGRANT_ENTRIES)
    progress(f"loaded in {time.perf_counter() - started:.0f} s; {db[ENTRIES].estimated_document_count():,} entries")
    among = {who: page_times(client, reference, token) for who, token in tokens.items()}
    explained = plans(db, reference)
    for who, (indexes, scans) in explained.items():
        progress(f"explain ({who}'s query): index {', '.join(indexes) or 'none'}; "
                 f"{'COLLSCAN!' if scans else 'no COLLSCAN'}; first page p50 {percentile(among[who], 50):.1f} ms, "
                 f"p99 {percentile(among[who], 99):.1f} ms")
    rows = []
    for who in ("migrant", "staff"):
        indexes, scans = explained[who]
        plan = f"explain: {'COLLSCAN!' if scans else 'IXSCAN'} on {', '.join(indexes)}"
        for pct in (50, 99):
            rows.append(Row(f"12. timeline first page ({who}) p{pct}",
                            f"ms, {MIGRANT_ENTRIES // 1000}k alone -> among {total:,}",
                            percentile(alone[who], pct), percentile(among[who], pct),
                            f"{plan}; {REPEATS} pages of 20 through the API in process"
                            + ("; staff reads audited" if who == "staff" else "") if pct == 50 else ""))
    return rows
