"""The claims service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where `tx.claims`, `tx.history`,
`tx.payment_references`, `tx.migrants`, `tx.documents`, `tx.audit` and `tx.emit` are bound
to it; `reads` answers queries outside any transaction; `audit.record` keeps who read what.

Who reads (shared.access.may_read_case): staff any claim, a migrant their own, a family
member (an heir, a child's guardian) the claims their token names; to anyone else a claim
does not exist (404). Only staff reads are audited; only staff and migrants act. A family
member sees less of a claim than the migrant and staff (views.py: the other heirs by name
and share only, no notes, no officers' ids).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

from shared.access import acting_for, check_may_act, check_owner, may_read_case, named_cases_page
from shared.auth import Principal
from shared.case_ids import new_case_id
from shared.events import to_json_safe
from shared.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from shared.etags import expected_version
from shared.fields import today_in_bangladesh
from shared.history import history_page
from shared.pagination import keyset_page, position_after
from shared.redaction import family_history_line

from . import changes, domain, views
from .catalogue import Catalogue
from .config import ClaimsConfig
from .repository import DuplicateClaim, DuplicatePaymentReference

CLAIM_PREFIX = "CLM-"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_claim_id(now: datetime | None = None) -> str:
    return new_case_id(CLAIM_PREFIX, now)


_TOP_LEVEL_TIMES = ("created_at", "updated_at", "stage_since")


def view(claim: dict) -> dict:
    """The claim as the API shows it: nested records' dates and times in ISO form."""
    return {k: (v if k in _TOP_LEVEL_TIMES else to_json_safe(v)) for k, v in claim.items()
            if k not in ("_id", "unique_key")}


def view_for(principal: Principal, claim: dict) -> dict:
    """The claim as `principal` may see it: whole for staff and the migrant, narrowed for a
    family member (views.family_view: no other heir's identifiers, no notes, no officers)."""
    shown = view(claim)
    return views.family_view(shown, principal) if principal.role == "family" else shown


