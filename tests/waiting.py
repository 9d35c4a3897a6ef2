"""Polling for something another thread or process will make true."""
from __future__ import annotations

import time


def wait_for(condition, timeout: float = 15.0, message="condition not met", interval: float = 0.05) -> None:
    """Return once `condition()` is true; fail with `message` (or `message()`) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(message() if callable(message) else message)
