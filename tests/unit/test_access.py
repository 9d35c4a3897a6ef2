"""The UDC rule every service applies the same way (shared/access.py)."""
from __future__ import annotations

import pytest

from shared.access import acting_for, acting_on
from shared.auth import Principal
from shared.errors import Forbidden

HERE, THERE = "UDC Daudkandi", "UDC Beanibazar"
OPERATOR = Principal("op-1", "udc_operator", udc_centre=HERE)


def test_an_operator_acts_for_people_their_centre_serves():
    assert acting_on(OPERATOR, {HERE, THERE}) == {"user": "op-1", "role": "udc_operator", "udc_centre": HERE}


def test_an_operator_does_not_act_for_people_another_centre_serves():
    with pytest.raises(Forbidden, match="person_present"):
        acting_on(OPERATOR, {THERE})
    with pytest.raises(Forbidden):
        acting_on(OPERATOR, set())


def test_a_person_present_lets_an_operator_act_and_says_so():
    assert acting_on(OPERATOR, {THERE}, person_present=True) == {
        "user": "op-1", "role": "udc_operator", "udc_centre": HERE, "person_present": True}


def test_presence_is_recorded_only_when_it_is_what_let_the_operator_act():
    assert "person_present" not in acting_on(OPERATOR, {HERE}, person_present=True)


def test_an_operator_without_a_centre_acts_for_nobody():
    with pytest.raises(Forbidden):
        acting_on(Principal("op-0", "udc_operator"), {HERE}, person_present=True)


@pytest.mark.parametrize("role", ["welfare_officer", "legal_aid", "admin"])
def test_officers_are_not_bound_to_a_centre(role):
    assert acting_on(Principal("x", role), {THERE}) == {"user": "x", "role": role}


def test_an_operator_cannot_act_for_another_centre_than_their_own():
    with pytest.raises(Forbidden, match=HERE):
        acting_for(OPERATOR, THERE, "registering this person")
    assert acting_for(OPERATOR, HERE, "registering this person")["udc_centre"] == HERE
    assert acting_for(OPERATOR, None, "registering this person")["udc_centre"] == HERE
