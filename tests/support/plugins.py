"""Plugin helpers: a local marketplace on disk."""

from __future__ import annotations

import json
from pathlib import Path


def make_marketplace(root: Path) -> Path:
    """``root/.agents/plugins/marketplace.json`` listing ``hello`` (installable, with one
    skill and one MCP server) and ``gone`` (not available)."""
    market = root / ".agents" / "plugins" / "marketplace.json"
    market.parent.mkdir(parents=True)
    market.write_text(json.dumps({
        "name": "local-mkt", "interface": {"displayName": "Local Market"},
        "plugins": [
            {"name": "hello", "source": {"source": "local", "path": "./plugins/hello"},
             "category": "Productivity"},
            {"name": "gone", "source": {"source": "local", "path": "./plugins/gone"},
             "policy": {"installation": "NOT_AVAILABLE"}},
        ]}))
    plugin = root / "plugins" / "hello"
    (plugin / ".codex-plugin").mkdir(parents=True)
    (plugin / ".codex-plugin" / "plugin.json").write_text(json.dumps({
        "name": "hello", "version": "1.2.0", "description": "Says hello",
        "interface": {"displayName": "Hello Plugin", "shortDescription": "greets"}}))
    (plugin / "skills" / "greet").mkdir(parents=True)
    (plugin / "skills" / "greet" / "SKILL.md").write_text(SKILL)
    (plugin / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "hello-time": {"command": "python3", "args": ["-m", "mcp_server_time"]}}}))
    return market


SKILL = """---
name: greet
description: Greet the user warmly
---
Say hello.
"""
