"""What the browser tests do with a page: wait for the page a click brings, sign in, and check a
page at phone and desktop width (screenshot, page weight, nothing from outside, axe-core)."""
from __future__ import annotations

import json

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# Each page's HTML, CSS and JS together, fonts apart (the Bangla font is ~40 KB and cached a year).
PAGE_BUDGET_BYTES = 60 * 1024
FONT_BUDGET_BYTES = 100 * 1024
WIDTHS = {"phone": (360, 800), "desktop": (1280, 900)}

def arrive(browser, site, path):
    """Waits until a form's answer has loaded (a click or Enter returns before the next page is there)."""
    WebDriverWait(browser, 15).until(lambda d: d.current_url.startswith(site + path)
                                     and d.execute_script("return document.readyState") == "complete")


def press(browser, by, what) -> None:
    """Clicks a link or a form's button and waits until the page it brings has replaced this one,
    even when the answer comes back at the same address. The old page carries a mark the new one
    lacks; while the page is swapped, the browser may answer with transient errors, so those are
    waited through (staleness_of alone once failed with "Node with given id does not belong to
    the document")."""
    browser.execute_script("window.beforeTheClick = true")
    browser.find_element(by, what).click()
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(lambda d: d.execute_script(
        "return !window.beforeTheClick && document.readyState === 'complete'"))


def click_and_wait(browser, site, selector, path) -> None:
    """Clicks a form's button and waits for the next page, at `path`."""
    press(browser, By.CSS_SELECTOR, selector)
    arrive(browser, site, path)


def sign_in_staff(browser, site, username: str, password: str) -> None:
    browser.get(site + "/sign-in/staff")
    browser.find_element(By.ID, "f-username").send_keys(username)
    browser.find_element(By.ID, "f-password").send_keys(password + Keys.ENTER)
    arrive(browser, site, "/staff")


def resources(browser) -> list[dict]:
    return browser.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(e => ({name: e.name, type: e.initiatorType, size: e.decodedBodySize}))")


def fonts_ready(browser) -> bool:
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.fonts.ready.then(() => done(document.fonts.check('16px \"Noto Sans Bengali Portal\"', 'বাংলা')))")


def axe_violations(browser, axe_source: str) -> list[dict]:
    browser.execute_script(axe_source)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}}).then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify([{id: 'axe-error', "
        "impact: 'critical', description: String(e)}])))")
    return json.loads(result)


def check_page(browser, site, name, path, screenshots, axe_source, lang):
    for width_name, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        browser.get(site + path)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        if lang == "bn":
            assert fonts_ready(browser), f"{name}: the Bangla font did not load"
        browser.save_screenshot(str(screenshots / f"{name}-{lang}-{width_name}.png"))
        # The page fits the phone: nothing wider than the screen.
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width, name
    loaded = resources(browser)
    outside = [r["name"] for r in loaded if not r["name"].startswith(site)]
    assert outside == [], f"{name} loads from outside the deployment: {outside}"
    page = sum(r["size"] for r in loaded if "/static/fonts/" not in r["name"])
    fonts = sum(r["size"] for r in loaded if "/static/fonts/" in r["name"])
    weights = screenshots / "page-weights.json"
    known = json.loads(weights.read_text()) if weights.exists() else {}
    known[f"{name}-{lang}"] = {"html_css_js_bytes": page, "font_bytes": fonts}
    weights.write_text(json.dumps(known, indent=1, sort_keys=True))
    assert page <= PAGE_BUDGET_BYTES, f"{name}: {page} bytes of HTML, CSS and JS"
    assert fonts <= FONT_BUDGET_BYTES, f"{name}: {fonts} bytes of fonts"
    serious = [(v["id"], v["impact"], v["description"], [n["target"] for n in v.get("nodes", [])][:3])
               for v in axe_violations(browser, axe_source) if v.get("impact") in ("serious", "critical")]
    assert serious == [], f"{name}: {serious}"
