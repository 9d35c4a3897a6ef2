"""A tamper-evident hash chain over each migrant's document records.

Every stored version of a document gets one record. Records of one migrant
(``owner``) form a chain: record ``seq`` n carries ``prev_hash`` = the
``record_hash`` of record n-1 (:data:`GENESIS` for n = 1), and ``record_hash``
is the SHA-256 of the canonical JSON of its :data:`CHAINED_FIELDS`. So

* changing any chained field of a record changes its hash (``record_altered``);
* removing, inserting or reordering records breaks the links (``chain_broken``);
* changing the stored bytes no longer matches ``content_sha256``
  (``content_altered``), and lost bytes show as ``content_missing``.

Canonical JSON: an object of exactly the :data:`CHAINED_FIELDS` (a field the
record lacks counts as ``null``), sorted keys, separators ``(",", ":")``,
``ensure_ascii=False``, encoded as UTF-8. Values must already be JSON-safe -
dates and datetimes as ISO strings, ids as strings; the caller converts,
because the hash has to come out the same after a database round trip.

Deletion: an administrator's deletion must not break verification, so a
deleted record stays in the chain (its chained fields untouched) and is only
marked - ``deleted: true`` or ``status: "deleted"``, fields deliberately kept
out of :data:`CHAINED_FIELDS`, like any verification bookkeeping - and its
content may then be gone without that being a problem.

What the chain cannot show on its own: dropping records from the *end* of a
chain (or the whole chain), or rewriting a record together with every record
after it. Anchoring the latest ``(seq, record_hash)`` of each chain somewhere
the attacker cannot also rewrite (an append-only audit log, a periodic
signed digest) closes that gap.

Appending (:func:`link`) must be serialised per owner - e.g. a unique index on
``(owner, seq)`` and a retry on duplicate-key - or two concurrent uploads will
both link to the same predecessor.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

GENESIS = "0" * 64

CHAINED_FIELDS: tuple[str, ...] = (
    "document_id",
    "version",
    "owner",
    "doc_type",
    "content_sha256",
    "size",
    "content_type",
    "issuer",
    "issue_date",
    "case_id",
    "prev_hash",
    "seq",
    "uploaded_by",
    "uploaded_at",
)

#: Chained fields a record may leave ``None``; ``prev_hash`` and ``seq`` are set by :func:`link`.
OPTIONAL_FIELDS: tuple[str, ...] = ("issuer", "issue_date", "case_id")
#: Chained fields :func:`link` insists on.
REQUIRED_FIELDS: tuple[str, ...] = tuple(
    name for name in CHAINED_FIELDS if name not in OPTIONAL_FIELDS + ("prev_hash", "seq"))

RECORD_ALTERED = "record_altered"
CHAIN_BROKEN = "chain_broken"
CONTENT_ALTERED = "content_altered"
CONTENT_MISSING = "content_missing"
PROBLEM_KINDS: tuple[str, ...] = (RECORD_ALTERED, CHAIN_BROKEN, CONTENT_ALTERED, CONTENT_MISSING)

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record of a chain."""

    document_id: Any
    version: Any
    seq: Any
    kind: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON (UTF-8) of ``record``'s chained fields, the input of :func:`record_hash`."""
    chained = {name: record.get(name) for name in CHAINED_FIELDS}
    text = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``record``'s :data:`CHAINED_FIELDS` (other keys are ignored).

    Raises ``TypeError`` / ``ValueError`` for a value that is not JSON-safe.
    """
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def record_key(record: Mapping[str, Any]) -> str:
    """``"<document_id>:<version>"``, the key of a record's content in ``verify_chain``'s ``content_hashes``."""
    return f"{record.get('document_id')}:{record.get('version')}"


def is_deleted(record: Mapping[str, Any]) -> bool:
    """True when an administrator marked the record deleted (``deleted`` truthy or ``status == "deleted"``)."""
    return bool(record.get("deleted")) or record.get("status") == "deleted"


def link(record_fields: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict:
    """A new record: ``record_fields`` plus ``prev_hash``, ``seq`` and ``record_hash`` for appending after ``previous``.

    ``previous`` is the owner's current last record (``None`` for the first
    one). Other keys of ``record_fields`` (e.g. ``status``) are copied along
    but not hashed. Raises ``ValueError`` when a required field is missing,
    ``content_sha256`` is not lower-case hex SHA-256, ``previous`` belongs to
    another owner or is not a linked record.
    """
    missing = [name for name in REQUIRED_FIELDS if record_fields.get(name) is None]
    if missing:
        raise ValueError(f"record lacks required field(s): {', '.join(missing)}")
    if not isinstance(record_fields["content_sha256"], str) or not _SHA256_HEX.match(record_fields["content_sha256"]):
        raise ValueError("content_sha256 must be a lower-case hex SHA-256")
    record = dict(record_fields)
    if previous is None:
        record["prev_hash"], record["seq"] = GENESIS, 1
    else:
        if previous.get("owner") != record["owner"]:
            raise ValueError("previous record belongs to another owner's chain")
        prev_hash, prev_seq = previous.get("record_hash"), previous.get("seq")
        if not isinstance(prev_hash, str) or not _SHA256_HEX.match(prev_hash):
            raise ValueError("previous record has no record_hash")
        if isinstance(prev_seq, bool) or not isinstance(prev_seq, int) or prev_seq < 1:
            raise ValueError("previous record has no valid seq")
        record["prev_hash"], record["seq"] = prev_hash, prev_seq + 1
    record["record_hash"] = record_hash(record)
    return record


def _problem(record: Mapping[str, Any], kind: str, detail: str) -> Problem:
    return Problem(record.get("document_id"), record.get("version"), record.get("seq"), kind, detail)


def verify_chain(records: Sequence[Mapping[str, Any]], content_hashes: Mapping[str, str | None]) -> list[Problem]:
    """Every problem found in one owner's chain; an empty list means it verifies.

    ``records`` are the owner's records as stored, sorted by ``seq`` (do not
    repair the order first - a wrong order is what this detects).
    ``content_hashes`` maps :func:`record_key` to the hex SHA-256 recomputed
    from the stored bytes; a missing key (or ``None``) means the bytes are
    gone, which is a problem unless the record is marked deleted. Each record
    is checked independently against its stored predecessor, so one tampered
    record yields its own problems without hiding later ones; at most one
    problem per record and kind, with all the reasons in ``detail``.
    """
    problems: list[Problem] = []
    previous: Mapping[str, Any] | None = None
    for record in records:
        # 1. the record itself
        stored = record.get("record_hash")
        try:
            actual = record_hash(record)
        except (TypeError, ValueError) as exc:
            problems.append(_problem(record, RECORD_ALTERED, f"chained fields are not JSON-safe: {exc}"))
        else:
            if stored != actual:
                problems.append(
                    _problem(record, RECORD_ALTERED, f"record_hash is {stored!r}, the chained fields hash to {actual}")
                )

        # 2. its link to the previous record
        reasons = []
        expected_prev = GENESIS if previous is None else previous.get("record_hash")
        if record.get("prev_hash") != expected_prev:
            where = "the genesis hash" if previous is None else f"the record_hash of seq {previous.get('seq')!r}"
            reasons.append(f"prev_hash {record.get('prev_hash')!r} is not {where} ({expected_prev!r})")
        seq = record.get("seq")
        prev_seq = None if previous is None else previous.get("seq")
        if previous is None:
            if seq != 1:
                reasons.append(f"first record has seq {seq!r}, expected 1")
        elif not isinstance(prev_seq, int) or isinstance(prev_seq, bool) or seq != prev_seq + 1:
            if isinstance(seq, int) and isinstance(prev_seq, int) and seq <= prev_seq:
                reasons.append(f"seq {seq!r} after seq {prev_seq!r} (duplicate or out of order)")
            else:
                reasons.append(f"seq {seq!r} after seq {prev_seq!r} (gap: record(s) missing)")
        if reasons:
            problems.append(_problem(record, CHAIN_BROKEN, "; ".join(reasons)))

        # 3. its content
        recomputed = content_hashes.get(record_key(record))
        if recomputed is None:
            if not is_deleted(record):
                problems.append(_problem(record, CONTENT_MISSING, f"no stored content for {record_key(record)}"))
        elif str(recomputed).lower() != str(record.get("content_sha256")).lower():
            problems.append(
                _problem(
                    record,
                    CONTENT_ALTERED,
                    f"stored content hashes to {recomputed}, record says {record.get('content_sha256')!r}",
                )
            )
        previous = record
    return problems
