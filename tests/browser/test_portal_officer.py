"""A welfare officer's pages in a real browser (headless Chromium) over stand-in claims and
documents services: the queue, a claim with its documents, the reports' charts at phone and
desktop width (screenshots, page weight, axe-core), and the officer's work from verifying the
documents to recording the payment, each step a plain form."""
from __future__ import annotations

import threading

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from services.portal.app import create
from services.portal.config import PortalConfig
from services.portal.sessions import MemorySessionStore
from tests.browser.pages import arrive, check_page, click_and_wait, sign_in_staff
from tests.portal_stub import CLAIM_ID, StubServices

pytestmark = pytest.mark.timeout(900)
OFFICER_PAGES = {"officer-queue": "/officer/claims", "officer-claim": f"/officer/claims/{CLAIM_ID}",
                 "officer-reports": "/officer/reports"}
PASSWORDS = {"nasrin.akter": "kallyan-kormokorta-26", "kamal.hossain": "dwitiyo-onumodon-26"}


@pytest.fixture(scope="module")
def officer_site():
    """A portal over stand-ins of its own: the journey changes the stand-in claim."""
    stub = StubServices()
    config = PortalConfig.from_env({**stub.urls(), "PORTAL_SECRET_KEY": "browser-test", "PORTAL_COOKIE_SECURE": "false"})
    server = make_server("127.0.0.1", 0, create(config, MemorySessionStore(), configure_logging=False), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", stub
    server.shutdown()
    stub.stop()


def staff_sign_in(browser, site, username):
    sign_in_staff(browser, site, username, PASSWORDS[username])


def submit(browser, site, form_id, path):
    click_and_wait(browser, site, f"#{form_id} button[type=submit]", path)


@pytest.mark.parametrize("lang", ["bn", "en"])
def test_officer_pages_fit_phone_and_desktop_in_budget_and_accessible(browser, officer_site, screenshots,
                                                                     browser_tools, lang):
    site, stub = officer_site
    stub.reset_claims()
    browser.get(f"{site}/language/{lang}")
    staff_sign_in(browser, site, "nasrin.akter")
    for name, path in OFFICER_PAGES.items():
        check_page(browser, site, name, path, screenshots, browser_tools, lang)
    browser.get(f"{site}/officer/claims/{CLAIM_ID}")  # why each condition is met, worded in the page's language
    conditions = browser.find_element(By.CSS_SELECTOR, "ul.conditions").text
    assert ("সময়সীমা ৩৬৫ দিন" if lang == "bn" else "the limit is 365 days") in conditions
    stub.claims[CLAIM_ID].update(status="payment_ordered", approved_amount=300000)
    check_page(browser, site, "officer-claim-payment", f"/officer/claims/{CLAIM_ID}", screenshots, browser_tools, lang)


def test_an_officer_verifies_the_documents_approves_with_a_second_officer_and_records_the_payment(
        browser, officer_site, screenshots):
    site, stub = officer_site
    stub.reset_claims()
    claim = f"/officer/claims/{CLAIM_ID}"
    browser.get(f"{site}/language/en")
    staff_sign_in(browser, site, "nasrin.akter")
    browser.find_element(By.LINK_TEXT, "Claims queue").click()
    arrive(browser, site, "/officer/claims")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert "CLM-2026-OVERDUE1" in rows[0].text and "Overdue" in rows[0].text
    browser.find_element(By.LINK_TEXT, CLAIM_ID).click()
    arrive(browser, site, claim)
    assert "0 of 2 required documents verified" in browser.find_element(By.ID, "checklist-count").text
    image = browser.find_element(By.CSS_SELECTOR, ".doc-preview img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 1
    for document_id, count in (("DOC-7KQ3M9XCA2B4", "1 of 2"), ("DOC-9PLM2WQE5TZX", "2 of 2")):
        click_and_wait(browser, site, f"#document-{document_id} button[value=verified]", claim)
        assert count in browser.find_element(By.ID, "checklist-count").text
    assert "Under review" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    submit(browser, site, "approval", claim)
    assert "Recommended" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    click_and_wait(browser, site, "header button", "/")  # sign out; another officer approves

    staff_sign_in(browser, site, "kamal.hossain")
    browser.get(site + claim)
    submit(browser, site, "approval", claim)
    submit(browser, site, "order", claim)
    browser.find_element(By.ID, "f-amount").send_keys("300000")
    browser.find_element(By.ID, "f-account").send_keys("0123456789")
    browser.find_element(By.ID, "f-reference").send_keys("BEFTN-2026-0001")
    submit(browser, site, "payment", claim)
    assert "The payment was recorded." in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert "Paid" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    browser.set_window_size(1280, 900)
    browser.save_screenshot(str(screenshots / "officer-claim-paid-en-desktop.png"))
    browser.get(site + "/officer/reports")
    browser.execute_script("document.querySelector('.chart-pair').scrollIntoView()")
    browser.save_screenshot(str(screenshots / "officer-reports-chart-en-desktop.png"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.chart-bar")) == 8
