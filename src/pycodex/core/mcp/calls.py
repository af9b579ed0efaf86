"""A model's call of an MCP tool: the ``mcpToolCall`` item (started, progress, completed),
the approval asked as an MCP-style elicitation, and the output the model receives
(``extensions.md`` §1.7–1.8)."""

from __future__ import annotations

import json
import time
from typing import Any

import mcp_types as types
import msgspec

from pycodex.core.hooks import turn_points
from pycodex.core.ids import now_ms
from pycodex.core.mcp.connection import McpCallError, McpConnection
from pycodex.core.mcp.manager import McpManager, as_sent
from pycodex.core.mcp.resources import HELPERS, run_helper
from pycodex.core.tools.context import ToolCall, ToolContext, ToolError, ToolOutput
from pycodex.protocol.types.items import McpToolCallItem, McpToolCallProgressNotification
from pycodex.protocol.types.mcp import McpServerElicitationRequestParamsForm

__all__ = ["REJECTED", "call_output", "mcp_tool_call", "needs_approval"]

REJECTED = "user rejected MCP tool call"
NEVER = "MCP tool call requires approval, but approval policy is never"


def _dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def needs_approval(tool: types.Tool) -> bool:
    """Tools that are not read-only and reach the open world (or destroy) are asked."""
    hints = tool.annotations
    if hints is None or hints.read_only_hint:
        return False
    return bool(hints.open_world_hint or hints.destructive_hint)


def call_output(started: float, result: dict[str, Any]) -> ToolOutput:
    """The model's output for a ``CallToolResult`` (wire shape), as the reference gives it:
    one text when the result is structured, else content items (the wall time, then one
    item per entry: texts and images as such, other entries as their JSON)."""
    structured = result.get("structuredContent")
    if structured is not None:
        return _wall(started, "\n" + json.dumps(structured, separators=(",", ":"),
                                                 ensure_ascii=False))
    content = [item for item in result.get("content") or [] if isinstance(item, dict)]
    items: list[dict[str, Any]] = [{"type": "input_text", "text": _wall(started, "")}]
    for item in content:
        kind = item.get("type")
        if kind == "text":
            items.append({"type": "input_text", "text": str(item.get("text", ""))})
        elif kind == "image" and isinstance(item.get("data"), str):
            mime = item.get("mimeType") or "image/png"
            items.append({"type": "input_image",
                          "image_url": f"data:{mime};base64,{item['data']}",
                          "detail": "original"})
        else:
            items.append({"type": "input_text", "text": json.dumps(
                item, separators=(",", ":"), ensure_ascii=False)})
    return items


def _wall(started: float, body: str) -> str:
    return f"Wall time: {time.perf_counter() - started:.4f} seconds\nOutput:{body}"


def _approval_request(ctx: ToolContext, conn: McpConnection, tool: types.Tool,
                      arguments: dict[str, Any]) -> Any:
    hints = _dump(tool.annotations) if tool.annotations is not None else None
    title = tool.title or (tool.annotations.title if tool.annotations else None) or tool.name
    meta: dict[str, Any] = {
        "codex_approval_kind": "mcp_tool_call", "persist": ["session", "always"],
        "tool_name": tool.name, "tool_title": title,
        "tool_description": tool.description, "tool_annotations": hints,
        "tool_params": arguments,
        "tool_params_display": [{"name": k, "value": v, "display_name": k}
                                for k, v in arguments.items()],
    }
    schema = {"type": "object", "properties": {}}
    return as_sent(msgspec.convert({
        "mode": "form", "threadId": ctx.thread_id, "turnId": ctx.turn_id,
        "serverName": conn.name,
        "message": f'Allow the {conn.name} MCP server to run tool "{tool.name}"?',
        "requestedSchema": schema, "_meta": meta,
    }, McpServerElicitationRequestParamsForm), schema)


class Refusal(msgspec.Struct, frozen=True):
    """Why a call may not run: the item's error (the model gets it as its own content item
    after the wall time, as the reference sends a refusal)."""

    message: str


