"""The portal on the real system (tests/browser/stack.py): identity, the services, their relays
and consumers, RabbitMQ and SecantusDB. The first journey: a staff member signs in."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.pages import sign_in_staff

pytestmark = pytest.mark.timeout(900)


def staff_sign_in(browser, site, member) -> None:
    sign_in_staff(browser, site, member.username, member.password)


def test_a_welfare_officer_signs_in_through_identity_and_sees_the_staff_page(browser, real_site, real_stack):
    staff_sign_in(browser, real_site, real_stack.staff["kamal.hossain"])
    assert "kamal.hossain" in browser.find_element(By.TAG_NAME, "h1").text
