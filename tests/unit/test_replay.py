"""The pieces of a replay (shared/replay/) without a broker or database: what a source
sends, where, in which order and how marked; what the services' snapshots say."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from services.documents import consumer as documents_consumer
from services.documents import replay as documents_replay
from services.registration import consumer as registration_consumer
from services.registration import replay as registration_replay
from shared import contracts, replay
from shared.consumer import EventConsumer
from shared.replay import BadRequest, ReplayFailed, Request, Snapshot, Source

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


def migrant(reference="PB-2345-6789", version=1, **extra) -> dict:
    return {"_id": reference, "reference": reference, "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম",
            "phone": "+8801712345678", "nid": "1994123456789", "passport_number": "BX0123456",
            "date_of_birth": "1994-02-01", "pre_departure_steps": {}, "wewb_membership": None,
            "registered_by": {"user": "op-1", "role": "udc_operator", "udc_centre": "UDC Daudkandi", "at": NOW},
            "version": version, "created_at": NOW, "updated_at": NOW, **extra}


class FakeReader:
    def __init__(self, records: dict[str, list[Snapshot]]):
        self.records = records
        self.page_sizes: list[int] = []

    def count(self, source):
        return len(self.records[source.event_type])

    def pages(self, source, size):
        items = self.records[source.event_type]
        for start in range(0, len(items), size):
            self.page_sizes.append(len(items[start:start + size]))
            yield items[start:start + size]


class FakePublisher:
    def __init__(self, fail_after: int | None = None):
        self.sent: list[tuple[str, object, str]] = []
        self.progress_seen: list[dict] = []
        self.fail_after = fail_after

    def event(self, queue, event, request_id):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ReplayFailed("nacked")
        self.sent.append((queue, event, request_id))

    def progress(self, reply_to, message):
        self.progress_seen.append({"reply_to": reply_to, **message})


MIGRANTS = registration_replay.MIGRANTS_SOURCE
REQUEST = Request("req-1", "documents", "amq.gen-reply")


def snapshots(count: int) -> list[Snapshot]:
    return [Snapshot(f"PB-0000-{i:04d}", 2, registration_replay.snapshot_data(migrant(f"PB-0000-{i:04d}", 2)))
            for i in range(count)]


def test_a_replay_goes_only_to_the_requesters_queue_page_by_page_and_ends_with_a_marker():
    reader, publisher = FakeReader({MIGRANTS.event_type: snapshots(5)}), FakePublisher()
    served = replay.serve("registration", "pfx", REQUEST, [MIGRANTS], reader, publisher, page_size=2)
    assert served == 5 and reader.page_sizes == [2, 2, 1]
    assert {queue for queue, _, _ in publisher.sent} == {"pfx.documents"}
    events = [event for _, event, _ in publisher.sent]
    assert [e.type for e in events] == [registration_replay.SNAPSHOT] * 5 + [replay.COMPLETED]
    assert all(e.correlation_id == e.causation_id == "req-1" for e in events)
    assert all(e.aggregate_version == 2 and e.source == "registration" for e in events[:5])
    assert events[-1].data == {"request_id": "req-1", "source": "registration", "served": 5,
                               "reply_to": "amq.gen-reply"}
    stages = [(p["stage"], p.get("served"), p.get("total")) for p in publisher.progress_seen]
    assert stages == [("started", None, 5), ("served", 2, 5), ("served", 4, 5), ("served", 5, 5), ("sent", 5, 5)]
    assert all(p["reply_to"] == "amq.gen-reply" and p["request_id"] == "req-1" for p in publisher.progress_seen)


def test_the_same_state_replayed_again_is_the_same_event_and_a_newer_state_another():
    first = replay.snapshot_event("registration", MIGRANTS, snapshots(1)[0], "req-1")
    again = replay.snapshot_event("registration", MIGRANTS, snapshots(1)[0], "req-2")
    newer = replay.snapshot_event("registration", MIGRANTS, Snapshot("PB-0000-0000", 3, first.data), "req-2")
    assert first.id == again.id and newer.id != first.id


def test_a_refused_event_stops_the_replay_before_its_end_marker():
    publisher = FakePublisher(fail_after=2)
    with pytest.raises(ReplayFailed):
        replay.serve("registration", "pfx", REQUEST, [MIGRANTS], FakeReader({MIGRANTS.event_type: snapshots(5)}),
                     publisher, page_size=10)
    assert [e.type for _, e, _ in publisher.sent] == [registration_replay.SNAPSHOT] * 2
    assert publisher.progress_seen[-1]["stage"] == "started"


def test_a_service_is_not_replayed_to_itself():
    with pytest.raises(BadRequest):
        replay.serve("registration", "pfx", Request("r", "registration", ""), [MIGRANTS],
                     FakeReader({MIGRANTS.event_type: []}), FakePublisher())


def test_a_snapshot_that_breaks_its_contract_is_not_published():
    broken = Source(event_type=registration_replay.SNAPSHOT, subject_type="migrant", collection="migrants",
                    snapshots=lambda db, page: [])
    bad = Snapshot("PB-0000-0001", 1, {**registration_replay.snapshot_data(migrant()), "nid": "1994123456789"})
    with pytest.raises(contracts.ContractViolation):
        replay.snapshot_event("registration", broken, bad, "req-1")


@pytest.mark.parametrize("body, reply_to", [
    (b"not json", "q"), (b"[]", "q"), (b'{"to": "documents"}', "q"),
    (b'{"request_id": "r", "to": "../etc"}', "q"), (b'{"request_id": " ", "to": "documents"}', "q"),
])
def test_a_request_that_is_not_one_is_refused(body, reply_to):
    with pytest.raises(BadRequest):
        Request.from_message(body, reply_to)


def test_a_request_names_the_requester_and_where_to_report():
    assert Request.from_message(json.dumps({"request_id": "r-1", "to": "claims"}).encode(), "amq.gen-1") == \
        Request("r-1", "claims", "amq.gen-1")


def test_a_migrant_snapshot_is_the_current_state_without_identifiers():
    record = migrant(version=4, pre_departure_steps={
        "medical": {"date": "2026-01-10", "reference": "MED-1", "note": None, "recorded_by": "o", "recorded_at": NOW},
        "bmet_clearance": {"date": "2026-02-01", "reference": "SMART-9", "note": "x", "recorded_by": "o",
                           "recorded_at": NOW}},
        wewb_membership={"number": "WEWB-1", "valid_until": "2028-02-01", "activated_by": "o", "activated_at": NOW})
    event = replay.snapshot_event("registration", MIGRANTS, registration_replay.snapshots(None, [record])[0], "r")
    assert event.aggregate_version == 4 and event.subject.id == "PB-2345-6789"
    assert event.data["steps"] == [{"step": "bmet_clearance", "date": "2026-02-01"},
                                   {"step": "medical", "date": "2026-01-10"}]
    assert event.data["membership"] == {"number": "WEWB-1", "valid_until": "2028-02-01",
                                        "activated_on": NOW.date().isoformat()}
    assert event.data["registered_at"] == "2026-11-28T09:00:00Z"
    assert not contracts.personal_identifiers_in(event.data)
    assert "SMART-9" not in json.dumps(event.data)
    assert not {"nid", "passport_number", "date_of_birth"} & set(registration_replay.STORED_FIELDS)


def test_a_document_snapshot_says_its_current_version_and_the_decision_on_it():
    head = {"_id": "DOC-1", "owner": "PB-2345-6789", "doc_type": "passport", "current_version": 2,
            "case_ids": ["CL-1"], "revision": 5, "deleted": None}
    record = {"content_sha256": "a" * 64, "verification": {"status": "rejected", "reason": "blurred"}}
    data = documents_replay.snapshot_data(head, record)
    assert data == {"document_id": "DOC-1", "owner": "PB-2345-6789", "doc_type": "passport", "version": 2,
                    "status": "rejected", "reason": "blurred", "case_ids": ["CL-1"], "content_sha256": "a" * 64,
                    "deleted": False}
    pending = documents_replay.snapshot_data({**head, "deleted": {"reason": "x"}}, {"content_sha256": "b" * 64})
    assert pending["status"] == "pending" and pending["deleted"] is True
    replay.snapshot_event("documents", documents_replay.DOCUMENTS_SOURCE, Snapshot("DOC-1", 5, data), "r")


def test_replayed_types_are_handled_but_never_bound_to_the_events_exchange():
    for consumer in (documents_consumer.consumer, registration_consumer.consumer):
        assert not [k for k in consumer.binding_keys if k.endswith(".snapshot") or k.startswith("replay.")]
        assert consumer.handlers_for(replay.COMPLETED)
    assert documents_consumer.consumer.binding_keys == sorted(
        {"registration.migrant.registered", "claims.claim.*", "complaints.complaint.*"})
    assert len(documents_consumer.consumer.handlers_for(documents_replay.MIGRANT_SNAPSHOT)) == 2  # learnt + guard


def test_a_snapshot_the_requester_does_not_learn_is_ignored_not_dead_lettered():
    consumer = EventConsumer("probe")
    replay.Replays(consumer)
    event = replay.snapshot_event("documents", documents_replay.DOCUMENTS_SOURCE, Snapshot("DOC-1", 1, {
        "document_id": "DOC-1", "owner": "PB-2345-6789", "doc_type": "passport", "version": 1, "status": "pending",
        "reason": None, "case_ids": [], "content_sha256": "a" * 64, "deleted": False}), "r")
    handlers = consumer.handlers_for(event.type)
    assert len(handlers) == 1
    handlers[0](event, tx=None)  # touches nothing


@pytest.mark.parametrize("argv", [["--to", "documents", "--from", "documents"], ["--to", "Docs!", "--from", "x"],
                                  ["--to", "documents"], ["--to", "a", "--from", "b", "--timeout", "0"]])
def test_the_command_refuses_what_cannot_be_a_replay(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        replay.main(argv)
    assert exit_.value.code == 2 and "usage" in capsys.readouterr().err


@pytest.mark.parametrize("stage, says", [
    ("requested", "registration did not answer within 5 s (0 replay server(s) on its queue)"),
    ("served", "registration stopped answering after sending 3 of 9: run the replay again"),
    ("sent", "documents did not confirm within 5 s that it applied the replay"),
])
def test_silence_is_blamed_on_the_side_that_went_quiet(stage, says):
    assert says in replay.Command._silence(stage, "registration", "documents", 5, 3, 9, 0)
