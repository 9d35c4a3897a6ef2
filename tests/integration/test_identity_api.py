"""The identity service against the real database: staff sign-in, lockout with a growing
delay and admin unlock, deactivation, password change and admin reset, refresh tokens that
rotate and are revoked, key rotation, and events and audit records without a secret."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from services.identity import api as identity_api
from services.identity.config import IdentityConfig
from services.identity.passwords import Passwords
from shared import mongo
from shared.auth import issue_token

pytestmark = pytest.mark.integration

# Argon2id at its lowest cost: the tests check behaviour, not hashing cost.
CONFIG = IdentityConfig(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
PASSWORD = "amar-notun-pasword-2026"
NEWER = "ekebare-notun-pasword-26"


class Clock:
    """The service's clock, moved by the test: locks end and tokens expire without waiting."""

    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Desk:
    """The identity API in process, its database and its clock."""

    def __init__(self, infra, config=CONFIG):
        self.settings = infra.settings("identity")
        self.app = identity_api.create(self.settings, configure_logging=False, config=config)
        self.service = self.app.config["IDENTITY_SERVICE"]
        self.clock = Clock()
        self.service.clock = self.clock
        self.http = self.app.test_client()
        self.db = mongo.database(self.settings)

    def admin(self, if_match=None, subject="admin-1"):
        token = issue_token(self.settings, subject=subject, role="admin")
        return {"Authorization": f"Bearer {token}", **({"If-Match": if_match} if if_match else {})}

    def create(self, username="rahima", role="welfare_officer", **extra):
        body = {"username": username, "full_name": "Rahima Khatun", "role": role, "district": "Cumilla", **extra}
        answer = self.http.post("/api/v1/staff", json=body, headers=self.admin())
        assert answer.status_code == 201, answer.json
        return answer.json

    def staff(self, username="rahima", password=PASSWORD):
        """An account that signed in once and chose `password`."""
        temporary = self.create(username)["temporary_password"]
        first = self.sign_in(username, temporary, new_password=password)
        assert first.status_code == 200, first.json
        return first.json

    def sign_in(self, username, password, **extra):
        return self.http.post("/api/v1/sessions", json={"username": username, "password": password, **extra})

    def refresh(self, token):
        return self.http.post("/api/v1/tokens/refresh", json={"refresh_token": token})

    def step(self, username, rule, body=None, subject="admin-1"):
        tag = self.http.get(f"/api/v1/staff/{username}", headers=self.admin()).headers["ETag"]
        return self.http.post(f"/api/v1/staff/{username}/{rule}", json=body,
                              headers=self.admin(tag, subject=subject))

    def claims_of(self, access_token, audience="registration", **options):
        """The token's claims, verified as any service does: against identity's JWKS."""
        header = jwt.get_unverified_header(access_token)
        keys = {k["kid"]: k for k in self.http.get("/.well-known/jwks.json").json["keys"]}
        key = jwt.PyJWK(keys[header["kid"]]).key
        return jwt.decode(access_token, key, algorithms=["EdDSA"], audience=audience,
                          issuer=self.settings.jwt_issuer, options=options)

    def events(self, event_type=None):
        query = {"type": event_type} if event_type else {"type": {"$regex": "^identity\\."}}
        return [row["envelope"] for row in self.db.outbox.find(query).sort([("created_at", 1)])]

    def audit(self, action):
        return list(self.db.audit.find({"action": action}))


@pytest.fixture
def desk(infra):
    return Desk(infra)


def test_a_new_account_signs_in_once_with_its_temporary_password_to_choose_its_own(desk):
    created = desk.create("rahima")
    temporary = created["temporary_password"]
    assert created["must_change_password"] and "password_hash" not in created
    refused = desk.sign_in("rahima", temporary)
    assert refused.status_code == 403 and refused.json["type"].endswith("password-change-required")
    weak = desk.sign_in("rahima", temporary, new_password="password1234")
    assert weak.status_code == 422 and "new_password" in weak.json["errors"]
    with_name = desk.sign_in("rahima", temporary, new_password="rahima-and-a-long-tail")
    assert with_name.status_code == 422
    signed = desk.sign_in("rahima", temporary, new_password=PASSWORD)
    assert signed.status_code == 200, signed.json
    assert signed.json["token_type"] == "Bearer" and signed.json["expires_in"] == 900
    assert signed.headers["Cache-Control"] == "no-store"
    claims = desk.claims_of(signed.json["access_token"])
    assert claims["sub"] == "rahima" and claims["role"] == "welfare_officer" and claims["district"] == "Cumilla"
    assert claims["exp"] - claims["iat"] == 900 and "identity" in claims["aud"] and claims["jti"]
    assert desk.sign_in("rahima", temporary).status_code == 401  # the temporary one is gone
    again = desk.sign_in("rahima", PASSWORD)
    assert again.status_code == 200
    assert desk.http.get("/api/v1/staff/rahima", headers=desk.admin()).json["must_change_password"] is False


