"""Legal aid staff's pages in a real browser (headless Chromium) over the stand-in services:
each page at phone and desktop width (screenshots, page weight, axe-core), and an officer
taking a complaint's first steps with plain forms, no JavaScript."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import arrive, check_page, press, sign_in_staff
from tests.portal_stub import STAFF
from tests.portal_stub_complaints import OPEN_ID, SECRET_ID

pytestmark = pytest.mark.timeout(900)
USERNAME = next(name for name, (_password, role) in STAFF.items() if role == "legal_aid")
PAGES = {
    "legalaid-queue": "/legal-aid/complaints",
    "legalaid-complaint": f"/legal-aid/complaints/{OPEN_ID}",
    "legalaid-restricted": f"/legal-aid/complaints/{SECRET_ID}",
    "legalaid-scorecard": "/legal-aid/scorecard",
    "legalaid-agency": "/legal-aid/scorecard/RL-0666",
}


def sign_in_legal_aid(browser, site):
    sign_in_staff(browser, site, USERNAME, STAFF[USERNAME][0])


@pytest.mark.parametrize("lang", ["bn", "en"])
def test_legal_aid_pages_fit_phone_and_desktop_in_budget_and_accessible(browser, site, screenshots, browser_tools,
                                                                         lang):
    browser.get(f"{site}/language/{lang}")
    sign_in_legal_aid(browser, site)
    for name, path in PAGES.items():
        check_page(browser, site, name, path, screenshots, browser_tools, lang)


def test_an_officer_starts_scrutiny_and_a_stale_form_is_explained(browser, site):
    browser.get(f"{site}/language/en")
    sign_in_legal_aid(browser, site)
    browser.find_element(By.LINK_TEXT, "Complaints queue").click()
    arrive(browser, site, "/legal-aid/complaints")
    browser.find_element(By.LINK_TEXT, OPEN_ID).click()
    arrive(browser, site, f"/legal-aid/complaints/{OPEN_ID}")
    press(browser, By.CSS_SELECTOR, "#scrutiny button")  # the same address answers
    arrive(browser, site, f"/legal-aid/complaints/{OPEN_ID}")
    assert "Done: Start scrutiny." in browser.find_element(By.ID, "main").text
    # a form still showing version 1, as in a second tab opened before the step
    browser.execute_script("document.querySelector('#withdrawal input[name=version]').value = '1'")
    browser.find_element(By.ID, "withdrawal-reason").send_keys("The worker asked.")
    press(browser, By.CSS_SELECTOR, "#withdrawal button")
    arrive(browser, site, f"/legal-aid/complaints/{OPEN_ID}")
    main = browser.find_element(By.ID, "main").text
    assert "Someone else changed this complaint after you opened it" in main and "In scrutiny" in main
