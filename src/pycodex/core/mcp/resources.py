"""The resource helper tools offered to the model next to MCP tools: ``list_mcp_resources``,
``list_mcp_resource_templates`` and ``read_mcp_resource`` (same names and parameters as the
reference; our own descriptions). Outputs are compact JSON."""

from __future__ import annotations

import json
from typing import Any

from pycodex.core.mcp.connection import McpCallError
from pycodex.core.mcp.manager import McpManager, UnknownMcpServer
from pycodex.core.tools.context import ToolCall, ToolError

__all__ = ["HELPERS", "helper_specs", "run_helper"]

_SERVER = {"type": "string", "description": "MCP server name as configured."}
_CURSOR = {"type": "string", "description": "Cursor from a previous call's nextCursor."}


def _spec(name: str, description: str, properties: dict[str, Any],
          required: list[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"type": "object", "properties": properties,
                                  "additionalProperties": False}
    if required:
        parameters["required"] = required
    return {"type": "function", "name": name, "description": description, "strict": False,
            "parameters": parameters}


_SPECS = (
    _spec("list_mcp_resources",
          "List the resources the MCP servers offer (all servers, or one).",
          {"server": _SERVER, "cursor": _CURSOR}, []),
    _spec("list_mcp_resource_templates",
          "List the resource templates the MCP servers offer (all servers, or one).",
          {"server": _SERVER, "cursor": _CURSOR}, []),
    _spec("read_mcp_resource", "Read one resource of an MCP server by its URI.",
          {"server": _SERVER, "uri": {"type": "string", "description": "Resource URI."}},
          ["server", "uri"]),
)
HELPERS = frozenset(spec["name"] for spec in _SPECS)


def helper_specs(manager: McpManager) -> list[dict[str, Any]]:
    """The helpers, offered when the thread has MCP servers configured."""
    return [dict(spec) for spec in _SPECS] if manager.configs else []


def _dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _argument(args: dict[str, Any], key: str) -> str | None:
    """A trimmed string argument; empty counts as absent."""
    value = args.get(key)
    if value is not None and not isinstance(value, str):
        raise ToolError(f"`{key}` must be a string")
    return (value.strip() or None) if value is not None else None


async def run_helper(call: ToolCall, manager: McpManager) -> str:
    """Run one helper call; errors are reported to the model as text."""
    args = call.json_arguments()
    server = _argument(args, "server")
    try:
        if call.name == "read_mcp_resource":
            uri = _argument(args, "uri")
            if server is None or uri is None:
                raise ToolError("`server` and `uri` are required")
            conn = manager.connection(server)
            result = await conn.read_resource(uri)
            return _compact({"server": server, "uri": uri, **_dump(result)})
        templates = call.name == "list_mcp_resource_templates"
        key = "resourceTemplates" if templates else "resources"
        cursor = _argument(args, "cursor")
        if server is not None:
            return await _one_server(manager, server, cursor, templates=templates)
        if cursor is not None:
            raise ToolError("cursor can only be used when a server is specified")
        listed: list[dict[str, Any]] = []
        for conn in sorted(manager.ready(), key=lambda c: c.name):
            entries = conn.resource_templates if templates else conn.resources
            listed.extend({"server": conn.name, **_dump(e)} for e in entries)
        return _compact({key: listed})
    except (UnknownMcpServer, McpCallError) as exc:
        raise ToolError(str(exc)) from None


async def _one_server(manager: McpManager, server: str, cursor: str | None, *,
                      templates: bool) -> str:
    """One page of one server, asked live with ``cursor``; ``nextCursor`` when there is more."""
    conn = manager.connection(server)
    method = "resources/templates/list" if templates else "resources/list"
    try:
        entries, next_cursor = await conn.list_page(templates, cursor)
    except McpCallError as exc:
        raise ToolError(f"{method} failed: {exc}") from None
    key = "resourceTemplates" if templates else "resources"
    payload: dict[str, Any] = {"server": server,
                               key: [{"server": server, **_dump(e)} for e in entries]}
    if next_cursor is not None:
        payload["nextCursor"] = next_cursor
    return _compact(payload)
