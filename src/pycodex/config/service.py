"""The configuration service: the effective config for a cwd, from all layers, and the
``config/*`` operations on top of it.

Interface used by the rest of pycodex (keep it stable):

- ``ConfigService(codex_home, cli_overrides, server_cwd=None)``
- ``effective(cwd=None, overrides=None, profile=None) -> dict``: the merged config as plain
  Python data with config.toml's snake_case keys (only what the files and flags say, no
  defaults); ``overrides`` maps dotted keys to values (same meaning as ``-c key=value``) and
  wins over every file layer; the active profile (``profile`` or the ``profile`` key) is
  applied over the file layers. A config file that does not parse or has mistyped keys is
  skipped (start-up reports it through :meth:`startup_warnings`).
- ``require_usable(cwd=None)`` — raises the ``-32600 failed to load configuration: …``
  ``RpcError`` while a config file is broken (threads and turns ask before they start).
- ``user_config_path`` — ``$CODEX_HOME/config.toml``.
- ``add_reload_listener(fn)`` — ``fn()`` runs after a ``config/batchWrite`` with
  ``reloadUserConfig: true``; ``add_change_listener(fn)`` after every write that succeeded.

The environment variable ``PYCODEX_SYSTEM_CONFIG`` names the system config file (default
``/etc/codex/config.toml``); ``managed_config.toml`` and ``requirements.toml`` are read from
the same directory.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from pycodex.config.layers import (
    CONFIG_FILE,
    Layer,
    LayerStack,
    load_stack,
    requirements_path,
)
from pycodex.config.schema import ConfigTypeError, config_view, validate
from pycodex.config.toml_io import TomlFileError, parse_toml
from pycodex.config.tree import MISSING, deep_merge, set_dotted, value_at
from pycodex.protocol.errors import invalid_request

__all__ = [
    "ConfigError",
    "ConfigService",
    "ConfigWriteError",
    "Edit",
    "deep_merge",
    "set_dotted",
]

INVALID_SUMMARY = "Invalid configuration; using defaults."


class ConfigError(Exception):
    """A failure answered with an internal error (-32603) and this message."""


class ConfigWriteError(Exception):
    """A rejected write: answered with -32600, the message and
    ``data: {"config_write_error_code": code}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Edit(msgspec.Struct):
    key_path: str
    value: Any
    merge_strategy: str  # "replace" | "upsert"


