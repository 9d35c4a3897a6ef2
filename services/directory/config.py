"""Settings only the directory service has, read from the environment at start.

    DIRECTORY_SEED_FILE   the JSON file `python -m services.directory.seed` loads (default: the
                          seed.json kept in this package)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SHIPPED_SEED = Path(__file__).resolve().parent / "seed.json"


@dataclass(frozen=True)
class DirectoryConfig:
    seed_path: Path = SHIPPED_SEED

    @classmethod
    def from_env(cls, env: dict | None = None) -> "DirectoryConfig":
        env = os.environ if env is None else env
        raw = env.get("DIRECTORY_SEED_FILE", "").strip()
        return cls(seed_path=Path(raw) if raw else SHIPPED_SEED)
