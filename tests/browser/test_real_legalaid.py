"""A legal aid officer's journey on the real system (tests/browser/stack.py): a complaint filed
for a registered migrant is taken, form by form in the portal, through scrutiny and a hearing
to an award, and a payment received is recorded against it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import arrive, press
from tests.browser.test_real_stack import staff_sign_in

pytestmark = pytest.mark.timeout(900)


def registered_migrant(stack) -> str:
    officer = stack.token("kamal.hossain")
    nid = stack.unique_nid()
    status, migrant = stack.api("registration", "POST", "/migrants", {
        "name_en": "Rahim Uddin", "name_bn": "রহিম উদ্দিন", "date_of_birth": "1991-03-02", "sex": "male", "nid": nid,
        "passport_number": f"EB{nid[-7:]}", "phone": stack.unique_phone(), "district": "Cumilla",
        "upazila": "Daudkandi", "destination_country": "SA", "occupation": "Mason"}, officer)
    assert status == 201, migrant
    return migrant["reference"]


def filed_complaint(stack, reference: str) -> str:
    """Filed by the welfare officer once complaints has heard of the migrant (an event away)."""
    officer, answers = stack.token("kamal.hossain"), []
    body = {"complainant": {"migrant_reference": reference, "name": "Rahim Uddin", "phone": "01712345678"},
            "channel": "in_person", "category": "recruitment_fraud", "district": "Cumilla", "amount_claimed": 350000,
            "respondents": [{"kind": "recruiting_agency", "name": "Quick Visa Ltd", "licence": "RL-0666"}],
            "narrative": "The agency took Tk 350,000 for a job in Riyadh; the visa was false."}
    stack.wait_for(lambda: answers.append(stack.api("complaints", "POST", "/complaints", body, officer))
                   or answers[-1][0] != 404, 30, "complaints never learned of the migrant")
    status, complaint = answers[-1]
    assert status == 201, complaint
    return complaint["complaint_id"]


def fill(browser, fields: dict) -> None:
    for element_id, value in fields.items():
        element = browser.find_element(By.ID, element_id)
        if element.get_attribute("type") == "date":
            # a date picker's typed order follows the browser's locale; set the ISO value it would produce
            browser.execute_script("arguments[0].value = arguments[1]", element, value)
        else:
            element.clear()
            element.send_keys(value)


def take(browser, site, page: str, step: str, fields: dict | None = None, ticks: tuple = ()) -> str:
    fill(browser, fields or {})
    for selector in ticks:
        browser.find_element(By.CSS_SELECTOR, selector).click()
    press(browser, By.CSS_SELECTOR, f"#{step} button[type=submit]")  # the answer is the same address again
    arrive(browser, site, page)
    main = browser.find_element(By.ID, "main").text
    assert "Done:" in main, main[:1500]
    return main


def test_a_legal_aid_officer_takes_a_complaint_through_a_hearing_to_an_award_and_a_payment(browser, real_site,
                                                                                          real_stack, screenshots):
    complaint_id = filed_complaint(real_stack, registered_migrant(real_stack))
    browser.get(real_site + "/language/en")
    staff_sign_in(browser, real_site, real_stack.staff["selim.reza"])
    browser.find_element(By.LINK_TEXT, "Complaints queue").click()
    arrive(browser, real_site, "/legal-aid/complaints")
    browser.get(real_site + "/legal-aid/complaints?status=received&district=Cumilla")
    browser.find_element(By.LINK_TEXT, complaint_id).click()
    page = f"/legal-aid/complaints/{complaint_id}"
    arrive(browser, real_site, page)
    assert "Received" in browser.find_element(By.CSS_SELECTOR, ".verdict").text

    take(browser, real_site, page, "scrutiny")
    take(browser, real_site, page, "acknowledgement", {"acknowledgement-committee": "Ayesha Khan\nKamal Hossain"})
    take(browser, real_site, page, "notice")
    hearing_day = date.today() + timedelta(days=7)
    main = take(browser, real_site, page, "hearing", {"hearing-date": hearing_day.isoformat(),
                                                      "hearing-venue": "BMET, Kakrail, Dhaka"})
    assert "BMET, Kakrail, Dhaka" in main and "Scheduled" in main
    main = take(browser, real_site, page, "held", {"held-minutes": "The agency admitted taking the money."},
                ticks=("#held input[value=complainant]", "#held input[value=recruiting_agency]"))
    assert "Held" in main and "came" in main
    deadline = date.today() + timedelta(days=30)
    main = take(browser, real_site, page, "outcome", {"outcome-amount": "300000",
                                                      "outcome-payment_deadline": deadline.isoformat(),
                                                      "outcome-terms": "Refund of the fee taken."},
                ticks=("#outcome input[value=award_issued]",))
    assert "Award issued" in main and "Tk 3,00,000" in main
    take(browser, real_site, page, "monitoring")
    main = take(browser, real_site, page, "payment", {"payment-amount": "100000",
                                                      "payment-paid_on": date.today().isoformat(),
                                                      "payment-reference": "BKASH-7781"})
    assert "BKASH-7781" in main and "Tk 2,00,000 still owed" in main
    assert "Compliance monitoring" in browser.find_element(By.CSS_SELECTOR, ".verdict").text
    for width, height in ((360, 800), (1280, 900)):
        browser.set_window_size(width, height)
        browser.save_screenshot(str(screenshots / f"real-legalaid-award-paid-{width}.png"))
    status, stored = real_stack.api("complaints", "GET", f"/complaints/{complaint_id}", token=real_stack.token(
        "selim.reza"))
    assert status == 200 and stored["status"] == "compliance_monitoring" and stored["paid_total"] == 100000
    assert [h["state"] for h in stored["hearings"]] == ["held"] and stored["outcome"]["kind"] == "award_issued"


def test_a_confidential_complaint_and_a_stale_form_are_plain_sentences(browser, real_site, real_stack):
    reference = registered_migrant(real_stack)
    open_id = filed_complaint(real_stack, reference)
    officer = real_stack.token("kamal.hossain")
    status, secret = real_stack.api("complaints", "POST", "/complaints", {
        "complainant": {"migrant_reference": reference, "name": "Rahim Uddin", "phone": "01712345678"},
        "channel": "in_person", "category": "abuse_unsafe_work", "district": "Cumilla", "restricted": True,
        "respondents": [{"kind": "employer_abroad", "name": "A household", "country": "SA"}],
        "narrative": "What happened is for the assigned officer only."}, officer)
    assert status == 201, secret
    browser.get(real_site + "/language/en")
    staff_sign_in(browser, real_site, real_stack.staff["selim.reza"])
    browser.get(f"{real_site}/legal-aid/complaints/{secret['complaint_id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This complaint cannot be shown"
    assert "What happened is for" not in browser.page_source

    page = f"/legal-aid/complaints/{open_id}"
    browser.get(real_site + page)
    take(browser, real_site, page, "scrutiny")
    # a second tab's form, opened before scrutiny, still names version 1
    browser.execute_script("document.querySelector('#withdrawal input[name=version]').value = '1'")
    fill(browser, {"withdrawal-reason": "The worker asked."})
    press(browser, By.CSS_SELECTOR, "#withdrawal button[type=submit]")
    main = browser.find_element(By.ID, "main").text
    assert "Someone else changed this complaint after you opened it" in main and "In scrutiny" in main
    status, stored = real_stack.api("complaints", "GET", f"/complaints/{open_id}", token=officer)
    assert stored["status"] == "scrutiny" and stored["withdrawal"] is None
