"""Dispatch of the model's tool calls to tool handlers, and the tool list sent upstream.

A handler gets the call and a :class:`ToolContext` and returns the output for the model: a
string, or a list of Responses content items. Bad arguments and unknown tools are answered
to the model as text; the turn goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pycodex.core import tool_specs
from pycodex.core.host import TurnSettings
from pycodex.core.tools import basic_tools, exec_tools, goal_tools, patch_tool
from pycodex.core.tools.context import (
    ThreadToolState,
    Tool,
    ToolCall,
    ToolContext,
    ToolError,
    ToolOutput,
)
from pycodex.core.tools.dynamic_tools import dynamic_tool_call

__all__ = ["Tool", "ToolCall", "ToolContext", "ToolError", "ToolOutput", "ToolRouter"]

logger = logging.getLogger(__name__)


#: Every built-in tool by name.
_BUILTINS: dict[str, Tool] = {
    tool.name: tool for tool in (*basic_tools.TOOLS, *exec_tools.TOOLS, *patch_tool.TOOLS,
                                 *goal_tools.TOOLS)}


#: Config switches (dotted keys, as ``thread/start.config`` sends them) that take a
#: built-in tool away when false; the TUI's hidden title threads switch them all off.
_SWITCHES: dict[str, tuple[str, ...]] = {
    "exec_command": ("features.shell_tool",),
    "write_stdin": ("features.shell_tool",),
    "update_plan": ("tools.update_plan.enabled",),
    "view_image": ("features.view_image",),
    "request_user_input": ("tools.experimental_request_user_input.enabled",),
    "get_goal": ("features.goals",),
    "create_goal": ("features.goals",),
    "update_goal": ("features.goals",),
}


def _switched_off(config: dict[str, Any], name: str) -> bool:
    for key in _SWITCHES.get(name, ()):
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is False:
            return True
    return False


def _offered(tool: Tool, settings: TurnSettings, model_info: Any) -> dict[str, Any] | None:
    """The tool's spec, or None when it is not offered to this thread."""
    if _switched_off(settings.config, tool.name):
        return None
    return tool.spec(settings, model_info)


#: The MCP resource helpers (``core.mcp.resources``), named here so that threads without MCP
#: servers never import the MCP modules.
_MCP_HELPERS = frozenset({"list_mcp_resources", "list_mcp_resource_templates",
                          "read_mcp_resource"})


def _deferred(model_info: Any) -> bool:
    """Catalog models search for MCP tools (``tool_search``); unknown slugs get them
    directly as namespaces (``engine.md`` §2, extensions §1.5)."""
    return not getattr(model_info, "is_fallback", True)


class ToolRouter:
    """The tools of one thread: built-ins, the client's dynamic tools and the tools of the
    thread's ready MCP servers (``mcp``: a ``core.mcp.manager.McpManager``)."""

    def __init__(self, mcp: Callable[[], Any] | None = None) -> None:
        #: the thread's MCP servers (``core.mcp.manager.McpManager``), or None; a getter
        #: because they start in the background
        self._mcp = mcp

    @property
    def mcp(self) -> Any:
        return self._mcp() if self._mcp is not None else None

    def specs(self, settings: TurnSettings, model_info: Any) -> list[dict[str, Any]]:
        specs: list[dict[str, Any]] = []
        for tool in _BUILTINS.values():
            spec = _offered(tool, settings, model_info)
            if spec is not None:
                specs.append(spec)
        for dyn in settings.dynamic_tools:
            if not dyn.get("deferLoading"):
                specs.append(tool_specs.dynamic_tool_spec(dyn))
        mcp = self.mcp
        if mcp is not None and mcp.configs:
            from pycodex.core.mcp.resources import helper_specs

            specs.extend(helper_specs(mcp))
            if _deferred(model_info):
                from pycodex.core.mcp.search import TOOL_SEARCH_SPEC

                specs.append(TOOL_SEARCH_SPEC)
            else:
                specs.extend(mcp.model_tools())
        return specs

    @staticmethod
    def _dynamic(settings: TurnSettings, name: str) -> dict[str, Any] | None:
        for dyn in settings.dynamic_tools:
            if dyn.get("name") == name:
                return dyn
        return None

    async def dispatch(self, call: ToolCall, ctx: ToolContext) -> dict[str, Any]:
        """Run one call; returns the output item recorded into history. Cancellation
        propagates: the caller records :meth:`aborted_output` instead."""
        mcp = self.mcp
        if call.kind == "tool_search" and mcp is not None:
            from pycodex.core.mcp.search import tool_search_output

            return tool_search_output(call, mcp)
        try:
            tool = _BUILTINS.get(call.name)
            if tool is not None and _offered(tool, ctx.settings, ctx.model_info) is None:
                tool = None
            if mcp is not None and ("namespace" in call.item or call.name in _MCP_HELPERS):
                from pycodex.core.mcp.calls import dispatch_mcp

                output: ToolOutput = await dispatch_mcp(call, ctx, mcp)
            elif tool is not None:
                output = await tool.handler(call, ctx)
            elif self._dynamic(ctx.settings, call.name) is not None:
                output = await dynamic_tool_call(call, ctx)
            else:
                logger.error("unsupported call: %s", call.name)
                output = f"unsupported call: {call.name}"
        except ToolError as exc:
            output = str(exc)
        return self._output_item(call, output)

    def output_item(self, call: ToolCall, output: ToolOutput) -> dict[str, Any]:
        """The output item recording ``output`` for ``call`` (also for calls a hook
        blocked)."""
        return self._output_item(call, output)

    @staticmethod
    def _output_item(call: ToolCall, output: ToolOutput) -> dict[str, Any]:
        if call.kind == "custom":
            return {"type": "custom_tool_call_output", "call_id": call.call_id,
                    "output": output if isinstance(output, str) else json.dumps(output)}
        return {"type": "function_call_output", "call_id": call.call_id, "output": output}

    def aborted_output(self, call: ToolCall, elapsed: float) -> dict[str, Any]:
        """The output item of a call interrupted after ``elapsed`` seconds."""
        if call.name in ("exec_command", "write_stdin", "shell", "shell_command",
                         "local_shell"):
            text = f"Wall time: {elapsed:.1f} seconds\naborted by user"
        else:
            text = f"aborted by user after {elapsed:.1f}s"
        return self._output_item(call, text)

    async def close(self, state: ThreadToolState) -> None:
        for closer in state.closers.values():
            try:
                await closer()
            except Exception:
                logger.exception("tool cleanup failed")
