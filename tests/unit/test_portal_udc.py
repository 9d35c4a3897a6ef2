"""The UDC counter's and the migrant's upload forms, apart from the browser: what the portal turns
typed values into (Bangla digits, phones, shares), the filing it builds for a death grant, the
upload size allowed only on upload forms, and the counter closed to anyone but an operator."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import MultiDict

from services.portal.pages import udc, udc_forms
from tests.unit.test_portal_frame import csrf_of, portal, sign_in_by_code



DEATH_GRANT = {"code": "death_grant", "claimants": "heirs", "event_fields": ["date", "country"]}
SCHOLARSHIP = {"code": "scholarship", "claimants": "child", "event_fields": ["exam_level", "exam_year", "gpa"],
               "name_en": "Scholarship", "name_bn": "শিক্ষাবৃত্তি"}
WORKER = {"reference": "PB-FXMK-RPFE", "district": "Cumilla"}


def heir(n: int, share: str, **extra) -> dict:
    row = {"name_en": f"Heir {n}", "name_bn": "ওয়ারিশ", "relation": "son", "nid": "১৯৯০১২৩৪৫৬",
           "phone": "০১৭১১-০০০০০১", "share": share, "payout.method": "mobile_wallet", "payout.provider": "bKash",
           "payout.account_number": "01711000001", **extra}
    return {f"heirs.{n}.{k}": v for k, v in row.items()}


@pytest.mark.parametrize("typed, stored", [("01712-345678", "+8801712345678"), ("+880 1712 345678", "+8801712345678"),
                                           ("৮৮০১৭১২৩৪৫৬৭৮", "+8801712345678"), ("12345", "12345")])
def test_phones_are_sent_as_the_services_store_them(typed, stored):
    assert udc_forms.phone(typed) == stored


def test_shares_are_fractions_in_either_script_and_never_zero():
    assert udc_forms.share("১/২") == udc_forms.share(" 1 / 2 ") == udc_forms.Fraction(1, 2)
    assert udc_forms.share("1/0") is None and udc_forms.share("0/3") is None and udc_forms.share("half") is None


def test_a_death_grant_filing_names_the_heirs_with_their_shares(stub):
    app, _ = portal(stub)
    form = MultiDict({"event.date": "২০২৬-১০-০২", "event.country": "sa", **heir(0, "১/২"), **heir(1, "1/2")})
    with app.test_request_context():
        body, errors = udc.claim_body(WORKER, DEATH_GRANT, form)
    assert errors == {}
    assert body["event"] == {"date": "2026-10-02", "country": "SA"} and body["district"] == "Cumilla"
    assert [h["share"] for h in body["heirs"]] == [{"numerator": 1, "denominator": 2}] * 2
    assert body["heirs"][0]["phone"] == "+8801711000001" and body["heirs"][0]["nid"] == "1990123456"


def test_shares_that_do_not_make_the_whole_or_cannot_be_read_are_stopped_before_the_service(stub):
    app, _ = portal(stub)
    with app.test_request_context():
        _, short = udc.claim_body(WORKER, DEATH_GRANT, MultiDict({"event.date": "2026-10-02", **heir(0, "1/2")}))
        _, unreadable = udc.claim_body(WORKER, DEATH_GRANT, MultiDict({**heir(0, "half")}))
        _, nobody = udc.claim_body(WORKER, DEATH_GRANT, MultiDict({"event.date": "2026-10-02"}))
    assert short["form"] and not short["fields"]
    assert "heirs.0.share" in unreadable["fields"]
    assert nobody["form"]


def test_only_the_upload_forms_take_a_photos_size(stub):
    app, _ = portal(stub)
    web = app.test_client()
    assert sign_in_by_code(web).status_code == 302
    token = csrf_of(web, "/me/timeline")
    photo = b"\xff\xd8\xff" + b"0" * (300 * 1024)
    before = len(stub.requests)
    sent = web.post("/cases/CLM-2026-R6HA9MGP/papers", content_type="multipart/form-data",
                    data={"csrf_token": token, "doc_type": "passport_copy", "file": (io.BytesIO(photo), "passport.jpg")})
    assert sent.status_code != 413
    forwarded = [r for r in stub.requests[before:] if r["path"].startswith("/api/v1/documents")]
    assert forwarded and forwarded[0]["method"] == "POST" and forwarded[0]["authorization"].startswith("Bearer ")
    too_big = web.post("/sign-in/phone", data={"csrf_token": token, "phone": "0" * (300 * 1024)})
    assert too_big.status_code == 413


def test_the_counter_is_for_operators_only(stub):
    app, _ = portal(stub)
    web = app.test_client()
    assert web.get("/udc/migrants/new").status_code == 302  # to sign in first
    sign_in_by_code(web)
    assert web.get("/udc/migrants/new").status_code == 403
    token = csrf_of(web, "/me/timeline")
    assert web.post("/udc/migrants/new", data={"csrf_token": token, "name_en": "X"}).status_code == 403


class FakeBackend:
    """One backend behind the portal's own port (backends.Backend): answers by (method, path)."""

    def __init__(self, answers: dict):
        self.answers, self.calls, self.bodies = answers, [], []

    def call(self, method, path, token=None, **kwargs):
        self.calls.append((method, path))
        answer = self.answers[(method, path)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, path, token=None, params=None):
        return self.call("GET", path.split("?")[0], token)

    def post(self, path, body, token=None):
        self.bodies.append(body)
        return self.call("POST", path, token, json=body)


