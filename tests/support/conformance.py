"""Reference transcripts and the shape comparison of messages."""

from __future__ import annotations

import json
from typing import Any

from tests.support.paths import DATA
from tests.support.schema import SHARED

TRANSCRIPTS = SHARED / "reference" / "transcripts"
FALLBACK = DATA / "transcripts"


def load(name: str) -> list[dict[str, Any]]:
    path = TRANSCRIPTS / name
    if not path.exists():
        path = FALLBACK / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def key_shape(value: Any, depth: int = 2) -> Any:
    if isinstance(value, dict):
        if depth == 0:
            return sorted(value)
        return {k: key_shape(v, depth - 1) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [key_shape(value[0], depth)] if value and isinstance(value[0], dict) else "list"
    return "value"


def diff_shapes(ref: Any, ours: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(ref, dict) and isinstance(ours, dict):
        for key in sorted(set(ref) | set(ours)):
            if key not in ours:
                problems.append(f"{path}.{key}: missing in pycodex")
            elif key not in ref:
                problems.append(f"{path}.{key}: not sent by the reference")
            else:
                problems.extend(diff_shapes(ref[key], ours[key], f"{path}.{key}"))
    elif isinstance(ref, list) and isinstance(ours, list) and ref and ours:
        problems.extend(diff_shapes(ref[0], ours[0], f"{path}[0]"))
    elif isinstance(ref, list) and isinstance(ours, list) and ours != ref and "list" not in (
        ref, ours
    ):
        problems.append(f"{path}: list shapes differ")
    return problems
