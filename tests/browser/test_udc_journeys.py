"""A Union Digital Centre's counter on the real stack (tests/browser/stack.py): the operator
registers a migrant and is warned, naming the registration, when registering them again; files a
death grant for the family and prints the receipt with the papers still to bring; the heir signs in
with the SMS code, reads the case and sends the death certificate from their phone. A migrant uploads a missing paper from their case page and
cannot open another migrant's case by editing the URL. The counter also takes a complaint against an agency, a
sub-agent and an employer abroad, and a child's scholarship. Each page is saved at 360 and 1280 px."""
from __future__ import annotations

import struct
import zlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.stack import STAFF
from tests.browser.pages import WIDTHS, arrive, axe_violations, press
from tests.browser.test_real_stack import staff_sign_in

pytestmark = pytest.mark.timeout(900)
OPERATOR = STAFF[0]


def shoot(browser, screenshots, name: str, axe_source: str | None = None) -> None:
    """The page as it is now at phone and desktop width; nothing wider than the phone; no serious
    accessibility violation."""
    url = browser.current_url
    for width_name, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        browser.save_screenshot(str(screenshots / f"udc-{name}-{width_name}.png"))
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width, name
    assert browser.current_url == url
    if axe_source:
        serious = [(v["id"], [n["target"] for n in v.get("nodes", [])][:3]) for v in axe_violations(browser, axe_source)
                   if v.get("impact") in ("serious", "critical")]
        assert serious == [], f"{name}: {serious}"


def fill(browser, values: dict) -> None:
    for name, value in values.items():
        element = browser.find_element(By.ID, f"f-{name}")
        if element.tag_name == "select":
            element.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
        elif element.get_attribute("type") == "date":  # typing a date depends on the browser's locale
            browser.execute_script("arguments[0].value = arguments[1]", element, value)
        else:
            element.clear()
            element.send_keys(value)


def submit(browser) -> None:
    press(browser, By.CSS_SELECTOR, "main form[method=post] button[type=submit]")


def person(stack, name_en: str, name_bn: str) -> dict:
    return {"name_en": name_en, "name_bn": name_bn, "date_of_birth": "1990-03-15", "sex": "male",
            "nid": stack.unique_nid(), "phone": stack.unique_phone().replace("+88", ""), "district": "Cumilla",
            "upazila": "Daudkandi", "destination_country": "SA", "occupation": "Driver"}


def register(browser, site, details: dict) -> None:
    browser.get(site + "/udc/migrants/new")
    fill(browser, details)
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: "/udc/migrants/new" not in d.current_url
                                     or d.find_elements(By.CSS_SELECTOR, ".notice, .error"))


def sign_in_by_sms(browser, site, stack, phone: str) -> None:
    before = len(stack.sms())
    browser.get(site + "/sign-in")
    browser.find_element(By.ID, "f-phone").send_keys(phone + Keys.ENTER)
    arrive(browser, site, "/sign-in/code")
    browser.find_element(By.ID, "f-code").send_keys(stack.sms_code(phone, after=before) + Keys.ENTER)
    arrive(browser, site, "/me/")


def sign_out(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "header button").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "header a[href='/sign-in']"))