class ConfigService:
    def __init__(
        self,
        codex_home: Path,
        cli_overrides: list[tuple[str, Any]] | None = None,
        server_cwd: Path | None = None,
    ) -> None:
        self.codex_home = Path(codex_home)
        self.cli_overrides = list(cli_overrides or [])
        self.server_cwd = server_cwd or Path.cwd()
        self._write_lock = asyncio.Lock()
        self._reload_listeners: list[Callable[[], Any]] = []
        self._change_listeners: list[Callable[[], Any]] = []

    # -- paths and layers ------------------------------------------------------------------

    @property
    def user_config_path(self) -> Path:
        return self.codex_home / CONFIG_FILE

    def add_reload_listener(self, listener: Callable[[], Any]) -> None:
        self._reload_listeners.append(listener)

    def add_change_listener(self, listener: Callable[[], Any]) -> None:
        self._change_listeners.append(listener)

    def resolve_cwd(self, cwd: str | Path) -> Path:
        path = Path(cwd)
        if not path.is_absolute():
            path = self.server_cwd / path
        return Path(os.path.normpath(path))

    def stack(self, cwd: Path | None = None) -> LayerStack:
        return load_stack(self.codex_home, self.cli_overrides, cwd)

    # -- the engine's view -----------------------------------------------------------------

    def effective(
        self,
        cwd: Path | None = None,
        overrides: dict[str, Any] | None = None,
        profile: str | None = None,
    ) -> dict[str, Any]:
        stack = self.stack(cwd)
        files: dict[str, Any] = {}
        flags: dict[str, Any] = {}
        managed: dict[str, Any] = {}
        for layer in stack.enabled():
            if not _valid(layer.config):
                continue
            if layer.kind == "sessionFlags":
                flags = deep_merge(flags, layer.config)
            elif layer.kind.startswith("legacyManaged"):
                managed = deep_merge(managed, layer.config)
            else:
                files = deep_merge(files, layer.config)
        extra: dict[str, Any] = {}
        for key, value in (overrides or {}).items():
            set_dotted(extra, key, value)
        top = deep_merge(deep_merge(flags, extra), managed)
        merged = deep_merge(files, top)
        name = profile or merged.get("profile")
        profiles = merged.get("profiles")
        if isinstance(name, str) and isinstance(profiles, dict):
            chosen = profiles.get(name)
            if isinstance(chosen, dict):
                merged = deep_merge(deep_merge(files, chosen), top)
        return merged

    # -- config/read -----------------------------------------------------------------------

    def read(self, *, include_layers: bool = False, cwd: str | None = None) -> dict[str, Any]:
        stack = self.stack(self.resolve_cwd(cwd) if cwd is not None else None)
        for layer in stack.layers:
            # A file that does not parse or has a mistyped key is shown, disabled with its
            # problem, and the others still answer: a client can read the config to repair it
            # (threads and turns are refused meanwhile, see ``require_usable``).
            problem = layer.error or _type_problem(layer)
            if problem is not None and layer.disabled_reason is None:
                layer.disabled_reason = f"failed to load configuration: {problem}"
                layer.error = layer.error or problem
        merged = stack.merged()
        try:
            validate(merged)
        except ConfigTypeError as exc:
            raise ConfigError(f"invalid configuration: {exc}") from None
        result: dict[str, Any] = {"config": config_view(merged), "origins": stack.origins()}
        if include_layers:
            result["layers"] = [layer.wire() for layer in stack.highest_first()]
        return result

    # -- configRequirements/read -----------------------------------------------------------

    def requirements(self) -> dict[str, Any] | None:
        from pycodex.config.requirements import load_requirements, requirements_wire

        try:
            raw = load_requirements(requirements_path())
        except (TomlFileError, OSError) as exc:
            raise ConfigError(f"failed to read configuration layers: {exc}") from None
        return requirements_wire(raw)

    def _feature_pins(self) -> dict[str, bool]:
        from pycodex.config.requirements import feature_pins, load_requirements

        try:
            return feature_pins(load_requirements(requirements_path()))
        except (TomlFileError, OSError):
            return {}

    # -- config/value/write and config/batchWrite ------------------------------------------

    async def write(
        self,
        edits: list[Edit],
        *,
        file_path: str | None = None,
        expected_version: str | None = None,
        reload_user_config: bool = False,
    ) -> dict[str, Any]:
        """Apply ``edits`` to the user config in one atomic write; the ``ConfigWriteResponse``."""
        if file_path is not None and not self._is_user_config(file_path):
            raise ConfigWriteError(
                "configLayerReadonly", "Only writes to the user config are allowed"
            )
        from pycodex.config.edit import file_lock

        async with self._write_lock:

            def locked() -> dict[str, Any]:
                with file_lock(self.user_config_path):
                    return self._write_blocking(edits, expected_version)

            result = await asyncio.to_thread(locked)
        for listener in self._change_listeners:
            listener()
        if reload_user_config:
            for listener in self._reload_listeners:
                listener()
        return result

    def _is_user_config(self, file_path: str) -> bool:
        provided = Path(file_path)
        if not provided.is_absolute():
            provided = self.server_cwd / provided
        return os.path.realpath(provided) == os.path.realpath(self.user_config_path)

    def _write_blocking(self, edits: list[Edit], expected_version: str | None) -> dict[str, Any]:
        import tomlkit

        from pycodex.config.edit import clear_path, set_path, write_atomically

        path = self.user_config_path
        stack = self.stack()
        user = stack.user()
        assert user is not None
        if user.error is not None:
            raise ConfigError(f"failed to load configuration: {user.error}")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
            write_atomically(path, text)
        except OSError as exc:
            raise ConfigError(f"failed to read user config.toml: {exc}") from None
        if expected_version is not None and expected_version != user.version:
            raise ConfigWriteError(
                "configVersionConflict",
                "Configuration was modified since last read. Fetch latest version and retry.",
            )

        table = copy.deepcopy(user.config)
        changes: list[tuple[list[str], Any]] = []
        edited: list[list[str]] = []
        for edit in edits:
            segments = _key_segments(edit.key_path)
            value = _toml_value(edit.value)
            before = value_at(table, segments)
            _apply(table, segments, value, edit.merge_strategy)
            after = value_at(table, segments)
            both_missing = before is MISSING and after is MISSING
            if not both_missing and (before is MISSING or after is MISSING or before != after):
                changes.append((segments, after))
            edited.append(segments)

        updated = stack.with_user_config(table)
        try:
            validate(table)
            self._check_feature_pins(table)
            validate(updated.merged())
        except ConfigTypeError as exc:
            raise ConfigWriteError(
                "configValidationError", f"Invalid configuration: {exc}"
            ) from None

        if changes:
            doc = tomlkit.parse(text)
            for segments, after in changes:
                if after is MISSING:
                    clear_path(doc, segments)
                else:
                    set_path(doc, segments, after)
            new_text = _tidy_end(text, doc.as_string())
            try:
                written = parse_toml(path, new_text)
            except TomlFileError as exc:  # pragma: no cover - tomlkit produced bad TOML
                raise ConfigError(f"failed to persist config.toml: {exc}") from None
            write_atomically(path, new_text)
            updated = stack.with_user_config(written)

        new_user = updated.user()
        assert new_user is not None
        overridden = _first_override(updated, edited)
        return {
            "status": "okOverridden" if overridden else "ok",
            "version": new_user.version,
            "filePath": str(path),
            "overriddenMetadata": overridden,
        }

    def _check_feature_pins(self, table: dict[str, Any]) -> None:
        features = table.get("features")
        if not isinstance(features, dict):
            return
        for name, pinned in self._feature_pins().items():
            if name in features and features[name] != pinned:
                raise ConfigTypeError(
                    f"features.{name}",
                    f"feature `{name}` is pinned to `{str(pinned).lower()}` by requirements",
                )

    # -- start-up --------------------------------------------------------------------------

    def problems(self, cwd: Path | None = None) -> list[TomlFileError]:
        """Config files that cannot be used as they are (do not parse, or mistyped keys)."""
        found = (layer.error or _type_problem(layer) for layer in self.stack(cwd).layers)
        return [problem for problem in found if problem is not None]

    def require_usable(self, cwd: str | Path | None = None) -> None:
        """Raise the reference's ``failed to load configuration`` error while a config file
        is broken: a thread must not silently fall back to defaults (e.g. send the user's
        code to the built-in provider instead of the configured one)."""
        problems = self.problems(self.resolve_cwd(cwd) if cwd is not None else None)
        if problems:
            raise invalid_request(f"failed to load configuration: {problems[0]}")

    def startup_warnings(self) -> list[dict[str, Any]]:
        """``configWarning`` params for config files that cannot be used as they are."""
        return [
            {
                "summary": INVALID_SUMMARY,
                "details": str(problem),
                "path": str(problem.path),
                "range": problem.range(),
            }
            for problem in self.problems()
        ]


