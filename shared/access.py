"""Who may act on whose records: the rules every service applies the same way.

- A migrant sees and changes only what belongs to their own reference.
- A UDC operator acts on someone's behalf at a Union Digital Centre, and that centre is
  recorded with what they do; nobody else names a centre.
- The UDC rule: an operator acts on the people their centre serves - registered or
  assisted there - or on a person who is with them at the centre, which they say
  explicitly (`person_present`) and which is then recorded with the change, in the
  audit trail and in the event. Officers and admins are not bound to a centre.
- A family member (a death-grant heir, a complainant who is not the worker) reads the
  claims and complaints their token names, and nothing else; they change nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from shared.auth import Principal
from shared.errors import Forbidden, Invalid


def check_owner(principal: Principal, owner: str, detail: str = "A migrant may see only their own records.") -> None:
    """A migrant's token reaches only records of the migrant it names; staff reach any; a
    family member's reaches no migrant's records (their cases are read by may_read_case)."""
    if principal.role == "family":
        raise Forbidden("A family member's sign-in reads only the claims and complaints it names.")
    if principal.role == "migrant" and principal.migrant_ref != owner:
        raise Forbidden(detail)


def may_read_case(principal: Principal, case_id: str, owner: str) -> bool:
    """Whether `principal` may read the claim or complaint `case_id` of the migrant `owner`:
    a family member the cases their token names, a migrant their own, staff any (a service
    adds its own limits, such as confidential complaints). Answer a refusal as not found."""
    if principal.role == "family":
        return case_id in principal.cases
    if principal.role == "migrant":
        return principal.migrant_ref == owner
    return principal.is_staff


def family_phone(principal: Principal) -> str | None:
    """The phone a family member signed in with: identity names them `family:<phone>`
    (services/identity/otp.py token_claims). None for any other principal or subject."""
    if principal.role != "family" or not principal.subject.startswith(FAMILY_SUBJECT_PREFIX):
        return None
    return principal.subject[len(FAMILY_SUBJECT_PREFIX):] or None


FAMILY_SUBJECT_PREFIX = "family:"


def check_may_act(principal: Principal) -> None:
    """A family member's sign-in is for reading their cases; every change is someone else's."""
    if principal.role == "family":
        raise Forbidden("A family member's sign-in reads the cases it names; it changes nothing.")


def named_cases(principal: Principal, prefix: str) -> list[str]:
    """The ids of one kind of case (`CLM-`, `CMP-`) the principal's token names, once each."""
    return list(dict.fromkeys(case for case in principal.cases if case.startswith(prefix)))


def named_cases_page(principal: Principal, prefix: str, get: Callable[[str], dict | None],
                     keep: Callable[[dict], bool], after: list | None, limit: int) -> list[dict]:
    """A family member's list: the named cases that exist (`get` answers None for the others)
    and that `keep` passes, newest first by (created_at, _id) as every list pages, after the
    keyset position `after`, at most `limit`. A token names a handful of cases, so they are
    read one by one rather than searched."""
    found = [row for row in map(get, named_cases(principal, prefix)) if row is not None and keep(row)]
    found.sort(key=_position, reverse=True)
    if after:
        found = [row for row in found if _position(row) < (after[0], after[1])]
    return found[:limit]


def _position(row: dict) -> tuple[datetime, str]:
    return row["created_at"], row["_id"]


def acting_for(principal: Principal, centre: str | None, doing: str) -> dict:
    """The actor to record for `principal`: a UDC operator's centre comes from their token
    or, when it names none, the request. `doing` completes 'Say which Union Digital Centre is ...'."""
    actor = principal.as_actor()
    if principal.role == "udc_operator":
        if centre and principal.udc_centre and centre != principal.udc_centre:
            # The UDC rule trusts the centre things were done at: it is the signed one.
            raise Forbidden(f"Your sign-in is for {principal.udc_centre}; you act for that centre only.")
        centre = centre or principal.udc_centre
        if not centre:
            raise Invalid({"udc_centre": [f"Say which Union Digital Centre is {doing}."]})
        actor["udc_centre"] = centre
    elif centre:
        raise Invalid({"udc_centre": ["Only a UDC operator acts on behalf of someone at a centre."]})
    return actor


def acting_on(principal: Principal, served_by: Collection[str], *, person_present: bool = False) -> dict:
    """The UDC rule for a write to someone's records. `served_by` are the centres that
    registered or assisted them. Returns the actor to record: for an operator let in only
    by the person being present, marked `person_present` (record it in audit and event)."""
    actor = principal.as_actor()
    if principal.role != "udc_operator":
        return actor
    centre = principal.udc_centre  # from the signed token: a request cannot pick its centre here
    if not centre:
        raise Forbidden("Your sign-in names no Union Digital Centre, so you cannot change anyone's records; "
                        "ask for an operator account with your centre.")
    if centre in served_by:
        return actor
    if person_present:
        return {**actor, "person_present": True}
    raise Forbidden(f"{centre} did not register or assist this person. A UDC operator changes the records of "
                    "people their centre serves; if the person is with you at the centre, say so "
                    "(person_present: true) and it is recorded.")
