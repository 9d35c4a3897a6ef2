"""JSON log lines, each carrying the service and the current request/correlation ids."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from shared import context

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace = context.current()
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if trace.request_id:
            line["request_id"] = trace.request_id
        if trace.correlation_id:
            line["correlation_id"] = trace.correlation_id
        # Anything passed as `extra=` becomes a field of its own.
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pika and kombu narrate every frame at INFO; their warnings are still shown.
    for noisy in ("pika", "kombu", "amqp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
