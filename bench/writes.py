"""Write path: registrations per second through the HTTP API under gunicorn, against the
same database writes (migrant record + outbox event in one transaction) done directly
with pymongo, both from the same number of client threads for the same time."""
from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from services.registration import bootstrap, domain
from services.registration.validation import new_reference
from shared import mongo
from shared.events import Envelope
from shared.outbox import outbox_record

from .env import BenchEnv, progress
from .report import Row, median
from .services import migrant, operator_token, post, running


def hammer(clients: int, seconds: float, one: callable) -> tuple[int, int]:
    """Run `one(n)` from `clients` threads until `seconds` pass; (successes, failures)."""
    counter, lock = itertools.count(), threading.Lock()
    results = {"ok": 0, "failed": 0}
    deadline = time.perf_counter() + seconds

    def client():
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            ok = one(n)
            with lock:
                results["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results["ok"], results["failed"]


def raw_documents(n: int) -> tuple[dict, dict]:
    """The migrant record and outbox record the service would write for registration n."""
    now = datetime.now(timezone.utc)
    actor = {"user": "bench-operator", "role": "udc_operator", "udc_centre": "UDC Bench"}
    record = domain.new_migrant({**migrant(n), "date_of_birth": "1994-02-01"}, reference=new_reference(),
                                actor=actor, now=now)
    event = Envelope.new(type=domain.REGISTERED, source="registration", subject_type=domain.SUBJECT,
                         subject_id=record["_id"], aggregate_version=1, data=domain.event_data(record))
    return record, outbox_record(event)


def run(env: BenchEnv, clients: int, seconds: float, runs: int) -> list[Row]:
    raw_rates, api_rates = [], []
    for n in range(1, runs + 1):
        settings = env.settings("registration", f"writes{n}raw")
        db = mongo.database(settings)
        bootstrap.prepare_database(db)
        documents = [raw_documents(i) for i in range(int(seconds * 1000))]  # built before the clock starts
        client = db.client

        def raw_one(i: int) -> bool:
            record, event = documents[i]
            with client.start_session() as session:
                session.with_transaction(lambda s: (db.migrants.insert_one(record, session=s),
                                                    db.outbox.insert_one(event, session=s)))
            return True

        progress(f"writes run {n}/{runs}: raw pymongo transactions, {clients} clients, {seconds:.0f} s")
        ok, failed = hammer(clients, seconds, raw_one)
        raw_rates.append(ok / seconds)

        settings = env.settings("registration", f"writes{n}api")
        token = operator_token(settings)
        with running(settings, Path(env.tmp) / f"writes{n}") as base_url:
            progress(f"writes run {n}/{runs}: POST /migrants through gunicorn, {clients} clients, {seconds:.0f} s")
            ok, failed = hammer(clients, seconds,
                                lambda i: post(base_url, "/api/v1/migrants", token, migrant(i))[0] == 201)
        if failed:
            raise RuntimeError(f"{failed} registrations did not answer 201")
        stored = mongo.database(settings).migrants.count_documents({})
        if stored != ok:
            raise RuntimeError(f"{ok} answered 201 but {stored} are stored")
        api_rates.append(ok / seconds)
        progress(f"writes run {n}/{runs}: raw {raw_rates[-1]:,.0f}/s, API {api_rates[-1]:,.0f}/s")
    return [Row("2. write path", "registrations/s", median(raw_rates), median(api_rates),
                f"{clients} client threads, {seconds:.0f} s; baseline: the same transaction with pymongo")]
