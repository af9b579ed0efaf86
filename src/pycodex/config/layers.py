"""The configuration layer stack: which files contribute, in which order, and what they say.

Lowest to highest precedence: ``system`` (``/etc/codex/config.toml``, or the file named by
the ``PYCODEX_SYSTEM_CONFIG`` environment variable), ``user`` (``$CODEX_HOME/config.toml``),
``project`` (each ``.codex/`` folder from the project root down to the cwd; only with a cwd,
and only enabled when the project is trusted), ``sessionFlags`` (``-c key=value``) and
``legacyManagedConfigTomlFromFile`` (``managed_config.toml`` next to the system config, or
``CODEX_MANAGED_CONFIG_PATH``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from pycodex.config.toml_io import TomlFileError, read_toml, to_json, version_of
from pycodex.config.tree import deep_merge, set_dotted

DEFAULT_SYSTEM_CONFIG = Path("/etc/codex/config.toml")
SYSTEM_CONFIG_ENV = "PYCODEX_SYSTEM_CONFIG"
MANAGED_CONFIG_ENV = "CODEX_MANAGED_CONFIG_PATH"
CONFIG_FILE = "config.toml"


def system_config_path() -> Path:
    override = os.environ.get(SYSTEM_CONFIG_ENV)
    return Path(override) if override else DEFAULT_SYSTEM_CONFIG


def system_dir() -> Path:
    return system_config_path().parent


def managed_config_path() -> Path:
    override = os.environ.get(MANAGED_CONFIG_ENV)
    return Path(override) if override else system_dir() / "managed_config.toml"


def requirements_path() -> Path:
    return system_dir() / "requirements.toml"


class Layer(msgspec.Struct):
    """One layer: its ``ConfigLayerSource`` (wire form), raw table and state."""

    source: dict[str, Any]
    config: dict[str, Any]
    disabled_reason: str | None = None
    error: TomlFileError | None = None
    #: derived from ``config`` (any value given is replaced)
    version: str = ""

    def __post_init__(self) -> None:
        self.version = version_of(self.config)

    @property
    def kind(self) -> str:
        return str(self.source["type"])

    @property
    def enabled(self) -> bool:
        return self.disabled_reason is None and self.error is None

    def metadata(self) -> dict[str, Any]:
        return {"name": self.source, "version": self.version}

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.source,
            "version": self.version,
            "config": to_json(self.config),
        }
        if self.disabled_reason is not None:
            out["disabledReason"] = self.disabled_reason
        return out


def _file_layer(source: dict[str, Any], path: Path, *, always: bool) -> Layer | None:
    try:
        table = read_toml(path)
    except TomlFileError as exc:
        return Layer(source, {}, error=exc)
    except OSError:
        table = None
    if table is None and not always:
        return None
    return Layer(source, table or {})


def flags_table(overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for key, value in overrides:
        set_dotted(table, key, value)
    return table


class LayerStack(msgspec.Struct):
    """Layers lowest precedence first."""

    layers: list[Layer]

    def enabled(self) -> Iterator[Layer]:
        return (layer for layer in self.layers if layer.enabled)

    def user(self) -> Layer | None:
        return next((layer for layer in self.layers if layer.kind == "user"), None)

    def errors(self) -> list[TomlFileError]:
        return [layer.error for layer in self.layers if layer.error is not None]

    def merged(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for layer in self.enabled():
            out = deep_merge(out, layer.config)
        return out

    def highest_first(self) -> list[Layer]:
        return list(reversed(self.layers))

    def origins(self) -> dict[str, dict[str, Any]]:
        """Dotted path of every leaf → metadata of the highest layer that set it."""
        out: dict[str, dict[str, Any]] = {}
        for layer in self.enabled():
            meta = layer.metadata()
            for path in _leaf_paths(layer.config, ""):
                out[path] = meta
        return out

    def with_user_config(self, table: dict[str, Any]) -> LayerStack:
        layers = []
        for layer in self.layers:
            if layer.kind == "user":
                layer = Layer(layer.source, table)
            layers.append(layer)
        return LayerStack(layers)


def _leaf_paths(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_paths(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaf_paths(child, f"{prefix}.{index}")
    else:
        yield prefix


def load_stack(
    codex_home: Path,
    cli_overrides: list[tuple[str, Any]],
    cwd: Path | None = None,
) -> LayerStack:
    """Read every layer from disk (project layers only when ``cwd`` is given)."""
    system = system_config_path()
    user_path = codex_home / CONFIG_FILE
    layers: list[Layer] = []
    system_layer = _file_layer({"type": "system", "file": str(system)}, system, always=True)
    assert system_layer is not None
    layers.append(system_layer)
    user_layer = _file_layer(
        {"type": "user", "file": str(user_path), "profile": None}, user_path, always=True
    )
    assert user_layer is not None
    layers.append(user_layer)
    if cwd is not None:
        base = LayerStack(layers + _flag_layers(cli_overrides)).merged()
        layers.extend(_project_layers(cwd, base, user_path))
    layers.extend(_flag_layers(cli_overrides))
    managed = managed_config_path()
    managed_layer = _file_layer(
        {"type": "legacyManagedConfigTomlFromFile", "file": str(managed)}, managed, always=False
    )
    if managed_layer is not None:
        layers.append(managed_layer)
    return LayerStack(layers)


def _flag_layers(cli_overrides: list[tuple[str, Any]]) -> list[Layer]:
    if not cli_overrides:
        return []
    return [Layer({"type": "sessionFlags"}, flags_table(cli_overrides))]


def _is_marker(directory: Path, marker: str) -> bool:
    candidate = directory / marker
    if marker == ".git":
        # A real repository: a gitdir with HEAD, or a worktree/submodule ``.git`` file.
        return candidate.is_file() or (candidate / "HEAD").exists()
    return candidate.exists()


def project_root(cwd: Path, markers: list[str]) -> Path:
    """The nearest ancestor of ``cwd`` (itself included) holding a root marker, else cwd."""
    for directory in (cwd, *cwd.parents):
        if any(_is_marker(directory, marker) for marker in markers):
            return directory
    return cwd


def _root_markers(base: dict[str, Any]) -> list[str]:
    markers = base.get("project_root_markers")
    if isinstance(markers, list) and all(isinstance(m, str) for m in markers):
        return markers
    return [".git"]


def trust_level(base: dict[str, Any], *candidates: Path) -> str | None:
    projects = base.get("projects")
    if not isinstance(projects, dict):
        return None
    for path in candidates:
        entry = projects.get(str(path))
        if isinstance(entry, dict) and isinstance(entry.get("trust_level"), str):
            return str(entry["trust_level"])
    return None


def _project_layers(cwd: Path, base: dict[str, Any], user_path: Path) -> list[Layer]:
    cwd = Path(os.path.normpath(cwd))
    root = project_root(cwd, _root_markers(base))
    chain = [cwd]
    if root != cwd:
        chain.extend(p for p in cwd.parents if p == root or root in p.parents)
    trust = trust_level(base, cwd, root)
    if trust == "trusted":
        reason = None
    elif trust == "untrusted":
        reason = (
            f"{root} is marked as untrusted in the effective configuration. To load "
            "project-local config, hooks, and exec policies, update its trust setting. If that "
            "setting is managed by your organization, contact your administrator."
        )
    else:
        reason = (
            f"To load project-local config, hooks, and exec policies, add {root} as a trusted "
            f"project in {user_path}."
        )
    layers: list[Layer] = []
    for directory in reversed(chain):  # root first: lowest precedence
        folder = directory / ".codex"
        if not folder.is_dir() or _same_dir(folder, user_path.parent):
            continue
        layer = _file_layer(
            {"type": "project", "dotCodexFolder": str(folder)}, folder / CONFIG_FILE, always=True
        )
        assert layer is not None
        layer.disabled_reason = reason
        layers.append(layer)
    return layers


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