def hook_tool_name(call: ToolCall) -> str:
    """The name ``PermissionRequest`` hooks see: the model's ``mcp__<server>__<tool>``."""
    return f"{call.item.get('namespace')}__{call.name}"


async def _approved(ctx: ToolContext, call: ToolCall, conn: McpConnection, tool: types.Tool,
                    arguments: dict[str, Any]) -> Refusal | None:
    """None when the call may run, else why not."""
    key = f"mcp\0{conn.name}\0{tool.name}"
    if not needs_approval(tool) or key in ctx.thread_state.approved_for_session:
        return None
    if ctx.settings.approval_policy == "never" and (
            ctx.settings.sandbox_policy.get("type") == "dangerFullAccess"):
        return None  # full access, never asked: the reference runs the tool
    decided = await turn_points.permission_request(  # hooks: decide first, under any policy
        ctx, call.call_id, arguments, tool_name=hook_tool_name(call))
    if decided is not None:
        return None if decided.allow else Refusal(decided.message)
    if ctx.settings.approval_policy == "never":
        return Refusal(NEVER)
    answer = await ctx.ask(_approval_request(ctx, conn, tool, arguments), "waitingOnApproval")
    if not isinstance(answer, dict) or answer.get("action") != "accept":
        return Refusal(REJECTED)
    persist = (answer.get("_meta") or {}).get("persist") if isinstance(
        answer.get("_meta"), dict) else None
    if persist in ("session", "always"):
        ctx.thread_state.approved_for_session.add(key)
    return None


async def mcp_tool_call(call: ToolCall, ctx: ToolContext, manager: McpManager,
                        conn: McpConnection, tool: types.Tool) -> ToolOutput:
    """Run one model call of ``tool`` with its item; returns the model's output text."""
    started = time.perf_counter()
    arguments = call.json_arguments()
    hints = tool.annotations
    item = McpToolCallItem(
        id=call.call_id, server=conn.name, tool=tool.name, status="inProgress",
        arguments=arguments, read_only_hint=hints.read_only_hint if hints is not None else None,
        started_at_ms=now_ms())
    started_ms = await ctx.item_started(item)

    async def finish(**fields: Any) -> None:
        duration = int((time.perf_counter() - started) * 1000)
        await ctx.finish_item(msgspec.structs.replace(item, **fields, duration_ms=duration),
                              started_ms)

    refusal = await _approved(ctx, call, conn, tool, arguments)
    if refusal is not None:
        await finish(status="failed", error={"message": refusal.message})
        # rendered like a result holding the one text, as the reference sends a refusal
        return call_output(started, {"content": [{"type": "text", "text": refusal.message}]})

    async def progress(message: str) -> None:
        await ctx.emit(McpToolCallProgressNotification(
            thread_id=ctx.thread_id, turn_id=ctx.turn_id, item_id=call.call_id,
            message=message))

    manager.current_turn = ctx.turn_id
    try:
        result = await conn.call_tool(tool.name, arguments or None, on_message=progress)
    except McpCallError as exc:
        text = str(exc)
        await finish(status="failed", error={"message": text})
        return _wall(started, text)
    finally:
        manager.current_turn = None
    wire = _dump(result)
    await finish(status="completed", result={
        "content": wire.get("content", []),
        "structuredContent": wire.get("structuredContent"), "_meta": wire.get("_meta")})
    return call_output(started, wire)


async def dispatch_mcp(call: ToolCall, ctx: ToolContext, manager: McpManager) -> ToolOutput:
    """Run a call of an MCP tool (``namespace`` + name) or of a resource helper."""
    namespace = call.item.get("namespace")
    if not isinstance(namespace, str):
        if call.name in HELPERS:
            return await run_helper(call, manager)
        raise ToolError(f"unsupported call: {call.name}")
    found = manager.resolve(namespace, call.name)
    if found is None:
        raise ToolError(f"unsupported call: {namespace}{call.name}")  # the reference joins them
    conn, tool = found
    return await mcp_tool_call(call, ctx, manager, conn, tool)
