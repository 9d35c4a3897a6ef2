"""services.documents.chain: the per-migrant tamper-evident hash chain."""
from __future__ import annotations

import copy
import hashlib
import json

import pytest

from services.documents.chain import (
    CHAIN_BROKEN,
    CHAINED_FIELDS,
    CONTENT_ALTERED,
    CONTENT_MISSING,
    GENESIS,
    RECORD_ALTERED,
    Problem,
    link,
    record_hash,
    record_key,
    verify_chain,
)

OWNER = "migrant-0001"


def fields(n: int, **overrides) -> tuple[dict, bytes]:
    body = f"%PDF-1.7 document {n}".encode()
    record = {
        "document_id": f"doc-{n}",
        "version": 1,
        "owner": OWNER,
        "doc_type": "job_contract" if n % 2 else "payment_slip",
        "content_sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
        "content_type": "application/pdf",
        "issuer": "রিক্রুটিং এজেন্সি লিমিটেড" if n == 1 else None,  # Bangla survives the canonical JSON
        "issue_date": "2024-03-0%d" % n,
        "case_id": None,
        "uploaded_by": "officer-7",
        "uploaded_at": f"2024-04-01T10:0{n}:00+06:00",
        "status": "active",  # not chained
    }
    record.update(overrides)
    return record, body


def build_chain(count: int = 5) -> tuple[list[dict], dict[str, str]]:
    records, hashes, previous = [], {}, None
    for n in range(1, count + 1):
        record_fields, body = fields(n)
        previous = link(record_fields, previous)
        records.append(previous)
        hashes[record_key(previous)] = hashlib.sha256(body).hexdigest()
    return records, hashes


def kinds(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.document_id, p.kind) for p in problems]


# ---------------------------------------------------------------------------
# hashing and linking


def test_chained_fields_exclude_mutable_markers():
    assert "record_hash" not in CHAINED_FIELDS
    for mutable in ("status", "deleted", "verified_at", "verification"):
        assert mutable not in CHAINED_FIELDS
    assert {"prev_hash", "seq", "content_sha256", "owner"} <= set(CHAINED_FIELDS)


def test_record_hash_is_sha256_of_canonical_json():
    record, _ = fields(1)
    record = link(record, None)
    chained = {name: record.get(name) for name in CHAINED_FIELDS}
    canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert record["record_hash"] == hashlib.sha256(canonical).hexdigest() == record_hash(record)
    assert "রিক্রুটিং".encode() in canonical  # UTF-8, not \u escapes


def test_record_hash_ignores_unchained_keys_and_key_order():
    record = link(fields(1)[0], None)
    marked = dict(reversed(list(record.items())), status="deleted", deleted=True, verified_at="2025-01-01")
    assert record_hash(marked) == record["record_hash"]


def test_record_hash_rejects_values_that_are_not_json_safe():
    import datetime

    record, _ = fields(1, issue_date=datetime.date(2024, 3, 1))
    with pytest.raises(TypeError):
        record_hash(record)


def test_link_sets_genesis_then_links_to_previous():
    first = link(fields(1)[0], None)
    assert first["prev_hash"] == GENESIS == "0" * 64
    assert first["seq"] == 1
    second_fields = fields(2)[0]
    second = link(second_fields, first)
    assert second["prev_hash"] == first["record_hash"]
    assert second["seq"] == 2
    assert second["status"] == "active"
    assert "record_hash" not in second_fields  # the input is not modified


def test_link_overrides_caller_supplied_chain_fields():
    record = link(fields(1, prev_hash="f" * 64, seq=99, record_hash="bogus")[0], None)
    assert (record["prev_hash"], record["seq"]) == (GENESIS, 1)
    assert record["record_hash"] == record_hash(record)


@pytest.mark.parametrize(
    "overrides",
    [{"document_id": None}, {"content_sha256": "ABC"}, {"content_sha256": "A" * 64}, {"owner": None}],
)
def test_link_rejects_incomplete_records(overrides):
    with pytest.raises(ValueError):
        link(fields(1, **overrides)[0], None)


def test_link_refuses_another_owners_chain():
    first = link(fields(1)[0], None)
    with pytest.raises(ValueError):
        link(fields(2, owner="migrant-0002")[0], first)


# ---------------------------------------------------------------------------
# verification


def test_clean_chain_verifies():
    records, hashes = build_chain(6)
    assert verify_chain(records, hashes) == []


def test_empty_chain_verifies():
    assert verify_chain([], {}) == []


def test_new_versions_of_a_document_are_chained():
    records, hashes = build_chain(2)
    v2_fields, body = fields(1, version=2)
    records.append(link(v2_fields, records[-1]))
    hashes["doc-1:2"] = hashlib.sha256(body).hexdigest()
    assert verify_chain(records, hashes) == []
    del hashes["doc-1:1"]
    assert kinds(verify_chain(records, hashes)) == [("doc-1", CONTENT_MISSING)]
    assert verify_chain(records, hashes)[0].version == 1


def test_altered_record_field_is_reported():
    records, hashes = build_chain(5)
    records[2]["doc_type"] = "visa"
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [("doc-3", RECORD_ALTERED)]
    assert problems[0].seq == 3 and problems[0].version == 1


