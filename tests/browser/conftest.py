"""Headless Chromium from Debian, driven by selenium, against the portal served over HTTP on
127.0.0.1 with stand-in services (tests/portal_stub.py). scripts/ensure-browser.sh installs the
browser, its driver, the Noto fonts and axe-core when they are missing (`make test` runs it first;
so does this file, for a bare `pytest tests/browser`). Screenshots go to
.data/test-artifacts/portal/ (PORTAL_SCREENSHOTS names another folder)."""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from services.portal.app import create
from services.portal.config import PortalConfig
from services.portal.sessions import MemorySessionStore
from tests.portal_stub import StubServices

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".data/axe-core/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="session")
def browser_tools():
    subprocess.run([str(ROOT / "scripts/ensure-browser.sh")], check=True)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(os.environ.get("PORTAL_SCREENSHOTS", ROOT / ".data/test-artifacts/portal"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def site():
    """The portal at http://127.0.0.1:<port>. Plain http, so PORTAL_COOKIE_SECURE=false: the
    setting exists for exactly this (local development), and production refuses it."""
    stub = StubServices()
    config = PortalConfig.from_env({**stub.urls(), "PORTAL_SECRET_KEY": "browser-test", "PORTAL_COOKIE_SECURE": "false"})
    app = create(config, MemorySessionStore(), configure_logging=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    stub.stop()


@pytest.fixture
def browser(browser_tools):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--hide-scrollbars", "--lang=bn", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    # No cache: each page's weight is what a first visit downloads (the budget counts it all).
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    yield driver
    driver.quit()


@pytest.fixture(scope="package")
def real_stack(mongo_uri, amqp_url, tmp_path_factory):
    """The real system (tests/browser/stack.py), once for the browser tests: its own databases and
    exchange prefix, dropped and deleted when they are done. Not once per session: its dozen
    relays and consumers would keep the machine busy through the rest of `make test`."""
    from tests.browser.stack import stack_session

    with stack_session(mongo_uri, amqp_url, tmp_path_factory.mktemp("real-stack")) as stack:
        yield stack


@pytest.fixture(scope="package")
def real_site(real_stack) -> str:
    """The portal's address on the real stack (`real_stack` for its staff, APIs and SMS outbox)."""
    return real_stack.portal_url
