"""Publishing a consumer's retries and dead letters so that none can vanish.

Each copy is published `mandatory` and waits for the broker's confirm: a copy no queue
took comes back (returned), a copy the broker refused is nacked, and either way the
caller learns it before it acks the original. A returned copy means one of the
consumer's queues is gone, so they are declared again for the next try.

It uses a connection of its own: waiting for a confirm reads from the connection, and
on the consumer's connection that would deliver the next message in the middle of
handling this one.
"""
from __future__ import annotations

import logging
from typing import Callable

from amqp.exceptions import MessageNacked
from kombu import Connection, Producer
from kombu.exceptions import OperationalError

log = logging.getLogger("probashi.consumer")


class RepublishFailed(Exception):
    """The broker does not hold the copy: the original must stay unacked."""


class Republisher:
    def __init__(self, amqp_url: str, repair: Callable[[object], None], confirm_timeout: float = 10.0):
        self.amqp_url = amqp_url
        self.repair = repair  # declares the consumer's queues on a channel
        self.confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: str | None = None
        unconnected = Connection(amqp_url)  # only for the transport's error classes
        self._broken = unconnected.connection_errors + unconnected.channel_errors + (OperationalError,)

    def publish(self, body, routing_key: str, **properties) -> None:
        """Publish to a queue through the default exchange; raise RepublishFailed unless
        the broker confirmed that the queue has it. Reconnects once if the connection broke."""
        for last_try in (False, True):
            try:
                producer = self._open()
                self._returned = None
                producer.publish(body, exchange="", routing_key=routing_key, mandatory=True, retry=False,
                                 timeout=self.confirm_timeout, **properties)
            except MessageNacked:
                raise RepublishFailed(f"the broker refused (nacked) the copy for {routing_key}") from None
            except self._broken as exc:  # OSError among them, so a confirm that timed out
                self.close()
                if last_try:
                    raise RepublishFailed(f"cannot publish to {routing_key}: {exc!r}") from exc
                continue
            if self._returned is not None:
                self._redeclare()
                raise RepublishFailed(f"no queue {routing_key} took the copy ({self._returned}); "
                                      f"the consumer's queues were declared again")
            return

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a broken connection has nothing left to close
                pass

    # -- internals ------------------------------------------------------------------
    def _open(self) -> Producer:
        if self._producer is None:
            # No heartbeats: it sits idle between failures; a dead socket shows on the next
            # publish (or its confirm times out), and that publish reconnects.
            self._connection = Connection(self.amqp_url, heartbeat=0, connect_timeout=5,
                                          transport_options={"confirm_publish": True})
            self._producer = Producer(self._connection.channel(), on_return=self._on_return)
        return self._producer

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        # The broker sends basic.return before the confirm of the same message.
        self._returned = str(exc)

    def _redeclare(self) -> None:
        try:
            self.repair(self._producer.channel)
        except Exception as exc:  # the next try reports it again
            log.error("could not declare the consumer's queues again: %s", exc)
            self.close()
