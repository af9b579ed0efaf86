"""Logging to stderr: human-readable by default, one JSON object per line with
``LOG_FORMAT=json``. Level from ``PYCODEX_LOG`` or ``RUST_LOG`` (error, warn, info, debug,
trace). Logs never go to stdout. Every line is passed through :func:`pycodex.redaction.redact`
(the one place logs are formatted), so secrets never reach them at any level."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from pycodex.log_buffer import RECENT
from pycodex.redaction import redact

_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "target": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = value
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(event, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {
            k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        }
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return redact(base)


def _level_from_env() -> int:
    spec = os.environ.get("PYCODEX_LOG") or os.environ.get("RUST_LOG") or "warn"
    # RUST_LOG may look like "info,codex_core=debug": take the first bare level.
    for part in spec.split(","):
        if "=" not in part and part.strip().lower() in _LEVELS:
            return _LEVELS[part.strip().lower()]
    return logging.WARNING


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler, RECENT]
    root.setLevel(_level_from_env())