def test_altered_record_with_recomputed_hash_breaks_the_next_link():
    records, hashes = build_chain(5)
    records[2]["uploaded_by"] = "someone-else"
    records[2]["record_hash"] = record_hash(records[2])
    assert kinds(verify_chain(records, hashes)) == [("doc-4", CHAIN_BROKEN)]


def test_altered_content_is_reported():
    records, hashes = build_chain(5)
    hashes["doc-4:1"] = hashlib.sha256(b"%PDF-1.7 forged").hexdigest()
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [("doc-4", CONTENT_ALTERED)]
    assert problems[0].seq == 4


def test_content_hash_swapped_in_record_is_record_altered():
    # Forging both the bytes and content_sha256 still changes the record hash.
    records, hashes = build_chain(3)
    forged = hashlib.sha256(b"%PDF-1.7 forged").hexdigest()
    records[1]["content_sha256"] = forged
    hashes["doc-2:1"] = forged
    assert kinds(verify_chain(records, hashes)) == [("doc-2", RECORD_ALTERED)]


def test_deleted_record_in_the_middle_breaks_the_chain():
    records, hashes = build_chain(5)
    del records[2]
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [("doc-4", CHAIN_BROKEN)]
    assert "gap" in problems[0].detail and "prev_hash" in problems[0].detail


def test_deleted_first_record_breaks_the_chain():
    records, hashes = build_chain(3)
    problems = verify_chain(records[1:], hashes)
    assert kinds(problems) == [("doc-2", CHAIN_BROKEN)]
    assert "genesis" in problems[0].detail


def test_swapped_order_is_reported():
    records, hashes = build_chain(5)
    records[1], records[2] = records[2], records[1]
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [("doc-3", CHAIN_BROKEN), ("doc-2", CHAIN_BROKEN), ("doc-4", CHAIN_BROKEN)]
    assert "out of order" in problems[1].detail


def test_swapped_seq_values_are_reported():
    # Rewriting the seq numbers so a sort by seq shows the swapped order: the records change.
    records, hashes = build_chain(4)
    records[1]["seq"], records[2]["seq"] = 3, 2
    records.sort(key=lambda r: r["seq"])
    problems = verify_chain(records, hashes)
    assert ("doc-3", RECORD_ALTERED) in kinds(problems)
    assert ("doc-2", RECORD_ALTERED) in kinds(problems)
    assert {p.kind for p in problems} == {RECORD_ALTERED, CHAIN_BROKEN}


def test_duplicated_record_is_reported():
    records, hashes = build_chain(3)
    records.insert(2, copy.deepcopy(records[1]))
    problems = verify_chain(records, hashes)
    # The copy (third position) links to doc-1 and repeats seq 2; doc-3 after it still links fine.
    assert kinds(problems) == [("doc-2", CHAIN_BROKEN)]
    assert problems[0].seq == 2 and "duplicate" in problems[0].detail


def test_missing_content_is_reported():
    records, hashes = build_chain(4)
    del hashes["doc-2:1"]
    hashes["doc-3:1"] = None
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [("doc-2", CONTENT_MISSING), ("doc-3", CONTENT_MISSING)]


def test_admin_deleted_record_with_missing_content_is_not_a_problem():
    records, hashes = build_chain(4)
    records[1]["status"] = "deleted"
    records[2]["deleted"] = True
    records[2]["deleted_by"] = "admin-1"
    del hashes["doc-2:1"], hashes["doc-3:1"]
    assert verify_chain(records, hashes) == []


def test_deleted_record_still_guards_its_fields_and_content():
    records, hashes = build_chain(3)
    records[1]["deleted"] = True
    records[1]["owner"] = "migrant-9999"
    hashes["doc-2:1"] = "0" * 64
    assert kinds(verify_chain(records, hashes)) == [("doc-2", RECORD_ALTERED), ("doc-2", CONTENT_ALTERED)]


def test_every_problem_is_reported_not_just_the_first():
    records, hashes = build_chain(6)
    records[0]["issuer"] = "forged issuer"  # doc-1 altered
    del hashes["doc-2:1"]  # doc-2 content missing
    hashes["doc-3:1"] = "f" * 64  # doc-3 content altered
    del records[4]  # doc-5 removed -> doc-6 chain broken
    problems = verify_chain(records, hashes)
    assert kinds(problems) == [
        ("doc-1", RECORD_ALTERED),
        ("doc-2", CONTENT_MISSING),
        ("doc-3", CONTENT_ALTERED),
        ("doc-6", CHAIN_BROKEN),
    ]
    assert all(isinstance(p, Problem) for p in problems)
    assert problems[0].as_dict() == {
        "document_id": "doc-1",
        "version": 1,
        "seq": 1,
        "kind": RECORD_ALTERED,
        "detail": problems[0].detail,
    }


def test_problem_is_frozen():
    problem = Problem("doc-1", 1, 1, RECORD_ALTERED, "x")
    with pytest.raises(AttributeError):
        problem.kind = CONTENT_MISSING  # type: ignore[misc]


def test_survives_a_json_round_trip():
    # What a database round trip does to the records must not change any hash.
    records, hashes = build_chain(4)
    assert verify_chain(json.loads(json.dumps(records, ensure_ascii=False)), hashes) == []
