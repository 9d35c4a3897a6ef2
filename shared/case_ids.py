"""Case numbers: a prefix, the year and 8 random characters (no 0/O or 1/I to misread on a
phone or a receipt), e.g. CLM-2026-7KQ2M9XA. A clash is rare; the caller draws again."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_case_id(prefix: str, now: datetime | None = None) -> str:
    year = (now or datetime.now(timezone.utc)).year
    return f"{prefix}{year}-" + "".join(secrets.choice(ALPHABET) for _ in range(8))
