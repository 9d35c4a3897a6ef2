"""File content in GridFS (bucket `content`) in the service's own database.

GridFS cannot take part in a multi-document transaction, so an upload is written
first, marked `metadata.state: pending`; the transaction that commits its chain record
flips it to `stored` (content.files is an ordinary collection). If that transaction
certainly failed the caller discards the file at once. A file left pending by a crash
or by a commit whose outcome was unknown, or `discarded` by a deletion whose clean-up
did not finish, is removed by `sweep`: it goes by the state that committed, so it keeps
what an unknown commit did store. Every process of the service sweeps at start, and the
consumer process every DOCUMENT_SWEEP_INTERVAL_SECONDS (`Sweeper`).

Not covered: chunks written by a process killed mid-upload, before GridFS wrote the
files document; they hold no metadata to find them by and are only wasted space.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

from gridfs import GridFSBucket
from gridfs.errors import CorruptGridFile, FileExists, NoFile
from pymongo.database import Database
from pymongo.errors import OperationFailure

BUCKET = "content"
FILES = f"{BUCKET}.files"
PENDING, STORED, DISCARDED = "pending", "stored", "discarded"
# Long enough that no upload still streaming is mistaken for an orphan.
ORPHAN_AFTER = timedelta(hours=1)

log = logging.getLogger("probashi.documents")


READ_SIZE = 256 * 1024


class ContentUnreadable(Exception):
    """Stored bytes that GridFS cannot assemble (a chunk missing or cut short)."""


class ContentNotStored(Exception):
    """The database refused a write of the bytes; what was written has been removed. Seen under
    load: the chunks' write, retried after its answer was lost, met the copy already there
    (GridFS's unique files_id + n, which pymongo reports as FileExists)."""


def _read_all(stored) -> Iterator[bytes]:
    # Fixed-size reads: iterating a GridOut itself yields *lines*, which for binary
    # content means arbitrary, sometimes huge, pieces found by scanning for b"\n".
    with stored:
        try:
            while chunk := stored.read(READ_SIZE):
                yield chunk
        except CorruptGridFile as exc:
            raise ContentUnreadable(str(exc)) from exc


class GridFSContent:
    def __init__(self, db: Database):
        self.bucket = GridFSBucket(db, bucket_name=BUCKET)
        self.files = db[FILES]

    def save(self, chunks: Iterable[bytes], *, filename: str | None, owner: str):
        """Write the chunks as one pending file and return its id; on any error (the
        checks in `chunks` raise mid-stream) what was written is removed and the error re-raised."""
        stream = self.bucket.open_upload_stream(filename or "upload", metadata={"state": PENDING, "owner": owner})
        try:
            for chunk in chunks:
                stream.write(chunk)
            stream.close()
        except (OperationFailure, FileExists) as exc:
            self._abort(stream)
            raise ContentNotStored(str(exc)) from exc
        except BaseException:
            stream.abort()
            raise
        return stream._id

    @staticmethod
    def _abort(stream) -> None:
        try:
            stream.abort()
        except OperationFailure:
            pass  # left pending: sweep() removes it once it is old

    def open(self, content_id) -> Iterator[bytes] | None:
        """The stored bytes in chunks, or None when there is no such file; reading raises
        ContentUnreadable when chunks are missing or cut short."""
        try:
            return _read_all(self.bucket.open_download_stream(content_id))
        except NoFile:
            return None

    def sha256(self, content_id) -> str | None:
        """Hex SHA-256 recomputed from the stored bytes; None when the file is gone."""
        digest = hashlib.sha256()
        try:
            for chunk in _read_all(self.bucket.open_download_stream(content_id)):
                digest.update(chunk)
        except NoFile:
            return None
        return digest.hexdigest()

    def discard(self, content_id) -> None:
        try:
            self.bucket.delete(content_id)
        except NoFile:
            pass

    def sweep(self, older_than: timedelta = ORPHAN_AFTER) -> int:
        """Remove files whose upload never committed, and files a deletion discarded."""
        cutoff = datetime.now(timezone.utc) - older_than
        orphans = [f["_id"] for f in self.files.find(
            {"$or": [{"metadata.state": DISCARDED}, {"metadata.state": PENDING, "uploadDate": {"$lt": cutoff}}]},
            {"_id": 1})]
        for content_id in orphans:
            self.discard(content_id)
        if orphans:
            log.info("removed %d orphaned or discarded content file(s)", len(orphans))
        return len(orphans)


class Sweeper:
    """Sweeps every `interval` until stopped, so content an unknown commit left pending is
    decided once the database answers, not only when a process next starts."""

    def __init__(self, content: GridFSContent, interval: timedelta, older_than: timedelta = ORPHAN_AFTER):
        self.content, self.interval, self.older_than = content, interval, older_than
        self._stop = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True, name="content-sweeper")
        thread.start()
        return thread

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.content.sweep(self.older_than)
            except Exception as exc:  # the database may be down: the next round tries again
                log.warning("content sweep failed: %s", exc)
            self._stop.wait(self.interval.total_seconds())

    def stop(self) -> None:
        self._stop.set()
