"""An administrator's pages (services/portal/pages/admin.py) against identity's stand-in over
real HTTP (tests/portal_stub_admin.py): staff accounts listed by page, a new account with its
temporary password shown once, deactivation, password reset and unlock with If-Match."""
from __future__ import annotations

import re

import pytest

from tests.portal_stub_admin import ADMIN
from tests.unit.test_portal_frame import csrf_of, portal


@pytest.fixture
def web(stub):
    stub.reset_staff()
    app, store = portal(stub)
    return app.test_client()


def sign_in(client, username=ADMIN[0], password=ADMIN[1]):
    client.set_cookie("lang", "en")
    token = csrf_of(client, "/sign-in/staff")
    response = client.post("/sign-in/staff", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return token


def text(response) -> str:
    return response.get_data(as_text=True)


def version_of(client, username, step) -> str:
    html = text(client.get(f"/admin/staff/{username}"))
    return re.search(rf'/{step}"[^>]*>.*?name="version" value="(\d+)"', html, re.S).group(1)


def test_only_an_admin_opens_the_admin_pages(web):
    assert web.get("/admin/staff").headers["Location"].startswith("/sign-in")
    sign_in(web, "nasrin.akter", "kallyan-kormokorta-26")
    assert web.get("/admin/staff").status_code == 403
    assert "/admin/staff" not in text(web.get("/staff"))


def test_the_staff_page_links_an_admin_to_the_accounts(web):
    sign_in(web)
    assert 'href="/admin/staff"' in text(web.get("/staff"))


def test_accounts_are_listed_a_page_at_a_time(web, stub):
    sign_in(web)
    first = text(web.get("/admin/staff"))
    assert "farida.yasmin" in first and "kamal.hossain" in first and "nasrin.akter" not in first
    assert 'href="/admin/staff?cursor=kamal.hossain"' in first
    second = text(web.get("/admin/staff?cursor=kamal.hossain"))
    assert "moni.locked" in second and "Locked" in second and "farida.yasmin" not in second
    stale = web.get("/admin/staff?cursor=nobody.here")
    assert stale.status_code == 200 and "here is the list from the start" in text(stale)
    assert all(r["authorization"].startswith("Bearer ") for r in stub.requests if r["path"].startswith("/api/v1/staff"))


def test_a_new_account_shows_its_temporary_password_once(web, stub):
    token = sign_in(web)
    response = web.post("/admin/staff/new", data={"csrf_token": token, "username": "rahima.khatun",
                                                  "full_name": "Rahima Khatun", "role": "welfare_officer",
                                                  "district": "Cumilla", "udc_centre": ""})
    html = text(response)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert "vorsa-1-nodi-akash" in html and "shown only now" in html
    assert stub.staff_accounts["rahima.khatun"]["must_change_password"]
    assert "vorsa-1-nodi-akash" not in text(web.get("/admin/staff/rahima.khatun"))


def test_a_refused_new_account_says_what_to_fix_beside_each_field(web, stub):
    token = sign_in(web)
    bad = web.post("/admin/staff/new", data={"csrf_token": token, "username": "X", "full_name": "R",
                                             "role": "udc_operator", "district": "Cumilla"})
    html = text(bad)
    assert bad.status_code == 422
    assert 'id="e-username">A username is 3 to 40' in html and 'id="e-full_name">' in html
    assert 'value="Cumilla"' in html and "Not a valid" not in html  # what was entered stays; no service English
    no_centre = web.post("/admin/staff/new", data={"csrf_token": token, "username": "moni.two", "full_name": "Moni",
                                                   "role": "udc_operator", "district": "Cumilla"})
    assert 'id="e-udc_centre">A UDC operator needs' in text(no_centre)
    taken = web.post("/admin/staff/new", data={"csrf_token": token, "username": "kamal.hossain",
                                               "full_name": "Kamal", "role": "admin", "district": "Dhaka"})
    assert taken.status_code == 409 and "That username is taken" in text(taken)
    assert "moni.two" not in stub.staff_accounts


def test_every_form_needs_its_csrf_token(web, stub):
    sign_in(web)
    response = web.post("/admin/staff/new", data={"username": "no.token", "full_name": "No Token",
                                                  "role": "admin", "district": "Dhaka"})
    assert response.status_code == 400 and "no.token" not in stub.staff_accounts
    assert web.post("/admin/staff/kamal.hossain/unlock", data={"version": "1"}).status_code == 400


def test_unlock_sends_if_match_and_says_it_is_done(web, stub):
    token = sign_in(web)
    version = version_of(web, "moni.locked", "unlock")
    html = text(web.post("/admin/staff/moni.locked/unlock", data={"csrf_token": token, "version": version}))
    assert "The account is unlocked" in html and stub.staff_accounts["moni.locked"]["locked_until"] is None
    assert stub.requests[-1]["if_match"] == f'"{version}"'


def test_a_password_reset_shows_the_new_password_once(web, stub):
    token = sign_in(web)
    response = web.post("/admin/staff/kamal.hossain/password-reset", data={"csrf_token": token, "version": "1"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "New password for kamal.hossain" in text(response) and "vorsa-1-nodi-akash" in text(response)


def test_deactivation_needs_a_reason_and_then_nothing_more_can_be_done(web, stub):
    token = sign_in(web)
    short = web.post("/admin/staff/kamal.hossain/deactivation", data={"csrf_token": token, "version": "1",
                                                                       "reason": "x"})
    assert short.status_code == 422 and "Write the reason in 3 to 500 characters" in text(short)
    assert stub.staff_accounts["kamal.hossain"]["status"] == "active"
    done = web.post("/admin/staff/kamal.hossain/deactivation", data={"csrf_token": token, "version": "1",
                                                                      "reason": "Left the ministry"})
    assert "The account is deactivated" in text(done) and "Left the ministry" in text(done)
    assert "Reset the password</button>" not in text(done)
    again = web.post("/admin/staff/kamal.hossain/unlock", data={"csrf_token": token, "version": "2"})
    assert again.status_code == 409 and "nothing more can be done" in text(again)


def test_an_admin_cannot_deactivate_themselves(web, stub):
    token = sign_in(web)
    response = web.post(f"/admin/staff/{ADMIN[0]}/deactivation", data={"csrf_token": token, "version": "1",
                                                                       "reason": "Testing myself"})
    assert response.status_code == 409 and "another administrator can" in text(response)
    assert stub.staff_accounts[ADMIN[0]]["status"] == "active"


def test_a_stale_step_shows_the_account_as_it_is_now(web, stub):
    token = sign_in(web)
    stub.staff_accounts["kamal.hossain"].update(version=4, district="Gazipur")
    response = web.post("/admin/staff/kamal.hossain/password-reset", data={"csrf_token": token, "version": "1"})
    html = text(response)
    assert response.status_code == 412 and "changed since you opened it" in html
    assert "Gazipur" in html and 'name="version" value="4"' in html
    assert stub.staff_accounts["kamal.hossain"]["must_change_password"] is False


def test_an_unknown_account_or_step_is_a_plain_not_found(web):
    token = sign_in(web)
    assert "There is no staff account" in text(web.get("/admin/staff/nobody.here"))
    assert web.post("/admin/staff/kamal.hossain/delete", data={"csrf_token": token}).status_code == 404


def test_the_pages_read_in_bangla(web):
    sign_in(web)
    web.set_cookie("lang", "bn")
    html = text(web.get("/admin/staff/moni.locked"))
    assert "Unlock the account" not in html and "Staff account" not in html
