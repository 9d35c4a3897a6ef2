"""A welfare officer's pages (services/portal/pages/officer.py) against stand-in claims and
documents services over real HTTP (tests/portal_stub.py): the queue, a claim with its checklist
and documents, the steps with If-Match, the reports as charts."""
from __future__ import annotations

import re

import pytest

from tests.portal_stub import CLAIM_ID
from tests.unit.test_portal_frame import csrf_of, portal

OFFICERS = {"nasrin.akter": "kallyan-kormokorta-26", "kamal.hossain": "dwitiyo-onumodon-26",
            "selim.reza": "ainer-pothe-nirapod-26"}
CLAIM = f"/officer/claims/{CLAIM_ID}"
IMAGE, PDF = "DOC-7KQ3M9XCA2B4", "DOC-9PLM2WQE5TZX"


@pytest.fixture
def web(stub):
    stub.reset_claims()
    app, store = portal(stub)
    return app.test_client()


def sign_in(client, username="nasrin.akter"):
    client.set_cookie("lang", "en")
    token = csrf_of(client, "/sign-in/staff")
    response = client.post("/sign-in/staff", data={"username": username, "password": OFFICERS[username],
                                                   "csrf_token": token})
    assert response.status_code == 302
    return token


def step(client, name, token, version=None, **fields):
    version = version if version is not None else re.search(r'/steps/[^"]+"[^>]*>.*?name="version" value="(\d+)"',
                                                            client.get(CLAIM).get_data(as_text=True), re.S).group(1)
    return client.post(f"{CLAIM}/steps/{name}", data={"csrf_token": token, "version": version, **fields})


def decide(client, token, document_id, decision, reason=""):
    return client.post(f"{CLAIM}/documents/{document_id}",
                       data={"csrf_token": token, "decision": decision, "version": "1", "reason": reason})


def text(response) -> str:
    return response.get_data(as_text=True)


# -- who may -------------------------------------------------------------------------------------

def test_officer_pages_need_an_officer(web):
    assert web.get("/officer/claims").headers["Location"].startswith("/sign-in")
    sign_in(web, "selim.reza")  # legal aid
    assert web.get("/officer/claims").status_code == 403
    assert web.get("/officer/reports").status_code == 403


def test_the_staff_home_links_an_officer_to_the_queue_and_reports(web):
    sign_in(web)
    page = text(web.get("/staff"))
    assert 'href="/officer/claims"' in page and 'href="/officer/reports"' in page


# -- the queue -----------------------------------------------------------------------------------

def test_the_queue_shows_overdue_claims_first_and_marks_them(web):
    sign_in(web)
    page = text(web.get("/officer/claims"))
    assert page.index("CLM-2026-OVERDUE1") < page.index(CLAIM_ID)
    row = page[page.index("CLM-2026-OVERDUE1"):page.index(CLAIM_ID)]
    assert "Overdue" in row


def test_the_queue_filters_and_pages_through_the_claims_api(web, stub):
    sign_in(web)
    page = text(web.get("/officer/claims?overdue=true&district=Tangail&status=under_review&cursor=0"))
    assert "CLM-2026-OVERDUE1" in page and CLAIM_ID not in page
    asked = [r for r in stub.requests if r["path"].startswith("/api/v1/queue")][-1]["path"]
    for part in ("overdue=true", "district=Tangail", "status=under_review", "cursor=0", "limit=25"):
        assert part in asked
    assert 'value="under_review" selected' in page  # the filters stay chosen
    assert "No claims match" in text(web.get("/officer/claims?district=Nowhere"))


def test_a_filter_the_claims_api_refuses_is_explained_not_a_crash(web, stub):
    sign_in(web)
    response = web.get("/officer/claims?overdue=maybe")  # the portal drops what the API would refuse
    assert response.status_code == 200
    assert "overdue=maybe" not in [r for r in stub.requests if r["path"].startswith("/api/v1/queue")][-1]["path"]


# -- a claim -------------------------------------------------------------------------------------

def test_a_claim_shows_eligibility_checklist_and_previews_without_a_token(web, stub):
    sign_in(web)
    page = text(web.get(CLAIM))
    assert "Welfare Fund membership active on the date of the event" in page
    assert "0 of 2 required documents verified" in page
    assert f'<img src="/officer/documents/{IMAGE}/content?version=1"' in page
    assert f'href="/officer/documents/{PDF}/content?version=1"' in page
    assert "Bearer" not in page and "eyJ" not in page
    assert "Claim filed" in page  # history


def test_why_a_condition_is_met_is_worded_from_the_services_code_in_each_language(web):
    sign_in(web)
    page = text(web.get(CLAIM))
    assert "Membership valid until 10 January 2027 (active since 10 January 2024): active on 2 October 2026." in page
    assert "Filed 49 days after the event; the limit is 365 days." in page
    assert '<span class="small">(Clearance check pending at BMET.)</span>' in page  # a code not known: as sent
    web.set_cookie("lang", "bn")
    page = text(web.get(CLAIM))
    assert "সদস্যপদ" in page and "Membership valid until" not in page
    assert "ঘটনার ৪৯ দিন পরে আবেদন" in page and "৩৬৫ দিন" in page
    assert "Filed 49 days" not in page
    assert '<span class="small" lang="en">(Clearance check pending at BMET.)</span>' in page  # marked English


