"""The claims service's rows (issue 8), each against a baseline measured in the same run:

- filing: death grants filed per second through the claims API under gunicorn, against the
  registration write path (POST /migrants) with the same harness (writes.hammer), clients
  and time;
- checklist: from the documents service's answer to a verification (its API under
  gunicorn) until the claims consumer has ticked the claim's checklist item (documents'
  relay -> RabbitMQ -> claims consumer -> the claim and its history line), p50/p99 at a
  fixed rate, against the raw hop of latency.raw;
- queue: the officers' queue, first page, at a small and a large number of claims, through
  the API in-process (auth, audit, JSON), and explain() of each query it runs: no COLLSCAN.
"""
from __future__ import annotations

import io
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from services.claims import bootstrap as claims_bootstrap
from services.claims import catalogue, domain
from services.claims import api as claims_api
from services.claims.repository import ClaimRepository
from services.documents import api as documents_api
from services.documents import bootstrap as documents_bootstrap
from services.documents.consumer import consumer as documents_consumer
from services.registration.validation import new_reference
from shared import mongo
from shared.auth import Principal, issue_token
from shared.events import Envelope
from shared.fields import today_in_bangladesh
from tests import processes

from . import latency
from .env import BenchEnv, progress
from .report import Row, median, percentile
from .scaling import collection_scans
from .services import consumer_bound, migrant, operator_token, post, running
from .writes import hammer

OFFICER = {"user": "bench-officer", "role": "welfare_officer"}
OFFICER_PRINCIPAL = Principal("bench-officer", "welfare_officer")
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50
LOAD_BATCH = 500


def death_grant(reference: str) -> dict:
    heirs = [{"name_en": f"Heir {n}", "name_bn": f"ওয়ারিশ {n}", "relation": "son", "nid": f"199012345670{n}",
              "phone": f"+88017123456{n:02d}", "share": {"numerator": 1, "denominator": 2},
              "payout": {"method": "bank", "provider": "Sonali Bank", "account_number": f"000123{n}"}}
             for n in (1, 2)]
    return {"type": "death_grant", "migrant_reference": reference, "district": "Cumilla",
            "event": {"date": "2026-10-01", "country": "SA"}, "heirs": heirs}


def known_migrants(db, count: int) -> list[str]:
    """`count` migrants as claims learns them from registration's events (projections.py)."""
    references = [new_reference() for _ in range(count)]
    for first in range(0, count, LOAD_BATCH):
        db.migrants.insert_many([{"_id": ref, "registered": True, "name_en": "Karim Mia", "name_bn": "করিম মিয়া",
                                  "phone": "+8801812345678", "membership": {"number": "WEWB-1",
                                                                            "valid_until": "2030-01-01"}}
                                 for ref in references[first:first + LOAD_BATCH]])
    return references


def officer_token(settings) -> str:
    return issue_token(settings, subject="bench-officer", role="welfare_officer")


# -- filing throughput ----------------------------------------------------------------------

def filing(env: BenchEnv, clients: int, seconds: float, runs: int) -> list[Row]:
    registrations, filings = [], []
    for n in range(1, runs + 1):
        settings = env.settings("registration", f"filing{n}reg")
        token = operator_token(settings)
        with running(settings, Path(env.tmp) / f"filing{n}reg") as base_url:
            progress(f"filing run {n}/{runs}: POST /migrants through gunicorn, {clients} clients, {seconds:.0f} s")
            ok, failed = hammer(clients, seconds,
                                lambda i: post(base_url, "/api/v1/migrants", token, migrant(i))[0] == 201)
        if failed:
            raise RuntimeError(f"{failed} registrations did not answer 201")
        registrations.append(ok / seconds)

        settings = env.settings("claims", f"filing{n}")
        db = mongo.database(settings)
        claims_bootstrap.prepare_database(db)
        references = known_migrants(db, int(seconds * 1000))  # more than can be filed: one death grant each
        token = officer_token(settings)
        with claims_api_running(settings, Path(env.tmp) / f"filing{n}") as base_url:
            progress(f"filing run {n}/{runs}: POST /claims (death grants, two heirs) through gunicorn, "
                     f"{clients} clients, {seconds:.0f} s")
            ok, failed = hammer(clients, seconds, lambda i: post(
                base_url, "/api/v1/claims", token, death_grant(references[i]))[0] == 201)
        if failed:
            raise RuntimeError(f"{failed} filings did not answer 201")
        stored = db.claims.count_documents({})
        if stored != ok:
            raise RuntimeError(f"{ok} answered 201 but {stored} claims are stored")
        filings.append(ok / seconds)
        progress(f"filing run {n}/{runs}: registrations {registrations[-1]:,.0f}/s, filings {filings[-1]:,.0f}/s")
    return [Row("5. claims filing", "requests/s", median(registrations), median(filings),
                f"{clients} client threads, {seconds:.0f} s; baseline: POST /migrants (row 2's path) in the same run; "
                "project: POST /claims, a death grant with two heirs")]