def test_a_udc_operator_carries_their_centre_and_only_they_have_one(desk):
    missing = desk.http.post("/api/v1/staff", json={"username": "karim", "full_name": "Karim Mia",
                                                    "role": "udc_operator", "district": "Cumilla"},
                             headers=desk.admin())
    assert missing.status_code == 422 and "udc_centre" in missing.json["errors"]
    temporary = desk.create("karim", role="udc_operator", udc_centre="UDC Daudkandi")["temporary_password"]
    signed = desk.sign_in("karim", temporary, new_password=PASSWORD).json
    assert desk.claims_of(signed["access_token"])["udc_centre"] == "UDC Daudkandi"
    officer = desk.http.post("/api/v1/staff", json={"username": "selim", "full_name": "Selim Reza",
                                                    "role": "welfare_officer", "district": "Cumilla",
                                                    "udc_centre": "UDC Daudkandi"}, headers=desk.admin())
    assert officer.status_code == 422
    taken = desk.http.post("/api/v1/staff", json={"username": "karim", "full_name": "Another Karim",
                                                  "role": "legal_aid", "district": "Dhaka"}, headers=desk.admin())
    assert taken.status_code == 409
    assert desk.db.staff.count_documents({}) == 1


def test_wrong_passwords_lock_the_account_for_longer_each_time_until_an_admin_unlocks_it(desk):
    desk.staff("rahima")
    for _ in range(4):
        assert desk.sign_in("rahima", "not-the-password-at-all").status_code == 401
    locked = desk.sign_in("rahima", "not-the-password-at-all")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "60"
    # Locked: even the right password is refused, and not checked.
    assert desk.sign_in("rahima", PASSWORD).status_code == 429
    desk.clock.advance(seconds=61)
    for _ in range(4):
        assert desk.sign_in("rahima", "still-not-the-password").status_code == 401
    second = desk.sign_in("rahima", "still-not-the-password")
    assert second.status_code == 429 and second.headers["Retry-After"] == "120"  # the delay doubles
    account = desk.http.get("/api/v1/staff/rahima", headers=desk.admin()).json
    assert account["lock_count"] == 2 and account["locked_until"]
    assert desk.step("rahima", "unlock").status_code == 200
    assert desk.sign_in("rahima", PASSWORD).status_code == 200
    locks = desk.events("identity.staff.locked")
    assert [e["data"]["lock_count"] for e in locks] == [1, 2]
    # Five wrong passwords, the right one while locked, five wrong ones more.
    assert [e["data"]["reason"] for e in desk.events("identity.staff.sign_in_failed")] == \
        ["wrong_password"] * 5 + ["locked"] + ["wrong_password"] * 5
    assert len(desk.events("identity.staff.unlocked")) == 1
    assert [a["details"]["reason"] for a in desk.audit("sign_in_failed")].count("locked") == 1


def test_an_unlocked_account_starts_its_delays_again_and_a_success_clears_the_count(desk):
    desk.staff("rahima")
    for _ in range(4):
        desk.sign_in("rahima", "wrong-password-here")
    assert desk.sign_in("rahima", PASSWORD).status_code == 200
    for _ in range(4):
        assert desk.sign_in("rahima", "wrong-password-here").status_code == 401  # the count started again
    assert desk.sign_in("rahima", "wrong-password-here").headers["Retry-After"] == "60"


def test_an_unknown_username_is_refused_like_a_wrong_password_and_audited_without_the_name(desk):
    desk.staff("rahima")
    unknown = desk.sign_in("nobody", PASSWORD)
    wrong = desk.sign_in("rahima", "wrong-password-here")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json["detail"] == wrong.json["detail"]
    record = [a for a in desk.audit("sign_in_failed") if a["details"]["reason"] == "unknown_account"]
    assert len(record) == 1 and "nobody" not in json.dumps(record[0], default=str)


