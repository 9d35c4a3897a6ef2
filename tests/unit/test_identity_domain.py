"""Staff accounts without I/O: the lockout rule, password strength, what events carry,
the service's settings and the signing keys' JWK."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.identity import domain, keys, passwords
from services.identity.config import IdentityConfig
from shared import contracts
from shared.events import Envelope

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
ACTOR = {"user": "admin-1", "role": "admin"}


def account(**extra):
    body = {"username": "rahima", "full_name": "Rahima Khatun", "role": "welfare_officer", "district": "Cumilla"}
    return domain.new_account({**body, **extra}, password_hash="$argon2id$...", now=NOW, actor=ACTOR)


def fail(acc, times, now=NOW):
    return [domain.record_failure(acc, now, failures_to_lock=5, first=60, cap=3600) for _ in range(times)]


def test_the_fifth_wrong_password_in_a_row_locks_for_a_minute():
    acc = account()
    assert fail(acc, 5) == [False, False, False, False, True]
    assert acc["locked_until"] == NOW + timedelta(seconds=60) and acc["failed_attempts"] == 0
    assert domain.locked(acc, NOW + timedelta(seconds=59)) and not domain.locked(acc, NOW + timedelta(seconds=60))


def test_each_lock_in_a_row_doubles_up_to_the_cap():
    assert [domain.lock_seconds(n, 60, 3600) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    acc = account()
    fail(acc, 5)
    fail(acc, 5, NOW + timedelta(minutes=2))
    assert acc["lock_count"] == 2 and acc["locked_until"] == NOW + timedelta(minutes=2, seconds=120)


def test_a_success_or_an_unlock_starts_the_count_again():
    acc = account()
    fail(acc, 5)
    domain.unlock(acc)
    assert (acc["lock_count"], acc["failed_attempts"], acc["locked_until"]) == (0, 0, None)
    fail(acc, 3)
    domain.record_success(acc, NOW)
    assert acc["failed_attempts"] == 0 and acc["last_signed_in_at"] == NOW


def test_a_new_account_must_change_its_temporary_password_and_never_shows_its_hash():
    acc = account()
    assert acc["must_change_password"] and acc["status"] == domain.ACTIVE and acc["version"] == 1
    assert "password_hash" not in domain.view(acc) and "_id" not in domain.view(acc)


@pytest.mark.parametrize("password, problem", [
    ("short-one", "at least 12"), ("Password1234", "too common"), ("aaaaaaaaaaaaaaa", "too common"),
    ("my-name-is-RAHIMA-ok", "username"), ("x" * 129, "at most 128")])
def test_a_weak_password_is_refused_with_the_reason(password, problem):
    assert any(problem in text for text in passwords.weaknesses(password, "rahima"))


def test_a_strong_password_passes_and_a_temporary_one_is_long_and_random():
    assert passwords.weaknesses("amar-notun-pasword-2026", "rahima") == []
    first, second = passwords.temporary_password(), passwords.temporary_password()
    assert len(first) >= 20 and first != second


def test_argon2id_hashes_verify_and_a_hash_with_older_parameters_is_rehashed():
    cheap = passwords.Passwords(IdentityConfig(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1))
    stored = cheap.hash("amar-notun-pasword-2026")
    assert stored.startswith("$argon2id$")
    assert cheap.verify(stored, "amar-notun-pasword-2026") and not cheap.verify(stored, "another-password-26")
    assert not cheap.verify(None, "anything") and not cheap.verify("not a hash", "anything")
    stronger = passwords.Passwords(IdentityConfig(argon2_time_cost=2, argon2_memory_kib=16, argon2_parallelism=1))
    assert stronger.needs_rehash(stored) and not cheap.needs_rehash(stored)


def test_every_staff_event_fits_its_contract_and_carries_no_secret():
    acc = account(role="udc_operator", udc_centre="UDC Daudkandi")
    for event_type in domain.STAFF_EVENTS:
        extra = {"reason": "wrong_password"} if event_type == domain.SIGN_IN_FAILED else {"by": ACTOR}
        data = domain.event_data(acc, **extra)
        contracts.check(Envelope.new(type=event_type, source="identity", subject_type=domain.SUBJECT,
                                     subject_id="rahima", aggregate_version=1, data=data))
        assert "password_hash" not in data
    with pytest.raises(contracts.ContractViolation):
        contracts.check(Envelope.new(type=domain.SIGNED_IN, source="identity", subject_type=domain.SUBJECT,
                                     subject_id="rahima", aggregate_version=1,
                                     data={**domain.event_data(acc), "password": "x"}))


def failure(subject_type=domain.SUBJECT, subject_id="rahima", **data):
    return Envelope.new(type=domain.SIGN_IN_FAILED, source="identity", subject_type=subject_type,
                        subject_id=subject_id, aggregate_version=1, data=data)


@pytest.mark.parametrize("reason", ["locked", "deactivated", "temporary_password_expired", "wrong_password"])
def test_a_failed_sign_in_of_an_account_names_it_and_why(reason):
    contracts.check(failure(**domain.event_data(account(), reason=reason)))
    with pytest.raises(contracts.ContractViolation, match="reason"):
        contracts.check(failure(**domain.event_data(account())))  # a failure says why
    with pytest.raises(contracts.ContractViolation, match="username"):
        contracts.check(failure(reason=reason))  # a known account is named


def test_a_failed_sign_in_of_an_unknown_username_names_nobody():
    contracts.check(failure(domain.UNKNOWN_SUBJECT, "3f2a", reason="unknown_account"))
    with pytest.raises(contracts.ContractViolation, match="username"):
        contracts.check(failure(domain.UNKNOWN_SUBJECT, "3f2a", reason="unknown_account", username="nobody"))
    with pytest.raises(contracts.ContractViolation, match="reason"):
        contracts.check(failure(**domain.event_data(account(), reason="bad_luck")))


def test_a_temporary_password_expires_after_the_hours_set_and_a_chosen_one_never():
    acc = account()
    assert domain.temporary_password_expires_at(acc, 72) == NOW + timedelta(hours=72)
    assert not domain.temporary_password_expired(acc, NOW + timedelta(hours=71, minutes=59), 72)
    assert domain.temporary_password_expired(acc, NOW + timedelta(hours=72), 72)
    assert domain.temporary_password_expired(acc, NOW + timedelta(hours=2), 1)
    acc["must_change_password"] = False
    assert domain.temporary_password_expires_at(acc, 72) is None
    assert not domain.temporary_password_expired(acc, NOW + timedelta(days=365), 72)


def test_settings_are_read_and_a_bad_value_stops_start_up():
    config = IdentityConfig.from_env({"IDENTITY_ACCESS_TTL_SECONDS": "600", "IDENTITY_LOCKOUT_FAILURES": "3",
                                      "IDENTITY_PUBLIC_URL": "https://id.example.org/"})
    assert (config.access_ttl_seconds, config.lockout_failures, config.public_url) == (
        600, 3, "https://id.example.org")
    assert IdentityConfig.from_env({}).access_ttl_seconds == 900
    assert IdentityConfig.from_env({}).temporary_password_hours == 72
    assert IdentityConfig.from_env({"IDENTITY_TEMPORARY_PASSWORD_HOURS": "24"}).temporary_password_hours == 24
    with pytest.raises(ValueError, match="IDENTITY_TEMPORARY_PASSWORD_HOURS"):
        IdentityConfig.from_env({"IDENTITY_TEMPORARY_PASSWORD_HOURS": "0"})
    with pytest.raises(ValueError, match="IDENTITY_LOCKOUT_SECONDS"):
        IdentityConfig.from_env({"IDENTITY_LOCKOUT_SECONDS": "soon"})
    with pytest.raises(ValueError, match="IDENTITY_LOCKOUT_MAX_SECONDS"):
        IdentityConfig.from_env({"IDENTITY_LOCKOUT_SECONDS": "600", "IDENTITY_LOCKOUT_MAX_SECONDS": "60"})


def test_a_new_key_is_ed25519_named_by_its_thumbprint_and_never_a_dev_key():
    key = keys.new_key(keys.NEXT, NOW)
    jwk = key["public_jwk"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key["kid"] == jwk["kid"] and not key["kid"].startswith("dev-")
    assert "d" not in jwk and key["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert keys.new_key(keys.NEXT, NOW)["kid"] != key["kid"]
