"""The web portal's frame (services/portal): security headers, CSRF, sessions, escaping, language,
formatting, and a service's refusal or absence as plain sentences - against stand-in services
over real HTTP (tests/portal_stub.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from services.portal.app import create
from services.portal.config import PortalConfig
from services.portal.sessions import MemorySessionStore, key_of
from shared import dates
from shared.config import ConfigError
from tests.portal_stub import CODE

TRANSLATIONS = Path(__file__).resolve().parents[2] / "services/portal/translations"


def portal(stub, **env):
    config = PortalConfig.from_env({**stub.urls(), "PORTAL_SECRET_KEY": "test-secret", **env})
    store = MemorySessionStore()
    app = create(config, store, configure_logging=False)
    return app, store


@pytest.fixture
def web(stub):
    app, store = portal(stub)
    client = app.test_client()
    client.store = store
    return client


def csrf_of(client, path="/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sid(client) -> str:
    return client.get_cookie("__Host-portal_session").value


def sign_in_by_code(client, phone="01712345678"):
    token = csrf_of(client)
    assert client.post("/sign-in/phone", data={"phone": phone, "csrf_token": token}).status_code == 302
    return client.post("/sign-in/code", data={"code": CODE, "csrf_token": token})


# -- security by default --------------------------------------------------------------------------

def test_every_page_carries_the_security_headers(web):
    for path in ("/", "/sign-in", "/agencies?q=al", "/guide/claims/death_grant", "/countries", "/no-such-page"):
        response = web.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_form_posted_without_its_csrf_token_is_refused_with_a_page(web, stub):
    web.get("/sign-in")
    before = len(stub.requests)
    response = web.post("/sign-in/phone", data={"phone": "01712345678"})
    assert response.status_code == 400
    assert "ফর্মটি গ্রহণ করা যায়নি" in response.get_data(as_text=True)
    assert len(stub.requests) == before  # nothing reached identity
    forged = web.post("/sign-in/phone", data={"phone": "01712345678", "csrf_token": "made-up"})
    assert forged.status_code == 400
    assert web.post("/sign-out").status_code == 400


def test_the_session_cookie_is_opaque_httponly_secure_and_samesite(stub):
    app, store = portal(stub)  # PORTAL_COOKIE_SECURE defaults to true
    client = app.test_client()
    header = client.get("/sign-in").headers["Set-Cookie"]
    assert "Domain" not in header and "Path=/" in header  # __Host-: this host only
    cookie = client.get_cookie("__Host-portal_session")
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert key_of(cookie.value) in store.rows and cookie.value not in store.rows  # stored by its hash


def test_tokens_stay_server_side_never_in_the_cookie_or_a_url(web, stub):
    csrf_of(web)
    before_id = sid(web)
    response = sign_in_by_code(web)
    assert response.status_code == 302 and response.headers["Location"] == "/me/timeline"
    after_id = sid(web)
    assert after_id != before_id and key_of(before_id) not in web.store.rows  # a new id at sign-in
    data, _ = web.store.rows[key_of(after_id)]
    access = data["auth"]["access_token"]
    assert access not in after_id and "eyJ" not in after_id
    page = web.get("/me/timeline").get_data(as_text=True)
    assert access not in page and data["auth"]["refresh_token"] not in page
    timeline_calls = [r for r in stub.requests if "/timeline" in r["path"]]
    assert timeline_calls[-1]["authorization"] == f"Bearer {access}"
    assert not any(access in r["path"] for r in stub.requests)


def test_sign_out_revokes_at_identity_and_forgets_the_session(web, stub):
    sign_in_by_code(web)
    session_id = sid(web)
    refresh = web.store.rows[key_of(session_id)][0]["auth"]["refresh_token"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/me/timeline").get_data(as_text=True)).group(1)
    response = web.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302 and stub.signed_out[-1] == refresh
    assert key_of(session_id) not in web.store.rows
    assert web.get("/me/timeline").status_code == 302  # back to sign in


def test_an_access_token_about_to_expire_is_refreshed_with_the_refresh_token(web, stub):
    stub.access_ttl = 30  # inside the minute the portal refreshes ahead
    try:
        sign_in_by_code(web)
        first = web.store.rows[key_of(sid(web))][0]["auth"]["access_token"]
        assert web.get("/me/timeline").status_code == 200
    finally:
        stub.access_ttl = 900
    assert any(r["path"].startswith("/api/v1/tokens/refresh") for r in stub.requests)
    now = web.store.rows[key_of(sid(web))][0]["auth"]["access_token"]
    timeline_calls = [r for r in stub.requests if "/timeline" in r["path"]]
    assert now != first and timeline_calls[-1]["authorization"] == f"Bearer {now}"


def test_what_people_typed_and_what_services_hold_is_escaped(web):
    typed = web.get("/agencies?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in typed and "&lt;script&gt;alert(1)&lt;/script&gt;" in typed
    listed = web.get("/language/en?next=/agencies").headers["Location"]
    page = web.get(listed + "?q=quick").get_data(as_text=True)
    assert "Quick Visa Ltd &lt;b&gt;" in page
    topic = web.get("/guide/passport").get_data(as_text=True)
    assert 'href="https://www.epassport.gov.bd"' in topic and "javascript:" not in topic


def test_missions_abroad_with_their_labour_wing_or_whom_to_ask(web):
    html = web.get("/countries").get_data(as_text=True)
    assert "বাংলাদেশ দূতাবাস, রিয়াদ" in html and 'href="tel:+966112345678"' in html
    assert "শ্রম উইংয়ের ফোন এখনো দেওয়া হয়নি" in html
    home = web.get("/").get_data(as_text=True)
    assert "বিভূঁই" in home and "ঠিকানা যাচাই চলছে" in home  # a link with no address yet: its name, no link


def test_no_page_links_outside_except_the_official_sites_a_service_names(web):
    for path in ("/", "/sign-in", "/guide/claims/death_grant", "/agencies?q=rl"):
        html = web.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html.replace('href="https://www.bmet.gov.bd"', "")), path


def test_the_stylesheet_and_the_bangla_font_are_served_by_the_portal(web):
    css = web.get("/static/portal.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    fonts = re.findall(r"url\(([^)]+)\)", css.get_data(as_text=True))
    assert len(fonts) == 2 and all(not f.startswith(("http", "//")) for f in fonts)
    for font in fonts:
        served = web.get(f"/static/{font}")
        assert served.status_code == 200 and served.mimetype == "font/woff2"
        assert served.data[:4] == b"wOF2" and len(served.data) < 60 * 1024
        assert "max-age=31536000" in served.headers["Cache-Control"]


# -- language and formatting ---------------------------------------------------------------------

def test_bangla_by_default_and_a_switch_to_english_kept_in_a_cookie(web):
    home = web.get("/").get_data(as_text=True)
    assert '<html lang="bn">' in home and "কোন কোন কাগজ লাগবে" in home
    switched = web.get("/language/en?next=/agencies")
    assert switched.status_code == 302 and switched.headers["Location"] == "/agencies"
    cookie = web.get_cookie("lang")
    assert cookie.value == "en" and cookie.http_only
    english = web.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Which papers do you need" in english
    web.get("/language/bn")
    assert '<html lang="bn">' in web.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"])
def test_the_language_switch_goes_back_only_to_this_site(web, target):
    assert web.get("/language/en", query_string={"next": target}).headers["Location"] == "/"


def test_numbers_taka_and_dates_per_language():
    assert dates.grouped(300000, "en") == "3,00,000" and dates.grouped(300000, "bn") == "৩,০০,০০০"
    assert dates.grouped(12345678, "en") == "1,23,45,678" and dates.grouped(999, "bn") == "৯৯৯"
    assert dates.grouped(-1500, "en") == "-1,500"
    assert dates.format_taka(35000, "en") == "Tk 35,000" and dates.format_taka(35000, "bn") == "৩৫,০০০ টাকা"
    assert dates.format_date("2026-11-28", "bn") == "২৮ নভেম্বর ২০২৬"


def test_the_claim_guide_reads_the_catalogue_in_the_persons_language(web):
    bn = web.get("/guide/claims/death_grant").get_data(as_text=True)
    assert "মৃত্যু সনদ" in bn and "ওয়ারিশ সনদ" in bn  # document names from the documents service
    assert "৩,০০,০০০ টাকা" in bn and "৩৬৫ দিনের মধ্যে" in bn
    web.get("/language/en")
    en = web.get("/guide/claims/death_grant").get_data(as_text=True)
    assert "Death certificate" in en and "Tk 3,00,000" in en and "within 365 days" in en
    assert web.get("/guide/claims/no_such_type").status_code == 404


def test_the_compiled_catalogues_match_their_po_files():
    for lang in ("bn", "en"):
        folder = TRANSLATIONS / lang / "LC_MESSAGES"
        with open(folder / "messages.po", "rb") as po, open(folder / "messages.mo", "rb") as mo:
            source, compiled = read_po(po), read_mo(mo)
        wanted = {m.id: m.string for m in source if m.id and m.string and not m.fuzzy}
        assert {m.id: m.string for m in compiled if m.id} == wanted, f"run pybabel compile -d {TRANSLATIONS}"
    with open(TRANSLATIONS / "bn/LC_MESSAGES/messages.po", "rb") as po:
        assert [m.id for m in read_po(po) if m.id and not m.string] == []  # every sentence has its Bangla


# -- a service's refusal or absence ------------------------------------------------------------------

def test_a_refused_field_gets_a_sentence_beside_it_in_the_persons_language(web):
    token = csrf_of(web)
    response = web.post("/sign-in/phone", data={"phone": "12345", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-phone">বাংলাদেশের একটি মোবাইল নম্বর লিখুন' in html and 'aria-invalid="true"' in html
    assert "Not a Bangladesh mobile number" not in html  # the service's own English stays out
    web.get("/language/en")
    html = web.post("/sign-in/phone", data={"phone": "12345", "csrf_token": token}).get_data(as_text=True)
    assert "Enter a Bangladesh mobile number, for example 01712345678." in html


def test_too_many_tries_says_when_to_come_back(web):
    token = csrf_of(web)
    html = web.post("/sign-in/phone", data={"phone": "01700000429", "csrf_token": token}).get_data(as_text=True)
    assert "১০ মিনিট পরে আবার চেষ্টা করুন" in html


def test_a_wrong_code_is_a_sentence_and_the_person_stays_signed_out(web):
    token = csrf_of(web)
    web.post("/sign-in/phone", data={"phone": "01712345678", "csrf_token": token})
    response = web.post("/sign-in/code", data={"code": "000000", "csrf_token": token})
    assert response.status_code == 422 and "কোডটি ভুল বা মেয়াদ শেষ" in response.get_data(as_text=True)
    assert web.get("/me/timeline").status_code == 302


def test_a_service_away_is_a_polite_page_or_a_note_never_a_trace(web, stub):
    stub.down.update({"/api/v1/claim-types", "/api/v1/migrants/PB-FXMK-RPFE/timeline"})
    try:
        home = web.get("/")
        assert home.status_code == 200 and "এখন পাওয়া যাচ্ছে না" in home.get_data(as_text=True)
        assert "পাসপোর্ট" in home.get_data(as_text=True)  # the directory's part still shows
        guide = web.get("/guide/claims/death_grant")
        assert guide.status_code == 503 and "কিছুই বদলানো হয়নি" in guide.get_data(as_text=True)
        sign_in_by_code(web)
        timeline = web.get("/me/timeline")
        assert timeline.status_code == 503 and "Traceback" not in timeline.get_data(as_text=True)
    finally:
        stub.down.clear()


def test_an_unreachable_service_is_the_same_polite_page(stub):
    app, _ = portal(stub, CLAIMS_URL="http://127.0.0.1:9", PORTAL_CONNECT_TIMEOUT="0.5")
    response = app.test_client().get("/guide/claims/death_grant")
    assert response.status_code == 503 and "Traceback" not in response.get_data(as_text=True)


# -- pages of the person signed in ------------------------------------------------------------------

def test_a_migrant_sees_their_timeline_and_next_steps_in_bangla(web):
    sign_in_by_code(web)
    html = web.get("/me/timeline").get_data(as_text=True)
    assert "টাকা পাঠানো হয়েছে" in html and "৩,০০,০০০ টাকা" in html and "এরপর যা হবে" in html
    assert "ওয়ারিশ সনদ" in html  # a missing paper by its name, not its code
    assert "&lt;b&gt;আবেদন&lt;/b&gt;" in html  # the service's text is escaped too


def test_a_migrant_cannot_open_another_migrants_case_by_editing_the_url(web):
    sign_in_by_code(web)
    assert web.get("/cases/CLM-2026-R6HA9MGP").status_code == 200
    refused = web.get("/cases/CLM-2026-ZZZZZZZZ")
    assert refused.status_code == 403 and "অনুমতি নেই" in refused.get_data(as_text=True)


def test_pages_for_the_signed_in_send_others_to_sign_in_and_back(web):
    response = web.get("/me/timeline")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")
    web.get(response.headers["Location"])
    assert sign_in_by_code(web).headers["Location"] == "/me/timeline"


def test_staff_with_a_temporary_password_choose_their_own(web):
    token = csrf_of(web, "/sign-in/staff")
    first = web.post("/sign-in/staff", data={"username": "selim.reza", "password": "temporary-pass",
                                              "csrf_token": token}).get_data(as_text=True)
    assert 'name="new_password"' in first and "অস্থায়ী" in first
    wrong = web.post("/sign-in/staff", data={"username": "selim.reza", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 422 and "ইউজারনেম বা পাসওয়ার্ড ভুল" in wrong.get_data(as_text=True)
    done = web.post("/sign-in/staff", data={"username": "selim.reza", "password": "temporary-pass", "change": "1",
                                             "new_password": "ainer-pothe-nirapod-26",
                                             "new_password_again": "ainer-pothe-nirapod-26", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/staff"


# -- settings -----------------------------------------------------------------------------------------

def test_production_needs_a_secret_key_and_secure_cookies():
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        PortalConfig.from_env({"PROBASHI_ENV": "production"})
    with pytest.raises(ConfigError, match="PORTAL_COOKIE_SECURE"):
        PortalConfig.from_env({"PROBASHI_ENV": "production", "PORTAL_SECRET_KEY": "x" * 40,
                               "PORTAL_COOKIE_SECURE": "false"})
    with pytest.raises(ConfigError, match="PORTAL_COOKIE_SECURE"):
        PortalConfig.from_env({"PORTAL_COOKIE_SECURE": "maybe"})


def test_with_the_session_database_away_the_guide_still_shows(stub):
    class AwayStore(MemorySessionStore):
        def load(self, key):
            raise ConnectionError("database away")

    config = PortalConfig.from_env({**stub.urls(), "PORTAL_SECRET_KEY": "test-secret"})
    client = create(config, AwayStore(), configure_logging=False).test_client()
    client.set_cookie("__Host-portal_session", "x" * 43)
    assert client.get("/guide/claims/death_grant").status_code == 200


def test_two_requests_needing_a_refresh_spend_the_refresh_token_once(web, stub):
    """Identity ends a sign-in whose spent refresh token comes again: the second request of a
    session takes the pair the first one got."""
    import threading as _threading
    stub.access_ttl = 30  # the pair of the sign-in needs refreshing; the next one will not
    try:
        sign_in_by_code(web)
        stub.access_ttl = 900
        before = sum(r["path"].startswith("/api/v1/tokens/refresh") for r in stub.requests)
        cookie = sid(web)
        answers = []

        def load():
            client = web.application.test_client()
            client.set_cookie("__Host-portal_session", cookie)
            answers.append(client.get("/me/timeline").status_code)

        threads = [_threading.Thread(target=load) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stub.access_ttl = 900
    assert answers == [200, 200]
    refreshes = sum(r["path"].startswith("/api/v1/tokens/refresh") for r in stub.requests) - before
    assert refreshes == 1
