"""Settings only the documents service has, read from the environment at start.

    DOCUMENT_MAX_BYTES   largest file accepted, in bytes (default 20 MiB)
    DOCUMENT_TYPES       comma-separated document-type codes (see doctypes.py)

A bad value stops start-up instead of falling back silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .doctypes import DEFAULT_CODES, ENV_VAR as TYPES_VAR, load_document_types

MAX_BYTES_VAR = "DOCUMENT_MAX_BYTES"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class DocumentsConfig:
    max_bytes: int = DEFAULT_MAX_BYTES
    doc_types: tuple[str, ...] = DEFAULT_CODES

    @classmethod
    def from_env(cls, env: dict | None = None) -> "DocumentsConfig":
        env = os.environ if env is None else env
        raw = env.get(MAX_BYTES_VAR, "").strip()
        try:
            max_bytes = int(raw) if raw else DEFAULT_MAX_BYTES
        except ValueError:
            raise ValueError(f"{MAX_BYTES_VAR} must be a whole number of bytes, got {raw!r}") from None
        if max_bytes < 1:
            raise ValueError(f"{MAX_BYTES_VAR} must be positive, got {max_bytes}")
        return cls(max_bytes=max_bytes, doc_types=load_document_types(env.get(TYPES_VAR)))
