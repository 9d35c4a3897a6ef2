"""The case-status service layer: events in (consumer.py), timelines out (api.py).

Applying one event is one unit of work: its timeline entry (entries.entry; none for a
SKIPPED type), the migrant's facts folded (next_steps.fold, plus their phone and which cases
each document was sent for), and the SMS it should send (notifications.plan) queued with
them. The consumer applies late events too (EventConsumer(apply_late=True)): an older event
is still an entry in its place on the timeline, while the facts keep the newest; a late
event sends no SMS, since what it said is no longer the news (a hearing already moved).
A snapshot from a replay (catch_up.py) writes entries and facts and never an SMS.

Reads: a migrant's timeline (the migrant, staff audited; a family member only their case's)
and a case's, newest first in pages, with what happens next in each open case the caller
may see. Restricted complaints are left out in the query itself, so every page is full.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from shared.access import family_phone
from shared.auth import Principal
from shared.errors import Forbidden, Invalid, NotFound
from shared.events import Envelope
from shared.pagination import decode_cursor, encode_cursor
from shared.spellings import normalise_phone

from . import catch_up, entries, next_steps, notifications
from .repository import empty_facts

LANGUAGES = ("bn", "en")
SUBJECT_MIGRANT, SUBJECT_CASE = "migrant", "case"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def phone_of(text) -> str | None:
    """One spelling per phone (shared.spellings), so preferences and SMS agree; a number
    that is not a Bangladesh mobile is kept as it came (it may still be reachable)."""
    if not text:
        return None
    try:
        return normalise_phone(text)
    except ValueError:
        return str(text)


def _stamp(event: Envelope) -> list:
    return [event.aggregate_version, event.id]


class CaseStatusService:
    def __init__(self, uow, reads=None, audit=None, clock=_utcnow):
        self.uow, self.reads, self.audit, self.clock = uow, reads, audit, clock

    # -- events (the consumer's handlers; `tx` is the consumer's unit of work) --------------
    def apply(self, event: Envelope, tx) -> None:
        """A live event: its entry, its facts, and its SMS if it is the latest news."""
        migrant = entries.migrant_of(event.type, event.data, event.subject.id)
        stored = tx.facts.get(migrant) or empty_facts(migrant)
        facts = {**stored, "document_cases": {k: list(v) for k, v in stored["document_cases"].items()}}
        document_cases = self._learn_document_case(tx, facts, event)
        entry = entries.entry(event, cases=document_cases)
        if entry is not None:
            tx.entries.add(entry)
        facts.update(next_steps.fold(facts, event))
        self._learn_phone(facts, event)
        case_id = event.data.get("case_id") if entries.kind_of(event.type) else None
        if case_id:
            tx.cases.set_owner(case_id, migrant)
        tx.facts.put(facts)
        if self._is_latest(facts, event):
            self._notify(tx, facts, event, document_cases)

    def learn_snapshot(self, event: Envelope, tx) -> None:
        """A replayed state (catch-up): entries and facts, no SMS. A state older than entries
        the live events already wrote adds none (they tell it better)."""
        data = event.data
        migrant = data.get("reference") or data.get("owner") or data.get("migrant_reference") or event.subject.id
        stored = tx.facts.get(migrant) or empty_facts(migrant)
        facts = {**stored, "document_cases": {k: list(v) for k, v in stored["document_cases"].items()}}
        if event.type == catch_up.DOCUMENT_SNAPSHOT:
            for case_id in data.get("case_ids") or []:
                self._link(tx, facts, data["document_id"], case_id)
        if not tx.entries.has_version(event.subject.id, event.aggregate_version):
            for entry in catch_up.snapshot_entries(event):
                tx.entries.add(entry)
        facts.update(catch_up.fold_snapshot(facts, event))
        self._learn_phone(facts, event)
        if entries.kind_of(event.type):
            tx.cases.set_owner(data["case_id"], migrant)
        tx.facts.put(facts)

    def _learn_document_case(self, tx, facts: dict, event: Envelope) -> tuple[str, ...]:
        """The cases a document event belongs to: those its uploads named, this one's too."""
        if not event.type.startswith("documents."):
            return ()
        document_id = event.data["document_id"]
        if event.data.get("case_id"):
            self._link(tx, facts, document_id, event.data["case_id"])
        return tuple(facts["document_cases"].get(document_id, ()))

    @staticmethod
    def _link(tx, facts: dict, document_id: str, case_id: str) -> None:
        known = facts["document_cases"].setdefault(document_id, [])
        if case_id not in known:
            known.append(case_id)
            tx.entries.link_cases(document_id, [case_id])  # its verdicts that arrived first

    @staticmethod
    def _learn_phone(facts: dict, event: Envelope) -> None:
        data = event.data
        if not event.type.startswith("registration.migrant."):
            return
        phone = data.get("phone") if "phone" in data else (data.get("values") or {}).get("phone")
        if phone and (facts["phone"] is None or _stamp(event) > facts["phone"]["stamp"]):
            facts["phone"] = {"value": phone_of(phone), "stamp": _stamp(event)}

    @staticmethod
    def _is_latest(facts: dict, event: Envelope) -> bool:
        """Whether the event is what the facts now say (not overtaken by a newer one)."""
        if event.type.startswith("documents."):
            document = facts["documents"].get(event.data["document_id"])
            return document is not None and document["stamp"] == _stamp(event)
        if entries.kind_of(event.type):
            case = facts["cases"].get(event.data["case_id"], {})
            return case.get("latest", {}).get("stamp") == _stamp(event)
        return True

    def _notify(self, tx, facts: dict, event: Envelope, document_cases: tuple[str, ...]) -> None:
        if event.type not in notifications.NOTIFY:
            return
        data = dict(event.data)
        for field in ("claimant_phone", "complainant_phone"):
            if data.get(field):
                data[field] = phone_of(data[field])
        told = replace(event, data=data)
        migrant_phone = facts["phone"]["value"] if facts["phone"] else None
        open_cases = [facts["cases"].get(c, {}).get("latest") for c in document_cases]
        case_phones = tuple(c["phone"] for c in open_cases
                            if c and c.get("phone") and c["status"] not in next_steps.ENDED)
        case_phones = tuple(phone_of(p) for p in case_phones)
        phones = [migrant_phone, data.get("claimant_phone"), data.get("complainant_phone"), *case_phones]
        now = self.clock()
        planned = notifications.plan(told, migrant_phone=migrant_phone, preferences=tx.preferences.for_phones(phones),
                                     now=now, case_phones=case_phones)
        if planned:
            tx.notifications.queue(planned, now, migrant=facts["_id"])

    # -- reads ------------------------------------------------------------------------------
    def migrant_timeline(self, principal: Principal, reference: str, lang: str, limit: int,
                         cursor: str | None) -> dict:
        if principal.role == "family":
            raise Forbidden("A family member's sign-in reads the timeline of the cases it names: "
                            "GET /cases/{case_id}/timeline.")
        if principal.role == "migrant" and principal.migrant_ref != reference:
            raise Forbidden("A migrant sees only their own timeline.")
        facts = self.reads.facts.get(reference)
        if facts is None and principal.role != "migrant":
            raise NotFound("No timeline for that reference.")
        facts = facts or empty_facts(reference)
        if principal.role == "migrant" or principal.role == "admin":
            filters = [{"migrant_reference": reference}]
        else:  # other staff: the open entries, and the restricted complaints assigned to them
            filters = [{"migrant_reference": reference, "restricted_case": None}]
            filters += [{"migrant_reference": reference, "restricted_case": case_id}
                        for case_id, case in sorted(facts["cases"].items())
                        if _restricted(case) and may_see_case(case, principal)]
        page, next_cursor = self._page(filters, limit, cursor)
        if principal.is_staff:
            self.audit.record(principal, "read_timeline", SUBJECT_MIGRANT, reference, lang=lang,
                              entries=[e["_id"] for e in page])
        steps = next_steps.all_next_steps(facts)
        open_cases = [_next_steps_view(facts["cases"][case_id], step, lang) for case_id, step in steps.items()
                      if may_see_case(facts["cases"][case_id], principal)]
        return {"migrant_reference": reference, "lang": lang, "items": [_entry_view(e, lang) for e in page],
                "next_cursor": next_cursor, "open_cases": open_cases}

    def case_timeline(self, principal: Principal, case_id: str, lang: str, limit: int, cursor: str | None) -> dict:
        if principal.role == "family" and case_id not in principal.cases:
            raise Forbidden("Your sign-in does not name this case.")
        owner = self.reads.cases.owner(case_id)
        facts = self.reads.facts.get(owner) if owner else None
        case = (facts or {}).get("cases", {}).get(case_id)
        if case is None or "latest" not in case:
            raise NotFound("No case with that number.")
        if principal.role == "migrant" and principal.migrant_ref != owner:
            raise Forbidden("A migrant sees only their own cases.")
        if not may_see_case(case, principal):
            if principal.is_staff:  # a try at a confidential complaint is on the record too
                self.audit.record(principal, "read_case_timeline_refused", SUBJECT_CASE, case_id)
            raise Forbidden("This complaint is confidential: only its assigned legal aid officer, an "
                            "administrator and the complainant see it.")
        page, next_cursor = self._page([{"case_ids": case_id}], limit, cursor)
        if principal.is_staff:
            self.audit.record(principal, "read_case_timeline", SUBJECT_CASE, case_id, lang=lang,
                              entries=[e["_id"] for e in page])
        step = next_steps.next_steps(case, facts["documents"])
        return {"case_id": case_id, "kind": case["kind"], "lang": lang,
                "title": entries.case_title(case["kind"], case["latest"], lang),
                "status": case["latest"]["status"], "items": [_entry_view(e, lang) for e in page],
                "next_cursor": next_cursor, "next_steps": _next_steps_view(case, step, lang) if step else None}

    def _page(self, filters: list[dict], limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        found = self.reads.entries.page(filters, limit + 1, _position(cursor))
        page = found[:limit]
        if len(found) <= limit:
            return page, None
        last = page[-1]
        return page, encode_cursor([last["occurred_at"].isoformat(), last["aggregate"]["version"], last["_id"]])


def _restricted(case: dict) -> bool:
    return case["kind"] == entries.COMPLAINT and bool(case.get("latest", {}).get("restricted"))


def may_see_case(case: dict, principal: Principal) -> bool:
    """A case's facts as entries.may_see judges its entries: the migrant their own, family the
    named cases (a restricted complaint only from the phone that filed it), staff any but a
    restricted complaint (only admins and its assignee)."""
    latest = case.get("latest") or {}
    audience = {"migrant_reference": latest.get("migrant_reference"), "case_ids": [case["case_id"]],
                "restricted": _restricted(case), "case_phone": phone_of(latest.get("phone"))}
    return entries.may_see(audience, principal, phone=phone_of(family_phone(principal)),
                           assignee=latest.get("assignee"))


def _position(cursor: str | None) -> list | None:
    """The (occurred_at, version, _id) a cursor from _page points after."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        at, version, entry_id = position
        if not isinstance(version, int) or not isinstance(entry_id, str):
            raise ValueError
        return [datetime.fromisoformat(at), version, entry_id]
    except (ValueError, TypeError):
        raise Invalid({"cursor": ["Not a cursor from this API; start again without it."]}) from None


def _entry_view(entry: dict, lang: str) -> dict:
    case = entry.get("case")
    return {"id": entry["_id"], "type": entry["type"], "occurred_at": entry["occurred_at"],
            "when": entry["when"][lang], "text": entry["text"][lang],
            "case": {"id": case["id"], "kind": case["kind"],
                     "title": case["title"][lang] if case.get("title") else None} if case else None,
            "replayed": bool(entry.get("replayed"))}


def _next_steps_view(case: dict, step: dict, lang: str) -> dict:
    return {"case_id": step["case_id"], "kind": case["kind"], "title": entries.case_title(case["kind"], case["latest"],
                                                                                           lang),
            "status": step["status"], "steps": step["text"][lang], "office": step["office"][lang],
            "missing_documents": [{"doc_types": item["doc_types"], "state": item["state"], "reason": item["reason"]}
                                  for item in step["missing_documents"]],
            "next_hearing": step["next_hearing"], "amount": step["amount"]}
