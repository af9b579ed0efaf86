"""``[mcp_servers.<name>]`` entries of the effective config, read as the reference reads them
(``engine.md`` §10.1). A bad entry is skipped with a warning; it never fails the caller."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["DEFAULT_STARTUP_TIMEOUT_SECS", "DEFAULT_TOOL_TIMEOUT_SECS", "McpServerConfig",
           "parse_mcp_servers"]

DEFAULT_STARTUP_TIMEOUT_SECS = 10.0
DEFAULT_TOOL_TIMEOUT_SECS = 60.0


class McpServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One configured MCP server (stdio when ``command`` is set, else streamable HTTP)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = msgspec.field(default_factory=dict)
    env_vars: tuple[str, ...] = ()
    cwd: str | None = None
    url: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] = msgspec.field(default_factory=dict)
    env_http_headers: dict[str, str] = msgspec.field(default_factory=dict)
    enabled: bool = True
    required: bool = False
    startup_timeout_secs: float = DEFAULT_STARTUP_TIMEOUT_SECS
    tool_timeout_secs: float = DEFAULT_TOOL_TIMEOUT_SECS
    enabled_tools: tuple[str, ...] | None = None
    disabled_tools: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    oauth_store: str = "auto"
    """The top-level ``mcp_oauth_credentials_store``: ``auto``, ``file`` or ``keyring``."""

    @property
    def is_http(self) -> bool:
        return self.url is not None

    def tool_allowed(self, tool: str) -> bool:
        """``enabled_tools`` (allow-list) then ``disabled_tools`` (deny-list)."""
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return tool not in self.disabled_tools


class _BadEntry(Exception):
    pass


def _strings(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadEntry(f"`{key}` must be an array of strings")
    return tuple(value)


def _string_map(entry: dict[str, Any], key: str) -> dict[str, str]:
    value = entry.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _BadEntry(f"`{key}` must be a table of strings")
    return {str(k): v for k, v in value.items()}


def _string(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadEntry(f"`{key}` must be a string")
    return value


def _seconds(entry: dict[str, Any], key: str, default: float) -> float:
    value = entry.get(key)
    if value is None:
        millis = entry.get(key.replace("_sec", "_ms")) if key.endswith("_sec") else None
        if millis is None:
            return default
        if isinstance(millis, bool) or not isinstance(millis, int | float) or millis < 0:
            raise _BadEntry(f"`{key.replace('_sec', '_ms')}` must be a non-negative number")
        return float(millis) / 1000.0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _BadEntry(f"`{key}` must be a non-negative number")
    return float(value)


def _flag(entry: dict[str, Any], key: str, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise _BadEntry(f"`{key}` must be a boolean")
    return value


def _server(name: str, entry: dict[str, Any], oauth_store: str) -> McpServerConfig:
    command = _string(entry, "command")
    url = _string(entry, "url")
    if command is not None and url is not None:
        raise _BadEntry("`command` and `url` cannot both be set")
    if command is None and url is None:
        raise _BadEntry("either `command` or `url` must be set")
    enabled_tools = _strings(entry, "enabled_tools") if "enabled_tools" in entry else None
    return McpServerConfig(
        name=name, command=command, args=_strings(entry, "args"),
        env=_string_map(entry, "env"), env_vars=_strings(entry, "env_vars"),
        cwd=_string(entry, "cwd"), url=url,
        bearer_token_env_var=_string(entry, "bearer_token_env_var"),
        http_headers=_string_map(entry, "http_headers"),
        env_http_headers=_string_map(entry, "env_http_headers"),
        enabled=_flag(entry, "enabled", True), required=_flag(entry, "required", False),
        startup_timeout_secs=_seconds(entry, "startup_timeout_sec",
                                      DEFAULT_STARTUP_TIMEOUT_SECS),
        tool_timeout_secs=_seconds(entry, "tool_timeout_sec", DEFAULT_TOOL_TIMEOUT_SECS),
        enabled_tools=enabled_tools, disabled_tools=_strings(entry, "disabled_tools"),
        scopes=_strings(entry, "scopes"), oauth_store=oauth_store,
    )


def parse_mcp_servers(config: dict[str, Any]) -> tuple[list[McpServerConfig], list[str]]:
    """The configured servers in file order, and one warning per entry that was skipped."""
    table = config.get("mcp_servers")
    if table is None:
        return [], []
    if not isinstance(table, dict):
        return [], ["ignoring `mcp_servers`: expected a table"]
    servers: list[McpServerConfig] = []
    warnings: list[str] = []
    store = config.get("mcp_oauth_credentials_store")
    oauth_store = store if store in ("file", "keyring") else "auto"
    for name in table:
        entry = table[name]
        try:
            if not isinstance(entry, dict):
                raise _BadEntry("expected a table")
            servers.append(_server(str(name), entry, oauth_store))
        except _BadEntry as exc:
            warnings.append(f"ignoring MCP server `{name}`: {exc}")
    return servers, warnings
