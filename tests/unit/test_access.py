"""The UDC rule and who reads which case, applied the same way by every service (shared/access.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.access import (acting_for, acting_on, check_may_act, check_owner, may_read_case, named_cases,
                           named_cases_page)
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


# -- a family member reads the cases their token names, and nothing else ------------------------

HEIR = Principal("phone-01811000000", "family", cases=("CLM-2026-AAAAAAAA", "CMP-2026-BBBBBBBB"))
WORKER = "PB-2345-6789"


def test_a_family_member_reads_the_cases_their_token_names_whoever_they_belong_to():
    assert may_read_case(HEIR, "CLM-2026-AAAAAAAA", WORKER)
    assert may_read_case(HEIR, "CMP-2026-BBBBBBBB", "PB-ABCD-EFGH")


def test_a_family_member_reads_no_other_case_of_the_same_worker():
    assert not may_read_case(HEIR, "CLM-2026-CCCCCCCC", WORKER)


def test_migrants_read_their_own_cases_and_staff_any():
    migrant = Principal("m-1", "migrant", migrant_ref=WORKER)
    assert may_read_case(migrant, "CLM-2026-CCCCCCCC", WORKER)
    assert not may_read_case(migrant, "CLM-2026-AAAAAAAA", "PB-ABCD-EFGH")
    assert may_read_case(Principal("o-1", "welfare_officer"), "CLM-2026-CCCCCCCC", WORKER)
    # A case in a migrant's token names nothing for them: only a family token's cases count.
    assert not may_read_case(Principal("m-2", "migrant", migrant_ref="PB-ABCD-EFGH",
                                       cases=("CLM-2026-CCCCCCCC",)), "CLM-2026-CCCCCCCC", WORKER)


def test_a_family_member_changes_nothing_and_owns_no_migrants_records():
    with pytest.raises(Forbidden, match="changes nothing"):
        check_may_act(HEIR)
    with pytest.raises(Forbidden, match="claims and complaints"):
        check_owner(HEIR, WORKER)
    check_may_act(Principal("m-1", "migrant", migrant_ref=WORKER))
    check_may_act(OPERATOR)


def test_named_cases_are_of_one_kind_each_once():
    family = Principal("p", "family", cases=("CMP-1", "CLM-1", "CLM-2", "CLM-1"))
    assert named_cases(family, "CLM-") == ["CLM-1", "CLM-2"]
    assert named_cases(family, "CMP-") == ["CMP-1"]


def _case(case_id, day, **fields):
    return {"_id": case_id, "created_at": datetime(2026, 11, day, tzinfo=timezone.utc), **fields}


def test_a_family_list_is_the_named_cases_that_exist_and_pass_newest_first_paged_by_position():
    stored = {c["_id"]: c for c in (_case("CLM-1", 1), _case("CLM-2", 3, status="paid"), _case("CLM-3", 2),
                                    _case("CLM-9", 5))}  # CLM-9 exists but is not named
    family = Principal("p", "family", cases=("CLM-1", "CLM-2", "CLM-3", "CLM-404", "CMP-1"))
    everything = named_cases_page(family, "CLM-", stored.get, lambda c: True, None, 10)
    assert [c["_id"] for c in everything] == ["CLM-2", "CLM-3", "CLM-1"]
    first = named_cases_page(family, "CLM-", stored.get, lambda c: True, None, 2)
    assert [c["_id"] for c in first] == ["CLM-2", "CLM-3"]
    after = [first[-1]["created_at"], first[-1]["_id"]]
    assert [c["_id"] for c in named_cases_page(family, "CLM-", stored.get, lambda c: True, after, 2)] == ["CLM-1"]
    assert [c["_id"] for c in named_cases_page(family, "CLM-", stored.get, lambda c: c.get("status") == "paid",
                                               None, 10)] == ["CLM-2"]
