"""What the verify endpoint checks for one migrant: the hash chain and the stored bytes
(chain.verify_chain), plus what the chain alone cannot show - records cut from its end,
and document heads (what listings and downloads use) that disagree with their records.
"""
from __future__ import annotations

from . import chain
from .storage import ContentUnreadable

HEAD_MISMATCH = "head_mismatch"
CHAIN_TRUNCATED = "chain_truncated"


def check(records: list[dict], heads: list[dict], tip: dict | None, content) -> list[chain.Problem]:
    """Every problem of one migrant's documents. `records` in stored chain order, `heads`
    the migrant's document heads (deleted ones too), `tip` the recorded end of the chain,
    `content` the store the bytes are re-read from."""
    hashes, unreadable = content_hashes(records, content)
    return chain.verify_chain(records, hashes) + unreadable + tip_problems(records, tip) + head_problems(records, heads)


def content_hashes(records: list[dict], content) -> tuple[dict, list[chain.Problem]]:
    hashes, problems = {}, []
    for record in records:
        key = chain.record_key(record)
        try:
            hashes[key] = content.sha256(record["content_id"]) if record.get("content_id") is not None else None
        except ContentUnreadable as exc:
            problems.append(_problem(record, chain.CONTENT_ALTERED, f"stored content cannot be read: {exc}"))
            hashes[key] = record.get("content_sha256")  # reported just above, not again as a mismatch
    return hashes, problems


def tip_problems(records: list[dict], tip: dict | None) -> list[chain.Problem]:
    last = records[-1] if records else None
    if tip and (last is None or tip["seq"] > last["seq"]):
        return [chain.Problem(None, None, tip["seq"], CHAIN_TRUNCATED,
                              f"the chain reached seq {tip['seq']} but its last record is seq "
                              f"{last['seq'] if last else None}: records were removed from its end")]
    if last and (tip is None or (tip["seq"], tip["record_hash"]) != (last["seq"], last["record_hash"])):
        recorded = (tip["seq"], tip["record_hash"]) if tip else None
        return [_problem(last, HEAD_MISMATCH, f"the chain's recorded end is {recorded}, not this record")]
    return []


def head_problems(records: list[dict], heads: list[dict]) -> list[chain.Problem]:
    by_document: dict = {}
    for record in records:
        by_document.setdefault(record.get("document_id"), []).append(record)
    problems = []
    for head in heads:
        mine = by_document.pop(head["_id"], [])
        versions = sorted(r.get("version") for r in mine if isinstance(r.get("version"), int))
        other_type = any(r.get("doc_type") != head["doc_type"] for r in mine)
        if versions != list(range(1, head["current_version"] + 1)) or other_type:
            problems.append(chain.Problem(
                head["_id"], head["current_version"], None, HEAD_MISMATCH,
                f"the document lists versions 1-{head['current_version']} of type {head['doc_type']}, "
                f"the chain holds versions {versions}" + (" of another type" if other_type else "")))
    for document_id, orphans in by_document.items():
        problems.append(_problem(orphans[0], HEAD_MISMATCH, "chain records of a document this migrant does not have"))
    return problems


def _problem(record: dict, kind: str, detail: str) -> chain.Problem:
    return chain.Problem(record.get("document_id"), record.get("version"), record.get("seq"), kind, detail)