class claims_api_running:
    """gunicorn with the claims API; yields the base URL."""

    def __init__(self, settings, log_dir: Path):
        self.settings, self.log_dir = settings, log_dir

    def __enter__(self) -> str:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.api, base_url = processes.api("claims", self.settings, self.log_dir)
        self.api.start()
        try:
            processes.wait_ready(base_url, self.api)
        except BaseException:
            self.api.stop()
            raise
        return base_url

    def __exit__(self, *exc) -> None:
        self.api.stop()


# -- document verified -> checklist updated ---------------------------------------------------

def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(0.2)


def checklist_project(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    count = int(rate * seconds)
    claims_settings = env.settings("claims", f"checklist{n}")
    vault_settings = env.settings("documents", f"checklist{n}")
    claims_db, vault_db = mongo.database(claims_settings), mongo.database(vault_settings)
    log_dir = Path(env.tmp) / f"checklist{n}"
    log_dir.mkdir(parents=True, exist_ok=True)
    service = claims_bootstrap.build(claims_settings)
    references = known_migrants(claims_db, count)
    claims = [service.file(OFFICER_PRINCIPAL, death_grant(ref))["claim_id"] for ref in references]
    documents_bootstrap.prepare_database(vault_db)
    vault_uow = documents_bootstrap.unit_of_work(vault_settings)
    for ref in references:  # the vault knows each migrant as an owner
        documents_consumer.process(vault_uow, Envelope.new(
            type="registration.migrant.registered", source="registration", subject_type="migrant", subject_id=ref,
            aggregate_version=1, data={"reference": ref}))
    vault = documents_api.create(vault_settings, configure_logging=False).test_client()
    token = officer_token(vault_settings)
    headers = {"Authorization": f"Bearer {token}"}
    progress(f"checklist run {n}: {count} claims filed; uploading a death certificate for each")
    documents = []
    for ref in references:
        uploaded = vault.post("/api/v1/documents", content_type="multipart/form-data", headers=headers,
                              data={"owner": ref, "doc_type": "death_certificate", "file": (io.BytesIO(PDF), "d.pdf")})
        if uploaded.status_code != 201:
            raise RuntimeError(f"upload answered {uploaded.status_code}: {uploaded.json}")
        documents.append(uploaded.json["document_id"])
    by_document = dict(zip(documents, claims))

    started = [consumer_bound("claims", claims_settings, log_dir),
               processes.relay("documents", vault_settings, log_dir).start()]
    api, base_url = processes.api("documents", vault_settings, log_dir)
    started.append(api.start())
    try:
        processes.wait_ready(base_url, api)
        # The uploads reach the claims first (missing -> uploaded), before the clock runs.
        _wait(lambda: claims_db.history.count_documents({"type": domain.CHECKLIST_UPDATED}) >= count, 120,
              "the uploads never reached the claims' checklists")

        def verify(i: int) -> str:
            document_id = documents[i]
            status, body = post(base_url, f"/api/v1/documents/{document_id}/verification", token,
                                {"decision": "verified", "version": 1})
            if status != 200:
                raise RuntimeError(f"verification answered {status}: {body}")
            return by_document[document_id]

        with latency.Visibility(claims_db.history, "claim_id") as visible:
            done = latency.paced(rate, seconds, verify)
            visible.wait_for(set(done), timeout=60)
    finally:
        for process in started:
            process.stop()
    return latency.latencies_ms(done, visible.seen)


def checklist(env: BenchEnv, rate: float, seconds: float, runs: int) -> list[Row]:
    raw_p, project_p = {50: [], 99: []}, {50: [], 99: []}
    for n in range(1, runs + 1):
        progress(f"checklist run {n}/{runs}: raw publish -> consume -> insert at {rate:.0f}/s for {seconds:.0f} s")
        raw_ms = latency.raw(env, 100 + n, rate, seconds)
        progress(f"checklist run {n}/{runs}: verification -> documents relay -> claims consumer at {rate:.0f}/s "
                 f"for {seconds:.0f} s")
        project_ms = checklist_project(env, n, rate, seconds)
        for pct in raw_p:
            raw_p[pct].append(percentile(raw_ms, pct))
            project_p[pct].append(percentile(project_ms, pct))
        progress(f"checklist run {n}/{runs}: p50 raw {raw_p[50][-1]:.1f} ms, project {project_p[50][-1]:.1f} ms; "
                 f"p99 raw {raw_p[99][-1]:.1f} ms, project {project_p[99][-1]:.1f} ms")
    note = (f"{rate:.0f} verifications/s for {seconds:.0f} s; documents' 200 -> the claim's checklist_updated "
            "history line (documents relay -> RabbitMQ -> claims consumer); baseline: latency.raw's hop")
    return [Row(f"6. document verified -> checklist p{pct}", "ms", median(raw_p[pct]), median(project_p[pct]),
                note if pct == 50 else "") for pct in (50, 99)]


# -- the officers' queue at two sizes ---------------------------------------------------------

DISTRICTS = ("Cumilla", "Sylhet", "Chattogram", "Dhaka", "Tangail", "Noakhali", "Brahmanbaria", "Chandpur")
QUEUE_VIEWS = {"first page": {}, "first page, by status": {"status": domain.UNDER_REVIEW},
               "first page, by district": {"district": "Sylhet"}}
REPEATS = 5


def load_claims(db, size: int) -> None:
    """`size` claims as filing stores them (legal aid: no uniqueness key), one a minute back."""
    claims_bootstrap.prepare_database(db)
    legal_aid = catalogue.load().get("legal_aid")
    start = datetime.now(timezone.utc) - timedelta(minutes=size)
    migrant_row = {"_id": "PB-BENC-H000", "registered": True, "phone": "+8801812345678"}
    statuses = (domain.DOCUMENTS_PENDING, domain.UNDER_REVIEW, domain.APPROVED, domain.CLOSED)
    for first in range(0, size, LOAD_BATCH):
        batch = []
        for n in range(first, min(size, first + LOAD_BATCH)):
            now = start + timedelta(minutes=n)
            filing = {"type": "legal_aid", "district": DISTRICTS[n % len(DISTRICTS)],
                      "migrant_reference": migrant_row["_id"], "event": {"country": "SA"}}
            claim = domain.new_claim(legal_aid, "bench", filing,
                                     claim_id=f"CLM-B-{n:08d}", migrant=migrant_row, documents=[], actor=OFFICER,
                                     now=now, today=today_in_bangladesh())
            claim["status"] = statuses[n % len(statuses)]
            batch.append(claim)
        db.claims.insert_many(batch, ordered=False)
        if first and first % 20000 < LOAD_BATCH:
            progress(f"loaded {first:,} of {size:,} claims")


def queue_measure(env: BenchEnv, size: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    settings = env.settings("claims", f"queue{size}")
    db = mongo.database(settings)
    progress(f"loading {size:,} claims")
    started = time.perf_counter()
    load_claims(db, size)
    progress(f"loaded {size:,} claims in {time.perf_counter() - started:.0f} s")
    http = claims_api.create(settings, configure_logging=False).test_client()
    headers = {"Authorization": f"Bearer {officer_token(settings)}"}
    timings = {}
    for name, filters in QUEUE_VIEWS.items():
        query = "&".join(["limit=20", *(f"{k}={v}" for k, v in filters.items())])
        times = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            response = http.get(f"/api/v1/claims?{query}", headers=headers)
            times.append(time.perf_counter() - began)
            if response.status_code != 200 or len(response.json["items"]) != 20:
                raise RuntimeError(f"{name}: {response.status_code} {str(response.json)[:300]}")
        timings[name] = statistics.median(times) * 1000
    repository = ClaimRepository(db)
    scans = {name: [scan for plan in repository.explain_search(filters, None) for scan in collection_scans(plan)]
             for name, filters in QUEUE_VIEWS.items()}
    progress(f"queue at {size:,}: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items()))
    return timings, scans


def queue(env: BenchEnv, sizes: tuple[int, int]) -> list[Row]:
    small, large = sizes
    small_ms, small_scans = queue_measure(env, small)
    large_ms, large_scans = queue_measure(env, large)
    rows = []
    for name in QUEUE_VIEWS:
        scans = small_scans[name] + large_scans[name]
        plan = "explain: COLLSCAN!" if scans else "explain: index, no COLLSCAN"
        rows.append(Row(f"7. claims queue, {name}", f"ms at {small // 1000}k -> {large // 1000}k", small_ms[name],
                        large_ms[name], plan))
    return rows

