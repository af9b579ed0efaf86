"""Which hook handlers exist for a working directory, and whether each may run.

Per config layer, two equivalent forms: ``hooks.json`` beside the layer's ``config.toml``
and ``[hooks]`` tables inside it. The user layer is ``$CODEX_HOME``; project layers are the
``.codex`` folders from the project root down to the cwd and count only when the project
is trusted. A handler runs once the user config stores its current hash under
``[hooks.state."<key>"] trusted_hash``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import msgspec

from pycodex.config.layers import CONFIG_FILE, LayerStack, load_stack, system_dir
from pycodex.core.hooks.events import EVENTS, MATCHER_EVENTS, SHORT_EVENTS, snake

HOOKS_FILE = "hooks.json"
#: sources administrators control: their hooks run without being trusted
MANAGED_SOURCES = frozenset({"system"})
DEFAULT_TIMEOUT_SEC = 600
SHORT_TIMEOUT_MAX = 3

TrustStatus = Literal["managed", "untrusted", "trusted", "modified"]


class HookHandler(msgspec.Struct, frozen=True):
    key: str
    event: str
    """PascalCase config name (``PreToolUse``)."""
    command: str
    matcher: str | None
    timeout_sec: int
    status_message: str | None
    is_async: bool
    source: str
    """``system``, ``user`` or ``project``."""
    source_path: Path
    display_order: int
    current_hash: str
    trust_status: TrustStatus
    enabled: bool = True
    additional_context_limit: int | None = None

    @property
    def runnable(self) -> bool:
        return self.enabled and self.trust_status in ("trusted", "managed")


class HookProblem(msgspec.Struct, frozen=True):
    path: Path
    message: str


class HookSet(msgspec.Struct, frozen=True):
    handlers: tuple[HookHandler, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[HookProblem, ...] = ()
    """Problems reported as errors (the reference reports file problems as warnings)."""
    enabled: bool = True
    """False when ``[features] hooks = false``: nothing runs."""


class _Source(msgspec.Struct):
    kind: str
    path: Path
    table: dict[str, Any]


def discover(codex_home: Path, cwd: Path | None,
             cli_overrides: list[tuple[str, Any]] | None = None) -> HookSet:
    """The handlers of every layer visible from ``cwd``, numbered in listing order."""
    stack = load_stack(codex_home, list(cli_overrides or []), cwd)
    warnings: list[str] = []
    sources: list[_Source] = []
    for kind, folder, config_table in _layers(codex_home, stack):
        json_path = folder / HOOKS_FILE
        from_json = _read_json(json_path, warnings)
        inline = config_table.get("hooks") if isinstance(config_table, dict) else None
        inline_events = ({k: v for k, v in inline.items() if k != "state"}
                         if isinstance(inline, dict) else {})
        inline_events = {k: v for k, v in inline_events.items() if v}
        if from_json is not None:
            sources.append(_Source(kind, json_path, from_json))
        if inline_events:
            if from_json is not None:
                warnings.append(
                    f"loading hooks from both {json_path} and {folder / CONFIG_FILE}; "
                    "prefer a single representation for this layer")
            sources.append(_Source(kind, folder / CONFIG_FILE, inline_events))
    state = _trust_state(stack)
    handlers: list[HookHandler] = []
    for source in sources:
        handlers.extend(_handlers(source, len(handlers), state, warnings))
    return HookSet(handlers=tuple(handlers), warnings=tuple(warnings),
                   enabled=not hooks_off(stack.merged()))


def hooks_off(config: dict[str, Any]) -> bool:
    """True when a (merged or thread) config says ``features.hooks = false``."""
    features = config.get("features")
    return isinstance(features, dict) and features.get("hooks") is False


def _layers(codex_home: Path, stack: LayerStack) -> list[tuple[str, Path, dict[str, Any]]]:
    layers: list[tuple[str, Path, dict[str, Any]]] = []
    system = next((layer for layer in stack.layers if layer.kind == "system"), None)
    if system is not None and system.enabled:
        layers.append(("system", system_dir(), system.config))
    user = stack.user()
    layers.append(("user", codex_home, user.config if user is not None else {}))
    for layer in stack.layers:
        folder = layer.source.get("dotCodexFolder")
        if layer.kind == "project" and isinstance(folder, str) and layer.enabled:
            layers.append(("project", Path(folder), layer.config))
    return layers


def _read_json(path: Path, warnings: list[str]) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"failed to read hooks config {path}: {exc}")
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        warnings.append(f"failed to parse hooks config {path}: {_json_message(exc)}")
        return None
    hooks = data.get("hooks") if isinstance(data, dict) else None
    if not isinstance(hooks, dict):
        warnings.append(f"failed to parse hooks config {path}: expected an object with "
                        "a `hooks` object")
        return None
    return hooks


def _json_message(exc: json.JSONDecodeError) -> str:
    """serde_json's wording: ``expected value at line 1 column 33``."""
    message = re.sub(r"^Expecting", "expected", exc.msg)
    message = message[0].lower() + message[1:] if message else message
    return f"{message} at line {exc.lineno} column {exc.colno}"


def _trust_state(stack: LayerStack) -> dict[str, dict[str, Any]]:
    user = stack.user()
    hooks = user.config.get("hooks") if user is not None else None
    state = hooks.get("state") if isinstance(hooks, dict) else None
    if not isinstance(state, dict):
        return {}
    return {str(k): v for k, v in state.items() if isinstance(v, dict)}


