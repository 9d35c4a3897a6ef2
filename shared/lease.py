"""The relay's lease on its service's outbox: only the holder publishes.

It is renewed a third of the way through, both between batches and while a batch waits
for its confirms (a slow broker can take longer than a whole lease), so a live relay
never lets a second one take over and publish the same events. A relay that cannot
renew it (another holds it, or the database did not answer before it ran out) stops
publishing until it holds it again.
"""
from __future__ import annotations

import logging
import time

from pymongo.errors import PyMongoError

from shared.outbox import OutboxStore

log = logging.getLogger("probashi.relay")


class Lease:
    def __init__(self, store: OutboxStore, owner: str, seconds: float):
        self.store, self.owner, self.seconds = store, owner, seconds
        self._until = 0.0  # monotonic time it runs out, as far as this relay knows

    @property
    def held(self) -> bool:
        return time.monotonic() < self._until

    @property
    def renew_every(self) -> float:
        return self.seconds / 3

    def hold(self) -> bool:
        """True while this relay holds the lease; renews it once a third has passed.
        Raises PyMongoError when the database cannot say."""
        if time.monotonic() < self._until - self.seconds * 2 / 3:
            return True
        return self._acquire()

    def renew(self) -> bool:
        """Renew now if this relay holds it; False once it is lost (a database error is
        not a loss until the lease has run out)."""
        if not self.held:
            return False
        try:
            return self._acquire()
        except PyMongoError as exc:
            log.error("cannot renew the relay lease: %s", exc)
            return self.held

    def release(self) -> None:
        self._until = 0.0
        self.store.release_lease(self.owner)

    def _acquire(self) -> bool:
        started = time.monotonic()
        if self.store.acquire_lease(self.owner, self.seconds):
            self._until = started + self.seconds
            return True
        if self._until:
            log.error("relay lost its lease to another relay; publishing stops", extra={"owner": self.owner})
        self._until = 0.0
        return False
