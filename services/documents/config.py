"""Settings only the documents service has, read from the environment at start.

    DOCUMENT_MAX_BYTES                 largest file accepted, in bytes (default 20 MiB)
    DOCUMENT_TYPES                     comma-separated document-type codes (see doctypes.py)
    DOCUMENT_VERIFY_INTERVAL_SECONDS   how often a migrant may run the full verify of their
                                       documents, which re-reads every stored byte (default 600)
    DOCUMENT_SWEEP_INTERVAL_SECONDS    how often the consumer process sweeps content no
                                       committed record keeps (default 300)

A bad value stops start-up instead of falling back silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from .doctypes import DEFAULT_CODES, ENV_VAR as TYPES_VAR, load_document_types

MAX_BYTES_VAR = "DOCUMENT_MAX_BYTES"
VERIFY_INTERVAL_VAR = "DOCUMENT_VERIFY_INTERVAL_SECONDS"
SWEEP_INTERVAL_VAR = "DOCUMENT_SWEEP_INTERVAL_SECONDS"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def _positive_int(env: dict, name: str, default: int, unit: str) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number of {unit}, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class DocumentsConfig:
    max_bytes: int = DEFAULT_MAX_BYTES
    doc_types: tuple[str, ...] = DEFAULT_CODES
    verify_interval: timedelta = timedelta(minutes=10)
    sweep_interval: timedelta = timedelta(minutes=5)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "DocumentsConfig":
        env = os.environ if env is None else env
        return cls(max_bytes=_positive_int(env, MAX_BYTES_VAR, DEFAULT_MAX_BYTES, "bytes"),
                   doc_types=load_document_types(env.get(TYPES_VAR)),
                   verify_interval=timedelta(seconds=_positive_int(env, VERIFY_INTERVAL_VAR, 600, "seconds")),
                   sweep_interval=timedelta(seconds=_positive_int(env, SWEEP_INTERVAL_VAR, 300, "seconds")))
