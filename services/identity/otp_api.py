"""Sign-in by SMS code, the routes (public: whoever asks has no token yet).

    POST /otp/requests       {phone, language?}  -> 202 {"sent": true, "expires_in": 300}
    POST /otp/verifications  {phone, code}       -> the token pair, as POST /sessions answers

The first answers the same for every phone, known or not; the second refuses every wrong,
expired, spent or unknown case with one 401. Both are in otp_service.py.
"""
from __future__ import annotations

from flask import request
from marshmallow import fields
from marshmallow.validate import OneOf

from shared import spellings
from shared.fields import Normalised, StrictSchema
from shared.http.api import PUBLIC, Api, Reply
from shared.http.problems import Problem

from . import otp
from .otp_service import CodeRefused, OtpService, TooManyRequests
from .schemas import TokenPairSchema


def _phone() -> Normalised:
    return Normalised(spellings.normalise_phone, max_length=20, pattern=spellings.PHONE, required=True,
                      metadata={"description": "a Bangladesh mobile number, in any spelling registration takes",
                                "example": "01712345678"})


class OtpRequestSchema(StrictSchema):
    phone = _phone()
    language = fields.String(load_default=otp.DEFAULT_LANGUAGE, validate=OneOf(sorted(otp.MESSAGES)),
                             metadata={"description": "the language of the SMS: bn (default) or en"})


class OtpRequestedSchema(StrictSchema):
    sent = fields.Boolean(required=True, metadata={"description": "always true: the answer does not say "
                                                                  "whether the phone is known"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the code is valid"})


# Six digits, ASCII or Bangla, spaces and hyphens between them: every spelling the pattern
# admits is one the field takes (the fuzz suite holds the document to that).
CODE = spellings.spaced([spellings.repeat(spellings.ANY_DIGIT, spellings.DIGIT_GAP, "6")], "-")


def _code(text: str) -> str:
    code = otp.normalised_code(text)
    if code is None:
        raise ValueError("The code is 6 digits.")
    return code


class OtpVerificationSchema(StrictSchema):
    phone = _phone()
    code = Normalised(_code, max_length=40, required=True, pattern=CODE,
                      metadata={"description": "the 6 digits the SMS gave (Bangla digits and spaces are taken)",
                                "example": "123456"})


def client_address() -> str:
    # The address the per-client limit counts is the TCP peer. Behind a reverse proxy every
    # request comes from the proxy: a deployment there must make remote_addr the real client
    # (werkzeug's ProxyFix with the exact number of trusted proxies, or gunicorn's
    # --forwarded-allow-ips naming only the proxy), never trust X-Forwarded-For from anyone
    # else - a forged header would give each request an address of its own.
    return request.remote_addr or "unknown"


def add_routes(api: Api, service: OtpService, prefix: str = "", no_cache: dict | None = None) -> None:
    """On `api` under `prefix`; a token answer carries `no_cache` headers as POST /sessions does."""
    no_cache = no_cache or {}

    @api.route(f"{prefix}/otp/requests", "POST", roles=PUBLIC, body=OtpRequestSchema, response=OtpRequestedSchema,
               status=202, tag="sign-in",
               summary="Send a 6-digit sign-in code by SMS to a migrant's or a family member's phone "
                       "(the same answer whether or not the phone is known)",
               problems={429: "Too many codes asked for this phone or from this address; Retry-After says when"})
    def request_code(principal, body):
        try:
            answer = service.request_code(body["phone"], client_address(), body["language"])
        except TooManyRequests as exc:
            raise Problem(exc.status, exc.title, exc.detail, slug=exc.slug,
                          headers={"Retry-After": str(exc.retry_after_seconds)}) from None
        return Reply(answer, 202)

    @api.route(f"{prefix}/otp/verifications", "POST", roles=PUBLIC, body=OtpVerificationSchema, response=TokenPairSchema,
               response_headers=no_cache, tag="sign-in", summary="Exchange the code for tokens: a migrant's own phone signs in as the "
                                      "migrant, a phone recorded on claims or complaints as family of those cases",
               problems={401: "The code is wrong, expired, spent (5 tries), or for no known phone: one answer"})
    def verify_code(principal, body):
        try:
            return Reply(service.verify(body["phone"], body["code"]), 200, no_cache)
        except CodeRefused as exc:
            raise Problem(exc.status, exc.title, exc.detail, slug=exc.slug,
                          headers={"WWW-Authenticate": 'Bearer realm="probashi"'}) from None
