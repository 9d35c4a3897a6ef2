"""An administrator's pages in a real browser (headless Chromium) over the stand-in services:
each page at phone and desktop width (screenshots, page weight, axe-core), and an admin
creating an account, reading its temporary password once and deactivating it, and correcting a
guide entry, with plain forms."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.pages import arrive, check_page, press, sign_in_staff
from tests.portal_stub_admin import ADMIN

pytestmark = pytest.mark.timeout(900)
PAGES = {
    "admin-staff": "/admin/staff",
    "admin-staff-next": "/admin/staff?cursor=kamal.hossain",
    "admin-staff-new": "/admin/staff/new",
    "admin-staff-account": "/admin/staff/moni.locked",
    "admin-guide": "/admin/guide",
    "admin-guide-agency": "/admin/guide/agencies/RL-0666",
    "admin-guide-link": "/admin/guide/links/bibhui",
    "admin-guide-country": "/admin/guide/countries/SA",
    "admin-guide-topic": "/admin/guide/topics/passport",
    "admin-catalogue": "/admin/catalogue",
}


def sign_in_admin(browser, site):
    sign_in_staff(browser, site, *ADMIN)


@pytest.mark.parametrize("lang", ["bn", "en"])
def test_admin_pages_fit_phone_and_desktop_in_budget_and_accessible(browser, site, screenshots, browser_tools, lang):
    browser.get(f"{site}/language/{lang}")
    sign_in_admin(browser, site)
    for name, path in PAGES.items():
        check_page(browser, site, name, path, screenshots, browser_tools, lang)


def test_an_admin_creates_an_account_sees_its_password_once_and_deactivates_it(browser, site, screenshots):
    browser.get(f"{site}/language/en")
    sign_in_admin(browser, site)
    browser.find_element(By.LINK_TEXT, "Staff accounts").click()
    arrive(browser, site, "/admin/staff")
    browser.find_element(By.LINK_TEXT, "New staff account").click()
    arrive(browser, site, "/admin/staff/new")
    browser.find_element(By.ID, "f-username").send_keys("rahim.uddin")
    browser.find_element(By.ID, "f-full_name").send_keys("Rahim Uddin")
    Select(browser.find_element(By.ID, "f-role")).select_by_value("legal_aid")
    browser.find_element(By.ID, "f-district").send_keys("Sylhet")
    press(browser, By.CSS_SELECTOR, "main form button[type=submit]")
    arrive(browser, site, "/admin/staff/new")
    main = browser.find_element(By.ID, "main").text
    assert "Account rahim.uddin created" in main and "shown only now" in main
    browser.save_screenshot(str(screenshots / "admin-staff-password-en-desktop.png"))
    browser.find_element(By.LINK_TEXT, "Open the account").click()
    arrive(browser, site, "/admin/staff/rahim.uddin")
    assert "Temporary password" not in browser.find_element(By.ID, "main").text
    browser.find_element(By.ID, "f-reason").send_keys("Moved to another ministry")
    press(browser, By.XPATH, "//button[normalize-space()='Deactivate the account']")
    arrive(browser, site, "/admin/staff/rahim.uddin/deactivation")
    main = browser.find_element(By.ID, "main").text
    assert "The account is deactivated" in main and "Moved to another ministry" in main


def test_an_admin_corrects_a_link_in_the_guide(browser, site):
    browser.get(f"{site}/language/en")
    sign_in_admin(browser, site)
    browser.find_element(By.LINK_TEXT, "The guide's data").click()
    arrive(browser, site, "/admin/guide")
    browser.find_element(By.LINK_TEXT, "BMET").click()
    arrive(browser, site, "/admin/guide/links/bmet")
    english = browser.find_element(By.ID, "f-purpose-en")
    english.clear()
    english.send_keys("Registration, clearance and the smart card")
    press(browser, By.CSS_SELECTOR, "main form button[type=submit]")
    arrive(browser, site, "/admin/guide/links/bmet")
    assert "Saved." in browser.find_element(By.ID, "main").text
    browser.get(f"{site}/")  # the home page lists the links
    assert "Registration, clearance and the smart card" in browser.find_element(By.ID, "main").text
