"""The part of a fake transaction every service's fakes share: events and the inbox."""
from __future__ import annotations

from shared.events import Envelope
from shared.uow import AlreadyHandled


class FakeTxBase:
    source = "fake"

    def __init__(self, state: dict):
        self.state = state
        self.events: list[Envelope] = []

    def emit(self, event_type, *, subject_type, subject_id, aggregate_version, data):
        event = Envelope.new(type=event_type, source=self.source, subject_type=subject_type,
                             subject_id=subject_id, aggregate_version=aggregate_version, data=data)
        self.events.append(event)
        return event

    def claim_inbox(self, consumer, event_id):
        key = f"{consumer}:{event_id}"
        if key in self.state["inbox"]:
            raise AlreadyHandled(event_id)
        self.state["inbox"].add(key)
