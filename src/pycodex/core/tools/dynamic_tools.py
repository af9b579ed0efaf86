"""Client-implemented (dynamic) tools: the call goes to the client as ``item/tool/call``."""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec

from pycodex.core.host import ClientAnswerError
from pycodex.core.tools.context import ToolCall, ToolContext, ToolOutput
from pycodex.protocol.types.items import DynamicToolCallItem, DynamicToolCallParams


async def dynamic_tool_call(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    """A client-implemented tool: ask the client through ``item/tool/call``."""
    try:
        arguments: Any = json.loads(call.payload) if call.payload.strip() else {}
    except ValueError:
        arguments = call.payload
    started = time.perf_counter()
    item = DynamicToolCallItem(id=call.call_id, tool=call.name, arguments=arguments,
                               status="inProgress")
    started_ms = await ctx.item_started(item)
    params = DynamicToolCallParams(thread_id=ctx.thread_id, turn_id=ctx.turn_id,
                                   call_id=call.call_id, tool=call.name, arguments=arguments)
    content: list[dict[str, Any]]
    try:
        result = await ctx.ask(params, None)
        items = result.get("contentItems") if isinstance(result, dict) else None
        success = result.get("success") if isinstance(result, dict) else None
        if not isinstance(items, list) or not isinstance(success, bool):
            raise ValueError
        content = [i for i in items if isinstance(i, dict)]
    except ClientAnswerError:
        content, success = [{"type": "inputText", "text": "dynamic tool request failed"}], False
    except ValueError:
        content = [{"type": "inputText", "text": "dynamic tool response was invalid"}]
        success = False
    duration = int((time.perf_counter() - started) * 1000)
    # Recorded (as the reference does) so thread/read and thread/resume show the call.
    await ctx.finish_item(msgspec.structs.replace(
        item, status="completed" if success else "failed", content_items=content,
        success=success, duration_ms=duration), started_ms)
    out: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "inputText":
            out.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif part.get("type") == "inputImage":
            out.append({"type": "input_image", "image_url": str(part.get("imageUrl", ""))})
    return out
