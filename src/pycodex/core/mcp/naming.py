"""How MCP tools are named and shaped for the model (``extensions.md`` §1.5–1.6)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NAMESPACE_PREFIX", "model_parameters", "namespace_of", "sanitize"]

NAMESPACE_PREFIX = "mcp__"
_OUTSIDE = re.compile(r"[^A-Za-z0-9_]")


def sanitize(name: str) -> str:
    """Every character outside ``[A-Za-z0-9_]`` becomes ``_``."""
    return _OUTSIDE.sub("_", name)


def namespace_of(server: str) -> str:
    return NAMESPACE_PREFIX + sanitize(server)


def model_parameters(schema: Any) -> Any:
    """A tool's ``inputSchema`` as the model gets it: every ``title`` and ``$schema`` key
    removed, other keywords kept (property *names* called ``title`` stay)."""
    if isinstance(schema, list):
        return [model_parameters(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "$schema"):
            continue
        if key in ("properties", "patternProperties", "$defs", "definitions") and \
                isinstance(value, dict):
            out[key] = {name: model_parameters(sub) for name, sub in value.items()}
        else:
            out[key] = model_parameters(value)
    return out