def tiny_png() -> bytes:
    """A real 1x1 PNG (the vault detects the type from the bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def test_an_operator_registers_files_a_death_grant_prints_the_receipt_and_the_family_reads_the_case(
        browser, real_site, real_stack, screenshots, browser_tools, tmp_path):
    site, stack = real_site, real_stack
    staff_sign_in(browser, site, OPERATOR)
    browser.find_element(By.CSS_SELECTOR, "a[href='/udc']").click()
    arrive(browser, site, "/udc")
    shoot(browser, screenshots, "home", browser_tools)

    worker = person(stack, "Abdul Karim", "আব্দুল করিম")
    register(browser, site, worker)
    assert "/udc/migrants/PB-" in browser.current_url, browser.find_element(By.ID, "main").text
    reference = browser.find_element(By.CSS_SELECTOR, "dd.ref").text
    assert reference in browser.find_element(By.CSS_SELECTOR, ".notice").text
    shoot(browser, screenshots, "person", browser_tools)

    # The same person again (same NID, another phone): the warning names the registration there is.
    register(browser, site, {**worker, "phone": stack.unique_phone().replace("+88", "")})
    warning = browser.find_element(By.CSS_SELECTOR, ".notice.warning")
    assert "ইতিমধ্যে নিবন্ধিত" in warning.text and reference in warning.text
    shoot(browser, screenshots, "register-duplicate", browser_tools)
    warning.find_element(By.TAG_NAME, "a").click()
    arrive(browser, site, f"/udc/migrants/{reference}")

    # A death grant for the family: the worker died abroad; his wife is the heir.
    stack.wait_until_known(reference)
    heir_phone = stack.unique_phone()
    browser.find_element(By.CSS_SELECTOR, f"a[href='/udc/migrants/{reference}/claims/new']").click()
    browser.find_element(By.LINK_TEXT, "মৃত্যুজনিত আর্থিক অনুদান").click()
    arrive(browser, site, f"/udc/migrants/{reference}/claims/new?type=death_grant")
    fill(browser, {"event.date": "2026-10-02", "event.country": "sa",
                   "heirs.0.name_en": "Rokeya Begum", "heirs.0.name_bn": "রোকেয়া বেগম", "heirs.0.relation": "spouse",
                   "heirs.0.nid": stack.unique_nid(), "heirs.0.phone": "০" + heir_phone[4:].translate(
                       str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")),
                   "heirs.0.share": "১/১", "heirs.0.payout.method": "mobile_wallet", "heirs.0.payout.provider": "bKash",
                   "heirs.0.payout.account_number": heir_phone[3:]})
    shoot(browser, screenshots, "claim-form", browser_tools)
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: "/receipt" in d.current_url or d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "/receipt" in browser.current_url, browser.find_element(By.ID, "main").text
    claim_id = browser.find_element(By.CSS_SELECTOR, ".receipt dd.ref").text
    assert claim_id.startswith("CLM-")
    papers = browser.find_element(By.CSS_SELECTOR, ".receipt ol.papers").text
    assert "মৃত্যু সনদ" in papers and "পাসপোর্টের কপি" in papers and "ওয়ারিশ সনদ" in papers
    assert "কুমিল্লা" in browser.find_element(By.CSS_SELECTOR, ".receipt").text or "Cumilla" in \
        browser.find_element(By.CSS_SELECTOR, ".receipt").text
    shoot(browser, screenshots, "receipt-claim", browser_tools)
    # Printed: the receipt alone, without the site's header, the upload forms or the footer.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, "header.top").is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, "form.upload").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".receipt ol.papers").is_displayed()
    browser.set_window_size(*WIDTHS["desktop"])
    browser.save_screenshot(str(screenshots / "udc-receipt-claim-print.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    # The same receipt in English, for a family who reads it so.
    browser.get(f"{site}/language/en?next=/udc/claims/{claim_id}/receipt")
    arrive(browser, site, f"/udc/claims/{claim_id}/receipt")
    receipt = browser.find_element(By.CSS_SELECTOR, ".receipt").text
    assert "What to bring next" in receipt and "Death certificate" in receipt and claim_id in receipt
    shoot(browser, screenshots, "receipt-claim-en", browser_tools)
    browser.get(f"{site}/language/bn?next=/udc/claims/{claim_id}/receipt")
    arrive(browser, site, f"/udc/claims/{claim_id}/receipt")

    # The passport copy, photographed at the counter: the receipt then asks for one paper fewer.
    photo = tmp_path / "passport.png"
    photo.write_bytes(tiny_png())
    forms = browser.find_elements(By.CSS_SELECTOR, "form.upload")
    passport_form = next(f for f in forms if f.find_element(By.NAME, "doc_type").get_attribute("value") == "passport_copy")
    file_input = passport_form.find_element(By.CSS_SELECTOR, "input[type=file]")
    assert file_input.get_attribute("accept") == "image/*,application/pdf" and file_input.get_attribute("capture")
    file_input.send_keys(str(photo))
    passport_form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    stack.wait_for(lambda: _reloaded_without(browser, site, claim_id, "পাসপোর্টের কপি"), 30,
                   "the receipt still asks for the passport copy")

    sign_out(browser)
    stack.wait_for_case(claim_id, heir_phone)
    sign_in_by_sms(browser, site, stack, heir_phone.replace("+88", ""))
    assert browser.current_url == site + "/me/cases"
    browser.find_element(By.PARTIAL_LINK_TEXT, claim_id).click()
    arrive(browser, site, f"/cases/{claim_id}")
    assert "মৃত্যুজনিত আর্থিক অনুদান" in browser.find_element(By.TAG_NAME, "h1").text
    assert "মৃত্যু সনদ" in browser.find_element(By.ID, "main").text  # still to bring
    shoot(browser, screenshots, "family-case", browser_tools)
    # The heir sends the death certificate from the phone, for the claim their sign-in names.
    certificate = next(f for f in browser.find_elements(By.CSS_SELECTOR, "form.upload")
                       if f.find_element(By.NAME, "doc_type").get_attribute("value") == "death_certificate")
    certificate.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(photo))
    certificate.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: "uploaded=" in d.current_url or d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "uploaded=death_certificate" in browser.current_url, browser.find_element(By.ID, "main").text
    assert "আপলোড হয়েছে: মৃত্যু সনদ" in browser.find_element(By.ID, "main").text
    officer = stack.token(STAFF[1].username)
    stack.wait_for(lambda: any(item["status"] != "missing" and "death_certificate" in item["doc_types"]
                               for item in stack.api("claims", "GET", f"/claims/{claim_id}", token=officer)[1]["checklist"]),
                   30, "the claim's checklist did not take the heir's death certificate")


def _reloaded_without(browser, site, claim_id: str, paper: str) -> bool:
    browser.get(f"{site}/udc/claims/{claim_id}/receipt")
    return paper not in browser.find_element(By.CSS_SELECTOR, ".receipt ol.papers").text


def test_a_migrant_sends_a_missing_paper_and_cannot_open_another_migrants_case(
        browser, real_site, real_stack, screenshots, browser_tools, tmp_path):
    site, stack = real_site, real_stack
    staff_sign_in(browser, site, OPERATOR)
    mine, other = person(stack, "Jamal Uddin", "জামাল উদ্দিন"), person(stack, "Nasir Ahmed", "নাসির আহমেদ")
    claims = {}
    for details in (mine, other):
        register(browser, site, details)
        reference = browser.find_element(By.CSS_SELECTOR, "dd.ref").text
        stack.wait_until_known(reference)
        browser.get(f"{site}/udc/migrants/{reference}/claims/new?type=medical_aid")
        fill(browser, {"event.date": "2026-09-20", "event.requested_amount": "৫০০০০"})
        submit(browser)
        WebDriverWait(browser, 15).until(lambda d: "/receipt" in d.current_url or d.find_elements(By.CSS_SELECTOR, ".error"))
        claims[details["nid"]] = browser.find_element(By.CSS_SELECTOR, ".receipt dd.ref").text
    sign_out(browser)
    my_claim, their_claim = claims[mine["nid"]], claims[other["nid"]]
    stack.wait_for_case(my_claim)
    stack.wait_for_case(their_claim)

    sign_in_by_sms(browser, site, stack, mine["phone"])
    browser.get(f"{site}/cases/{my_claim}")
    forms = browser.find_elements(By.CSS_SELECTOR, "form.upload")
    assert forms, browser.find_element(By.ID, "main").text
    shoot(browser, screenshots, "migrant-case-papers", browser_tools)
    report = next(f for f in forms if f.find_element(By.NAME, "doc_type").get_attribute("value") == "medical_report")
    photo = tmp_path / "report.png"
    photo.write_bytes(tiny_png())
    report.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(photo))
    report.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    arrive(browser, site, f"/cases/{my_claim}?uploaded=medical_report")
    assert "আপলোড হয়েছে" in browser.find_element(By.ID, "main").text

    browser.get(f"{site}/cases/{their_claim}")  # another migrant's case, by editing the URL
    assert "অনুমতি নেই" in browser.find_element(By.TAG_NAME, "h1").text
    assert their_claim not in browser.find_element(By.ID, "main").text


def test_the_counter_says_what_to_fix_takes_a_complaint_and_is_for_operators_only(
        browser, real_site, real_stack, screenshots, browser_tools, tmp_path):
    site, stack = real_site, real_stack
    staff_sign_in(browser, site, OPERATOR)
    worker = person(stack, "Rafiq Islam", "রফিক ইসলাম")
    register(browser, site, {**worker, "nid": "123"})  # registration refuses: the sentence is by the NID
    assert browser.current_url == site + "/udc/migrants/new"
    assert browser.find_element(By.ID, "f-nid").get_attribute("aria-invalid") == "true"
    assert "১০, ১৩ বা ১৭" in browser.find_element(By.ID, "e-nid").text
    shoot(browser, screenshots, "register-refused", browser_tools)
    register(browser, site, worker)
    reference = browser.find_element(By.CSS_SELECTOR, "dd.ref").text
    stack.wait_until_known(reference)

    # A text file is not a paper: the vault refuses it and the form says so; nothing is listed.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a scan")
    browser.find_element(By.CSS_SELECTOR, "form.upload input[type=file]").send_keys(str(notes))
    browser.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.upload .error"))
    assert "ফাইলটি নেওয়া যায়নি" in browser.find_element(By.CSS_SELECTOR, "form.upload .error").text

    # Shares that do not add up to the whole: nothing is filed, the form says why and keeps what was typed.
    browser.get(f"{site}/udc/migrants/{reference}/claims/new?type=death_grant")
    fill(browser, {"event.date": "2026-10-02", "event.country": "SA", "heirs.0.name_en": "Salma Khatun",
                   "heirs.0.name_bn": "সালমা খাতুন", "heirs.0.relation": "spouse", "heirs.0.nid": stack.unique_nid(),
                   "heirs.0.phone": stack.unique_phone(), "heirs.0.share": "1/2", "heirs.0.payout.method": "mobile_wallet",
                   "heirs.0.payout.provider": "Nagad", "heirs.0.payout.account_number": "01711000111"})
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "main p.error"))
    assert "পুরোটা" in browser.find_element(By.CSS_SELECTOR, "main p.error").text
    assert browser.find_element(By.ID, "f-heirs.0.name_en").get_attribute("value") == "Salma Khatun"
    # The shares right, but the heir's NID short: the claims service refuses, the sentence is beside it.
    fill(browser, {"heirs.0.share": "1/1", "heirs.0.nid": "12"})
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "e-heirs.0.nid"))
    assert "১০, ১৩ বা ১৭" in browser.find_element(By.ID, "e-heirs.0.nid").text
    shoot(browser, screenshots, "claim-refused", browser_tools)
    assert stack.api("claims", "GET", f"/claims?migrant_reference={reference}",
                     token=stack.token(OPERATOR.username))[1]["items"] == []

    # A complaint against the agency, the sub-agent who took the money and the employer abroad, and its receipt.
    browser.get(f"{site}/udc/migrants/{reference}/complaints/new")
    fill(browser, {"category": "unpaid_wages", "agency_name": "Al-Noor Overseas", "agency_licence": "RL-1234",
                   "sub_agent_name": "Kalam Mia", "sub_agent_phone": "০১৮১১-২২২৩৩৩",
                   "employer_name": "Gulf Star Cleaning", "amount_claimed": "৮০,০০০",
                   "narrative": "ছয় মাসের বেতন পাননি; এজেন্সি ফোন ধরে না।"})
    shoot(browser, screenshots, "complaint-form", browser_tools)
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: "/receipt" in d.current_url or d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "/receipt" in browser.current_url, browser.find_element(By.ID, "main").text
    assert browser.find_element(By.CSS_SELECTOR, ".receipt dd.ref").text.startswith("CP-")
    receipt = browser.find_element(By.CSS_SELECTOR, ".receipt").text
    assert "Kalam Mia" in receipt and "Gulf Star Cleaning, SA" in receipt
    assert "প্রবাস বন্ধু" in receipt and "চাকরির চুক্তিপত্র" in receipt  # the directory's guide: where else, what to bring
    shoot(browser, screenshots, "receipt-complaint", browser_tools)

    # A scholarship for the worker's child: the child and the exam, then its receipt.
    browser.get(f"{site}/udc/migrants/{reference}/claims/new?type=scholarship")
    fill(browser, {"child.name_en": "Rina Akter", "child.name_bn": "রিনা আক্তার",
                   "child.birth_registration_number": "২০১০৩৪৫৬৭৮৯০১২৩৪৫", "event.exam_level": "ssc",
                   "event.exam_year": "২০২৬", "event.gpa": "৪.৮৩"})
    shoot(browser, screenshots, "claim-scholarship", browser_tools)
    submit(browser)
    WebDriverWait(browser, 15).until(lambda d: "/receipt" in d.current_url or d.find_elements(By.CSS_SELECTOR, ".error"))
    assert "/receipt" in browser.current_url, browser.find_element(By.ID, "main").text
    filed = stack.api("claims", "GET", f"/claims?migrant_reference={reference}",
                      token=stack.token(OPERATOR.username))[1]["items"]
    assert [c["type"] for c in filed] == ["scholarship"]
    sign_out(browser)

    # The counter is for operators: a migrant signed in is refused it.
    stack.wait_until_known(reference)
    sign_in_by_sms(browser, site, stack, worker["phone"])
    browser.get(site + "/udc/migrants/new")
    assert "অনুমতি নেই" in browser.find_element(By.TAG_NAME, "h1").text
