"""An administrator's pages in a real browser (headless Chromium) over the stand-in services:
each page at phone and desktop width (screenshots, page weight, axe-core), and an admin
creating an account, reading its temporary password once and deactivating it, correcting a
guide entry, and adding a guide topic with its papers, with plain forms."""
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
    "admin-guide-new-topic": "/admin/guide/new/topics",
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


def test_an_admin_adds_a_guide_topic_with_its_papers_and_readers_see_it(browser, site):
    browser.get(f"{site}/language/en")
    sign_in_admin(browser, site)
    browser.get(f"{site}/admin/guide")
    browser.find_element(By.LINK_TEXT, "Add a guide topic").click()
    arrive(browser, site, "/admin/guide/new/topics")
    typed = {"f-key": "bmet-card", "f-title-bn": "বিএমইটি স্মার্ট কার্ড", "f-title-en": "BMET smart card",
             "f-summary-bn": "বিদেশ যাওয়ার আগে স্মার্ট কার্ড নিন", "f-summary-en": "Get the smart card before you fly",
             "f-who_may_apply-bn": "বিদেশগামী কর্মী", "f-who_may_apply-en": "A worker going abroad",
             "f-documents-0-bn": "পাসপোর্ট", "f-documents-0-en": "Passport",
             "f-where_to_go-0-bn": "জেলা কর্মসংস্থান ও জনশক্তি অফিস", "f-where_to_go-0-en": "District manpower office"}
    for field_id, value in typed.items():
        browser.find_element(By.ID, field_id).send_keys(value)
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("migration_paper")
    press(browser, By.CSS_SELECTOR, "main form button[type=submit]")
    arrive(browser, site, "/admin/guide/topics/bmet-card")
    assert "Added." in browser.find_element(By.ID, "main").text
    assert browser.find_element(By.ID, "f-documents-0-en").get_attribute("value") == "Passport"
    browser.get(f"{site}/guide/bmet-card")
    main = browser.find_element(By.ID, "main").text
    assert "Passport" in main and "District manpower office" in main
