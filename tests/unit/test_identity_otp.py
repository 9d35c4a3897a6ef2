"""services/identity/otp.py: codes, their hashes, tries, expiry and the rate limits (no I/O)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from services.identity import otp
from shared import sms

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
PHONE = "+8801712345678"


def test_codes_are_six_digits_and_vary():
    codes = {otp.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_the_record_keeps_no_code_and_each_has_its_own_salt():
    first, second = otp.issued(PHONE, "908172", NOW, "r1"), otp.issued(PHONE, "908172", NOW, "r2")
    assert "908172" not in json.dumps(first, default=str)
    assert first["salt"] != second["salt"] and first["hash"] != second["hash"]
    assert first["expires_at"] == NOW + timedelta(minutes=5) and first["tries"] == 0


def test_the_right_code_verifies_once():
    record = otp.issued(PHONE, "123456", NOW, "r1")
    outcome, stored = otp.verify(record, "123456", NOW + timedelta(minutes=1))
    assert outcome == otp.VERIFIED and stored["spent"]
    assert otp.verify(stored, "123456", NOW + timedelta(minutes=1))[0] == otp.SPENT


def test_a_code_for_another_phone_does_not_verify():
    record = otp.issued(PHONE, "123456", NOW, "r1")
    assert otp.verify({**record, "phone": "+8801812345678"}, "123456", NOW)[0] == otp.WRONG


def test_an_expired_code_is_refused_even_when_right():
    record = otp.issued(PHONE, "123456", NOW, "r1")
    assert otp.verify(record, "123456", NOW + timedelta(minutes=5) - timedelta(seconds=1))[0] == otp.VERIFIED
    assert otp.verify(record, "123456", NOW + timedelta(minutes=5)) == (otp.EXPIRED, None)


def test_five_tries_then_the_sixth_is_refused_even_with_the_right_code():
    record = otp.issued(PHONE, "123456", NOW, "r1")
    for attempt in range(1, 6):
        outcome, record = otp.verify(record, "000000", NOW)
        assert outcome == otp.WRONG and record["tries"] == attempt
    assert record["spent"]
    assert otp.verify(record, "123456", NOW) == (otp.SPENT, None)


def test_the_fifth_try_may_still_be_right():
    record = otp.issued(PHONE, "123456", NOW, "r1")
    for _ in range(4):
        _, record = otp.verify(record, "000000", NOW)
    assert otp.verify(record, "123456", NOW)[0] == otp.VERIFIED


def test_no_record_is_no_code():
    assert otp.verify(None, "123456", NOW) == (otp.NO_CODE, None)


@pytest.mark.parametrize("typed, code", [("123456", "123456"), (" 123 456 ", "123456"), ("১২৩৪৫৬", "123456"),
                                         ("12345", None), ("1234567", None), ("12a456", None), (123456, None),
                                         ("١٢٣٤٥٦", None)])
def test_what_people_type_as_the_code(typed, code):
    assert otp.normalised_code(typed) == code


def requests(*rows):
    return [otp.request_record(f"r{i}", phone, client, at) for i, (phone, client, at) in enumerate(rows)]


def test_three_requests_per_phone_in_fifteen_minutes():
    made = requests(*[(PHONE, f"10.0.0.{i}", NOW - timedelta(minutes=10 - i)) for i in range(3)])
    limited = otp.rate_limited(made, PHONE, "10.0.0.9", NOW)
    assert limited == otp.RateLimited("phone", timedelta(minutes=5))
    assert otp.rate_limited(made, "+8801812345678", "10.0.0.9", NOW) is None
    # The oldest leaves the window: one more fits.
    assert otp.rate_limited(made, PHONE, "10.0.0.9", NOW + timedelta(minutes=5, seconds=1)) is None


def test_ten_requests_per_client_address_across_phones():
    made = requests(*[(f"+88017123456{i:02d}", "10.0.0.1", NOW - timedelta(minutes=1)) for i in range(10)])
    assert otp.rate_limited(made, "+8801999999999", "10.0.0.1", NOW).limit == "client"
    assert otp.rate_limited(made, "+8801999999999", "10.0.0.2", NOW) is None
    assert otp.rate_limited(made[:9], "+8801999999999", "10.0.0.1", NOW) is None


def test_limits_are_configurable():
    made = requests((PHONE, "c", NOW))
    assert otp.rate_limited(made, PHONE, "c", NOW, otp.Limits(per_phone=1)).limit == "phone"


def test_message_in_bangla_by_default_and_english_on_request():
    assert otp.message("482913") == "প্রবাসী কোড: 482913। ৫ মিনিট বৈধ। কাউকে জানাবেন না।"
    assert otp.message("482913", "en") == "Probashi code: 482913. Valid 5 minutes. Do not share it."
    assert otp.message("482913", "fr") == otp.message("482913")
    # Both fit one SMS: Bangla as UCS-2 (70), English as GSM-7 (160).
    assert sms.segments(otp.message("482913")) == 1 and sms.encoding_of(otp.message("482913")) == sms.UCS2
    assert sms.segments(otp.message("482913", "en")) == 1


def test_who_a_verified_phone_signs_in_as():
    assert otp.token_claims(PHONE, "PB-AAAA-BBBB", ["CL-1"]) == {
        "subject": "migrant:PB-AAAA-BBBB", "role": "migrant", "migrant_ref": "PB-AAAA-BBBB", "phone_number": PHONE}
    assert otp.token_claims(PHONE, None, ["CP-2", "CL-1"]) == {
        "subject": f"family:{PHONE}", "role": "family", "cases": ["CL-1", "CP-2"], "phone_number": PHONE}
    assert otp.token_claims(PHONE, None, []) is None