def _tidy_end(old: str, new: str) -> str:
    """Drop blank lines a removed table left at the end of the file."""
    if new.endswith("\n\n") and not old.endswith("\n\n"):
        return new.rstrip("\n") + "\n"
    return new


def _valid(table: dict[str, Any]) -> bool:
    try:
        validate(table)
    except ConfigTypeError:
        return False
    return True


def _type_problem(layer: Layer) -> TomlFileError | None:
    file = layer.source.get("file")
    if not file:
        return None
    try:
        validate(layer.config)
    except ConfigTypeError as exc:
        path = Path(file)
        line, column = _locate(path, exc.path)
        return TomlFileError(path, line, column, exc.detail)
    return None


def _locate(path: Path, dotted: str) -> tuple[int, int]:
    """Best-effort 1-based position of the value of ``dotted`` in the file's text."""
    import re

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1, 1
    parts = dotted.split(".")
    table, key = ".".join(parts[:-1]), parts[-1]
    current = ""
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for number, line in enumerate(lines, start=1):
        found = header.match(line)
        if found:
            current = found.group(1).replace('"', "").replace(" ", "")
            continue
        assignment = re.match(rf'^\s*("?){re.escape(key)}\1\s*=\s*', line)
        if assignment and current == table:
            return number, assignment.end() + 1
    return 1, 1


