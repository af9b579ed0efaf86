"""A plugin's own files: ``.codex-plugin/plugin.json`` (name, version, description,
interface), its skills (``skills/<name>/SKILL.md``) and MCP servers (``.mcp.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

MANIFEST_PATH = Path(".codex-plugin/plugin.json")
SKILLS_DIR = "skills"
MCP_FILE = ".mcp.json"


class PluginManifest(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: str | None
    description: str | None
    interface: dict[str, Any] | None


class PluginSkill(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """``<plugin>:<skill>``, as skills of plugins are named."""
    description: str
    path: Path


def load_manifest(root: Path) -> PluginManifest | None:
    """The manifest of the plugin at ``root``, or ``None`` when absent or unreadable."""
    try:
        raw = json.loads((root / MANIFEST_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    version = raw.get("version")
    description = raw.get("description")
    interface = raw.get("interface")
    return PluginManifest(
        name=raw["name"],
        version=version.strip() or None if isinstance(version, str) else None,
        description=description if isinstance(description, str) else None,
        interface=interface if isinstance(interface, dict) else None)


def _front_matter(text: str) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def skills(root: Path, plugin_name: str) -> list[PluginSkill]:
    """The plugin's skills, by folder name; a SKILL.md without a description is skipped."""
    found = []
    folder = root / SKILLS_DIR
    for skill_file in sorted(folder.glob("*/SKILL.md")) if folder.is_dir() else []:
        try:
            meta = _front_matter(skill_file.read_text(encoding="utf-8"))
        except OSError:
            continue
        name = meta.get("name") if isinstance(meta.get("name"), str) else skill_file.parent.name
        description = meta.get("description")
        if isinstance(description, str):
            found.append(PluginSkill(name=f"{plugin_name}:{name}", description=description,
                                     path=skill_file))
    return found


def mcp_servers(root: Path) -> dict[str, Any]:
    """The ``mcpServers`` table of the plugin's ``.mcp.json`` (name → server config)."""
    try:
        raw = json.loads((root / MCP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    servers = raw.get("mcpServers") if isinstance(raw, dict) else None
    return {str(k): v for k, v in servers.items()} if isinstance(servers, dict) else {}