def test_a_sign_in_on_a_locked_account_is_published_and_leaves_the_lock_as_it_was(desk):
    desk.staff("rahima")
    for _ in range(5):
        desk.sign_in("rahima", "not-the-password-at-all")
    before = desk.http.get("/api/v1/staff/rahima", headers=desk.admin())
    for password in (PASSWORD, "not-the-password-at-all", "guess-number-three"):
        assert desk.sign_in("rahima", password).status_code == 429
    after = desk.http.get("/api/v1/staff/rahima", headers=desk.admin())
    assert after.json == before.json and after.headers["ETag"] == before.headers["ETag"]  # no longer lock, no new version
    failed = [e for e in desk.events("identity.staff.sign_in_failed") if e["data"]["reason"] == "locked"]
    assert len(failed) == 3
    assert {(e["subject"]["id"], e["aggregate_version"]) for e in failed} == {("rahima", before.json["version"])}
    assert failed[0]["data"]["locked_until"] and failed[0]["data"]["username"] == "rahima"
    assert desk.step("rahima", "unlock").status_code == 200  # the admin's ETag is still good


def test_an_unknown_username_is_published_under_an_attempt_of_its_own_naming_nobody(desk):
    desk.staff("rahima")
    desk.sign_in("nobody.here", "my-secret-phrase-26")
    desk.sign_in("nobody.here", "my-secret-phrase-26")
    failed = desk.events("identity.staff.sign_in_failed")
    assert [e["data"] for e in failed] == [{"reason": "unknown_account"}] * 2
    assert {e["subject"]["type"] for e in failed} == {"unknown_account"}
    assert len({e["subject"]["id"] for e in failed}) == 2  # one attempt each, never one growing aggregate
    everything = json.dumps([failed, desk.audit("sign_in_failed")], default=str)
    assert "nobody.here" not in everything and "my-secret-phrase-26" not in everything
    assert {a["subject_id"] for a in desk.audit("sign_in_failed")} == {e["subject"]["id"] for e in failed}


def test_a_temporary_password_expires_and_is_then_refused_like_a_wrong_one(desk):
    created = desk.create("rahima")
    set_at = datetime.fromisoformat(created["password_changed_at"])
    assert datetime.fromisoformat(created["temporary_password_expires_at"]) == set_at + timedelta(hours=72)
    desk.clock.advance(hours=72)
    expired = desk.sign_in("rahima", created["temporary_password"], new_password=PASSWORD)
    wrong = desk.sign_in("rahima", "not-the-password-at-all", new_password=PASSWORD)
    assert expired.status_code == wrong.status_code == 401 and expired.json["detail"] == wrong.json["detail"]
    assert desk.sign_in("rahima", created["temporary_password"]).status_code == 401  # not 403: says nothing more
    failed = [e["data"]["reason"] for e in desk.events("identity.staff.sign_in_failed")]
    assert failed == ["temporary_password_expired", "wrong_password", "temporary_password_expired"]
    assert [a["details"]["reason"] for a in desk.audit("sign_in_failed")].count("temporary_password_expired") == 2
    account = desk.http.get("/api/v1/staff/rahima", headers=desk.admin()).json
    assert account["must_change_password"] and account["failed_attempts"] == 1  # only the wrong one counted

    reset = desk.step("rahima", "password-reset")  # an admin hands over a new one, good for 72 hours more
    assert reset.status_code == 200
    desk.clock.advance(hours=71)
    assert desk.sign_in("rahima", reset.json["temporary_password"], new_password=PASSWORD).status_code == 200
    desk.clock.advance(hours=100)
    assert desk.sign_in("rahima", PASSWORD).status_code == 200  # a chosen password does not expire


def test_the_temporary_passwords_lifetime_is_configurable(infra):
    desk = Desk(infra, replace(CONFIG, temporary_password_hours=1))
    created = desk.create("rahima")
    desk.clock.advance(minutes=61)
    assert desk.sign_in("rahima", created["temporary_password"], new_password=PASSWORD).status_code == 401


def test_a_deactivated_account_cannot_sign_in_and_its_refresh_tokens_are_revoked(desk):
    pair = desk.staff("rahima")
    assert desk.step("rahima", "deactivation", {}).status_code == 422
    done = desk.step("rahima", "deactivation", {"reason": "Left the ministry"})
    assert done.status_code == 200 and done.json["status"] == "deactivated"
    assert desk.sign_in("rahima", PASSWORD).status_code == 401
    assert desk.refresh(pair["refresh_token"]).status_code == 401
    assert desk.step("rahima", "unlock").status_code == 409
    assert len(desk.events("identity.staff.deactivated")) == 1
    failed = desk.events("identity.staff.sign_in_failed")
    assert [(e["data"]["reason"], e["data"]["status"], e["aggregate_version"]) for e in failed] == [
        ("deactivated", "deactivated", done.json["version"])]
    assert desk.http.get("/api/v1/staff/rahima", headers=desk.admin()).json["version"] == done.json["version"]


