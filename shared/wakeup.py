"""Wakes the relay as soon as a transaction commits an event: a change stream on the
outbox (MongoDB, and SecantusDB, report inserts to it), so the relay need not poll
often. Without change streams (a standalone mongod) the relay simply polls."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger("probashi.relay")
UNSUPPORTED = (40573, 40324, 115)  # change streams need a replica set / are not supported


class OutboxWatcher:
    def __init__(self, outbox: Collection, on_insert: Callable[[], None]):
        self.outbox = outbox
        self.on_insert = on_insert
        self.active = threading.Event()  # set while the stream is open: polling is a sweep only
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="outbox-watch")

    def start(self) -> "OutboxWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.outbox.watch([{"$match": {"operationType": "insert"}}],
                                       max_await_time_ms=200) as stream:
                    self.active.set()
                    self.on_insert()  # anything committed before the stream opened
                    while not self._stop.is_set() and stream.alive:
                        if stream.try_next() is not None:
                            self.on_insert()
            except OperationFailure as exc:
                if exc.code in UNSUPPORTED:
                    log.warning("no change streams on this database (%s); the relay polls instead", exc)
                    self.active.clear()
                    return
                self._pause(exc)
            except PyMongoError as exc:
                self._pause(exc)

    def _pause(self, exc: Exception) -> None:
        self.active.clear()
        log.warning("outbox change stream interrupted (%s); the relay polls until it is back", exc)
        self._stop.wait(1.0)
