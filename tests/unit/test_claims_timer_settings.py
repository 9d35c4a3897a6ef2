"""The overdue timer's settings and the queue's page queries, without I/O."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.claims.repository import DueQueue
from services.claims.timers import TimerConfig

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
EARLIER = datetime(2026, 11, 20, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 20, tzinfo=timezone.utc)


def test_timer_settings_default_and_read_from_the_environment():
    assert TimerConfig.from_env({}) == TimerConfig(60.0, 100)
    assert TimerConfig.from_env({"CLAIMS_TIMER_INTERVAL": "0.5", "CLAIMS_TIMER_BATCH": "10"}) == TimerConfig(0.5, 10)


@pytest.mark.parametrize("env", [{"CLAIMS_TIMER_INTERVAL": "soon"}, {"CLAIMS_TIMER_BATCH": "1.5"},
                                 {"CLAIMS_TIMER_INTERVAL": "0"}, {"CLAIMS_TIMER_BATCH": "0"}])
def test_timer_settings_that_cannot_work_stop_start_up(env):
    with pytest.raises(ValueError, match="CLAIMS_TIMER_"):
        TimerConfig.from_env(env)


def test_a_first_page_is_one_range_and_a_later_page_the_rest_of_its_due_date_then_later():
    assert DueQueue.page_queries({"status": "under_review"}, None, None) == [{"status": "under_review"}]
    assert DueQueue.page_queries({}, (True, NOW), None) == [{"due_order": {"$lte": NOW}}]
    assert DueQueue.page_queries({}, None, [EARLIER, "CLM-1"]) == [
        {"due_order": EARLIER, "_id": {"$gt": "CLM-1"}}, {"due_order": {"$gt": EARLIER}}]


def test_a_later_page_of_overdue_claims_stays_within_now():
    assert DueQueue.page_queries({}, (True, NOW), [EARLIER, "CLM-1"]) == [
        {"due_order": EARLIER, "_id": {"$gt": "CLM-1"}}, {"due_order": {"$gt": EARLIER, "$lte": NOW}}]
    # A cursor outside the filter (from another query) adds nothing outside it.
    assert DueQueue.page_queries({}, (True, NOW), [LATER, "CLM-1"]) == [{"due_order": {"$gt": LATER, "$lte": NOW}}]
    assert DueQueue.page_queries({}, (False, NOW), [EARLIER, "CLM-1"]) == [{"due_order": {"$gt": NOW}}]
    assert DueQueue.page_queries({}, (False, NOW), [LATER, "CLM-1"]) == [
        {"due_order": LATER, "_id": {"$gt": "CLM-1"}}, {"due_order": {"$gt": LATER}}]
