"""Settings only the complaints service has, read from the environment at start.

    COMPLAINTS_HEARING_CAP               hearings before another needs a reason (default 3, the charter's)
    COMPLAINTS_REOPEN_WINDOW_DAYS        days after closing within which a complaint may be reopened (90)
    COMPLAINTS_SCRUTINY_DAYS             target days for scrutiny (7)
    COMPLAINTS_ACKNOWLEDGEMENT_DAYS      target days to acknowledge (15)
    COMPLAINTS_DISPOSAL_DAYS             target days to dispose of a complaint (90, the charter's 3 months)
    COMPLAINTS_REFERRAL_DAYS             days a body to which a complaint is referred has (30)
    COMPLAINTS_CATEGORIES                path of the categories, channels and referral bodies file
                                         (default: categories.json shipped in the package)

A bad value stops start-up instead of falling back silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

# field name -> (variable, the least value that makes sense)
WHOLE_NUMBERS = {
    "hearing_cap": ("COMPLAINTS_HEARING_CAP", 1),
    "reopen_window_days": ("COMPLAINTS_REOPEN_WINDOW_DAYS", 0),
    "scrutiny_days": ("COMPLAINTS_SCRUTINY_DAYS", 1),
    "acknowledgement_days": ("COMPLAINTS_ACKNOWLEDGEMENT_DAYS", 1),
    "disposal_days": ("COMPLAINTS_DISPOSAL_DAYS", 1),
    "referral_days": ("COMPLAINTS_REFERRAL_DAYS", 1),
}
CATEGORIES_VAR = "COMPLAINTS_CATEGORIES"
MAX_DAYS = 3650


@dataclass(frozen=True)
class ComplaintsConfig:
    hearing_cap: int = 3
    reopen_window_days: int = 90
    scrutiny_days: int = 7
    acknowledgement_days: int = 15
    disposal_days: int = 90
    referral_days: int = 30
    categories_path: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> "ComplaintsConfig":
        env = os.environ if env is None else env
        values: dict = {}
        for name, (variable, least) in WHOLE_NUMBERS.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"{variable} must be a whole number, got {raw!r}") from None
            if not least <= value <= MAX_DAYS:
                raise ValueError(f"{variable} must be from {least} to {MAX_DAYS}, got {value}")
            values[name] = value
        return cls(**values, categories_path=env.get(CATEGORIES_VAR) or None)

    def target_days(self) -> dict:
        """What each complaint records at intake, so a later change of settings does not move its clocks."""
        return {"scrutiny": self.scrutiny_days, "acknowledgement": self.acknowledgement_days,
                "disposal": self.disposal_days}
