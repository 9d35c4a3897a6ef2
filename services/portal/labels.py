"""Names of document types, from the documents service's public list, kept a few minutes per process."""
from __future__ import annotations

import threading
import time

from flask import current_app

from . import i18n
from .backends import BackendDown

KEEP_SECONDS = 300
_lock = threading.Lock()


def document_types() -> dict:
    """{code: {label_en, label_bn}}; empty while the documents service is away (names then come from codes)."""
    cache = current_app.extensions.setdefault("portal.document_types", {"at": 0.0, "items": {}})
    with _lock:
        if time.monotonic() - cache["at"] < KEEP_SECONDS:
            return cache["items"]
    try:
        answer = current_app.config["BACKENDS"].documents.get("/document-types")
    except BackendDown:
        return cache["items"]
    items = {item["code"]: item for item in answer.get("items", [])}
    with _lock:
        cache.update(at=time.monotonic(), items=items)
    return items


def document_name(code: str) -> str:
    label = document_types().get(code)
    if label:
        return label["label_bn"] if i18n.lang() == "bn" else label["label_en"]
    return code.replace("_", " ").capitalize()  # a type the vault did not tell us about (or it is away)
