"""Metrics of the processes as they run: an API under gunicorn (several workers) answers
/metrics with its request counter; a relay and a consumer serve /metrics and /health/live on
METRICS_PORT and count what they published, handled and dead-lettered; a timer reports open
and overdue cases from its database."""
from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pika
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import mongo
from shared.auth import issue_token
from shared.events import Envelope
from shared.topology import Names
from tests import processes
from tests.integration.test_processes import MIGRANT, request, wait_for_consumer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def scrape(base: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics answer: (name, labels) -> value."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def live(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/health/live", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:  # not listening (yet)
        return 0


def test_an_api_under_gunicorn_counts_requests_of_every_worker_by_route(infra, tmp_path):
    settings = infra.settings("registration")
    api, base = processes.api("registration", settings, tmp_path, workers=2)
    api.start()
    try:
        processes.wait_ready(base, api)
        officer = issue_token(settings, subject="officer-1", role="welfare_officer")
        status, migrant = request("POST", f"{base}/api/v1/migrants", officer, MIGRANT)
        assert status == 201, migrant
        for _ in range(6):  # spread over both workers; /metrics adds up all of them
            assert live(base) == 200
        samples = scrape(base)
        assert value(samples, "probashi_http_requests_total", service="registration", method="POST",
                     route="/api/v1/migrants", status="201") == 1
        assert value(samples, "probashi_http_requests_total", service="registration", method="GET",
                     route="/health/live", status="200") == 6
        assert value(samples, "probashi_http_request_duration_seconds_count", service="registration",
                     method="POST", route="/api/v1/migrants") == 1
        assert not any(migrant["reference"] in str(labels) for _, labels in samples)  # routes, not paths
    finally:
        assert api.stop(signal.SIGTERM) == 0, api.log()[-2000:]


def test_relay_and_consumer_serve_metrics_and_liveness_and_count_events(infra, tmp_path):
    registration, claims = infra.settings("registration"), infra.settings("claims")
    relay_env, relay_metrics = processes.metrics_env()
    consumer_env, consumer_metrics = processes.metrics_env()
    api, base = processes.api("registration", registration, tmp_path, workers=1)
    started = [api.start(), processes.relay("registration", registration, tmp_path, relay_env).start(),
               processes.consumer("claims", claims, tmp_path, consumer_env).start()]
    try:
        processes.wait_ready(base, api)
        wait_for_consumer(claims, Names(claims.amqp_prefix, "claims").queue)
        assert live(relay_metrics) == 200 and live(consumer_metrics) == 200
        assert value(scrape(consumer_metrics), "probashi_consumer_connected", service="claims") == 1

        officer = issue_token(registration, subject="officer-1", role="welfare_officer")
        status, migrant = request("POST", f"{base}/api/v1/migrants", officer, MIGRANT)
        assert status == 201, migrant
        registered = dict(service="claims", event_type="registration.migrant.registered")
        wait_for(lambda: value(scrape(consumer_metrics), "probashi_consumer_handler_duration_seconds_count",
                               **registered) == 1, 30, lambda: f"claims never timed it: {started[2].log()[-2000:]}")
        consumer_samples = scrape(consumer_metrics)
        assert value(consumer_samples, "probashi_consumer_handled_total", **registered) == 1
        assert value(consumer_samples, "probashi_consumer_dead_lettered_total", **registered) == 0
        # Counted once the relay has marked it published, just after the broker's confirm.
        wait_for(lambda: value(scrape(relay_metrics), "probashi_outbox_published_total", service="registration") == 1,
                 30, lambda: f"the relay never counted the event: {started[1].log()[-2000:]}")
        relay_samples = scrape(relay_metrics)
        assert value(relay_samples, "probashi_outbox_parked_total", service="registration") == 0
        # Read at scrape time, reused for a few seconds: the backlog drains to nothing.
        wait_for(lambda: value(scrape(relay_metrics), "probashi_outbox_pending", service="registration") == 0
                 and ("probashi_outbox_oldest_pending_age_seconds", frozenset({("service", "registration")}))
                 in scrape(relay_metrics), 30, "the relay's outbox gauges never showed an empty outbox")
        assert value(scrape(relay_metrics), "probashi_outbox_parked_events", service="registration") == 0
    finally:
        codes = [p.stop(signal.SIGTERM) for p in started]
    assert codes == [0, 0, 0], [p.log()[-2000:] for p in started]


def test_a_dead_lettered_message_is_counted_and_the_dead_letter_queue_measured(infra, tmp_path):
    claims = infra.settings("claims")
    env, metrics_base = processes.metrics_env()
    consumer = processes.consumer("claims", claims, tmp_path, env).start()
    try:
        wait_for_consumer(claims, Names(claims.amqp_prefix, "claims").queue)
        labels = dict(service="claims", event_type="registration.migrant.registered")
        assert value(scrape(metrics_base), "probashi_consumer_dead_lettered_total", **labels) == 0
        connection = pika.BlockingConnection(pika.URLParameters(claims.amqp_url))
        try:  # a type claims handles, with a body that is no event: dead-lettered at once
            connection.channel().basic_publish(f"{claims.amqp_prefix}.events", "registration.migrant.registered",
                                               b"{not json", pika.BasicProperties(
                                                   type="registration.migrant.registered", message_id="poison-1"))
        finally:
            connection.close()
        wait_for(lambda: value(scrape(metrics_base), "probashi_consumer_dead_lettered_total", **labels) == 1, 30,
                 lambda: f"the dead letter was never counted: {consumer.log()[-2000:]}")
        wait_for(lambda: value(scrape(metrics_base), "probashi_dead_letters", service="claims") == 1, 30,
                 "the dead-letter queue's depth never showed the message")
        assert value(scrape(metrics_base), "probashi_consumer_handled_total", **labels) == 0
        assert live(metrics_base) == 200
    finally:
        assert consumer.stop(signal.SIGTERM) == 0, consumer.log()[-2000:]


def test_a_failing_handler_is_counted_retried_then_dead_lettered(infra, tmp_path):
    claims = infra.settings("claims")  # retries after 100 and 300 ms, then the dead-letter queue
    env, metrics_base = processes.metrics_env()
    consumer = processes.consumer("claims", claims, tmp_path, env).start()
    try:
        wait_for_consumer(claims, Names(claims.amqp_prefix, "claims").queue)
        # A well-formed event its handler fails on (registered_by is no object): not permanent, so retried.
        event = Envelope.new(type="registration.migrant.registered", source="registration", subject_type="migrant",
                             subject_id="PB-FAIL-0001", aggregate_version=1, data={"registered_by": "nobody"})
        connection = pika.BlockingConnection(pika.URLParameters(claims.amqp_url))
        try:
            connection.channel().basic_publish(f"{claims.amqp_prefix}.events", event.type, json.dumps(
                event.to_dict()).encode(), pika.BasicProperties(**event.amqp_properties()))
        finally:
            connection.close()
        labels = dict(service="claims", event_type="registration.migrant.registered")
        wait_for(lambda: value(scrape(metrics_base), "probashi_consumer_dead_lettered_total", **labels) == 1, 30,
                 lambda: f"the failing event was never dead-lettered: {consumer.log()[-2000:]}")
        samples = scrape(metrics_base)
        assert value(samples, "probashi_consumer_retried_total", **labels) == len(claims.retry_delays_ms)
        assert value(samples, "probashi_consumer_handler_duration_seconds_count",
                     **labels) == len(claims.retry_delays_ms) + 1  # every attempt timed
        assert value(samples, "probashi_consumer_handled_total", **labels) == 0
    finally:
        assert consumer.stop(signal.SIGTERM) == 0, consumer.log()[-2000:]


def test_the_scrape_time_reads_use_indexes(infra):
    from services.claims import bootstrap, domain
    from services.claims.repository import Reads
    from shared.outbox import OutboxStore

    db = mongo.database(infra.settings("claims"))
    bootstrap.prepare_database(db)
    store = OutboxStore(db)
    store.ensure_indexes()
    plans = [*Reads(db).due_queue.explain_counts(domain.OPEN, datetime.now(timezone.utc)),
             store.explain_oldest_pending()]
    for plan in (json.dumps(plan, default=str) for plan in plans):
        assert "COLLSCAN" not in plan and "IXSCAN" in plan, plan
    assert '"due"' in json.dumps(plans[-1], default=str)  # the first due, by the relay's index, no sort in memory


def test_the_claims_timer_reports_open_and_overdue_cases_by_stage(infra, tmp_path):
    from services.claims import bootstrap
    settings = infra.settings("claims")
    db = mongo.database(settings)
    bootstrap.prepare_database(db)
    past, later = datetime.now(timezone.utc) - timedelta(days=3), datetime.now(timezone.utc) + timedelta(days=30)
    db.claims.insert_many([  # only what the gauges read; no alarm_at, so the timer marks none of them
        {"_id": "CLM-1", "status": "documents_pending", "due_order": past},
        {"_id": "CLM-2", "status": "documents_pending", "due_order": later},
        {"_id": "CLM-3", "status": "under_review", "due_order": later},
        {"_id": "CLM-4", "status": "closed", "due_order": datetime(9999, 12, 31, tzinfo=timezone.utc)},
    ])
    env, metrics_base = processes.metrics_env()
    timer = processes.timer("claims", settings, tmp_path, env={**env, "CLAIMS_TIMER_INTERVAL": "3600"}).start()
    try:
        wait_for(lambda: timer.process.poll() is not None or live(metrics_base) == 200, 30,
                 lambda: f"the timer never served its liveness: {timer.log()[-2000:]}")
        samples = scrape(metrics_base)
        assert value(samples, "probashi_cases_open", service="claims", stage="documents_pending") == 2
        assert value(samples, "probashi_cases_open", service="claims", stage="under_review") == 1
        assert value(samples, "probashi_cases_overdue", service="claims", stage="documents_pending") == 1
        assert value(samples, "probashi_cases_overdue", service="claims", stage="under_review") == 0
        assert not any(name.startswith("probashi_cases") and ("stage", "closed") in labels
                       for name, labels in samples)
    finally:
        assert timer.stop(signal.SIGTERM) == 0, timer.log()[-2000:]
