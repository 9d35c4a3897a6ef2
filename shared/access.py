"""Who may act on whose records: the rules every service applies the same way.

- A migrant sees and changes only what belongs to their own reference.
- A UDC operator acts on someone's behalf at a Union Digital Centre, and that centre is
  recorded with what they do; nobody else names a centre.
"""
from __future__ import annotations

from shared.auth import Principal
from shared.errors import Forbidden, Invalid


def check_owner(principal: Principal, owner: str, detail: str = "A migrant may see only their own records.") -> None:
    """A migrant's token reaches only records of the migrant it names; staff reach any."""
    if principal.role == "migrant" and principal.migrant_ref != owner:
        raise Forbidden(detail)


def acting_for(principal: Principal, centre: str | None, doing: str) -> dict:
    """The actor to record for `principal`: a UDC operator's centre comes from the request
    or, failing that, their token. `doing` completes 'Say which Union Digital Centre is ...'."""
    actor = principal.as_actor()
    if principal.role == "udc_operator":
        centre = centre or principal.udc_centre
        if not centre:
            raise Invalid({"udc_centre": [f"Say which Union Digital Centre is {doing}."]})
        actor["udc_centre"] = centre
    elif centre:
        raise Invalid({"udc_centre": ["Only a UDC operator acts on behalf of someone at a centre."]})
    return actor
