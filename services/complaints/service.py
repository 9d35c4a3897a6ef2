"""The complaints service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where `tx.complaints`, `tx.history`,
`tx.migrants`, `tx.documents`, `tx.claims`, `tx.audit` and `tx.emit` are bound to it;
`reads` answers queries outside any transaction; `audit.record` keeps who read what.

Visibility: a migrant sees their own complaints; staff see all but restricted ones, which
only the assigned staff member and admins see (domain.visible_to). A family member sees
the complaints their token names (shared.access.may_read_case), a restricted one only if
they filed it (relation family): the worker's own confidential complaint stays the
worker's, whoever's phone it gives. To anyone else a complaint does not exist: 404, and
absent from every list. A family member changes nothing, and sees less of a complaint
(views.py: no staff notes or minutes, no officers' ids, no confidential narrative).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

from shared.access import acting_for, check_may_act, check_owner, may_read_case, named_cases_page
from shared.auth import Principal
from shared.case_ids import new_case_id
from shared.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from shared.etags import expected_version
from shared.events import to_json_safe
from shared.fields import today_in_bangladesh
from shared.history import history_page
from shared.pagination import keyset_page, position_after
from shared.redaction import family_history_line

from . import awards, changes, domain, hearings, intake, receipts, referrals, views
from .categories import Lists
from .config import ComplaintsConfig
from .repository import LIST_FILTERS, DuplicateComplaint, matches

COMPLAINT_PREFIX = "CMP-"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_complaint_id(now: datetime | None = None) -> str:
    return new_case_id(COMPLAINT_PREFIX, now)


_TOP_LEVEL_TIMES = ("created_at", "updated_at", "stage_since", "due_order", "alarm_at")


def view(complaint: dict) -> dict:
    """The complaint as the API shows it: nested records' dates and times in ISO form."""
    return {k: (v if k in _TOP_LEVEL_TIMES else to_json_safe(v)) for k, v in complaint.items() if k != "_id"}


def view_for(principal: Principal, complaint: dict) -> dict:
    """The complaint as `principal` may see it: whole for staff and the migrant, narrowed for
    a family member (views.family_view: no staff notes or minutes, no officers' ids)."""
    shown = view(complaint)
    return views.family_view(shown, principal) if principal.role == "family" else shown


def actor_of(principal: Principal) -> dict:
    """How the domain sees who acts: a migrant with the reference their token names."""
    actor = principal.as_actor()
    if principal.role == "migrant":
        actor["migrant_ref"] = principal.migrant_ref
    return actor


def visible(complaint: dict, principal: Principal) -> bool:
    """Whether the principal may see the complaint (see the module's docstring)."""
    if principal.role == "family":
        return may_read_case(principal, complaint["_id"], complaint["complainant"]["migrant_reference"]) and (
            not complaint["restricted"] or complaint["complainant"].get("relation") == "family")
    return domain.visible_to(complaint, actor_of(principal))


def _extra(full: dict, complaint: dict) -> dict:
    """What a hearing's, referral's or award's event_data adds to the common event data."""
    common = domain.event_data(complaint)
    return {k: v for k, v in full.items() if k not in common}


