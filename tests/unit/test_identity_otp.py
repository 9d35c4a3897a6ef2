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


# -- the service over in-memory ports ------------------------------------------------------

class MemoryPhoneBook:
    def __init__(self, state):
        self.state = state

    def set_migrant(self, reference, phone):
        self.state["migrants"][reference] = phone

    def set_case(self, case_id, kind, phone):
        self.state["cases"][case_id] = (kind, phone)

    def migrants_of(self, phone):
        return sorted(r for r, p in self.state["migrants"].items() if p == phone)

    def cases_of(self, phone):
        return sorted(c for c, (_, p) in self.state["cases"].items() if p == phone)

    def known(self, phone):
        return bool(self.migrants_of(phone) or self.cases_of(phone))


class MemoryOtpStore:
    def __init__(self, state):
        self.state = state

    def pass_gates(self, phone, client):
        pass

    def requests_since(self, phone, client, since):
        return [r for r in self.state["requests"] if (r["phone"] == phone or r["client"] == client) and r["at"] > since]

    def add_request(self, record):
        self.state["requests"].append(record)

    def add_code(self, record):
        self.state["codes"].append(record)

    def newest_code(self, phone):
        mine = [c for c in self.state["codes"] if c["phone"] == phone]
        return mine[-1] if mine else None

    def save_code(self, record):
        self.state["codes"] = [record if c["_id"] == record["_id"] else c for c in self.state["codes"]]


from tests.unit.fake_tx import FakeTxBase, FakeUnitOfWorkBase  # noqa: E402


class FakeTx(FakeTxBase):
    source = "identity"

    @property
    def phones(self):
        return MemoryPhoneBook(self.state)

    @property
    def otp(self):
        return MemoryOtpStore(self.state)


class FakeUow(FakeUnitOfWorkBase):
    tx_class = FakeTx


class Issuer:
    def issue_pair(self, tx, **claims):
        return {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900, "claims": claims}


class Outbox:
    def __init__(self):
        self.sent = []

    def send(self, to, text):
        self.sent.append((to, text))
        return sms.SmsResult("id", 1, sms.encoding_of(text))


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def world():
    from services.identity.otp_service import OtpService
    uow = FakeUow({"migrants": {}, "cases": {}, "requests": [], "codes": []})
    outbox, clock = Outbox(), Clock()
    service = OtpService(uow, outbox, Issuer(), clock=clock, dispatch=lambda fn: fn())
    return service, uow, outbox, clock


def code_sent(outbox):
    return outbox.sent[-1][1].split(": ")[1][:6]


def test_a_migrants_phone_gets_a_code_and_a_migrant_token(world):
    service, uow, outbox, _ = world
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    assert service.request_code(PHONE, "10.0.0.1") == {"sent": True, "expires_in": 300}
    assert outbox.sent[0][0] == PHONE and outbox.sent[0][1].startswith("প্রবাসী কোড")
    pair = service.verify(PHONE, code_sent(outbox))
    assert pair["claims"] == {"subject": "migrant:PB-AAAA-BBBB", "role": "migrant", "migrant_ref": "PB-AAAA-BBBB",
                              "phone_number": PHONE}
    assert [e.type for e in uow.outbox] == ["identity.otp.requested", "identity.otp.verified"]


def test_an_unknown_phone_gets_the_same_answer_and_no_sms(world):
    service, uow, outbox, _ = world
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    known = service.request_code(PHONE, "10.0.0.1")
    unknown = service.request_code("+8801812345678", "10.0.0.1")
    assert known == unknown and len(outbox.sent) == 1
    assert uow.outbox[-1].data["sent"] is False


def test_a_claimant_phone_gets_a_family_token_naming_its_cases(world):
    from services.identity.otp_service import CodeRefused
    service, uow, outbox, _ = world
    uow.state["cases"].update({"CL-1": ("claim", PHONE), "CP-9": ("complaint", PHONE), "CL-2": ("claim", "+8801900000000")})
    service.request_code(PHONE, "10.0.0.1", "en")
    assert outbox.sent[0][1].startswith("Probashi code: ")
    assert service.verify(PHONE, code_sent(outbox))["claims"]["cases"] == ["CL-1", "CP-9"]
    with pytest.raises(CodeRefused):  # spent
        service.verify(PHONE, code_sent(outbox))


def test_every_refusal_is_one_answer_and_its_try_counts(world):
    from services.identity.otp_service import CodeRefused
    service, uow, outbox, clock = world
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    refusals = []
    for phone in (PHONE, "+8801812345678"):  # wrong code for a known phone; an unknown phone; no code at all
        service.request_code(phone, "10.0.0.1")
        with pytest.raises(CodeRefused) as refused:
            service.verify(phone, "000000" if code_sent(outbox) != "000000" else "111111")
        refusals.append((refused.value.status, refused.value.detail))
    with pytest.raises(CodeRefused) as refused:
        service.verify("+8801900000000", "123456")
    refusals.append((refused.value.status, refused.value.detail))
    assert len(set(refusals)) == 1
    assert uow.state["codes"][0]["tries"] == 1
    assert [e.data["reason"] for e in uow.outbox if e.type == "identity.otp.failed"] == ["wrong", "wrong", "no_code"]


