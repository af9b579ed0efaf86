"""Reading TOML files into plain data, layer versions, and parse-error locations."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOCATION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")
#: tomllib messages the reference (the ``toml`` crate) words differently, as observed.
_TOML_RS_WORDING = {
    "expected '=' after a key in a key/value pair": "key with no value, expected `=`",
}


@dataclass
class TomlFileError(Exception):
    """A config file that exists but cannot be used: where and why."""

    path: Path
    line: int
    column: int
    message: str
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"

    def range(self) -> dict[str, Any]:
        """The 1-based ``TextRange`` of the problem."""
        return {
            "start": {"line": self.line, "column": self.column},
            "end": {
                "line": self.end_line or self.line,
                "column": self.end_column or self.column,
            },
        }


def parse_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> TomlFileError:
    """Turn a ``tomllib`` error into a located :class:`TomlFileError`."""
    message = str(exc.args[0] if exc.args else exc)
    found = _LOCATION.search(message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()]
    else:
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        message = _AT_END.sub("", message)
    if message and message[0].isupper() and not message[:2].isupper():
        message = message[0].lower() + message[1:]
    message = _TOML_RS_WORDING.get(message, message)
    return TomlFileError(path, line, column, message)


def read_toml(path: Path) -> dict[str, Any] | None:
    """The file's table as plain data; ``None`` if it does not exist.

    Raises :class:`TomlFileError` for a file that exists but does not parse, and ``OSError``
    for other read failures.
    """
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    text = raw.decode("utf-8", errors="replace")
    return parse_toml(path, text)


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise parse_error(path, text, exc) from None


def to_json(value: Any) -> Any:
    """TOML data as JSON data (datetimes as the reference encodes them)."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return {"$__toml_private_datetime": _datetime_text(value)}
    return value


def _datetime_text(value: _dt.datetime | _dt.date | _dt.time) -> str:
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        if value.tzinfo is not None and value.utcoffset() == _dt.timedelta(0):
            text = text.removesuffix("+00:00") + "Z"
        return text
    return value.isoformat()


def version_of(table: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the layer's JSON with keys sorted recursively (compact)."""
    data = json.dumps(to_json(table), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()
