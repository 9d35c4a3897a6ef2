"""Sign-in by SMS code, the use cases: ask for a code, present it (otp.py holds the rules).

Asking: every request counts against the rate limits and stores a code, for known and
unknown phones alike, and gets one answer; only a phone identity learned (projections.py)
is sent the code. The SMS goes after the commit (a transaction that runs again must not
send twice), and on a background thread: a gateway's latency would otherwise tell a known
phone from an unknown one by the time the answer takes. A failed send is logged, not
answered (only known phones can fail to send, so telling would tell which are known).

Presenting: a try counts (committed) whatever the outcome; every refusal is one answer.
A verified phone that is one migrant's own gets a `migrant` token; otherwise the cases
recording it give a `family` token naming them; otherwise nothing.
"""
from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Callable

from shared import sms as sms_port
from shared.errors import DomainError

from . import otp
log = logging.getLogger("probashi.identity.otp")

REQUESTED, VERIFIED_EVENT, FAILED_EVENT = "identity.otp.requested", "identity.otp.verified", "identity.otp.failed"
ANSWER = {"sent": True, "expires_in": int(otp.CODE_LIFETIME.total_seconds())}


class CodeRefused(DomainError):
    """Wrong, expired, spent, never sent, or a phone nobody is known by: one answer for all."""
    status, title, slug = 401, "Code not accepted", "code-not-accepted"

    def __init__(self):
        super().__init__("The code is not valid for this phone. Ask for a new code and try again.")


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, retry_after_seconds: int):
        super().__init__("Too many codes were asked for; wait before asking again.")
        self.retry_after_seconds = retry_after_seconds


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


_SENDER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sms")


def send_in_background(fn: Callable[[], None]) -> None:
    _SENDER.submit(fn)


class OtpService:
    def __init__(self, uow, sms: sms_port.Sms, issuer, *, clock: Callable[[], datetime] = _utcnow,
                 limits: otp.Limits = otp.Limits(), dispatch: Callable[[Callable[[], None]], None] = send_in_background):
        self.uow = uow
        self.sms = sms
        self.issuer = issuer  # services.identity.tokens.TokenIssuer
        self.clock = clock
        self.limits = limits
        self.dispatch = dispatch

    # -- asking for a code ---------------------------------------------------------------

    def request_code(self, phone: str, client: str, language: str = otp.DEFAULT_LANGUAGE) -> dict:
        """`phone` normalised (the schema did it); `client` the address the limits count."""
        now, request_id = self.clock(), uuid.uuid4().hex

        def run(tx):
            codes, phones = tx.otp, tx.phones
            codes.pass_gates(phone, client)
            limited = otp.rate_limited(codes.requests_since(phone, client, now - self.limits.window),
                                       phone, client, now, self.limits)
            if limited:
                return limited, None
            codes.add_request(otp.request_record(request_id, phone, client, now))
            code = otp.new_code()
            codes.add_code(otp.issued(phone, code, now, request_id))
            known = phones.known(phone)
            tx.emit(REQUESTED, subject_type="otp_code", subject_id=request_id, aggregate_version=1,
                    data={"request_id": request_id, "phone": sms_port.masked(phone), "sent": known,
                          "expires_at": (now + otp.CODE_LIFETIME).isoformat()})
            return None, code if known else None

        limited, code = self.uow.run(run)
        if limited:
            # Refused before anything was stored: a blocked client does not extend its own block.
            raise TooManyRequests(max(1, int(limited.retry_after.total_seconds() + 0.999)))
        if code:
            text = otp.message(code, language)
            self.dispatch(lambda: self._send(phone, text, request_id))
        return dict(ANSWER)

    def _send(self, phone: str, text: str, request_id: str) -> None:
        try:
            self.sms.send(phone, text)
        except Exception as exc:  # noqa: BLE001 - a background send has nobody else to tell
            log.warning("sign-in code not sent", extra={"request_id": request_id, "to": sms_port.masked(phone),
                                                          "error": str(exc)})

    # -- presenting it -------------------------------------------------------------------

    def verify(self, phone: str, code: str | None) -> dict:
        """The token pair for a right code; CodeRefused otherwise (its try still counts)."""
        now = self.clock()

        def run(tx):
            codes, phones = tx.otp, tx.phones
            record = codes.newest_code(phone)
            outcome, stored = otp.verify(record, code, now)
            if stored:
                codes.save_code(stored)
            claims = None
            if outcome == otp.VERIFIED:
                migrants = phones.migrants_of(phone)
                # A phone several migrants registered with is none of theirs to sign in as.
                claims = otp.token_claims(phone, migrants[0] if len(migrants) == 1 else None, phones.cases_of(phone))
                if claims is None:
                    outcome = otp.UNKNOWN_PHONE
            data = {"phone": sms_port.masked(phone), "request_id": record["_id"] if record else None}
            if claims is None:
                tx.emit(FAILED_EVENT, subject_type="otp_attempt", subject_id=uuid.uuid4().hex, aggregate_version=1,
                        data={**data, "reason": outcome, "tries": stored["tries"] if stored else None})
                return None
            tx.emit(VERIFIED_EVENT, subject_type="otp_attempt", subject_id=uuid.uuid4().hex, aggregate_version=1,
                    data={**data, "role": claims["role"], "migrant_ref": claims.get("migrant_ref"),
                          "cases": claims.get("cases", [])})
            return self.issuer.issue_pair(tx, **claims)

        pair = self.uow.run(run)
        if pair is None:
            raise CodeRefused()
        return pair