def test_a_filing_the_service_cannot_place_yet_says_the_registration_is_on_its_way(stub, monkeypatch):
    """Claims learns of a registration by an event a moment after it: its 404 then is not 'not found'."""
    from services.portal.backends import BackendError
    from tests import portal_stub

    monkeypatch.setitem(portal_stub.STAFF, "rahima.khatun", ("counter-pass-2026", "udc_operator"))
    app, _ = portal(stub)
    migrant = {"reference": "PB-FXMK-RPFE", "name_en": "Abdul Karim", "name_bn": "আব্দুল করিম", "district": "Cumilla"}
    claims = FakeBackend({("GET", "/claim-types"): {"types": [DEATH_GRANT | {"name_en": "Death grant",
                                                                           "name_bn": "মৃত্যুজনিত আর্থিক অনুদান"}]},
                          ("POST", "/claims"): BackendError("claims", 404, {"detail": "No registered migrant"})})
    backends = app.config["BACKENDS"]
    monkeypatch.setitem(backends._all, "claims", claims)
    monkeypatch.setitem(backends._all, "registration", FakeBackend({
        ("GET", "/migrants/PB-FXMK-RPFE"): migrant,
        ("GET", "/districts"): {"items": [{"name": "Cumilla", "name_bn": "কুমিল্লা"}]}}))
    web = app.test_client()
    token = csrf_of(web, "/sign-in/staff")
    assert web.post("/sign-in/staff", data={"username": "rahima.khatun", "password": "counter-pass-2026",
                                            "csrf_token": token}).status_code == 302
    page = web.post("/udc/migrants/PB-FXMK-RPFE/claims/new", data={
        "csrf_token": token, "type": "death_grant", "event.date": "2026-10-02", "event.country": "SA",
        **heir(0, "1/1")})
    assert page.status_code == 422
    assert "এক মিনিট পরে আবার চেষ্টা করুন" in page.get_data(as_text=True)
    assert ("POST", "/claims") in claims.calls


# -- a scholarship, a complaint against a sub-agent or an employer abroad -----------------------------

def test_a_scholarship_filing_names_the_child_and_the_exam(stub):
    app, _ = portal(stub)
    form = MultiDict({"event.exam_level": "ssc", "event.exam_year": "২০২৬", "event.gpa": "৪.৫০",
                      "child.name_en": "Rina Akter", "child.name_bn": "রিনা আক্তার",
                      "child.birth_registration_number": "২০১০ ১২৩৪ ৫৬৭৮ ৯০১২৩", "child.guardian_phone": "01711-000001"})
    with app.test_request_context():
        body, errors = udc.claim_body(WORKER, SCHOLARSHIP, form)
    assert errors == {}
    assert body["event"] == {"exam_level": "ssc", "exam_year": 2026, "gpa": 4.5}
    assert body["child"] == {"name_en": "Rina Akter", "name_bn": "রিনা আক্তার",
                             "birth_registration_number": "20101234567890123", "guardian_phone": "+8801711000001"}
    assert "heirs" not in body
    with app.test_request_context():
        body, _ = udc.claim_body(WORKER, SCHOLARSHIP, MultiDict({"event.gpa": "five", "child.name_en": "Rina"}))
    assert body["event"]["gpa"] == "five" and "guardian_phone" not in body["child"]  # left for the service to refuse


