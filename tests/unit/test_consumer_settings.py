"""The consumer's settings are checked at start: a value that cannot work stops the
process with a message naming the variable, instead of losing events later."""
from __future__ import annotations

import pytest

from shared.config import ConfigError, Settings


def consumer_settings(**env) -> Settings:
    settings = Settings.from_env("probe", env)
    settings.check_consumer()
    return settings


def test_the_defaults_pass():
    settings = consumer_settings()
    assert settings.retry_delays_ms == (1000, 5000, 30000)
    assert settings.defer_limit_seconds > 0 and settings.inbox_retention_seconds >= 24 * 3600


def test_the_consumer_settings_are_read_from_the_environment():
    settings = consumer_settings(RETRY_DELAYS_MS="200, 400", DEFER_LIMIT_SECONDS="90",
                                 INBOX_RETENTION_SECONDS="86400")
    assert settings.retry_delays_ms == (200, 400)
    assert settings.defer_limit_seconds == 90 and settings.inbox_retention_seconds == 86400


@pytest.mark.parametrize("value, problem", [
    (",", "at least one"),
    (" , ", "at least one"),
    ("1000,abc", "whole numbers"),
    ("1.5", "whole numbers"),
    ("0", "between 1 and"),
    ("1000,-5", "between 1 and"),
    ("5000000000", "between 1 and"),
])
def test_retry_delays_that_cannot_work_are_refused(value, problem):
    with pytest.raises(ConfigError) as err:
        consumer_settings(RETRY_DELAYS_MS=value)
    assert "RETRY_DELAYS_MS" in str(err.value) and problem in str(err.value)


@pytest.mark.parametrize("env, name", [
    ({"DEFER_LIMIT_SECONDS": "-1"}, "DEFER_LIMIT_SECONDS"),
    ({"DEFER_LIMIT_SECONDS": "soon"}, "DEFER_LIMIT_SECONDS"),
    ({"INBOX_RETENTION_SECONDS": "0"}, "INBOX_RETENTION_SECONDS"),
    ({"INBOX_RETENTION_SECONDS": "a week"}, "INBOX_RETENTION_SECONDS"),
])
def test_other_consumer_settings_that_cannot_work_are_refused(env, name):
    with pytest.raises(ConfigError) as err:
        consumer_settings(**env)
    assert name in str(err.value)


def test_a_settings_object_built_in_code_is_checked_too():
    with pytest.raises(ConfigError, match="at least one"):
        Settings(service="probe", retry_delays_ms=()).check_consumer()
