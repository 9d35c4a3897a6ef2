"""How every documents change is committed: one place that runs it in the unit of work,
writes its history from the events it emits, and says what a failure means.

- History: each event the change emits becomes a line of that document's history in the
  same transaction, so the history is never behind the change (and no consumer has to
  read the service's own events back from RabbitMQ).
- Races: a change that lost a race for a migrant's chain or a document's revision raises
  ChainContention, which the unit of work retries (its only retry loop); if the race
  outlasts it, the client gets a 409 and nothing is stored.
- Stored bytes: an upload's bytes are discarded when its transaction certainly did not
  commit. When the outcome is unknown (the database went away during the commit) they
  are kept: the record may have committed. storage.sweep decides later, from the state
  that did commit, and the client hears that the change may have been applied.
"""
from __future__ import annotations

import logging
from typing import Callable, TypeVar

from pymongo.errors import PyMongoError

from shared import mongo
from shared.errors import Conflict

from . import domain
from .repository import ChainContention

log = logging.getLogger("probashi.documents")
T = TypeVar("T")


def run(ports, change: Callable[[object], T], *, what: str, document_id: str, stored_content=None) -> T:
    """Commit `change(tx)` with its history. `what` says what may have happened, for the
    client ("This upload may have been stored"); `stored_content` is the id of bytes
    written for it beforehand."""
    progress = {"work_done": False}

    def change_with_history(tx):
        progress["work_done"] = False
        result = change(tx)
        for event in tx.events:
            tx.history.add(domain.history_entry(event))
        progress["work_done"] = True
        return result

    try:
        return ports.uow.run(change_with_history)
    except BaseException as exc:
        if may_have_committed(exc, progress["work_done"]):
            log.error("commit outcome unknown", extra={"document_id": document_id, "error": repr(exc)})
            if not isinstance(exc, Exception):
                raise  # the process is stopping: keep the bytes, and let it stop
            raise domain.OutcomeUnknown(
                f"{what}: the database stopped answering while it was being saved. "
                f"Look at document {document_id} (GET /api/v1/documents/{document_id}) in a minute: if it "
                "shows the change, it is done; if not, it was not made and can be sent again.",
                document_id=document_id) from exc
        if stored_content is not None:
            discard_quietly(ports.content, stored_content)
        if isinstance(exc, ChainContention):
            raise Conflict("Too many changes to these documents at once; nothing was stored. Try again.") from None
        raise


def may_have_committed(exc: BaseException, work_done: bool) -> bool:
    """Whether a failed transaction could still have committed. Not if it failed in its own
    work (nothing was sent to commit yet), nor if the database said it did not commit; it
    may have if the commit's answer was lost, or the process was interrupted after the work."""
    if not work_done:
        return False
    if isinstance(exc, PyMongoError):
        return exc.has_error_label("UnknownTransactionCommitResult")
    return not isinstance(exc, Exception)  # SystemExit, KeyboardInterrupt: stopped mid-commit


def discard_quietly(content, content_id) -> None:
    """Remove bytes nothing refers to; if the database is down, the sweep does it later."""
    try:
        content.discard(content_id)
    except mongo.UNAVAILABLE as exc:
        log.warning("could not discard content yet; the sweep will", extra={"error": str(exc)})