def test_an_admin_cannot_deactivate_themselves_and_a_step_needs_a_fresh_if_match(desk):
    desk.staff("boss")
    assert desk.step("boss", "deactivation", {"reason": "By mistake"}, subject="boss").status_code == 409
    missing = desk.http.post("/api/v1/staff/boss/unlock", headers=desk.admin())
    assert missing.status_code == 428
    stale = desk.http.post("/api/v1/staff/boss/unlock", headers=desk.admin('"1"'))
    assert stale.status_code == 412


def test_a_password_change_needs_the_current_one_and_ends_every_session(desk):
    pair = desk.staff("rahima")
    me = {"Authorization": f"Bearer {issue_token(desk.settings, subject='rahima', role='welfare_officer')}"}
    wrong = desk.http.post("/api/v1/me/password", json={"current_password": "not-the-password",
                                                        "new_password": NEWER}, headers=me)
    assert wrong.status_code == 403
    weak = desk.http.post("/api/v1/me/password", json={"current_password": PASSWORD,
                                                       "new_password": "short"}, headers=me)
    assert weak.status_code == 422
    done = desk.http.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEWER},
                          headers=me)
    assert done.status_code == 204
    assert desk.refresh(pair["refresh_token"]).status_code == 401
    assert desk.sign_in("rahima", PASSWORD).status_code == 401
    assert desk.sign_in("rahima", NEWER).status_code == 200


def test_an_admin_reset_gives_a_temporary_password_that_must_be_changed(desk):
    pair = desk.staff("rahima")
    reset = desk.step("rahima", "password-reset")
    assert reset.status_code == 200 and reset.json["must_change_password"]
    temporary = reset.json["temporary_password"]
    assert desk.refresh(pair["refresh_token"]).status_code == 401
    assert desk.sign_in("rahima", PASSWORD).status_code == 401
    assert desk.sign_in("rahima", temporary).status_code == 403
    assert desk.sign_in("rahima", temporary, new_password=NEWER).status_code == 200
    assert len(desk.events("identity.staff.password_reset")) == 1


def test_a_refresh_token_rotates_and_a_spent_one_presented_again_revokes_its_family(desk):
    first = desk.staff("rahima")
    second = desk.refresh(first["refresh_token"])
    assert second.status_code == 200 and second.json["refresh_token"] != first["refresh_token"]
    assert desk.claims_of(second.json["access_token"])["sub"] == "rahima"
    third = desk.refresh(second.json["refresh_token"])
    assert third.status_code == 200
    # The first one again: a copy is in use somewhere, so the whole sign-in ends.
    assert desk.refresh(first["refresh_token"]).status_code == 401
    assert desk.refresh(third.json["refresh_token"]).status_code == 401
    assert len(desk.audit("refresh_token_reused")) == 1
    # Another sign-in is another family: untouched.
    other = desk.sign_in("rahima", PASSWORD).json
    assert desk.refresh(other["refresh_token"]).status_code == 200
    stored = desk.db.refresh_tokens.find_one({})
    assert first["refresh_token"] not in json.dumps(stored, default=str)  # only its hash is kept


