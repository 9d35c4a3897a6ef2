"""Claims settings: a bad value stops start-up instead of falling back silently."""
from __future__ import annotations

import pytest

from services.claims.config import ClaimsConfig


def test_defaults_and_values_from_the_environment():
    assert ClaimsConfig.from_env({}) == ClaimsConfig(second_approval_above=100_000, catalogue_path=None)
    assert ClaimsConfig.from_env({"CLAIMS_SECOND_APPROVAL_ABOVE": "50000", "CLAIMS_CATALOGUE": "/etc/c.json"}) == \
        ClaimsConfig(second_approval_above=50_000, catalogue_path="/etc/c.json")


@pytest.mark.parametrize("value", ["one lakh", "-1", "1e5"])
def test_a_threshold_that_is_not_a_whole_number_of_taka_is_refused(value):
    with pytest.raises(ValueError, match="CLAIMS_SECOND_APPROVAL_ABOVE"):
        ClaimsConfig.from_env({"CLAIMS_SECOND_APPROVAL_ABOVE": value})
