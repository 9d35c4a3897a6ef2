"""What the documents use cases work with, gathered once by bootstrap.build.

- `uow.run(fn)` runs `fn(tx)` in one transaction; the repositories of
  `repository.Repositories` and `tx.emit` are bound to it (run it through
  `transaction.run`, which also writes the history and says what a failure means);
- `reads`: the same repositories outside any transaction;
- `content`: the bytes (storage.GridFSContent); not transactional: an upload's bytes
  are written before its transaction and flipped to `stored` inside it;
- `audit.record(...)`: who read, downloaded or deleted what;
- `config`, `clock` and `make_id`, so tests decide sizes, types, time and ids.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from .config import DocumentsConfig
from .domain import new_document_id


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Ports:
    uow: Any
    reads: Any
    content: Any
    audit: Any
    config: DocumentsConfig = DocumentsConfig()
    clock: Callable[[], datetime] = utcnow
    make_id: Callable[[], str] = new_document_id