def handler_hash(event: str, matcher: str | None, handler: dict[str, Any]) -> str:
    """The reference's trust hash: ``sha256:`` of the canonical JSON (sorted keys, compact)
    of the handler's normalized identity, so a hook trusted by either implementation is
    trusted by both."""
    normalized: dict[str, Any] = {
        "type": "command", "command": handler.get("command"),
        "timeout": timeout_for(event, handler), "async": handler.get("async") is True}
    if isinstance(handler.get("statusMessage"), str):
        normalized["statusMessage"] = handler["statusMessage"]
    identity: dict[str, Any] = {"event_name": snake(event), "hooks": [normalized]}
    if matcher is not None and event in MATCHER_EVENTS:
        identity["matcher"] = matcher
    import hashlib

    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def timeout_for(event: str, handler: dict[str, Any]) -> int:
    """A handler's timeout in seconds (``timeout``; at least 1, default 600; the events of
    an ending session get 1 by default and 3 at most)."""
    timeout = handler.get("timeout")
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        return 1 if event in SHORT_EVENTS else DEFAULT_TIMEOUT_SEC
    return min(max(1, timeout), SHORT_TIMEOUT_MAX) if event in SHORT_EVENTS else max(1, timeout)


def shape_problem(table: dict[str, Any]) -> str | None:
    """Why a hooks table cannot be read at all (the reference rejects the whole file when
    a handler lacks a field or has one of the wrong type), else ``None``."""
    for event in EVENTS:
        groups = table.get(event)
        if groups is None:
            continue
        if not isinstance(groups, list):
            return f"invalid type: expected a sequence for `{event}`"
        for group in groups:
            if not isinstance(group, dict):
                return "invalid type: expected a matcher group object"
            matcher = group.get("matcher")
            if matcher is not None and not isinstance(matcher, str):
                return "invalid type: expected a string for `matcher`"
            hooks = group.get("hooks", [])
            if not isinstance(hooks, list):
                return "invalid type: expected a sequence for `hooks`"
            for handler in hooks:
                problem = _handler_problem(handler)
                if problem is not None:
                    return problem
    return None


def _handler_problem(handler: Any) -> str | None:
    if not isinstance(handler, dict):
        return "invalid type: expected a hook handler object"
    kind = handler.get("type")
    if not isinstance(kind, str):
        return "missing field `type`"
    if kind == "command":
        if "command" not in handler:
            return "missing field `command`"
        if not isinstance(handler["command"], str):
            return "invalid type: expected a string for `command`"
    return None


def _handlers(source: _Source, first_order: int, state: dict[str, dict[str, Any]],
              warnings: list[str]) -> list[HookHandler]:
    problem = shape_problem(source.table)
    if problem is not None:
        warnings.append(f"failed to parse hooks config {source.path}: {problem}")
        return []
    out: list[HookHandler] = []
    for event in EVENTS:  # events the reference does not know are ignored
        for group_index, group in enumerate(source.table.get(event) or []):
            matcher = group.get("matcher")
            if matcher is not None and event in MATCHER_EVENTS:
                try:
                    re.compile(matcher)
                except re.error as exc:
                    warnings.append(f'invalid matcher "{matcher}" in {source.path}: {exc}')
                    continue
            for handler_index, raw in enumerate(group.get("hooks") or []):
                if raw["type"] != "command":
                    warnings.append(f"skipping {raw['type']} hook in {source.path}: "
                                    f"{raw['type']} hooks are not supported yet")
                    continue
                timeout = raw.get("timeout")
                if event in SHORT_EVENTS and isinstance(timeout, int) \
                        and timeout > SHORT_TIMEOUT_MAX:
                    warnings.append(f"clamping {event} hook timeout to {SHORT_TIMEOUT_MAX}s "
                                    f"in {source.path}")
                out.append(_handler(source, event, matcher, group_index, handler_index, raw,
                                    first_order + len(out), state))
    return out


def _handler(source: _Source, event: str, matcher: str | None, group_index: int,
             handler_index: int, raw: dict[str, Any], order: int,
             state: dict[str, dict[str, Any]]) -> HookHandler:
    timeout_sec = timeout_for(event, raw)
    status = raw.get("statusMessage")
    limit = raw.get("additionalContextLimit")
    key = f"{source.path}:{snake(event)}:{group_index}:{handler_index}"
    current = handler_hash(event, matcher, raw)
    entry = state.get(key, {})
    trusted = entry.get("trusted_hash")
    trust: TrustStatus = ("managed" if source.kind in MANAGED_SOURCES
                          else "untrusted" if not isinstance(trusted, str)
                          else "trusted" if trusted == current else "modified")
    return HookHandler(
        key=key, event=event, command=raw["command"],
        matcher=matcher if event in MATCHER_EVENTS else None,  # others ignore theirs
        timeout_sec=timeout_sec, status_message=status if isinstance(status, str) else None,
        is_async=raw.get("async") is True, source=source.kind,
        source_path=Path(os.path.normpath(source.path)), display_order=order,
        current_hash=current, trust_status=trust, enabled=entry.get("enabled") is not False,
        additional_context_limit=limit if isinstance(limit, int) and limit >= 0 else None)