def test_the_district_is_named_in_the_pages_language_and_as_spelt_while_registration_is_away(web, stub):
    sign_in(web)
    assert "<dd>Cumilla</dd>" in text(web.get(CLAIM))
    web.set_cookie("lang", "bn")
    assert "<dd>কুমিল্লা</dd>" in text(web.get(CLAIM))
    web.application.extensions.pop("portal.registration/districts")  # forget the names kept
    stub.down.add("/api/v1/districts")
    try:
        assert "<dd>Cumilla</dd>" in text(web.get(CLAIM))
    finally:
        stub.down.clear()


def test_document_content_is_passed_through_with_the_officers_token(web, stub):
    sign_in(web)
    image = web.get(f"/officer/documents/{IMAGE}/content?version=1")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert image.headers["Cache-Control"] == "private, no-store"
    assert image.headers["Content-Disposition"].startswith("inline")
    call = [r for r in stub.requests if r["path"].startswith(f"/api/v1/documents/{IMAGE}/content")][-1]
    assert call["authorization"].startswith("Bearer ") and "version=1" in call["path"]
    pdf = web.get(f"/officer/documents/{PDF}/content")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_content_of_another_kind_is_a_download_never_shown_inline(web, stub):
    stub.documents[IMAGE]["current"]["content_type"] = "text/html"
    stub.documents[IMAGE]["content"] = b"<script>alert(1)</script>"
    sign_in(web)
    response = web.get(f"/officer/documents/{IMAGE}/content")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    page = text(web.get(CLAIM))
    assert f'<img src="/officer/documents/{IMAGE}' not in page and "Open the document (HTML, version 1)" in page


def test_the_vault_away_gives_the_polite_page_not_a_trace(web, stub):
    sign_in(web)
    stub.down.add(f"/api/v1/documents/{IMAGE}/content")
    try:
        response = web.get(f"/officer/documents/{IMAGE}/content")
    finally:
        stub.down.clear()
    assert response.status_code == 503 and "Nothing was changed" in text(response)


def test_my_claims_are_the_queue_filtered_by_my_user_id(web, stub):
    sign_in(web)
    assert 'href="/officer/claims?assignee=nasrin.akter"' in text(web.get("/officer/claims"))


def test_a_missing_document_is_a_not_found_page(web):
    sign_in(web)
    assert web.get("/officer/documents/DOC-NOPE/content").status_code == 404


def test_verifying_the_documents_fills_the_checklist_and_moves_the_claim_on(web, stub):
    token = sign_in(web)
    response = decide(web, token, IMAGE, "verified")
    assert response.status_code == 302
    page = text(web.get(response.headers["Location"]))
    assert "1 of 2 required documents verified" in page and "The document was marked verified." in page
    decide(web, token, PDF, "verified")
    page = text(web.get(CLAIM))
    assert "2 of 2 required documents verified" in page and "Under review" in page
    assert stub.claims[CLAIM_ID]["status"] == "under_review"


def test_rejecting_a_document_needs_a_reason_said_beside_the_field(web, stub):
    token = sign_in(web)
    before = len(stub.requests)
    response = decide(web, token, IMAGE, "rejected")
    assert response.status_code == 422 and "Say why the document is rejected." in text(response)
    assert not any("/verification" in r["path"] for r in stub.requests[before:])
    response = decide(web, token, IMAGE, "rejected", "no")  # too short for the vault
    assert response.status_code == 422 and "at least 3 characters" in text(response)
    assert decide(web, token, IMAGE, "rejected", "The seal is unreadable").status_code == 302
    page = text(web.get(CLAIM))
    assert "Reason: The seal is unreadable" in page


def test_a_document_decided_on_an_old_version_is_explained(web, stub):
    token = sign_in(web)
    stub.documents[IMAGE]["current_version"] = 2
    response = decide(web, token, IMAGE, "verified")
    assert response.status_code == 409 and "A new version of this document was uploaded" in text(response)


# -- steps with If-Match --------------------------------------------------------------------------

