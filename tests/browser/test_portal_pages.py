"""The portal in a real browser (headless Chromium): each page at phone and desktop width, saved
as screenshots; Bangla drawn with the portal's own font; the page-weight budget; no address
outside the deployment; no serious accessibility violation (axe-core); and what a visitor and a
migrant do with it, with JavaScript nowhere needed."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.pages import arrive, check_page
from tests.portal_stub import CODE

# The first test may wait for scripts/ensure-browser.sh to install the browser (make test runs it before).
pytestmark = pytest.mark.timeout(900)

PUBLIC_PAGES = {
    "home": "/",
    "claim-guide-death-grant": "/guide/claims/death_grant",
    "topic-passport": "/guide/passport",
    "agencies": "/agencies?q=RL",
    "agency": "/agencies/RL-1234",
    "countries": "/countries",
    "sign-in": "/sign-in",
    "staff-sign-in": "/sign-in/staff",
    "not-found": "/no-such-page",
}
SIGNED_IN_PAGES = {"timeline": "/me/timeline", "case": "/cases/CLM-2026-R6HA9MGP"}


def sign_in(browser, site, phone="01712345678"):
    browser.get(site + "/sign-in")
    browser.find_element(By.ID, "f-phone").send_keys(phone)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    arrive(browser, site, "/sign-in/code")
    browser.find_element(By.ID, "f-code").send_keys(CODE + Keys.ENTER)
    arrive(browser, site, "/me/")


@pytest.mark.parametrize("lang", ["bn", "en"])
def test_public_pages_fit_phone_and_desktop_in_budget_and_accessible(browser, site, screenshots, browser_tools, lang):
    browser.get(f"{site}/language/{lang}")
    for name, path in PUBLIC_PAGES.items():
        check_page(browser, site, name, path, screenshots, browser_tools, lang)


def test_a_migrants_pages_fit_phone_and_desktop_in_budget_and_accessible(browser, site, screenshots, browser_tools):
    browser.get(site + "/sign-in")
    browser.find_element(By.ID, "f-phone").send_keys("01712345678" + Keys.ENTER)
    arrive(browser, site, "/sign-in/code")
    check_page(browser, site, "sign-in-code", "/sign-in/code", screenshots, browser_tools, "bn")
    sign_in(browser, site)
    assert browser.current_url == site + "/me/timeline"
    for name, path in SIGNED_IN_PAGES.items():
        check_page(browser, site, name, path, screenshots, browser_tools, "bn")


def test_a_visitor_finds_in_bangla_the_papers_of_a_death_grant_and_an_agencys_licence(browser, site):
    browser.get(site + "/")
    browser.find_element(By.LINK_TEXT, "মৃত্যুজনিত আর্থিক অনুদান").click()
    arrive(browser, site, "/guide/claims/death_grant")
    papers = browser.find_element(By.CSS_SELECTOR, "ol.papers").text
    assert "মৃত্যু সনদ" in papers and "পাসপোর্টের কপি" in papers and "ওয়ারিশ সনদ" in papers
    assert "৩,০০,০০০ টাকা" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    browser.get(site + "/")
    search = browser.find_element(By.ID, "q")
    search.send_keys("RL-1234" + Keys.ENTER)
    arrive(browser, site, "/agencies?q=RL-1234")
    browser.find_element(By.LINK_TEXT, "আল-নূর ওভারসিজ").click()
    arrive(browser, site, "/agencies/RL-1234")
    assert browser.find_element(By.CSS_SELECTOR, ".verdict").text == "লাইসেন্স বৈধ"
    browser.get(site + "/agencies?q=RL-0666")
    assert "লাইসেন্স বাতিল" in browser.find_element(By.TAG_NAME, "table").text


def test_a_migrant_signs_in_with_the_sms_code_and_reads_payment_sent_in_bangla(browser, site):
    sign_in(browser, site)
    main = browser.find_element(By.ID, "main").text
    assert "টাকা পাঠানো হয়েছে" in main and "এরপর যা হবে" in main
    browser.get(site + "/cases/CLM-2026-ZZZZZZZZ")  # someone else's case, by editing the URL
    assert "অনুমতি নেই" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, "header button").click()  # sign out
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "সাইন ইন" in d.find_element(By.TAG_NAME, "header").text)
    browser.get(site + "/me/timeline")
    assert browser.current_url.startswith(site + "/sign-in")


def test_a_form_sent_without_its_csrf_token_is_refused(browser, site):
    browser.get(site + "/sign-in")
    browser.execute_script("document.querySelector('main input[name=csrf_token]').remove()")
    browser.find_element(By.ID, "f-phone").send_keys("01712345678" + Keys.ENTER)
    arrive(browser, site, "/sign-in/phone")
    assert "ফর্মটি গ্রহণ করা যায়নি" in browser.find_element(By.ID, "main").text


def test_the_keyboard_reaches_the_skip_link_first(browser, site):
    browser.get(site + "/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("href") == site + "/#main"


def test_the_portals_own_bangla_font_draws_conjuncts(browser, site, screenshots):
    """Phones with Noto Sans Bengali use their own (local() in the stylesheet), so the pages above
    may never fetch the portal's subset; this draws a page in the subset alone and saves it."""
    browser.get(site + "/guide/claims/death_grant")
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const face = new FontFace('PortalSubsetOnly', 'url(/static/fonts/noto-sans-bengali-regular.woff2)');"
        "face.load().then(f => { document.fonts.add(f);"
        " document.documentElement.style.fontFamily = 'PortalSubsetOnly, monospace';"
        " document.querySelector('h1').textContent = 'ক্ষতিপূরণ, স্মার্ট কার্ড, প্রত্যাগত, শ্রম উইং, ৩,০০,০০০ টাকা';"
        " document.fonts.ready.then(() => done(f.status)); }, e => done(String(e)))")
    assert status == "loaded"
    browser.set_window_size(1280, 900)
    browser.save_screenshot(str(screenshots / "font-subset-only.png"))
