"""End-to-end latency at a fixed request rate, on the path between services that matters:
from registration's 201 to the documents service knowing the migrant as an owner (its
`owners` projection, fed by `registration.migrant.registered` through registration's
relay, RabbitMQ and the documents consumer), with registration's own consumer running
too, as deployed. Against a raw hop of the same kind at the same rate: a pika publish,
a pika consumer writing a projection row (with its inbox row, in one transaction)."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika

from services.documents import bootstrap as documents_bootstrap
from services.registration import bootstrap
from shared import mongo, topology
from tests import processes

from .env import AMQP_URL, BenchEnv, BrokerChannel, progress
from .report import Row, median, percentile
from .services import consumer_bound, migrant, operator_token, post, running


class Visibility:
    """Watches a collection's inserts (a change stream) and notes when each key appears."""

    def __init__(self, collection, key: str):
        self.collection, self.key = collection, key
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "Visibility":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        with self.collection.watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=20) as stream:
            self._ready.set()
            while not self._stop.is_set():
                change = stream.try_next()
                if change is not None:
                    self.seen[change["fullDocument"][self.key]] = time.perf_counter()

    def wait_for(self, keys: set[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not keys <= self.seen.keys() and time.perf_counter() < deadline:
            time.sleep(0.05)
        missing = keys - self.seen.keys()
        if missing:
            raise RuntimeError(f"{len(missing)} effects never became visible")


def paced(rate: float, seconds: float, send) -> dict[str, float]:
    """Call send(n) at `rate` per second (open loop, on a schedule); {key: time it returned}."""
    done: dict[str, float] = {}
    started = time.perf_counter() + 0.2

    def one(n: int) -> None:
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        key = send(n)
        done[key] = time.perf_counter()

    with ThreadPoolExecutor(max_workers=32) as pool:
        for future in [pool.submit(one, n) for n in range(int(rate * seconds))]:
            future.result()
    return done


def latencies_ms(done: dict[str, float], seen: dict[str, float]) -> list[float]:
    return [(seen[key] - at) * 1000 for key, at in done.items()]


def documents_consumer(settings, log_dir: Path) -> processes.ServiceProcess:
    """The documents consumer, started and waited for until its queue is bound."""
    return consumer_bound("documents", settings, log_dir)


def project(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    settings = env.settings("registration", f"latency{n}")
    token = operator_token(settings)
    bootstrap.prepare_database(mongo.database(settings))
    documents = env.settings("documents", f"latency{n}")
    owners = mongo.database(documents).owners
    documents_bootstrap.prepare_database(mongo.database(documents))
    log_dir = Path(env.tmp) / f"latency{n}"
    log_dir.mkdir(parents=True, exist_ok=True)

    def register(i: int) -> str:
        status, body = post(f"{base_url}", "/api/v1/migrants", token, migrant(i))
        if status != 201:
            raise RuntimeError(f"registration answered {status}: {body}")
        return body["reference"]

    consumer = documents_consumer(documents, log_dir)
    try:
        with Visibility(owners, "_id") as visible, \
                running(settings, log_dir, relay=True, consumer=True) as base_url:
            done = paced(rate, seconds, register)
            visible.wait_for(set(done), timeout=60)
    finally:
        consumer.stop()
    return latencies_ms(done, visible.seen)


def raw(env: BenchEnv, n: int, rate: float, seconds: float) -> list[float]:
    settings = env.settings("registration", f"latencyraw{n}")
    db = mongo.database(settings)
    bootstrap.prepare_database(db)
    queue = f"{settings.amqp_prefix}.raw"
    env.queues.add(queue)
    with BrokerChannel() as channel:
        channel.queue_declare(queue, durable=True, arguments=topology.QueueKind.of(settings).plain())  # as the services' queues
    stop = threading.Event()

    def consume() -> None:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        channel.basic_qos(prefetch_count=20)
        client = db.client

        def on_message(ch, method, _props, body):
            event = json.loads(body)
            with client.start_session() as session:
                session.with_transaction(lambda s: (
                    db.inbox.insert_one({"_id": f"raw:{event['id']}"}, session=s),
                    db.history.insert_one({"_id": event["id"], "reference": event["reference"]}, session=s)))
            ch.basic_ack(method.delivery_tag)

        channel.basic_consume(queue, on_message)
        while not stop.is_set():
            connection.process_data_events(time_limit=0.1)
        connection.close()

    local = threading.local()

    def publish(i: int) -> str:
        if not hasattr(local, "channel"):
            local.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            local.channel = local.connection.channel()
            local.channel.confirm_delivery()
        key = f"raw-{n}-{i}"
        local.channel.basic_publish("", queue, json.dumps({"id": key, "reference": key, "pad": "x" * 600}),
                                    pika.BasicProperties(delivery_mode=2))
        return key

    consumer = threading.Thread(target=consume, daemon=True)
    with Visibility(db.history, "reference") as visible:
        consumer.start()
        sent: dict[str, float] = {}
        # publish() returns after the confirm; the clock starts when it is sent.
        done = paced(rate, seconds, lambda i: sent.setdefault(publish(i), time.perf_counter()) and f"raw-{n}-{i}")
        visible.wait_for(set(done), timeout=60)
    stop.set()
    consumer.join(10)
    return latencies_ms(sent, visible.seen)


def run(env: BenchEnv, rate: float, seconds: float, runs: int) -> list[Row]:
    raw_p, project_p = {50: [], 95: [], 99: []}, {50: [], 95: [], 99: []}
    for n in range(1, runs + 1):
        progress(f"latency run {n}/{runs}: raw publish -> consume -> insert at {rate:.0f}/s for {seconds:.0f} s")
        raw_ms = raw(env, n, rate, seconds)
        progress(f"latency run {n}/{runs}: POST /migrants -> relay -> documents consumer -> owners at {rate:.0f}/s "
                 f"for {seconds:.0f} s")
        project_ms = project(env, n, rate, seconds)
        for pct in raw_p:
            raw_p[pct].append(percentile(raw_ms, pct))
            project_p[pct].append(percentile(project_ms, pct))
        progress(f"latency run {n}/{runs}: p50 raw {raw_p[50][-1]:.1f} ms, project {project_p[50][-1]:.1f} ms")
    note = f"{rate:.0f} requests/s for {seconds:.0f} s; registration's 201 -> documents' owners row"
    return [Row(f"3. end-to-end latency p{pct}", "ms", median(raw_p[pct]), median(project_p[pct]),
                note if pct == 50 else "") for pct in (50, 95, 99)]
