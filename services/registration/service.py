"""The registration service layer: one method per use case, over small ports.

Ports: `uow.run(fn)` runs `fn(tx)` in one transaction where `tx.migrants`,
`tx.history`, `tx.audit` and `tx.emit` are bound to it; `reads` answers queries outside
any transaction; `audit.record` keeps who looked up or read what.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

from shared.access import acting_for, acting_on, check_owner
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from shared.etags import expected_version
from shared.history import history_page
from shared.pagination import keyset_page, position_after

from . import domain
from .repository import DuplicateIdentity
from .validation import is_valid_reference, new_reference, normalise_reference

_DATE_FIELDS = ("date_of_birth",)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def view(migrant: dict) -> dict:
    """The stored record as the API shows it: dates as dates, absent optionals as null."""
    out = {k: v for k, v in migrant.items() if k != "_id"}
    for name in domain.OPTIONAL_FIELDS:
        out.setdefault(name, None)
    for name in _DATE_FIELDS:
        out[name] = date.fromisoformat(out[name])
    for step in (out.get("pre_departure_steps") or {}).values():
        step["date"] = date.fromisoformat(step["date"]) if isinstance(step["date"], str) else step["date"]
    membership = out.get("wewb_membership")
    if membership and isinstance(membership["valid_until"], str):
        out["wewb_membership"] = {**membership, "valid_until": date.fromisoformat(membership["valid_until"])}
    return out


class RegistrationService:
    def __init__(self, uow, reads, history_reads, audit, *, clock: Callable[[], datetime] = _utcnow,
                 make_reference: Callable[[], str] = new_reference):
        self.uow = uow
        self.reads = reads
        self.history_reads = history_reads
        self.audit = audit
        self.clock = clock
        self.make_reference = make_reference

    # -- commands --------------------------------------------------------------
    def register(self, principal: Principal, details: dict) -> dict:
        details = dict(details)
        actor = acting_for(principal, details.pop("udc_centre", None), "registering this person")

        for _ in range(5):  # a clash of random references is rare; draw again
            now = self.clock()
            migrant = domain.new_migrant(details, reference=self.make_reference(), actor=actor, now=now)

            def register_in(tx):
                tx.migrants.add(migrant)
                self._publish(tx, domain.REGISTERED, migrant, domain.event_data(migrant))
            try:
                self.uow.run(register_in)
                return view(migrant)
            except DuplicateIdentity as dup:
                if dup.field in ("_id", "reference"):
                    continue
                raise self._duplicate(principal, dup,
                                      "is already registered as {existing}; continue with that record") from None
        raise Conflict("Could not allocate a reference number; try again.")

    def update(self, principal: Principal, reference: str, changes: dict, if_match: str | None) -> dict:
        expected = expected_version(if_match, "record")
        changes = dict(changes)
        person_present = changes.pop("person_present", False)

        def update_in(tx):
            current = self._load(tx.migrants, reference)
            actor = acting_on(principal, domain.centres_serving(current), person_present=person_present)
            if current["version"] != expected:
                raise PreconditionFailed("The record changed since you read it; fetch it again and reapply your change.",
                                         current_version=current["version"])
            updated, changed = domain.apply_update(current, changes, now=self.clock())
            if changed:
                updated = domain.note_assisted(updated, actor)
                tx.migrants.replace(updated, expected)
                self._audit_presence(tx, principal, actor, "update", updated, changed=changed)
                self._publish(tx, domain.UPDATED, updated, domain.update_event_data(updated, changed, actor))
            return updated

        try:
            return view(self.uow.run(update_in))
        except DuplicateIdentity as dup:
            raise self._duplicate(principal, dup, "belongs to another registration ({existing})") from None

    def record_step(self, principal: Principal, reference: str, step: dict) -> dict:
        step = dict(step)
        person_present = step.pop("person_present", False)

        def record_in(tx):
            current = self._load(tx.migrants, reference)
            actor = acting_on(principal, domain.centres_serving(current), person_present=person_present)
            updated = domain.record_step(current, step=step["step"], when=step["date"], reference=step["reference"],
                                         note=step.get("note"), actor=actor, now=self.clock())
            updated = domain.note_assisted(updated, actor)
            tx.migrants.replace(updated, current["version"])
            self._audit_presence(tx, principal, actor, "record_step", updated, step=step["step"])
            self._publish(tx, domain.STEP_RECORDED, updated, domain.step_event_data(updated, step["step"], actor))
            return updated
        return view(self.uow.run(record_in))

    def activate_membership(self, principal: Principal, reference: str, membership: dict) -> dict:
        def activate_in(tx):
            current = self._load(tx.migrants, reference)
            actor = acting_on(principal, domain.centres_serving(current))
            updated = domain.activate_membership(current, number=membership["number"],
                                                 valid_until=membership["valid_until"],
                                                 actor=actor, now=self.clock())
            tx.migrants.replace(updated, current["version"])
            self._publish(tx, domain.MEMBERSHIP_ACTIVATED, updated, domain.membership_event_data(updated, actor))
            return updated
        return view(self.uow.run(activate_in))

    # -- queries ---------------------------------------------------------------
    def get(self, principal: Principal, reference: str) -> dict:
        reference = self._check_access(principal, reference)
        migrant = self._load(self.reads, reference)
        if principal.is_staff:
            self.audit.record(principal, "read", domain.SUBJECT, reference)
        return view(migrant)

    def search(self, principal: Principal, filters: dict, limit: int, cursor: str | None) -> dict:
        if not principal.is_staff:
            raise Forbidden("Only staff search the registry.")
        filters = {("_id" if k == "reference" else k): v for k, v in filters.items() if v is not None}
        page, next_cursor = keyset_page(self.reads.search(filters, limit + 1, position_after(cursor)), limit,
                                        "created_at")
        # The search itself is on record, found or not (a miss still tells who looked for what);
        # each record shown is a read in that record's own trail.
        self.audit.record(principal, "search", domain.SUBJECT, None, query=filters,
                          found=[migrant["_id"] for migrant in page])
        for migrant in page:
            self.audit.record(principal, "read", domain.SUBJECT, migrant["_id"], via="search", query=filters)
        return {"items": [view(m) for m in page], "next_cursor": next_cursor}

    def history(self, principal: Principal, reference: str, limit: int, cursor: str | None) -> dict:
        reference = self._check_access(principal, reference)
        self._load(self.reads, reference)
        if principal.is_staff:
            self.audit.record(principal, "read_history", domain.SUBJECT, reference)
        return history_page(self.history_reads, reference, limit, cursor)

    # -- helpers -----------------------------------------------------------------
    @staticmethod
    def _publish(tx, event_type: str, migrant: dict, data: dict) -> None:
        """Raise the event and write the migrant's history line in the same transaction,
        so the history is there as soon as the change is (no trip through the broker)."""
        event = tx.emit(event_type, subject_type=domain.SUBJECT, subject_id=migrant["_id"],
                        aggregate_version=migrant["version"], data=data)
        tx.history.add(domain.history_entry(event))

    @staticmethod
    def _audit_presence(tx, principal: Principal, actor: dict, action: str, migrant: dict, **details) -> None:
        """An operator let in only because the person was present: on record with the change."""
        if actor.get("person_present"):
            tx.audit.record(principal, action, domain.SUBJECT, migrant["_id"], person_present=True,
                            udc_centre=actor["udc_centre"], **details)

    def _duplicate(self, principal: Principal, dup: DuplicateIdentity, says: str) -> Conflict:
        """The 409 naming the registration that holds an identity number: a lookup by that
        number, so it is audited before it is answered."""
        existing = self.reads.find_by(dup.field, dup.value)
        reference = existing["reference"] if existing else None
        if existing:
            self.audit.record(principal, "lookup", domain.SUBJECT, reference, via="duplicate",
                              query={dup.field: dup.value})
        what = dup.field.replace("_", " ")
        return Conflict(f"This {what} " + says.format(existing=reference or "another migrant") + ".",
                        field=dup.field, existing_reference=reference)

    @staticmethod
    def _check_access(principal: Principal, reference: str) -> str:
        if not is_valid_reference(reference):
            raise NotFound("No migrant with that reference (check the characters; it looks mistyped).")
        reference = normalise_reference(reference)
        check_owner(principal, reference, "A migrant may see only their own record.")
        return reference

    @staticmethod
    def _load(repository, reference: str) -> dict:
        migrant = repository.get(normalise_reference(reference) if is_valid_reference(reference) else reference)
        if migrant is None:
            raise NotFound("No migrant with that reference.")
        return migrant
