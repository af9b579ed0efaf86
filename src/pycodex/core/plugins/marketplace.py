"""Marketplace files (``<root>/.agents/plugins/marketplace.json``): where they are found,
what they list, and where each listed plugin's files are."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec

MARKETPLACE_RELATIVE_PATH = Path(".agents/plugins/marketplace.json")
INSTALL_POLICIES = ("NOT_AVAILABLE", "AVAILABLE", "INSTALLED_BY_DEFAULT")
AUTH_POLICIES = ("ON_INSTALL", "ON_USE")


class MarketplaceError(Exception):
    """A marketplace or plugin that cannot be used; the message is the client's error."""


class MarketplacePlugin(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    source_path: Path
    install_policy: str
    auth_policy: str
    category: str | None


class Marketplace(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    path: Path
    display_name: str | None
    plugins: list[MarketplacePlugin]

    def plugin(self, name: str) -> MarketplacePlugin:
        for plugin in self.plugins:
            if plugin.name == name:
                return plugin
        raise MarketplaceError(f"plugin `{name}` was not found in marketplace `{self.name}`")


def _invalid(path: Path, message: str) -> MarketplaceError:
    return MarketplaceError(f"invalid marketplace file `{path}`: {message}")


def _root_of(path: Path) -> Path:
    plugins_dir = path.parent
    if plugins_dir.name != "plugins" or plugins_dir.parent.name != ".agents":
        raise _invalid(path, "marketplace file must live under `<root>/.agents/plugins/`")
    return plugins_dir.parent.parent


def _source_path(path: Path, source: Any) -> Path:
    if not isinstance(source, dict) or source.get("source") != "local" or not isinstance(
            source.get("path"), str):
        raise _invalid(path, "plugin source must be `{\"source\": \"local\", \"path\": ...}`")
    relative = source["path"]
    if not relative.startswith("./"):
        raise _invalid(path, "local plugin source path must start with `./`")
    parts = PurePosixPath(relative[2:]).parts
    if not parts:
        raise _invalid(path, "local plugin source path must not be empty")
    if any(part in ("..", ".") for part in parts):
        raise _invalid(path, "local plugin source path must stay within the marketplace root")
    return _root_of(path).joinpath(*parts)


def _choice(value: Any, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


def load_marketplace(path: Path) -> Marketplace:
    """Parse the marketplace file at ``path`` (absolute)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MarketplaceError(f"marketplace file `{path}` does not exist") from None
    except (OSError, ValueError) as exc:
        raise _invalid(path, str(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(
            raw.get("plugins"), list):
        raise _invalid(path, "expected an object with `name` and `plugins`")
    interface = raw.get("interface")
    display = interface.get("displayName") if isinstance(interface, dict) else None
    plugins = []
    for entry in raw["plugins"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _invalid(path, "every plugin needs a `name`")
        policy = entry.get("policy")
        if not isinstance(policy, dict):
            policy = {}
        category = entry.get("category")
        plugins.append(MarketplacePlugin(
            name=entry["name"], source_path=_source_path(path, entry.get("source")),
            install_policy=_choice(policy.get("installation"), INSTALL_POLICIES, "AVAILABLE"),
            auth_policy=_choice(policy.get("authentication"), AUTH_POLICIES, "ON_INSTALL"),
            category=category if isinstance(category, str) else None))
    return Marketplace(name=raw["name"], path=path,
                       display_name=display if isinstance(display, str) else None,
                       plugins=plugins)


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def discover(roots: Iterable[Path], home: Path | None) -> list[Path]:
    """Marketplace files of the user's home and of each root (the root itself, else the
    root's git repository), without duplicates."""
    found: list[Path] = []

    def add(path: Path) -> bool:
        if path.is_file() and path not in found:
            found.append(path)
            return True
        return False

    if home is not None:
        add(home / MARKETPLACE_RELATIVE_PATH)
    for root in roots:
        if add(root / MARKETPLACE_RELATIVE_PATH):
            continue
        repo = _git_root(root)
        if repo is not None:
            add(repo / MARKETPLACE_RELATIVE_PATH)
    return found


def configured_local_roots(config: Any) -> dict[str, Path]:
    """``[marketplaces.<name>]`` entries added from a local folder: name → root."""
    table = config.get("marketplaces") if isinstance(config, dict) else None
    roots: dict[str, Path] = {}
    for name, entry in (table or {}).items():
        if isinstance(entry, dict) and entry.get("source_type") == "local" and isinstance(
                entry.get("source"), str):
            roots[str(name)] = Path(entry["source"])
    return roots