def _key_segments(key_path: str) -> list[str]:
    if not key_path.strip():
        raise ConfigWriteError("configValidationError", "keyPath must not be empty")
    if '"' not in key_path:
        return key_path.split(".")
    # a double-quoted segment is one key, dots included: hooks.state."<path>:stop:0:0"
    segments, current, quoted = [], "", False
    for char in key_path:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            segments.append(current)
            current = ""
        else:
            current += char
    segments.append(current)
    return segments


def _toml_value(value: Any) -> Any:
    """Check that a non-null JSON value can be TOML (no nulls inside, 64-bit integers)."""

    def check(item: Any) -> None:
        if item is None:
            raise ConfigWriteError(
                "configValidationError",
                "invalid value: invalid type: null, expected any valid TOML value",
            )
        if isinstance(item, int) and not isinstance(item, bool) and not (-(2**63) <= item < 2**63):
            raise ConfigWriteError(
                "configValidationError",
                f"invalid value: integer `{item}` is out of range for a TOML integer",
            )
        if isinstance(item, dict):
            for child in item.values():
                check(child)
        elif isinstance(item, list):
            for child in item:
                check(child)

    if value is not None:
        check(value)
    return copy.deepcopy(value)


def _apply(table: dict[str, Any], segments: list[str], value: Any, strategy: str) -> None:
    *parents, last = segments
    if value is None:
        node: Any = table
        for segment in parents:
            if not isinstance(node, dict) or segment not in node:
                return  # removing something that is not there: nothing to do
            node = node[segment]
        if isinstance(node, dict):
            node.pop(last, None)
        return
    node = table
    for segment in parents:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child
    existing = node.get(last)
    if strategy == "upsert" and isinstance(existing, dict) and isinstance(value, dict):
        node[last] = deep_merge(existing, value)
    else:
        node[last] = value


def _override_message(source: dict[str, Any]) -> str:
    kind = source["type"]
    if kind == "mdm":
        return f"Overridden by managed policy (MDM): {source['domain']}"
    if kind == "system":
        return f"Overridden by managed config (system): {source['file']}"
    if kind == "project":
        return f"Overridden by project config: {source['dotCodexFolder']}/{CONFIG_FILE}"
    if kind == "sessionFlags":
        return "Overridden by session flags"
    if kind == "user":
        return f"Overridden by user config: {source['file']}"
    if kind == "legacyManagedConfigTomlFromFile":
        return f"Overridden by legacy managed_config.toml: {source['file']}"
    return "Overridden by legacy managed configuration from MDM"


def _first_override(stack: LayerStack, edited: list[list[str]]) -> dict[str, Any] | None:
    user = stack.user()
    if user is None:
        return None
    merged = stack.merged()
    for segments in edited:
        mine = value_at(user.config, segments)
        effective = value_at(merged, segments)
        if mine is not MISSING and mine == effective:
            continue
        if mine is MISSING and effective is MISSING:
            continue
        for layer in reversed(list(stack.enabled())):
            if value_at(layer.config, segments) is not MISSING:
                from pycodex.config.toml_io import to_json

                return {
                    "message": _override_message(layer.source),
                    "overridingLayer": layer.metadata(),
                    "effectiveValue": None if effective is MISSING else to_json(effective),
                }
    return None
