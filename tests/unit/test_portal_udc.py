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
        self.answers, self.calls = answers, []

    def call(self, method, path, token=None, **kwargs):
        self.calls.append((method, path))
        answer = self.answers[(method, path)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, path, token=None, params=None):
        return self.call("GET", path.split("?")[0], token)

    def post(self, path, body, token=None):
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
    monkeypatch.setitem(backends._all, "registration", FakeBackend({("GET", "/migrants/PB-FXMK-RPFE"): migrant}))
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
