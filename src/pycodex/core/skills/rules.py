"""Enabled/disabled settings of skills: ``[[skills.config]]`` entries of the user config
(and ``-c`` flags), by path or by name; later entries override earlier ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.config.layers import LayerStack
from pycodex.core.skills.model import Skill

Selector = tuple[str, str]  # ("path", resolved path) | ("name", name)


def config_rules(stack: LayerStack) -> list[tuple[Selector, bool]]:
    rules: list[tuple[Selector, bool]] = []
    for layer in stack.layers:
        if layer.kind not in ("user", "sessionFlags"):
            continue
        skills = layer.config.get("skills")
        entries = skills.get("config") if isinstance(skills, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            selector = _selector(entry)
            if selector is None or not isinstance(entry.get("enabled"), bool):
                continue
            rules = [rule for rule in rules if rule[0] != selector]
            rules.append((selector, bool(entry["enabled"])))
    return rules


def _selector(entry: Any) -> Selector | None:
    if not isinstance(entry, dict):
        return None
    path, name = entry.get("path"), entry.get("name")
    if isinstance(path, str) and name is None:
        return ("path", str(_resolved(Path(path))))
    if isinstance(name, str) and path is None and name.strip():
        return ("name", name.strip())
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def disabled_paths(skills: tuple[Skill, ...], rules: list[tuple[Selector, bool]]) -> set[str]:
    disabled: set[str] = set()
    for (kind, value), enabled in rules:
        paths = [value] if kind == "path" else [str(s.path) for s in skills if s.name == value]
        for path in paths:
            if enabled:
                disabled.discard(path)
            else:
                disabled.add(path)
    return disabled