class ComplaintsService:
    def __init__(self, uow, reads, audit, lists: Lists, config: ComplaintsConfig = ComplaintsConfig(), *,
                 clock: Callable[[], datetime] = _utcnow, today: Callable[[], date] = today_in_bangladesh,
                 make_id: Callable[[], str] = new_complaint_id,
                 make_receipt: Callable[[], str] = receipts.new_receipt_number):
        self.uow, self.reads, self.audit = uow, reads, audit
        self.lists, self.config = lists, config
        self.clock, self.today, self.make_id, self.make_receipt = clock, today, make_id, make_receipt

    # -- intake ----------------------------------------------------------------------------
    def file(self, principal: Principal, body: dict) -> dict:
        check_may_act(principal)
        body = dict(body)
        actor = {**actor_of(principal), **acting_for(principal, body.pop("udc_centre", None), "filing this complaint")}
        reference = body["complainant"]["migrant_reference"]
        if principal.role == "migrant":
            check_owner(principal, reference, "A migrant files complaints about their own migration only.")

        for _ in range(5):  # a clash of random ids or receipt numbers is rare; draw again
            now = self.clock()

            def file_in(tx):
                migrant = tx.migrants.get(reference)
                if not migrant or not migrant.get("registered"):
                    raise NotFound("No registered migrant with that reference is known to the complaints service.",
                                   migrant_reference=reference)
                complaint = intake.new_complaint(body, complaint_id=self.make_id(), receipt_number=self.make_receipt(),
                                                 lists=self.lists, actor=actor, now=now)
                complaint.update(target_days=self.config.target_days(), linked_claims=[])
                changes.save(tx, complaint, None, domain.RECEIVED_EVENT)
                return complaint
            try:
                return view(self.uow.run(file_in))
            except DuplicateComplaint:
                continue
        raise Conflict("Could not allocate a complaint number; try again.")

    # -- steps (each needs If-Match) ----------------------------------------------------------
    def _step(self, principal: Principal, complaint_id: str, if_match: str | None, change,
              event_for: Callable[[dict], str] | str, extra_for: Callable[[dict], dict] | None = None,
              prepare: Callable | None = None) -> dict:
        """Load, check the version and who may see it, change (domain), save with its event.
        `prepare(tx, current)` looks up what the change needs in the same transaction."""
        expected = expected_version(if_match, "complaint")

        def step_in(tx):
            current = self._current(tx, principal, complaint_id, expected)
            looked_up = prepare(tx, current) if prepare else None
            now = self.clock()
            updated = change(current, actor_of(principal), now, *([looked_up] if prepare else []))
            event_type = event_for(updated) if callable(event_for) else event_for
            changes.save(tx, updated, expected, event_type, **(extra_for(updated) if extra_for else {}))
            return updated
        return view(self.uow.run(step_in))

    def start_scrutiny(self, principal, complaint_id, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.start_scrutiny(
            c, actor=a, now=now), domain.SCRUTINY_EVENT)

    def acknowledge(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.acknowledge(
            c, committee=body["committee"], actor=a, now=now), domain.ACKNOWLEDGED_EVENT)

    def send_notice(self, principal, complaint_id, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.send_notice(
            c, actor=a, now=now), domain.NOTICE_SENT_EVENT)

    def assign(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.assign(
            c, staff=body["assignee"], actor=a, now=now), domain.ASSIGNED_EVENT)

    def attach_evidence(self, principal, complaint_id, body, if_match):
        def document(tx, _current):
            found = tx.documents.get(body["document_id"])
            if found is None:
                raise NotFound("No document with that id is known to the complaints service (a document uploaded "
                               "a moment ago may take a few seconds to appear).", document_id=body["document_id"])
            return found
        return self._step(principal, complaint_id, if_match, lambda c, a, now, doc: domain.attach_evidence(
            c, doc, actor=a, now=now), domain.EVIDENCE_ATTACHED_EVENT, prepare=document)

    def link_claim(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now, claim: domain.link_claim(
            c, claim, actor=a, now=now), domain.CLAIM_LINKED_EVENT,
            prepare=lambda tx, _current: tx.claims.get(body["claim_id"]))

    # hearings.py
    def schedule_hearing(self, principal, complaint_id, body, if_match):
        def change(c, a, now):
            return hearings.schedule(c, on=body["date"], venue=body["venue"], parties=body["parties"], actor=a,
                                     now=now, today=self.today(), cap=self.config.hearing_cap,
                                     over_cap_reason=body.get("over_cap_reason"))
        return self._step(principal, complaint_id, if_match, change, domain.HEARING_SCHEDULED_EVENT,
                          lambda c: _extra(hearings.event_data(c, len(c["hearings"])), c))

    def hold_hearing(self, principal, complaint_id, body, if_match):
        # The scheduled hearing is always the last (scheduling and adjourning append one).
        return self._step(principal, complaint_id, if_match, lambda c, a, now: hearings.hold(
            c, attendance=body["attendance"], minutes=body["minutes"], actor=a, now=now),
            domain.HEARING_HELD_EVENT, lambda c: _extra(hearings.event_data(c, len(c["hearings"])), c))

    def adjourn_hearing(self, principal, complaint_id, body, if_match):
        def change(c, a, now):
            return hearings.adjourn(c, next_date=body["next_date"], reason=body["reason"], actor=a, now=now,
                                    today=self.today(), cap=self.config.hearing_cap,
                                    over_cap_reason=body.get("over_cap_reason"))
        # The adjourned hearing is the one before the next it scheduled (the last).
        return self._step(principal, complaint_id, if_match, change, domain.HEARING_ADJOURNED_EVENT,
                          lambda c: _extra(hearings.event_data(c, len(c["hearings"]) - 1), c))

    # referrals.py
    def refer(self, principal, complaint_id, body, if_match):
        def change(c, a, now):
            return referrals.refer(c, body=body["body"], note=body["note"], target_days=self.config.referral_days,
                                   lists=self.lists, actor=a, now=now)
        return self._step(principal, complaint_id, if_match, change, domain.REFERRED_EVENT,
                          lambda c: _extra(referrals.event_data(c, len(c["referrals"])), c))

    def update_referral(self, principal, complaint_id, referral_no: str, body, if_match):
        number = int(referral_no) if referral_no.isdigit() else 0

        def referral(_tx, current):
            if not 1 <= number <= len(current["referrals"]):
                raise NotFound(f"The complaint has no referral {referral_no}.")
        return self._step(principal, complaint_id, if_match, lambda c, a, now, _: referrals.update(
            c, referral_no=number, to=body["state"], note=body.get("note"), actor=a, now=now),
            domain.REFERRAL_UPDATED_EVENT, lambda c: _extra(referrals.event_data(c, number), c), prepare=referral)

    # awards.py
    def decide(self, principal, complaint_id, body, if_match):
        def change(c, a, now):
            return awards.decide(c, kind=body["kind"], amount=body["amount"], payment_deadline=body["payment_deadline"],
                                 instalments=body.get("instalments"), terms=body.get("terms"), actor=a, now=now,
                                 today=self.today())
        return self._step(principal, complaint_id, if_match, change,
                          lambda c: domain.STATUS_EVENTS[c["status"]], lambda c: _extra(awards.event_data(c), c))

    def dismiss(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.dismiss(
            c, reason=body["reason"], actor=a, now=now), domain.DISMISSED_EVENT)

    def start_monitoring(self, principal, complaint_id, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: awards.start_monitoring(
            c, actor=a, now=now), domain.MONITORING_EVENT, lambda c: _extra(awards.event_data(c), c))

    def record_payment(self, principal, complaint_id, body, if_match):
        """A payment is its own event; the one that pays the whole also makes the complaint
        complied, a second change with its own event (so each event has its own version)."""
        expected = expected_version(if_match, "complaint")

        def pay_in(tx):
            current = self._current(tx, principal, complaint_id, expected)
            now = self.clock()
            result = awards.record_payment(current, amount=body["amount"], paid_on=body["paid_on"],
                                           reference=body.get("reference"), actor=actor_of(principal), now=now,
                                           today=self.today())
            paid = domain.touched(current, now, payments=result["payments"], paid_total=result["paid_total"])
            changes.save(tx, paid, expected, domain.PAYMENT_RECEIVED_EVENT,
                         **_extra(awards.event_data(paid, payment_amount=body["amount"]), paid))
            if result["status"] != domain.COMPLIED:
                return paid
            complied = domain.moved(paid, domain.COMPLIED, now)
            changes.save(tx, complied, paid["version"], domain.COMPLIED_EVENT,
                         **_extra(awards.event_data(complied), complied))
            return complied
        return view(self.uow.run(pay_in))

    def mark_not_complied(self, principal, complaint_id, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: awards.mark_not_complied(
            c, actor=a, now=now, today=self.today()), domain.NOT_COMPLIED_EVENT,
            lambda c: _extra(awards.event_data(c), c))

    def enforce(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: awards.enforce(
            c, action=body["action"], note=body["note"], actor=a, now=now), domain.ENFORCEMENT_EVENT,
            lambda c: _extra(awards.event_data(c, enforcement_action=c["enforcement"]["action"]), c))

    # closing
    def close(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.close(
            c, note=body.get("note"), actor=a, now=now), domain.CLOSED_EVENT)

    def reopen(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.reopen(
            c, reason=body["reason"], window_days=self.config.reopen_window_days, actor=a, now=now),
            domain.REOPENED_EVENT)

    def withdraw(self, principal, complaint_id, body, if_match):
        return self._step(principal, complaint_id, if_match, lambda c, a, now: domain.withdraw(
            c, reason=body["reason"], actor=a, now=now), domain.WITHDRAWN_EVENT)

    # -- queries -------------------------------------------------------------------------------
    def get(self, principal: Principal, complaint_id: str) -> dict:
        return view_for(principal, self._readable(principal, complaint_id, "read"))

    def search(self, principal: Principal, filters: dict, limit: int, cursor: str | None) -> dict:
        """`filters` by API name (repository.LIST_FILTERS); only what the principal may see."""
        filters = {k: v for k, v in filters.items() if v is not None}
        if principal.role == "migrant" and filters.get("migrant_reference", principal.migrant_ref) != \
                principal.migrant_ref:
            raise Forbidden("A migrant sees only their own complaints.")
        query = {LIST_FILTERS[k]: v for k, v in filters.items()}
        if principal.role == "family":  # the complaints the token names, never a search of the rest
            found = named_cases_page(principal, COMPLAINT_PREFIX, self.reads.complaints.get,
                                     lambda c: matches(c, query) and visible(c, principal),
                                     position_after(cursor), limit + 1)
        else:
            found = self.reads.complaints.search(self._alternatives(principal, [query]), limit + 1,
                                                 position_after(cursor))
        return self._page(principal, found, limit, "created_at", filters, via="search")

    def related(self, principal: Principal, complaint_id: str, limit: int, cursor: str | None) -> dict:
        """Other complaints naming any of its agency licences or sub-agent phones (one fraud,
        many victims), newest first, as the principal may see them."""
        complaint = self._readable(principal, complaint_id, "read_related")
        phones = sorted({r["phone"] for r in complaint["respondents"] if r.get("phone")})
        naming = [*({"agency_licences": licence} for licence in complaint["agency_licences"]),
                  *({"respondents.phone": phone} for phone in phones)]
        if principal.role == "family":
            found = named_cases_page(principal, COMPLAINT_PREFIX, self.reads.complaints.get,
                                     lambda c: c["_id"] != complaint_id and visible(c, principal)
                                     and any(matches(c, query) for query in naming),
                                     position_after(cursor), limit + 1)
        else:
            found = self.reads.complaints.search(self._alternatives(principal, naming), limit + 2,
                                                 position_after(cursor)) if naming else []
            found = [c for c in found if c["_id"] != complaint_id][:limit + 1]
        return self._page(principal, found, limit, "created_at", {"related_to": complaint_id}, via="related")

    def history(self, principal: Principal, complaint_id: str, limit: int, cursor: str | None) -> dict:
        self._readable(principal, complaint_id, "read_history")
        answer = history_page(self.reads.history, complaint_id, limit, cursor)
        if principal.role == "family":
            answer["items"] = [family_history_line(entry) for entry in answer["items"]]
        return answer

    def due_queue(self, principal: Principal, filters: dict, overdue: bool | None, limit: int,
                  cursor: str | None) -> dict:
        """Staff's queue by due date, then complaint number (nothing due comes last)."""
        if not principal.is_staff:
            raise Forbidden("The queue is for staff.")
        filters = {k: v for k, v in filters.items() if v is not None}
        if principal.role == "admin":
            query = filters
        else:  # staff (the route is for staff only): open complaints, and restricted ones assigned to them
            query = {**filters, "$or": [{"restricted": False}, {"assignee": principal.subject}]}
        overdue_at = None if overdue is None else (overdue, self.clock())
        found = self.reads.due_queue.page(query, overdue_at, limit + 1, position_after(cursor))
        return self._page(principal, found, limit, "due_order", {**filters, "overdue": overdue}, via="queue")

    # -- helpers --------------------------------------------------------------------------------
    def _readable(self, principal: Principal, complaint_id: str, action: str) -> dict:
        """The complaint if the principal may see it (staff reads audited), else 404."""
        complaint = self._load(self.reads.complaints, complaint_id)
        if not visible(complaint, principal):
            if principal.is_staff:  # a try at a confidential complaint is on the record too
                self.audit.record(principal, f"{action}_refused", domain.SUBJECT, complaint_id)
            raise NotFound("No complaint with that number.")  # not even whether it exists
        if principal.is_staff:
            self.audit.record(principal, action, domain.SUBJECT, complaint_id)
        return complaint

    @staticmethod
    def _alternatives(principal: Principal, queries: list[dict]) -> list[tuple[dict, dict]]:
        """Any of `queries` (stored field names), as the principal may see them: (what an index
        serves, what is checked on the rows it returns), see ComplaintRepository.search.
        A migrant's own complaints are few: found by reference, the rest checked on them.
        Staff see the open ones by index; restricted ones are few, checked for their assignee.
        A family member's lists are their named complaints (named_cases_page): a search finds none."""
        if principal.role == "family":
            return []
        if principal.role == "migrant":
            mine = {"complainant.migrant_reference": principal.migrant_ref}
            return [(mine, {k: v for k, v in query.items() if k not in mine}) for query in queries]
        if principal.role == "admin":
            return [(query, {}) for query in queries]
        return [alternative for query in queries for alternative in (
            ({**query, "restricted": False}, {}), ({**query, "restricted": True}, {"assignee": principal.subject}))]

    def _page(self, principal: Principal, found: list[dict], limit: int, sort_key: str, query: dict,
              via: str) -> dict:
        page, next_cursor = keyset_page(found, limit, sort_key)
        if principal.is_staff:
            self.audit.record(principal, "search", domain.SUBJECT, None, query=query, via=via,
                              found=[c["_id"] for c in page])
            for complaint in page:
                self.audit.record(principal, "read", domain.SUBJECT, complaint["_id"], via=via)
        return {"items": [view_for(principal, c) for c in page], "next_cursor": next_cursor}

    def _current(self, tx, principal: Principal, complaint_id: str, expected: int) -> dict:
        """The complaint a step changes: one the principal may see, at the version they read."""
        check_may_act(principal)
        current = self._load(tx.complaints, complaint_id)
        if not visible(current, principal):
            raise NotFound("No complaint with that number.")
        if current["version"] != expected:
            raise PreconditionFailed("The complaint changed since you read it; fetch it again and reapply your "
                                     "change.", current_version=current["version"])
        return current

    @staticmethod
    def _load(repository, complaint_id: str) -> dict:
        complaint = repository.get(complaint_id)
        if complaint is None:
            raise NotFound("No complaint with that number.")
        return complaint

