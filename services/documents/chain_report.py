"""Use case: re-read one migrant's hash chain and every stored byte, and report each
mismatch by document (the checks are in integrity.py and chain.py).

It reads every byte the migrant has stored, so a migrant may run it once per
DOCUMENT_VERIFY_INTERVAL_SECONDS (429 with Retry-After sooner). Staff are not limited:
they investigate, and each of their runs is on the audit trail. A rate limit rather
than a cached report: a cache per chain head would keep answering "ok" for bytes
altered after it was filled.
"""
from __future__ import annotations

import logging
import math

from shared.auth import Principal
from shared.errors import NotFound

from . import domain, integrity
from .ports import Ports

log = logging.getLogger("probashi.documents")


def verify_chain(ports: Ports, principal: Principal, owner: str) -> dict:
    owner = domain.check_access(principal, owner)
    if principal.role == "migrant":
        _take_turn(ports, owner)
    records = ports.reads.records.for_owner(owner)
    if not records and not ports.reads.owners.exists(owner):
        raise NotFound(domain.UNKNOWN_OWNER)
    heads = ports.reads.documents.for_owner(owner)
    problems = integrity.check(records, heads, ports.reads.chain_heads.get(owner), ports.content)
    if principal.is_staff:
        ports.audit.record(principal, "verify_chain", "migrant", owner, problems=len(problems))
    if problems:
        log.error("document chain does not verify", extra={"owner": owner, "problems": len(problems)})
    last = records[-1] if records else {}
    return {"owner": owner, "checked_at": ports.clock(), "ok": not problems, "records": len(records),
            "documents": len(heads), "last_seq": last.get("seq"), "last_record_hash": last.get("record_hash"),
            "problems": [p.as_dict() for p in problems]}


def _take_turn(ports: Ports, owner: str) -> None:
    now = ports.clock()
    next_turn = ports.reads.verify_runs.claim(owner, now, ports.config.verify_interval)
    if next_turn is not None:
        wait = max(1, math.ceil((next_turn - now).total_seconds()))
        every = int(ports.config.verify_interval.total_seconds())
        raise domain.VerifyTooSoon(f"The full check re-reads every stored byte, so a migrant runs it once every "
                                   f"{every} seconds; try again in {wait} seconds.", retry_after=wait)