def test_approval_above_the_limit_needs_a_second_officer_then_payment(web, stub):
    token = sign_in(web)
    assert step(web, "approval", token).status_code == 302
    assert stub.claims[CLAIM_ID]["status"] == "recommended"
    again = step(web, "approval", token)  # the one who recommended cannot approve
    assert again.status_code == 422 and "another officer must approve it" in text(again)
    other = web.application.test_client()
    token = sign_in(other, "kamal.hossain")
    assert step(other, "approval", token).status_code == 302
    assert stub.claims[CLAIM_ID]["status"] == "approved"
    assert step(other, "payment-order", token).status_code == 302
    page = text(other.get(CLAIM))
    assert "Still to pay: Tk 3,00,000." in page
    paid = step(other, "payments", token, heir_id="1", amount="3,00,000", method="bank", account="0123456789",
                reference="BEFTN-2026-0001")
    assert paid.status_code == 302 and "The payment was recorded." in text(other.get(paid.headers["Location"]))
    assert stub.claims[CLAIM_ID]["status"] == "paid" and stub.claims[CLAIM_ID]["paid_total"] == 300000


def test_the_steps_send_the_version_read_as_if_match(web, stub):
    token = sign_in(web)
    step(web, "approval", token, version="3")
    sent = [r for r in stub.requests if r["path"].startswith(f"/api/v1/claims/{CLAIM_ID}/approval")][-1]
    assert sent["if_match"] == '"3"' and sent["authorization"].startswith("Bearer ")


def test_a_stale_version_says_someone_else_changed_the_claim_and_shows_it_now(web, stub):
    token = sign_in(web)
    response = step(web, "rejection", token, version="1", reason_code="not_member", reason_en="Not a member",
                    reason_bn="সদস্য নন")
    page = text(response)
    assert response.status_code == 409
    assert "Someone else changed this claim while you were looking at it; here it is now." in page
    assert 'name="version" value="3"' in page  # the claim as it is now, ready for another try
    assert stub.claims[CLAIM_ID]["status"] == "documents_pending"


def test_a_refused_step_says_what_to_fix_beside_each_field(web, stub):
    token = sign_in(web)
    response = step(web, "rejection", token, reason_code="not_member")
    page = text(response)
    assert response.status_code == 422
    assert "Write the reason in English." in page and "Write the reason in Bangla." in page
    assert 'value="not_member"' in page  # what was typed stays
    before = len(stub.requests)
    response = step(web, "approval", token, amount="lots")
    assert response.status_code == 422 and "Enter an amount in whole taka" in text(response)
    assert not any(r["method"] == "POST" for r in stub.requests[before:])
    response = step(web, "approval", token, amount="৫,০০,০০০")  # Bangla digits are read; above the cap
    assert response.status_code == 422 and "Enter an amount in whole taka" in text(response)


def test_a_payment_claims_refuses_is_explained(web, stub):
    claim = stub.claims[CLAIM_ID]
    claim.update(status="payment_ordered", approved_amount=300000)
    stub.payment_references.add("BEFTN-USED-1")
    token = sign_in(web)
    fields = {"heir_id": "1", "method": "bank", "account": "0123456789"}
    used = step(web, "payments", token, amount="1000", reference="BEFTN-USED-1", **fields)
    assert used.status_code == 422 and "That payment reference was used already" in text(used)
    over = step(web, "payments", token, amount="400000", reference="BEFTN-NEW-2", **fields)
    assert over.status_code == 422 and "more than what remains to be paid" in text(over)
    assert claim["paid_total"] == 0


def test_a_step_without_its_csrf_token_is_refused_before_claims_hears_of_it(web, stub):
    sign_in(web)
    before = len(stub.requests)
    response = web.post(f"{CLAIM}/steps/approval", data={"version": "3"})
    assert response.status_code == 400
    assert not any(r["method"] == "POST" for r in stub.requests[before:])


def test_an_unknown_step_is_not_found(web):
    token = sign_in(web)
    assert web.post(f"{CLAIM}/steps/closure", data={"csrf_token": token, "version": "3"}).status_code == 404


def test_every_form_on_the_claim_page_carries_its_csrf_token(web, stub):
    stub.claims[CLAIM_ID]["status"] = "under_review"
    sign_in(web)
    page = text(web.get(CLAIM))
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    assert len(forms) >= 5  # two documents, approve, reject, ask for information, (sign out)
    assert all('name="csrf_token"' in form for form in forms)


# -- reports -------------------------------------------------------------------------------------

def test_reports_are_svg_bar_charts_each_with_its_table(web):
    sign_in(web)
    page = text(web.get("/officer/reports?group_by=type"))
    assert page.count("<svg") == 4 and page.count("<table") == 4
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Medical aid &lt;b&gt;" in page and "Medical aid <b>" not in page
    assert "Tk 21,00,000" in page and 'aria-hidden="true"' in page


def test_reports_in_bangla_write_numbers_in_bangla(web):
    sign_in(web)
    web.set_cookie("lang", "bn")
    page = text(web.get("/officer/reports"))
    assert "২১,০০,০০০ টাকা" in page and "মৃত্যু অনুদান" in page


def test_a_report_range_the_service_refuses_is_explained_beside_the_field(web):
    sign_in(web)
    response = web.get("/officer/reports?from=not-a-date")
    page = text(response)
    assert response.status_code == 200 and "Enter a date as YYYY-MM-DD" in page and "<svg" not in page
