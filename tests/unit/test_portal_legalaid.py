"""Legal aid staff's portal pages (services/portal/pages/legalaid.py): the complaints queue, a
complaint taken through its steps (CSRF, If-Match, 412, 409 with the allowed steps, 422 beside
the field), restricted complaints, evidence through the portal, and the agency scorecard's
charts - against the stand-in services over real HTTP (tests/portal_stub.py)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.portal_stub_complaints import EVIDENCE_ID, OPEN_ID, SECRET_ID
from tests.unit.test_portal_frame import csrf_of, portal, sign_in_by_code

PAGE = f"/legal-aid/complaints/{OPEN_ID}"
LATER = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture
def web(stub):
    stub.reset_complaints()
    stub.steps.clear()
    app, _store = portal(stub)
    client = app.test_client()
    client.set_cookie("lang", "en")
    token = csrf_of(client, "/sign-in/staff")
    signed = client.post("/sign-in/staff", data={"username": "selim.reza", "password": "ainer-pothe-nirapod-26",
                                                 "csrf_token": token})
    assert signed.status_code == 302
    client.csrf = token
    return client


def version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def step(web, name: str, data: dict | None = None, at_version: str | None = None):
    current = at_version or version(web.get(PAGE).get_data(as_text=True))
    return web.post(f"{PAGE}/steps/{name}", data={"csrf_token": web.csrf, "version": current, **(data or {})})


def text(response) -> str:
    return response.get_data(as_text=True)


def to_a_held_hearing(web) -> None:
    for name, data in (("scrutiny", {}), ("acknowledgement", {"committee": "Ayesha Khan"}), ("notice", {}),
                       ("hearing", {"date": LATER, "venue": "Kakrail", "parties": ["complainant", "sub_agent"]}),
                       ("held", {"came": ["complainant", "sub_agent"], "minutes": "Both came."})):
        assert step(web, name, data).status_code == 302, name


# -- the queue --------------------------------------------------------------------------------------

def test_the_queue_lists_complaints_by_due_date_with_the_filters_sent_to_the_api(web, stub):
    page = web.get("/legal-aid/complaints?status=received&category=recruitment_fraud&district=Cumilla"
                   "&respondent=RL-0666&assignee=selim.reza&overdue=true&status_bogus=1")
    assert page.status_code == 200
    call = [r for r in stub.requests if r["path"].startswith("/api/v1/queue")][-1]
    for part in ("status=received", "category=recruitment_fraud", "district=Cumilla", "agency_licence=RL-0666",
                 "assignee=selim.reza", "overdue=true"):
        assert part in call["path"]
    body = text(page)
    assert OPEN_ID in body and SECRET_ID not in body  # restricted: the API leaves it out for this officer
    assert "Recruitment fraud or overcharging" in body and "Overdue" in body
    assert "cursor=page-2" in body  # the API's cursor, carried with the filters
    assert "status=received" in re.search(r'href="([^"]*cursor=page-2[^"]*)"', body).group(1)


def test_a_filter_the_api_refuses_is_a_sentence_beside_it(web):
    page = web.get("/legal-aid/complaints?respondent=nonsense")
    assert page.status_code == 422 and "A licence looks like RL-1234." in text(page)


def test_the_queue_is_for_legal_aid_and_admins_only(stub):
    app, _ = portal(stub)
    client = app.test_client()
    sign_in_by_code(client)  # a migrant
    assert client.get("/legal-aid/complaints").status_code == 403
    assert app.test_client().get("/legal-aid/complaints").status_code == 302  # not signed in: sign in first


# -- one complaint, step by step --------------------------------------------------------------------

def test_an_officer_takes_a_complaint_through_a_hearing_to_an_award_and_a_payment(web, stub):
    assert step(web, "scrutiny").status_code == 302
    assert step(web, "acknowledgement", {"committee": "Ayesha Khan\nKamal Hossain"}).status_code == 302
    assert step(web, "notice").status_code == 302
    scheduled = step(web, "hearing", {"date": LATER, "venue": "BMET, Kakrail", "parties": ["complainant",
                                                                                          "recruiting_agency"]})
    assert scheduled.status_code == 302 and scheduled.headers["Location"].endswith("#done")
    page = text(web.get(PAGE))
    assert "BMET, Kakrail" in page and "Done: Schedule a hearing." in page
    assert "Record the hearing as held" in page and "Adjourn the hearing" in page
    assert step(web, "held", {"came": ["complainant"], "minutes": "The agency did not come."}).status_code == 302
    assert stub.steps[-1][2]["attendance"] == {"complainant": True, "recruiting_agency": False}
    decided = step(web, "outcome", {"kind": "award_issued", "amount": "3,00,000".replace(",", ""),
                                    "payment_deadline": LATER, "terms": "Pay in full."})
    assert decided.status_code == 302
    assert step(web, "monitoring").status_code == 302
    paid = step(web, "payment", {"amount": "100000", "paid_on": date.today().isoformat(), "reference": "BKASH-1"})
    assert paid.status_code == 302
    page = text(web.get(PAGE))
    assert "Award issued" in page and "Tk 3,00,000" in page and "BKASH-1" in page
    assert "Tk 2,00,000 still owed" in page
    assert [rule for _id, rule, _body in stub.steps] == ["scrutiny", "acknowledgement", "notice", "hearings",
                                                        "hearings/held", "outcome", "compliance-monitoring",
                                                        "payments"]
    assert step(web, "payment", {"amount": "200000", "paid_on": date.today().isoformat()}).status_code == 302
    assert "Complied" in text(web.get(PAGE))


def test_every_step_sends_if_match_with_the_version_the_page_showed(web, stub):
    before = len(stub.requests)
    step(web, "scrutiny")
    posted = [r for r in stub.requests[before:] if r["method"] == "POST" and "/complaints/" in r["path"]]
    assert [r["if_match"] for r in posted] == ['"1"']


def test_a_stale_page_412_shows_the_complaint_as_it_is_now_and_says_why(web, stub):
    old = version(text(web.get(PAGE)))
    assert step(web, "scrutiny").status_code == 302  # a colleague, say
    stale = step(web, "withdrawal", {"reason": "The worker asked."}, at_version=old)
    assert stale.status_code == 409
    body = text(stale)
    assert "Someone else changed this complaint after you opened it" in body
    assert "In scrutiny" in body and f'name="version" value="{int(old) + 1}"' in body  # the page as it is now
    assert stub.complaints[OPEN_ID]["status"] == "scrutiny"  # nothing withdrawn


def test_an_illegal_step_409_names_the_steps_the_status_allows(web):
    refused = step(web, "notice")  # received: scrutiny first
    assert refused.status_code == 409
    body = text(refused)
    assert "This step is not possible for the complaint as it is now." in body
    assert "What it can do next: In scrutiny, Withdrawn." in body


def test_a_refused_field_is_a_sentence_beside_it_and_the_typed_values_stay(web, stub):
    for name in ("scrutiny", "acknowledgement", "notice"):
        step(web, name, {"committee": "Ayesha Khan"})
    refused = step(web, "hearing", {"date": "2020-01-01", "venue": "Kakrail <office>", "parties": ["complainant",
                                                                                                 "sub_agent"]})
    assert refused.status_code == 422
    body = text(refused)
    assert re.search(r'id="e-hearing-date">Choose a later day\.<', body)
    assert 'value="Kakrail &lt;office&gt;"' in body and 'value="sub_agent" checked' in body
    assert stub.complaints[OPEN_ID]["hearings"] == []


def test_what_cannot_be_sent_at_all_is_refused_here(web, stub):
    to_a_held_hearing(web)
    before = len(stub.requests)
    refused = step(web, "outcome", {"kind": "settled", "amount": "lots", "payment_deadline": LATER,
                                    "instalments": "soon"})
    assert refused.status_code == 422
    body = text(refused)
    assert "Enter a whole number of taka" in body and "One instalment a line" in body
    assert not any("/outcome" in r["path"] for r in stub.requests[before:])


def test_the_hearing_cap_409_asks_for_its_reason(web, stub):
    for name in ("scrutiny", "acknowledgement", "notice"):
        step(web, name, {"committee": "Ayesha Khan"})
    parties = ["complainant", "recruiting_agency"]
    step(web, "hearing", {"date": LATER, "venue": "Kakrail", "parties": parties})
    for days in (11, 12):
        later = (date.today() + timedelta(days=days)).isoformat()
        assert step(web, "adjournment", {"next_date": later, "reason": "The agency asked."}).status_code == 302
    capped = step(web, "adjournment", {"next_date": (date.today() + timedelta(days=13)).isoformat(),
                                       "reason": "Again."})
    assert capped.status_code == 409
    body = text(capped)
    assert "3 hearings were already scheduled, the most allowed (3)" in body
    assert re.search(r'id="e-adjournment-over_cap_reason">Say why another hearing is needed\.<', body)
    ok = step(web, "adjournment", {"next_date": (date.today() + timedelta(days=13)).isoformat(),
                                   "reason": "Again.", "over_cap_reason": "A witness returns from Riyadh."})
    assert ok.status_code == 302
    assert "Beyond the cap on hearings because: A witness returns from Riyadh." in text(web.get(PAGE))


def test_a_referral_is_updated_with_its_own_form(web, stub):
    to_a_held_hearing(web)
    assert step(web, "referral", {"body": "police_expatriate_help_cell",
                                  "note": "The sub-agent is in Cumilla."}).status_code == 302
    page = text(web.get(PAGE))
    assert "Police Expatriate Help Cell" in page and "Pending" in page
    declined = web.post(f"{PAGE}/referrals/1", data={"csrf_token": web.csrf, "version": version(page),
                                                    "state": "declined"})
    assert declined.status_code == 422 and "Write a note" in text(declined)  # declined needs its reason
    accepted = web.post(f"{PAGE}/referrals/1", data={"csrf_token": web.csrf, "version": version(page),
                                                    "state": "accepted"})
    assert accepted.status_code == 302 and stub.complaints[OPEN_ID]["referrals"][0]["state"] == "accepted"


def test_a_step_without_its_csrf_token_is_refused_before_any_service_hears_of_it(web, stub):
    before = len(stub.requests)
    refused = web.post(f"{PAGE}/steps/scrutiny", data={"version": "1"})
    assert refused.status_code == 400 and len(stub.requests) == before


def test_a_restricted_complaint_is_a_plain_sentence_not_a_trace(web):
    page = web.get(f"/legal-aid/complaints/{SECRET_ID}")
    assert page.status_code == 404
    assert "only the staff member it is assigned to and administrators can open it" in text(page)
    assert web.post(f"/legal-aid/complaints/{SECRET_ID}/steps/scrutiny",
                    data={"csrf_token": web.csrf, "version": "1"}).status_code == 404


# -- evidence ----------------------------------------------------------------------------------------

def test_evidence_is_served_through_the_portal_with_the_token_in_a_header(web, stub):
    response = web.get(f"{PAGE}/evidence/{EVIDENCE_ID}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/pdf" and response.headers["Content-Disposition"].startswith("inline")
    # a PDF may use only the browser's own viewer (a sandbox would block it), and nothing else
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; object-src 'self'"
    assert response.headers["Cache-Control"] == "private, no-store"
    call = [r for r in stub.requests if "/content" in r["path"]][-1]
    assert call["authorization"].startswith("Bearer ") and "token" not in call["path"].lower()
    page = text(web.get(PAGE))
    assert f"/evidence/{EVIDENCE_ID}" in page and call["authorization"].removeprefix("Bearer ") not in page


def test_evidence_is_attached_from_the_vault_and_anothers_document_is_refused(web, stub):
    refused = step(web, "evidence", {"document_id": "DOC-SOMEONE-ELSE"})
    assert refused.status_code == 422
    assert re.search(r'id="e-evidence-document_id">Enter the number of one of the complainant', text(refused))
    assert step(web, "evidence", {"document_id": "DOC-BMET-CARD"}).status_code == 302
    assert "/evidence/DOC-BMET-CARD" in text(web.get(PAGE))


def test_only_the_complaints_own_evidence_is_served(web, stub):
    before = len(stub.requests)
    assert web.get(f"{PAGE}/evidence/DOC-SOMEONE-ELSE").status_code == 404
    assert not any("/content" in r["path"] for r in stub.requests[before:])


# -- the scorecard ------------------------------------------------------------------------------------

def test_the_scorecard_draws_its_ranking_as_svg_bars_beside_a_table(web, stub):
    page = web.get("/legal-aid/scorecard?rank_by=amount_awarded&order=asc")
    assert page.status_code == 200
    body = text(page)
    assert "rank_by=amount_awarded" in [r for r in stub.requests if "/agencies/scorecard" in r["path"]][-1]["path"]
    assert "<svg" in body and '<rect x="0"' in body and 'width="100.0%"' in body
    assert "<table" in body and "Tk 9,00,000" in body and "<script" not in body and 'style="' not in body


def test_an_agencys_card_shows_its_complaints_by_category_and_money(web):
    page = web.get("/legal-aid/scorecard/RL-0666")
    body = text(page)
    assert page.status_code == 200 and body.count("<svg") == 2 and body.count('class="chart-table"') == 2
    assert "Recruitment fraud or overcharging" in body and "Tk 24,00,000" in body
    assert "none yet" not in body
    assert "none yet" in text(web.get("/legal-aid/scorecard/RL-1234"))  # no closed complaint: no median
    missing = web.get("/legal-aid/scorecard/RL-9999")
    assert missing.status_code == 404 and "No complaint or worker is known" in text(missing)


def test_the_pages_are_in_bangla_too(web):
    web.set_cookie("lang", "bn")
    for path in ("/legal-aid/complaints", PAGE, "/legal-aid/scorecard", "/legal-aid/scorecard/RL-0666"):
        body = text(web.get(path))
        assert 'lang="bn"' in body
    assert "অভিযোগের তালিকা" in text(web.get("/legal-aid/complaints"))
