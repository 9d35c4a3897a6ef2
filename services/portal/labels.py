"""Names the services publish (document types from the vault, districts from registration),
kept a few minutes per process, so pages name things in the reader's language."""
from __future__ import annotations

import threading
import time

from flask import current_app

from . import i18n
from .backends import BackendDown, BackendError

KEEP_SECONDS = 300
_lock = threading.Lock()


def _published(backend: str, path: str, key: str) -> dict:
    """{item[key]: item} of a service's public list; the last one known (or empty) while it is away."""
    cache = current_app.extensions.setdefault(f"portal.{backend}{path}", {"at": 0.0, "items": {}})
    with _lock:
        if time.monotonic() - cache["at"] < KEEP_SECONDS:
            return cache["items"]
    try:
        answer = getattr(current_app.config["BACKENDS"], backend).get(path)
    except (BackendDown, BackendError):  # away, or a version without the list: names as spelt
        return cache["items"]
    items = {item[key]: item for item in answer.get("items", [])}
    with _lock:
        cache.update(at=time.monotonic(), items=items)
    return items


def document_types() -> dict:
    """{code: {label_en, label_bn}}; empty while the documents service is away (names then come from codes)."""
    return _published("documents", "/document-types", "code")


def document_name(code: str) -> str:
    label = document_types().get(code)
    if label:
        return label["label_bn"] if i18n.lang() == "bn" else label["label_en"]
    return code.replace("_", " ").capitalize()  # a type the vault did not tell us about (or it is away)


def district_name(name: str | None) -> str:
    """A district as registration spells it, in Bangla on Bangla pages (as spelt while registration is away)."""
    if not name or i18n.lang() != "bn":
        return name or ""
    found = _published("registration", "/districts", "name").get(name)
    return found["name_bn"] if found else name