def test_the_right_code_for_a_phone_nobody_is_known_by_signs_in_nobody(world, monkeypatch):
    from services.identity.otp_service import CodeRefused
    service, uow, outbox, _ = world
    monkeypatch.setattr(otp, "new_code", lambda: "424242")
    service.request_code(PHONE, "10.0.0.1")
    # The code was never sent; a lucky guess finds the record and still gets nothing.
    assert outbox.sent == []
    with pytest.raises(CodeRefused):
        service.verify(PHONE, "424242")
    assert uow.outbox[-1].data["reason"] == "unknown_phone"


def test_requests_past_the_limit_are_refused_and_not_counted(world):
    from services.identity.otp_service import TooManyRequests
    service, uow, outbox, clock = world
    for _ in range(3):
        service.request_code(PHONE, "10.0.0.1")
    with pytest.raises(TooManyRequests) as limited:
        service.request_code(PHONE, "10.0.0.2")
    assert limited.value.status == 429 and limited.value.retry_after_seconds == 900
    assert len(uow.state["requests"]) == 3
    clock.now += timedelta(minutes=15, seconds=1)
    assert service.request_code(PHONE, "10.0.0.2")["sent"]


def test_a_new_code_makes_the_earlier_one_useless(world):
    from services.identity.otp_service import CodeRefused
    service, uow, outbox, _ = world
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    service.request_code(PHONE, "10.0.0.1")
    first = code_sent(outbox)
    service.request_code(PHONE, "10.0.0.1")
    if code_sent(outbox) != first:
        with pytest.raises(CodeRefused):
            service.verify(PHONE, first)
    assert service.verify(PHONE, code_sent(outbox))["claims"]["role"] == "migrant"


def test_a_phone_shared_by_two_migrants_signs_in_as_neither(world):
    from services.identity.otp_service import CodeRefused
    service, uow, outbox, _ = world
    uow.state["migrants"].update({"PB-AAAA-BBBB": PHONE, "PB-CCCC-DDDD": PHONE})
    service.request_code(PHONE, "10.0.0.1")
    with pytest.raises(CodeRefused):
        service.verify(PHONE, code_sent(outbox))


def test_a_failed_send_is_logged_and_answered_like_any_other(world, caplog):
    service, uow, outbox, _ = world

    def refuse(to, text):
        raise sms.SmsRefused(422, "blocked number")
    outbox.send = refuse
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    assert service.request_code(PHONE, "10.0.0.1") == {"sent": True, "expires_in": 300}
    assert any(r.getMessage() == "sign-in code not sent" for r in caplog.records)


def test_events_carry_no_code_and_no_whole_phone(world):
    service, uow, outbox, _ = world
    uow.state["migrants"]["PB-AAAA-BBBB"] = PHONE
    service.request_code(PHONE, "10.0.0.1")
    code = code_sent(outbox)
    from services.identity.otp_service import CodeRefused
    with pytest.raises(CodeRefused):
        service.verify(PHONE, "000000" if code != "000000" else "111111")
    service.verify(PHONE, code)
    assert [e.type for e in uow.outbox] == ["identity.otp.requested", "identity.otp.failed", "identity.otp.verified"]
    for event in uow.outbox:
        text = json.dumps(event.data)
        assert code not in text and PHONE not in text


# -- projections ---------------------------------------------------------------------------

def event(event_type, data, subject_id="S-1"):
    from shared.events import Envelope
    return Envelope.new(type=event_type, source="x", subject_type="thing", subject_id=subject_id,
                        aggregate_version=1, data=data)


def test_phones_learned_from_registration_claims_and_complaints():
    from services.identity import projections
    tx = FakeTx({"migrants": {}, "cases": {}})
    projections.migrant_phone(event("registration.migrant.registered",
                                    {"reference": "PB-AAAA-BBBB", "phone": "01712-345678"}), tx)
    projections.migrant_updated(event("registration.migrant.updated",
                                      {"reference": "PB-AAAA-BBBB", "values": {"name_en": "X"}}), tx)
    assert tx.phones.migrants_of(PHONE) == ["PB-AAAA-BBBB"]
    projections.migrant_updated(event("registration.migrant.updated",
                                      {"reference": "PB-AAAA-BBBB", "values": {"phone": "+8801812345678"}}), tx)
    assert tx.phones.migrants_of(PHONE) == [] and tx.phones.migrants_of("+8801812345678") == ["PB-AAAA-BBBB"]
    projections.claim_changed(event("claims.claim.submitted", {"case_id": "CL-1", "claimant_phone": "০১৭১২৩৪৫৬৭৮"}), tx)
    projections.complaint_changed(event("complaints.complaint.received",
                                        {"case_id": "CP-1", "complainant_phone": "8801712345678"}), tx)
    assert tx.phones.cases_of(PHONE) == ["CL-1", "CP-1"]
    # The claim's phone changes: the case moves; a complaint without a phone leaves it.
    projections.claim_changed(event("claims.claim.assigned", {"case_id": "CL-1", "claimant_phone": "01912345678"}), tx)
    projections.complaint_changed(event("complaints.complaint.assigned", {"case_id": "CP-1", "complainant_phone": None}), tx)
    assert tx.phones.cases_of(PHONE) == [] and tx.phones.cases_of("+8801912345678") == ["CL-1"]


def test_a_number_abroad_is_kept_as_none_not_refused():
    from services.identity import projections
    tx = FakeTx({"migrants": {}, "cases": {}})
    projections.migrant_phone(event("registration.migrant.snapshot",
                                    {"reference": "PB-AAAA-BBBB", "phone": "+966 50 123 4567"}), tx)
    assert tx.state["migrants"] == {"PB-AAAA-BBBB": None}