def test_a_signed_out_refresh_token_is_refused(desk):
    pair = desk.staff("rahima")
    assert desk.http.post("/api/v1/sessions/sign-out", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert desk.refresh(pair["refresh_token"]).status_code == 401
    assert desk.http.post("/api/v1/sessions/sign-out", json={"refresh_token": "never-issued"}).status_code == 204


def test_an_expired_refresh_token_is_refused(desk):
    pair = desk.staff("rahima")
    desk.clock.advance(days=15)
    assert desk.refresh(pair["refresh_token"]).status_code == 401


def test_an_access_token_expires_after_fifteen_minutes(desk):
    pair = desk.staff("rahima")
    claims = desk.claims_of(pair["access_token"])
    assert claims["exp"] == claims["iat"] + 900
    desk.clock.advance(minutes=-20)  # issued twenty minutes ago
    old = desk.sign_in("rahima", PASSWORD).json["access_token"]
    with pytest.raises(jwt.ExpiredSignatureError):
        desk.claims_of(old)


def test_the_jwks_publishes_the_next_key_before_it_signs_and_the_old_one_until_its_tokens_expire(desk):
    before = desk.staff("rahima")["access_token"]
    published = {k["kid"] for k in desk.http.get("/.well-known/jwks.json").json["keys"]}
    assert len(published) == 2  # active and next
    old_kid = jwt.get_unverified_header(before)["kid"]
    rotated = desk.service.rotate_keys()
    assert rotated["retiring"] == [old_kid] and rotated["active"] in published
    after = desk.sign_in("rahima", PASSWORD).json["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == rotated["active"]
    now = {k["kid"] for k in desk.http.get("/.well-known/jwks.json").json["keys"]}
    assert len(now) == 3 and old_kid in now
    # Both verify: the token signed before the rotation until it expires.
    assert desk.claims_of(before)["sub"] == desk.claims_of(after)["sub"] == "rahima"
    assert desk.service.retire_keys() == []  # its tokens may still be alive
    desk.clock.advance(minutes=20)
    assert desk.service.retire_keys() == [old_kid]
    assert old_kid not in {k["kid"] for k in desk.http.get("/.well-known/jwks.json").json["keys"]}
    assert all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"}
               for k in desk.http.get("/.well-known/jwks.json").json["keys"])


def test_the_openid_configuration_names_the_issuer_and_the_jwks(desk):
    document = desk.http.get("/.well-known/openid-configuration").json
    assert document["issuer"] == desk.settings.jwt_issuer
    assert document["jwks_uri"].endswith("/.well-known/jwks.json")


def test_events_and_audit_records_never_carry_a_password_or_token(desk):
    pair = desk.staff("rahima")
    desk.sign_in("rahima", "a-wrong-password-1")
    reset = desk.step("rahima", "password-reset").json["temporary_password"]
    desk.sign_in("rahima", reset, new_password=NEWER)
    types = [e["type"] for e in desk.events()]
    assert types[:4] == ["identity.staff.created", "identity.staff.password_changed", "identity.staff.signed_in",
                         "identity.staff.sign_in_failed"]
    assert {"identity.staff.password_reset"} <= set(types)
    dumped = json.dumps([*desk.events(), *desk.db.audit.find({}, {"_id": 0})], default=str)
    for secret in (PASSWORD, NEWER, reset, "a-wrong-password-1", pair["refresh_token"], pair["access_token"],
                   "argon2id"):
        assert secret not in dumped
    versions = [e["aggregate_version"] for e in desk.events()]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    # Each is in the audit trail too, with who did it.
    trail = [(a["action"], a["actor"]["user"]) for a in desk.db.audit.find({"subject_id": "rahima"}).sort("_id", 1)]
    assert trail[:4] == [("created", "admin-1"), ("password_changed", "rahima"), ("signed_in", "rahima"),
                         ("sign_in_failed", "rahima")]
    assert ("password_reset", "admin-1") in trail


def test_only_an_admin_administers_accounts(desk):
    officer = {"Authorization": f"Bearer {issue_token(desk.settings, subject='x', role='welfare_officer')}"}
    assert desk.http.get("/api/v1/staff", headers=officer).status_code == 403
    assert desk.http.get("/api/v1/staff").status_code == 401
    desk.create("rahima")
    desk.create("karim")
    page = desk.http.get("/api/v1/staff?limit=1", headers=desk.admin()).json
    assert [a["username"] for a in page["items"]] == ["karim"]
    rest = desk.http.get(f"/api/v1/staff?limit=1&cursor={page['next_cursor']}", headers=desk.admin()).json
    assert [a["username"] for a in rest["items"]] == ["rahima"] and rest["next_cursor"] is None


def test_a_hash_made_with_older_argon2_parameters_is_replaced_at_the_next_sign_in(desk):
    desk.staff("rahima")
    older = Passwords(IdentityConfig(argon2_time_cost=2, argon2_memory_kib=16, argon2_parallelism=1))
    desk.db.staff.update_one({"_id": "rahima"}, {"$set": {"password_hash": older.hash(PASSWORD)}})
    assert desk.sign_in("rahima", PASSWORD).status_code == 200
    stored = desk.db.staff.find_one({"_id": "rahima"})["password_hash"]
    assert "m=8,t=1,p=1" in stored and desk.service.passwords.verify(stored, PASSWORD)