class ClaimsService:
    def __init__(self, uow, reads, audit, catalogue: Catalogue, config: ClaimsConfig = ClaimsConfig(), *,
                 clock: Callable[[], datetime] = _utcnow, today: Callable[[], date] = today_in_bangladesh,
                 make_id: Callable[[], str] = new_claim_id):
        self.uow, self.reads, self.audit = uow, reads, audit
        self.catalogue, self.config = catalogue, config
        self.clock, self.today, self.make_id = clock, today, make_id

    # The catalogue's versions in the database (catalogue_store.CatalogueStore, set by
    # bootstrap); without it (unit tests) the catalogue given is the one in force.
    catalogues = None

    def catalogue_in_force(self) -> Catalogue:
        return self.catalogues.in_force().catalogue if self.catalogues else self.catalogue

    # -- filing ------------------------------------------------------------------------
    def file(self, principal: Principal, filing: dict) -> dict:
        check_may_act(principal)
        filing = dict(filing)
        in_force = self.catalogues.in_force() if self.catalogues else None
        catalogue = in_force.catalogue if in_force else self.catalogue
        claim_type = catalogue.get(filing["type"])
        if claim_type is None:
            raise Invalid({"type": [f"Not a claim type of the catalogue in force; one of "
                                    f"{', '.join(catalogue.codes)}."]})
        reference = filing["migrant_reference"]
        if principal.role == "migrant":
            check_owner(principal, reference, "A migrant files claims only for themselves.")
            if not claim_type.self_service:
                raise Forbidden(f"A {claim_type.name_en.lower()} claim is filed by staff; a migrant files "
                                "only their own medical aid.")
        actor = acting_for(principal, filing.pop("udc_centre", None), "filing this claim")

        for _ in range(5):  # a clash of random ids is rare; draw again
            now = self.clock()

            def file_in(tx):
                migrant = tx.migrants.get(reference)
                if not migrant or not migrant.get("registered"):
                    raise NotFound("No registered migrant with that reference is known to the claims service.",
                                   migrant_reference=reference)
                claim = domain.new_claim(claim_type, catalogue.version, filing, claim_id=self.make_id(),
                                         migrant=migrant, documents=tx.documents.of_owner(reference), actor=actor,
                                         now=now, today=self.today())
                if in_force:  # which stored version: GET /claim-types/versions/{catalogue_number}
                    claim["catalogue_number"] = in_force.number
                # Document events write this row too (projections.document_changed): see there.
                tx.migrants.update(reference, {"last_claim_filed_at": now})
                changes.save(tx, claim, None, domain.SUBMITTED_EVENT)
                return claim
            try:
                return view(self.uow.run(file_in))
            except DuplicateClaim as dup:
                existing = self.reads.claims.holding(dup.key) if dup.key else None
                if existing is None:
                    continue  # the drawn id clashed, not the claim
                raise Conflict(f"This {claim_type.name_en.lower()} is already claimed in {existing['_id']}; "
                               "continue with that claim.", existing_claim=existing["_id"]) from None
        raise Conflict("Could not allocate a claim number; try again.")

    # -- steps (each needs If-Match) ----------------------------------------------------
    def _step(self, principal: Principal, claim_id: str, if_match: str | None, change, event_type: str,
              event_for: Callable[[dict], str] | None = None, reserve: Callable | None = None,
              extra: Callable[[dict], dict] | None = None) -> dict:
        check_may_act(principal)
        expected = expected_version(if_match, "claim")

        def step_in(tx):
            current = self._load(tx.claims, claim_id)
            if current["version"] != expected:
                raise PreconditionFailed("The claim changed since you read it; fetch it again and reapply your "
                                         "change.", current_version=current["version"])
            updated = change(current, principal.as_actor(), self.clock())
            if reserve:
                reserve(tx, updated)
            changes.save(tx, updated, expected, event_for(updated) if event_for else event_type,
                         **(extra(updated) if extra else {}))
            return updated
        return view(self.uow.run(step_in))

    def request_information(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.request_information(
            c, source=body["source"], note=body["note"], actor=a, now=now), domain.INFO_REQUESTED)

    def information_received(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.information_received(
            c, note=body.get("note"), actor=a, now=now), domain.INFO_RECEIVED)

    def approve(self, principal, claim_id, body, if_match):
        def change(claim, actor, now):
            return domain.approve(claim, amount=body.get("amount"), reason=body.get("reason"),
                                  eligibility_override=body.get("eligibility_override"), actor=actor, now=now,
                                  second_approval_above=self.config.second_approval_above)
        return self._step(principal, claim_id, if_match, change, domain.APPROVED_EVENT,
                          event_for=lambda c: domain.RECOMMENDED_EVENT if c["status"] == domain.RECOMMENDED
                          else domain.APPROVED_EVENT)

    def reject(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.reject(
            c, code=body["reason_code"], text_en=body["reason_en"], text_bn=body["reason_bn"], actor=a, now=now),
            domain.REJECTED_EVENT)

    def request_review(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.request_review(
            c, note=body["note"], actor=a, now=now), domain.REVIEW_REQUESTED_EVENT)

    def order_payment(self, principal, claim_id, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.order_payment(
            c, actor=a, now=now), domain.PAYMENT_ORDERED_EVENT)

    def record_payment(self, principal, claim_id, body, if_match):
        def reserve(tx, claim):
            tx.payment_references.add(body["reference"], claim["_id"])
        try:
            return self._step(principal, claim_id, if_match, lambda c, a, now: domain.record_payment(
                c, dict(body), actor=a, now=now), domain.PAYMENT_RECORDED,
                event_for=lambda c: domain.PAID_EVENT if c["status"] == domain.PAID else domain.PAYMENT_RECORDED,
                reserve=reserve, extra=domain.payment_data)
        except DuplicatePaymentReference:
            used = self.reads.payment_references.get(body["reference"]) or {}
            raise Conflict(f"Payment reference {body['reference']} is already recorded"
                           + (f" (claim {used['claim_id']})." if used.get("claim_id") else "."),
                           existing_claim=used.get("claim_id")) from None

    def close(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.close(
            c, note=body.get("note"), actor=a, now=now), domain.CLOSED_EVENT)

    def withdraw(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.withdraw(
            c, reason=body["reason"], actor=a, now=now), domain.WITHDRAWN_EVENT)

    def assign(self, principal, claim_id, body, if_match):
        return self._step(principal, claim_id, if_match, lambda c, a, now: domain.assign(
            c, officer=body["officer"], actor=a, now=now), domain.ASSIGNED)

    # -- queries ------------------------------------------------------------------------
    def get(self, principal: Principal, claim_id: str) -> dict:
        claim = self._load(self.reads.claims, claim_id)
        self._check_reader(principal, claim)
        if principal.is_staff:
            self.audit.record(principal, "read", domain.SUBJECT, claim_id)
        return view_for(principal, claim)

    def search(self, principal: Principal, filters: dict, limit: int, cursor: str | None) -> dict:
        filters = {k: v for k, v in filters.items() if v is not None}
        if principal.role == "migrant":
            if filters.get("migrant_reference", principal.migrant_ref) != principal.migrant_ref:
                raise Forbidden("A migrant sees only their own claims.")
            filters["migrant_reference"] = principal.migrant_ref
        if principal.role == "family":  # the claims the token names, never a search of the rest
            found = named_cases_page(principal, CLAIM_PREFIX, self.reads.claims.get,
                                     lambda claim: all(claim.get(k) == v for k, v in filters.items()),
                                     position_after(cursor), limit + 1)
        else:
            found = self.reads.claims.search(filters, limit + 1, position_after(cursor))
        page, next_cursor = keyset_page(found, limit, "created_at")
        if principal.is_staff:
            self.audit.record(principal, "search", domain.SUBJECT, None, query=filters,
                              found=[claim["_id"] for claim in page])
            for claim in page:
                self.audit.record(principal, "read", domain.SUBJECT, claim["_id"], via="search")
        return {"items": [view_for(principal, c) for c in page], "next_cursor": next_cursor}

    def history(self, principal: Principal, claim_id: str, limit: int, cursor: str | None) -> dict:
        claim = self._load(self.reads.claims, claim_id)
        self._check_reader(principal, claim)
        if principal.is_staff:
            self.audit.record(principal, "read_history", domain.SUBJECT, claim_id)
        answer = history_page(self.reads.history, claim_id, limit, cursor)
        if principal.role == "family":
            answer["items"] = [family_history_line(entry) for entry in answer["items"]]
        return answer

    # -- stage clocks and notes (clocks.py) ----------------------------------------------
    def due_queue(self, principal: Principal, filters: dict, overdue: bool | None, limit: int,
                  cursor: str | None) -> dict:
        """The officers' queue: by due date, then claim number; nothing due comes last.
        `overdue` keeps the claims whose running clock is past its due date now (or not)."""
        if not principal.is_staff:
            raise Forbidden("The queue is for staff.")
        filters = {k: v for k, v in filters.items() if v is not None}
        overdue_at = None if overdue is None else (overdue, self.clock())
        found = self.reads.due_queue.page(filters, overdue_at, limit + 1, position_after(cursor))
        page, next_cursor = keyset_page(found, limit, "due_order")
        self.audit.record(principal, "search", domain.SUBJECT, None, query={**filters, "overdue": overdue},
                          found=[claim["_id"] for claim in page])
        for claim in page:
            self.audit.record(principal, "read", domain.SUBJECT, claim["_id"], via="queue")
        return {"items": [view(c) for c in page], "next_cursor": next_cursor}

    def add_note(self, principal: Principal, claim_id: str, body: dict) -> dict:
        """A note on the claim: no If-Match (notes only add), one event and history line each."""
        check_may_act(principal)
        def note_in(tx):
            current = self._load(tx.claims, claim_id)
            updated = domain.add_note(current, text=body["text"], actor=principal.as_actor(), now=self.clock())
            tx.audit.record(principal, "add_note", domain.SUBJECT, claim_id)
            changes.save(tx, updated, current["version"], domain.NOTE_ADDED)
            return updated
        return view(self.uow.run(note_in))

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _check_reader(principal: Principal, claim: dict) -> None:
        if not may_read_case(principal, claim["_id"], claim["migrant_reference"]):
            raise NotFound("No claim with that number.")  # not even whether it exists

    @staticmethod
    def _load(repository, claim_id: str) -> dict:
        claim = repository.get(claim_id)
        if claim is None:
            raise NotFound("No claim with that number.")
        return claim