def counter(stub, monkeypatch, **services):
    """The portal with a signed-in operator and these backends faked; (client, csrf token)."""
    from tests import portal_stub

    monkeypatch.setitem(portal_stub.STAFF, "rahima.khatun", ("counter-pass-2026", "udc_operator"))
    app, _ = portal(stub)
    migrant = {"reference": "PB-FXMK-RPFE", "name_en": "Abdul Karim", "name_bn": "আব্দুল করিম", "district": "Cumilla",
               "phone": "+8801712345678", "destination_country": "SA"}
    backends = app.config["BACKENDS"]
    monkeypatch.setitem(backends._all, "registration", FakeBackend({
        ("GET", "/migrants/PB-FXMK-RPFE"): migrant,
        ("GET", "/districts"): {"items": [{"name": "Cumilla", "name_bn": "কুমিল্লা"}]}}))
    for name, fake in services.items():
        monkeypatch.setitem(backends._all, name, fake)
    web = app.test_client()
    web.set_cookie("lang", "en")
    token = csrf_of(web, "/sign-in/staff")
    assert web.post("/sign-in/staff", data={"username": "rahima.khatun", "password": "counter-pass-2026",
                                            "csrf_token": token}).status_code == 302
    return web, token


def test_the_counter_files_a_scholarship_and_says_a_refused_child_field_beside_it(stub, monkeypatch):
    from services.portal.backends import BackendError

    refused = BackendError("claims", 422, {"errors": {"child": {"birth_registration_number": ["17 digits."]}}})
    claims = FakeBackend({("GET", "/claim-types"): {"types": [SCHOLARSHIP, DEATH_GRANT]},
                          ("POST", "/claims"): refused})
    web, token = counter(stub, monkeypatch, claims=claims)
    assert "claims/new?type=scholarship" in web.get("/udc/migrants/PB-FXMK-RPFE/claims/new").get_data(as_text=True)
    html = web.get("/udc/migrants/PB-FXMK-RPFE/claims/new?type=scholarship").get_data(as_text=True)
    for name in ("child.name_en", "child.name_bn", "child.birth_registration_number", "child.guardian_phone",
                 "event.exam_year", "event.gpa"):
        assert f'<label for="f-{name}">' in html and f'id="f-{name}"' in html
    assert '<select id="f-event.exam_level"' in html and 'name="heirs.0.name_en"' not in html
    page = web.post("/udc/migrants/PB-FXMK-RPFE/claims/new", data={
        "csrf_token": token, "type": "scholarship", "event.exam_level": "hsc", "event.exam_year": "2026",
        "event.gpa": "5.00", "child.name_en": "Rina", "child.name_bn": "রিনা", "child.birth_registration_number": "123"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and claims.bodies[-1]["child"]["birth_registration_number"] == "123"
    assert 'id="e-child.birth_registration_number">Enter the birth registration number: 17 digits.' in html
    claims.answers[("POST", "/claims")] = {"claim_id": "CLM-2026-SCHOLAR1"}
    done = web.post("/udc/migrants/PB-FXMK-RPFE/claims/new", data={
        "csrf_token": token, "type": "scholarship", "event.exam_level": "hsc", "event.exam_year": "2026",
        "event.gpa": "5.00", "child.name_en": "Rina", "child.name_bn": "রিনা",
        "child.birth_registration_number": "2" * 17})
    assert done.status_code == 302 and done.headers["Location"].endswith("/udc/claims/CLM-2026-SCHOLAR1/receipt")
    assert claims.bodies[-1]["event"] == {"exam_level": "hsc", "exam_year": 2026, "gpa": 5.0}


COMPLAINT = {"name": "Abdul Karim", "relation": "self", "phone": "01712345678", "category": "unpaid_wages",
             "district": "Cumilla", "amount_claimed": "৫০,০০০", "narrative": "The sub-agent took the money and vanished."}


def test_a_complaint_against_a_sub_agent_and_an_employer_abroad_names_each(stub, monkeypatch):
    from services.portal.backends import BackendError

    complaints = FakeBackend({("GET", "/complaint-categories"): {"items": [
        {"code": "unpaid_wages", "name_en": "Unpaid wages", "name_bn": "বেতন না পাওয়া"}]},
        ("POST", "/complaints"): {"complaint_id": "CMP-2026-SUBAGENT"}})
    web, token = counter(stub, monkeypatch, complaints=complaints)
    html = web.get("/udc/migrants/PB-FXMK-RPFE/complaints/new").get_data(as_text=True)
    for name in ("agency_name", "agency_licence", "sub_agent_name", "sub_agent_phone", "employer_name",
                 "employer_country"):
        assert f'<label for="f-{name}">' in html
    assert 'id="f-employer_country" name="employer_country" type="text" value="SA"' in html  # from the registration
    sent = web.post("/udc/migrants/PB-FXMK-RPFE/complaints/new", data={
        "csrf_token": token, **COMPLAINT, "sub_agent_name": "Kalam Dalal", "sub_agent_phone": "০১৮১১-২২২৩৩৩",
        "employer_name": "Gulf Star Cleaning", "employer_country": "sa", "agency_name": "", "agency_licence": ""})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/udc/complaints/CMP-2026-SUBAGENT/receipt")
    body = complaints.bodies[-1]
    assert body["respondents"] == [{"kind": "sub_agent", "name": "Kalam Dalal", "phone": "+8801811222333"},
                                   {"kind": "employer_abroad", "name": "Gulf Star Cleaning", "country": "SA"}]
    assert body["amount_claimed"] == 50000
    complaints.answers[("GET", "/complaints/CMP-2026-SUBAGENT")] = {
        "complaint_id": "CMP-2026-SUBAGENT", "receipt_number": "CP-AB12-CD34", "district": "Cumilla",
        "complainant": {"migrant_reference": "PB-FXMK-RPFE", "phone": "+8801712345678"}, "respondents": body["respondents"]}
    receipt = web.get("/udc/complaints/CMP-2026-SUBAGENT/receipt").get_data(as_text=True)
    assert "<dt>Sub-agent</dt><dd>Kalam Dalal, +8801811222333</dd>" in receipt
    assert "<dt>Employer abroad</dt><dd>Gulf Star Cleaning, SA</dd>" in receipt
    # only the country the registration filled in: no employer is named
    web.post("/udc/migrants/PB-FXMK-RPFE/complaints/new", data={
        "csrf_token": token, **COMPLAINT, "agency_name": "Al-Noor", "agency_licence": "rl-1234", "employer_country": "SA"})
    assert complaints.bodies[-1]["respondents"] == [{"kind": "recruiting_agency", "name": "Al-Noor", "licence": "RL-1234"}]

    complaints.answers[("POST", "/complaints")] = BackendError("complaints", 422, {"errors": {
        "respondents.1.phone": ["Not a Bangladesh mobile number (e.g. 01712345678)."]}})
    page = web.post("/udc/migrants/PB-FXMK-RPFE/complaints/new", data={
        "csrf_token": token, **COMPLAINT, "agency_name": "Al-Noor", "agency_licence": "RL-1234",
        "sub_agent_name": "Kalam", "sub_agent_phone": "12"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="e-sub_agent_phone">Enter a Bangladesh mobile number' in html
    assert 'value="Kalam"' in html
    complaints.answers[("POST", "/complaints")] = BackendError("complaints", 422, {"errors": {
        "respondents": ["Name at least one respondent: the agency, a sub-agent or the employer."]}})
    page = web.post("/udc/migrants/PB-FXMK-RPFE/complaints/new", data={"csrf_token": token, **COMPLAINT})
    assert complaints.bodies[-1]["respondents"] == []
    assert "Say whom the complaint is against" in page.get_data(as_text=True)


def test_a_complaint_receipt_says_what_to_bring_and_where_to_turn_from_the_guide(stub, monkeypatch):
    complaint = {"complaint_id": "CMP-2026-GUIDE001", "receipt_number": "CP-AB12-CD34", "district": "Cumilla",
                 "complainant": {"migrant_reference": "PB-FXMK-RPFE", "phone": "+8801712345678"}, "respondents": []}
    web, _ = counter(stub, monkeypatch, complaints=FakeBackend({("GET", "/complaints/CMP-2026-GUIDE001"): complaint}))
    stub.reset_guide()
    stub.topics["complaint"].update(documents=[{"bn": "চাকরির চুক্তিপত্র", "en": "Job contract"}],
                                    where_to_go=[{"bn": "প্রবাস বন্ধু কল সেন্টার", "en": "Probash Bondhu call centre"}])
    try:
        receipt = web.get("/udc/complaints/CMP-2026-GUIDE001/receipt").get_data(as_text=True)
        assert "<li>Job contract</li>" in receipt and "<li>Probash Bondhu call centre</li>" in receipt
        assert "Last checked: 20 November 2026" in receipt and "DEMO), Cumilla" in receipt
        assert "the contract, the visa, receipts" not in receipt  # the fixed words only without the guide
        web.set_cookie("lang", "bn")
        receipt = web.get("/udc/complaints/CMP-2026-GUIDE001/receipt").get_data(as_text=True)
        assert "<li>চাকরির চুক্তিপত্র</li>" in receipt and "<li>প্রবাস বন্ধু কল সেন্টার</li>" in receipt
        assert "জনশক্তি অফিসে (কুমিল্লা)" in receipt  # the district in Bangla, as registration names it
        web.set_cookie("lang", "en")
        stub.down.add("/api/v1/guide/topics/complaint")  # the directory away: the receipt still prints
        receipt = web.get("/udc/complaints/CMP-2026-GUIDE001/receipt")
        assert receipt.status_code == 200 and "the contract, the visa, receipts" in receipt.get_data(as_text=True)
    finally:
        stub.down.clear()
        stub.reset_guide()
