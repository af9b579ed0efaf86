"""The engine's shape, checked from its source and its tables: no method names in core,
every core module importable on its own, every typed event registered under exactly one
method and field-compatible with the 0.171 schema, engine errors mapped in one place."""

from __future__ import annotations

import ast
import gzip
import json
import subprocess
import sys
from functools import cache
from typing import Any

import msgspec
import pytest

from pycodex.api.engine_host import method_of
from pycodex.api.errors import rpc_error
from pycodex.core import errors
from pycodex.core.host import ClientAnswerError
from pycodex.protocol.errors import RpcError
from pycodex.protocol.types import client_requests, server_notifications, turns
from tests.support import paths
from tests.support.schema import BUNDLE as SCHEMA_0171

CORE = paths.ROOT / "src" / "pycodex" / "core"
#: core modules owned by other work that still name methods (remove when they are typed)
NOT_YET_TYPED: set[str] = set()


def _method_names() -> set[str]:
    names = set(client_requests()) | set(server_notifications())
    names |= {spec.name for spec in turns.SERVER_REQUESTS}
    return {name for name in names if "/" in name}


def test_core_spells_no_method_name() -> None:
    methods = _method_names()
    found: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        if path.relative_to(CORE).as_posix() in NOT_YET_TYPED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in methods:
                found.append(f"{path.relative_to(CORE)}:{node.lineno}: {node.value!r}")
    assert found == []


def _core_modules() -> list[str]:
    root = CORE.parents[1]
    out = []
    for path in sorted(CORE.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append(".".join(parts))
    return out


def test_every_core_module_imports_on_its_own() -> None:
    """Each module imported first, with no pycodex module loaded: an import cycle fails."""
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {_core_modules()!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('pycodex')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == ""


def _engine_types() -> list[tuple[str, type]]:
    """The notifications and server requests of running turns (``turns`` includes the
    ``items`` ones)."""
    pairs = list(turns.NOTIFICATIONS.items())
    pairs += [(spec.name, spec.params) for spec in turns.SERVER_REQUESTS]
    return pairs


@pytest.mark.parametrize(("method", "params"), _engine_types(),
                         ids=[method for method, _ in _engine_types()])
def test_typed_event_is_sent_under_its_method(method: str, params: type) -> None:
    instance = msgspec.convert(_sample(params), params)
    assert method_of(instance) == method


@cache
def _schema() -> dict[str, Any]:
    with gzip.open(SCHEMA_0171) as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _params_def(method: str) -> dict[str, Any]:
    defs = _schema()["definitions"]
    for union in ("ServerNotification", "ServerRequest"):
        for variant in defs[union]["oneOf"]:
            if variant["properties"]["method"]["enum"] == [method]:
                ref = variant["properties"]["params"]["$ref"].split("/")[2:]
                node = defs
                for part in ref:
                    node = node[part]
                return node
    raise AssertionError(f"{method} is not a 0.171 server notification or request")


@pytest.mark.skipif(not SCHEMA_0171.exists(), reason="0.171 schema bundle not available")
@pytest.mark.parametrize(("method", "params"), _engine_types(),
                         ids=[method for method, _ in _engine_types()])
def test_typed_event_fields_match_the_0171_schema(method: str, params: type) -> None:
    schema = _params_def(method)
    ours = {field.encode_name for field in msgspec.structs.fields(params)}
    assert ours <= set(schema.get("properties", {}))
    assert set(schema.get("required", [])) <= ours


def _sample(params: type) -> dict[str, Any]:
    """The smallest params value of a struct type (required fields only)."""
    out: dict[str, Any] = {}
    config = params.__struct_config__  # type: ignore[attr-defined]
    if config.tag_field is not None:
        out[config.tag_field] = config.tag
    for field in msgspec.structs.fields(params):
        if field.required:
            out[field.encode_name] = _value(field.type)
    return out


def _value(kind: Any) -> Any:
    samples = {str: "x", int: 0, bool: False}
    if kind in samples:
        return samples[kind]
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return _sample(kind)
    origin = getattr(kind, "__origin__", None)
    if origin is list:
        return []
    if origin is dict:
        return {}
    args = getattr(kind, "__args__", ())
    if args:  # a union or a literal: its first member
        first = args[0]
        return first if isinstance(first, str) else _value(first)
    return None


@pytest.mark.parametrize(("error", "code"), [
    (errors.NotFound("thread not found: t"), -32600),
    (errors.InvalidInput("bad"), -32600),
    (errors.TurnNotActive("no active turn to steer", {"reason": "noActiveTurn"}), -32600),
    (errors.Conflict("busy"), -32603),
    (errors.Unavailable("gone"), -32603),
    (ClientAnswerError("no client is connected to answer"), -32603),
])
def test_engine_errors_map_to_their_json_rpc_error(error: errors.CodexError,
                                                   code: int) -> None:
    mapped = rpc_error(error)
    assert mapped is not None
    assert mapped.to_wire() == {"code": code, "message": error.message,
                                **({"data": error.data} if error.data is not None else {})}


def test_other_exceptions_are_not_engine_errors() -> None:
    assert rpc_error(ValueError("x")) is None
    answer = RpcError(-32602, "bad params")
    assert rpc_error(answer) is answer
