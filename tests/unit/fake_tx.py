"""What every service's fakes share: a transaction's events and inbox, and a unit of
work that keeps the real contract (all or nothing, events only on commit)."""
from __future__ import annotations

import copy

from shared import contracts
from shared.events import Envelope
from shared.uow import AlreadyHandled, Superseded


class FakeTxBase:
    source = "fake"

    def __init__(self, state: dict):
        self.state = state
        self.events: list[Envelope] = []

    def emit(self, event_type, *, subject_type, subject_id, aggregate_version, data):
        event = Envelope.new(type=event_type, source=self.source, subject_type=subject_type,
                             subject_id=subject_id, aggregate_version=aggregate_version, data=data)
        contracts.check(event)  # as shared.uow.Tx.emit does
        self.events.append(event)
        return event

    def claim(self, consumer, event, *, apply_late=False):
        key, aggregate = f"{consumer}:{event.id}", (consumer, event.subject.type, event.subject.id)
        applied = self.state["applied_versions"].get(aggregate, event.aggregate_version)
        if key in self.state["inbox"]:
            raise AlreadyHandled(event.id)
        if event.aggregate_version < applied and not apply_late:
            raise Superseded(event, applied)
        self.state["inbox"].add(key)
        self.state["applied_versions"][aggregate] = max(applied, event.aggregate_version)


class FakeUnitOfWorkBase:
    tx_class = FakeTxBase

    def __init__(self, state: dict):
        self.state = {**state, "inbox": set(), "applied_versions": {}}
        self.outbox: list[Envelope] = []

    def before_attempt(self) -> None:
        """A hook for fakes that simulate a failure before the transaction's work."""

    def run(self, fn):
        snapshot = copy.deepcopy(self.state)
        tx = self.tx_class(self.state)
        try:
            self.before_attempt()
            result = fn(tx)
        except BaseException:
            self.state.clear()
            self.state.update(snapshot)
            raise
        self.outbox.extend(tx.events)
        return result
