"""What staff and the people notified do with notifications: staff list them (every read
audited, phones in full); a person stops or resumes them, or picks their language, for
their own phone; staff do it on a person's behalf (a UDC operator at the counter), audited.

Whose phone: a family member's token carries it (shared/access.family_phone); staff name it;
a migrant's own is the one registration gave, which `migrant_phone(reference)` looks up (the
phone the case-status facts learned from registration's events); a migrant whose phone is not
known yet is told to ask at a UDC, where an operator acts for them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared.access import family_phone
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Forbidden, NotFound
from shared.pagination import keyset_page, position_after
from shared.timers import utcnow

from .notification_repository import NotificationStore, PreferenceStore
from .service import phone_of

NOTIFICATION, PREFERENCES = "notification", "notification_preferences"  # audit subjects


class NotificationService:
    def __init__(self, uow, notifications: NotificationStore, preferences: PreferenceStore, audit: AuditTrail,
                 migrant_phone: Callable[[str], str | None] | None = None,
                 clock: Callable[[], datetime] = utcnow):
        self.uow, self.notifications, self.preferences, self.audit = uow, notifications, preferences, audit
        self.migrant_phone, self.clock = migrant_phone, clock

    def search(self, principal: Principal, filters: dict, limit: int, cursor: str | None) -> dict:
        if not principal.is_staff:
            raise Forbidden("Notifications are listed for staff.")
        filters = {("to" if k == "phone" else k): v for k, v in filters.items() if v is not None}
        found = self.notifications.page(filters, limit + 1, position_after(cursor))
        page, next_cursor = keyset_page(found, limit, "created_at")
        self.audit.record(principal, "search", NOTIFICATION, None, query=filters, found=[n["_id"] for n in page])
        return {"items": page, "next_cursor": next_cursor}

    def preferences_of(self, principal: Principal, phone: str | None) -> dict:
        phone = self._whose(principal, phone)
        if principal.is_staff:
            self.audit.record(principal, "read", PREFERENCES, phone)
        return {"phone": phone, **self._shown(self.preferences.get(phone))}

    def set_preferences(self, principal: Principal, body: dict) -> dict:
        phone = self._whose(principal, body.get("phone"))
        changes = {k: body[k] for k in ("language", "opted_out") if body.get(k) is not None}

        def set_in(tx) -> dict:
            chosen = tx.preferences.set(phone, **changes, by=principal.subject, now=self.clock())
            # The change and who made it commit together.
            AuditTrail(tx.db, tx.session).record(principal, "set_preferences", PREFERENCES, phone, **changes)
            return chosen
        return {"phone": phone, **self._shown(self.uow.run(set_in))}

    def _whose(self, principal: Principal, phone: str | None) -> str:
        if principal.is_staff and phone:
            return phone
        if principal.role == "family":
            own = phone_of(family_phone(principal))
        elif principal.role == "migrant":
            own = self.migrant_phone(principal.migrant_ref) if self.migrant_phone else None
            if own is None:
                raise NotFound("Case status does not know your phone yet: ask at a Union Digital Centre, "
                               "where an operator can change your notifications for you.")
        else:  # staff have no phone of their own here: they name whose
            own = None
        if own is None:
            raise Forbidden("Your sign-in names no phone of its own: say whose (phone).")
        if phone and phone != own:
            raise Forbidden("You may change only the notifications of the phone you signed in with.")
        return own

    @staticmethod
    def _shown(chosen: dict) -> dict:
        # A phone that chose nothing gets Bangla (notifications.plan) and every notification.
        return {"language": chosen.get("language") or "bn", "opted_out": bool(chosen.get("opted_out"))}
