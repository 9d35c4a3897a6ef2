"""Settings only the claims service has, read from the environment at start.

    CLAIMS_SECOND_APPROVAL_ABOVE   an approval above this many taka is a recommendation that a
                                   second officer approves (default 100000)
    CLAIMS_CATALOGUE               path of the claim-type catalogue (default: catalogue.json
                                   shipped in the package)

A bad value stops start-up instead of falling back silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

SECOND_APPROVAL_VAR = "CLAIMS_SECOND_APPROVAL_ABOVE"
CATALOGUE_VAR = "CLAIMS_CATALOGUE"


@dataclass(frozen=True)
class ClaimsConfig:
    second_approval_above: int = 100_000
    catalogue_path: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> "ClaimsConfig":
        env = os.environ if env is None else env
        raw = env.get(SECOND_APPROVAL_VAR, "").strip()
        try:
            threshold = int(raw) if raw else cls.second_approval_above
        except ValueError:
            raise ValueError(f"{SECOND_APPROVAL_VAR} must be a whole number of taka, got {raw!r}") from None
        if threshold < 0:
            raise ValueError(f"{SECOND_APPROVAL_VAR} must be 0 or more, got {threshold}")
        return cls(second_approval_above=threshold, catalogue_path=env.get(CATALOGUE_VAR) or None)
