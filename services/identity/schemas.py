"""What the identity API accepts and returns, as marshmallow schemas. Every schema refuses
unknown fields. Passwords are taken as sent (no trimming): a space is part of one."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf

from shared.fields import FullMatch, StrictSchema, Text
from shared.pagination import page_schema

from . import domain, passwords

USERNAME = FullMatch(r"^[a-z][a-z0-9._-]{2,39}$",
                     error="3 to 40 lower-case letters, digits, '.', '_' or '-', starting with a letter.")
ETAG = {"ETag": "the account's version, for If-Match on the next step"}


def _password(**kwargs) -> fields.String:
    return fields.String(validate=Length(min=1, max=passwords.MAX_LENGTH), **kwargs)


def _username(**kwargs) -> fields.String:
    return fields.String(validate=USERNAME, metadata={"example": "rahima.khatun"}, **kwargs)


class SignInSchema(StrictSchema):
    username = fields.String(required=True, validate=Length(min=1, max=40))
    password = _password(required=True, load_only=True)
    new_password = _password(load_only=True, metadata={
        "description": f"with a temporary password (new or reset account): the password to use from now on "
                       f"({passwords.MIN_LENGTH} characters at least, not a common one, not containing the username)"})


class RefreshSchema(StrictSchema):
    refresh_token = fields.String(required=True, validate=Length(min=1, max=200), load_only=True)


class TokenPairSchema(StrictSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, validate=OneOf(["Bearer"]))
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the access token lives"})


class PasswordChangeSchema(StrictSchema):
    current_password = _password(required=True, load_only=True)
    new_password = _password(required=True, load_only=True)


class StaffCreateSchema(StrictSchema):
    username = _username(required=True)
    full_name = Text(required=True, min_length=2, max_length=100, metadata={"example": "Rahima Khatun"})
    role = fields.String(required=True, validate=OneOf(domain.STAFF_ROLES))
    district = Text(required=True, min_length=2, max_length=40,
                    metadata={"description": "the district the person works in", "example": "Cumilla"})
    udc_centre = Text(min_length=2, max_length=80, metadata={"description": "a UDC operator's centre (only theirs)",
                                                             "example": "UDC Daudkandi"})

    OPENAPI_EXTRA = {
        "anyOf": [{"properties": {"role": {"enum": ["udc_operator"]}}, "required": ["udc_centre"]},
                  {"properties": {"role": {"enum": [r for r in domain.STAFF_ROLES if r != "udc_operator"]}},
                   "not": {"required": ["udc_centre"]}}],
        "description": "A UDC operator names their centre; nobody else has one.",
        "example": {"username": "rahima.khatun", "full_name": "Rahima Khatun", "role": "udc_operator",
                    "district": "Cumilla", "udc_centre": "UDC Daudkandi"}}

    @validates_schema
    def _centre_for_operators_only(self, data, **_):
        if data.get("role") == "udc_operator" and not data.get("udc_centre"):
            raise ValidationError("A UDC operator works at a Union Digital Centre: name it.", field_name="udc_centre")
        if data.get("role") not in (None, "udc_operator") and data.get("udc_centre"):
            raise ValidationError("Only a UDC operator works at a Union Digital Centre.", field_name="udc_centre")


class DeactivationSchema(StrictSchema):
    reason = Text(required=True, min_length=3, max_length=500, multiline=True)


class ActorSchema(StrictSchema):
    user = fields.String(required=True)
    role = fields.String(required=True)
    udc_centre = fields.String()


class StaffSchema(StrictSchema):
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    district = fields.String(required=True)
    udc_centre = fields.String(allow_none=True)
    status = fields.String(required=True, validate=OneOf([domain.ACTIVE, domain.DEACTIVATED]))
    must_change_password = fields.Boolean(required=True)
    failed_attempts = fields.Integer(required=True)
    lock_count = fields.Integer(required=True)
    locked_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.Nested(ActorSchema, required=True)
    updated_at = fields.DateTime(required=True)
    last_signed_in_at = fields.DateTime(allow_none=True)
    password_changed_at = fields.DateTime(required=True)
    deactivated_at = fields.DateTime()
    deactivated_because = fields.String()
    version = fields.Integer(required=True)


class StaffWithPasswordSchema(StaffSchema):
    temporary_password = fields.String(required=True, metadata={
        "description": "shown once: hand it to the person; it must be changed at their first sign-in"})
    temporary_password_expires_at = fields.DateTime(required=True, metadata={
        "description": "after this the temporary password signs in no more (refused like a wrong one); "
                       "an admin resets it again"})


StaffPageSchema = page_schema(StaffSchema)


class JwkSchema(StrictSchema):
    kty = fields.String(required=True)
    crv = fields.String(required=True)
    x = fields.String(required=True)
    kid = fields.String(required=True)
    alg = fields.String(required=True)
    use = fields.String(required=True)


class JwksSchema(StrictSchema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class OpenIdConfigurationSchema(StrictSchema):
    issuer = fields.String(required=True)
    jwks_uri = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    grant_types_supported = fields.List(fields.String(), required=True)
    id_token_signing_alg_values_supported = fields.List(fields.String(), required=True)
    token_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    claims_supported = fields.List(fields.String(), required=True)
    subject_types_supported = fields.List(fields.String(), required=True)
    response_types_supported = fields.List(fields.String(), required=True)
