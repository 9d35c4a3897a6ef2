"""What every service's fakes share: a transaction's events and inbox, and a unit of
work that keeps the real contract (all or nothing, events only on commit)."""
from __future__ import annotations

import copy

from shared import contracts
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
        contracts.check(event)  # as shared.uow.Tx.emit does
        self.events.append(event)
        return event

    def claim_inbox(self, consumer, event_id):
        key = f"{consumer}:{event_id}"
        if key in self.state["inbox"]:
            raise AlreadyHandled(event_id)
        self.state["inbox"].add(key)


class FakeUnitOfWorkBase:
    tx_class = FakeTxBase

    def __init__(self, state: dict):
        self.state = {**state, "inbox": set()}
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
