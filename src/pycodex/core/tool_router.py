"""Dispatch of the model's tool calls to tool handlers, and the tool list sent upstream.

A handler gets the call and a :class:`ToolContext` and returns the output for the model: a
string, or a list of Responses content items. Bad arguments and unknown tools are answered
to the model as text; the turn goes on.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import msgspec

from pycodex.core import tool_specs
from pycodex.core.host import ClientAnswerError, TurnSettings
from pycodex.core.tools.context import (
    ThreadToolState,
    ToolCall,
    ToolContext,
    ToolError,
    ToolOutput,
)
from pycodex.protocol.types.items import (
    DynamicToolCallParams,
    ToolRequestUserInputOption,
    ToolRequestUserInputParams,
    ToolRequestUserInputQuestion,
)
from pycodex.protocol.types.turns import TurnPlanStep, TurnPlanUpdatedNotification

__all__ = ["Tool", "ToolCall", "ToolContext", "ToolError", "ToolOutput", "ToolRouter",
           "builtin"]

logger = logging.getLogger(__name__)


Handler = Callable[[ToolCall, ToolContext], Awaitable[ToolOutput]]
#: ``spec(settings, model_info)``: the tool's definition, or None when it is not offered.
SpecFn = Callable[[TurnSettings, Any], dict[str, Any] | None]


class Tool(msgspec.Struct, frozen=True):
    name: str
    handler: Handler
    spec: SpecFn


_BUILTINS: dict[str, Tool] = {}


def builtin(name: str, spec: SpecFn) -> Callable[[Handler], Handler]:
    """Register a built-in tool: ``spec(settings, model_info)`` returns its definition or
    ``None`` when the tool is not offered."""

    def register(fn: Handler) -> Handler:
        _BUILTINS[name] = Tool(name, fn, spec)
        return fn

    return register


def _load_builtin_tools() -> None:
    for module in ("exec_tools", "patch_tool"):
        try:
            importlib.import_module(f"pycodex.core.tools.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pycodex.core.tools.{module}":
                raise


class ToolRouter:
    """The tools of one thread: built-ins plus the client's dynamic tools."""

    def __init__(self) -> None:
        _load_builtin_tools()

    def specs(self, settings: TurnSettings, model_info: Any) -> list[dict[str, Any]]:
        specs: list[dict[str, Any]] = []
        for tool in _BUILTINS.values():
            spec = tool.spec(settings, model_info)
            if spec is not None:
                specs.append(spec)
        for dyn in settings.dynamic_tools:
            if not dyn.get("deferLoading"):
                specs.append(tool_specs.dynamic_tool_spec(dyn))
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
        try:
            tool = _BUILTINS.get(call.name)
            if tool is not None and tool.spec(ctx.settings, ctx.model_info) is None:
                tool = None
            if tool is not None:
                output: ToolOutput = await tool.handler(call, ctx)
            elif self._dynamic(ctx.settings, call.name) is not None:
                output = await dynamic_tool_call(call, ctx)
            else:
                logger.error("unsupported call: %s", call.name)
                output = f"unsupported call: {call.name}"
        except ToolError as exc:
            output = str(exc)
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


# -- small built-in tools
_PLAN_STATUSES: dict[str, Literal["pending", "inProgress", "completed"]] = {
    "pending": "pending", "in_progress": "inProgress", "inProgress": "inProgress",
    "completed": "completed"}


def _plan_status_name(raw: Any) -> str:
    return {"in_progress": "inProgress"}.get(str(raw), str(raw))


@builtin("update_plan", lambda settings, info: tool_specs.UPDATE_PLAN)
async def update_plan(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    plan = args.get("plan")
    if not isinstance(plan, list):
        raise ToolError("failed to parse function arguments: missing field `plan`")
    steps = []
    for entry in plan:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), str):
            raise ToolError("failed to parse function arguments: invalid plan item")
        status = _PLAN_STATUSES.get(str(entry.get("status")))
        if status is None:
            raise ToolError("failed to parse function arguments: unknown status "
                            f"{_plan_status_name(entry.get('status'))!r}")
        steps.append(TurnPlanStep(step=entry["step"], status=status))
    explanation = args.get("explanation")
    await ctx.emit(TurnPlanUpdatedNotification(
        thread_id=ctx.thread_id, turn_id=ctx.turn_id,
        explanation=explanation if isinstance(explanation, str) else None, plan=steps))
    return "Plan updated"


def _view_image_spec(settings: TurnSettings, info: Any) -> dict[str, Any] | None:
    return tool_specs.VIEW_IMAGE if "image" in getattr(info, "input_modalities", ()) else None


@builtin("view_image", _view_image_spec)
async def view_image(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    raw = args.get("path")
    if not isinstance(raw, str) or not raw:
        raise ToolError("failed to parse function arguments: missing field `path`")
    path = Path(raw)
    if not path.is_absolute():
        path = ctx.cwd / path
    if not path.is_file():
        raise ToolError(f"unable to locate image at `{path}`")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"unable to read image at `{path}`: {exc}") from None
    mime = mimetypes.guess_type(str(path))[0] or "image/png"
    item = {"type": "imageView", "id": call.call_id, "path": str(path)}
    await ctx.item_started(item)
    await ctx.item_completed(item)
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return [{"type": "input_image", "image_url": url}]


_MODE_NAMES = {"default": "Default", "execute": "Execute", "plan": "Plan",
               "pair_programming": "Pair Programming"}


@builtin("request_user_input", lambda settings, info: tool_specs.REQUEST_USER_INPUT)
async def request_user_input(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    # Only Plan mode may ask.
    mode = ctx.settings.collaboration_mode
    if mode != "plan":
        name = _MODE_NAMES.get(mode, mode.replace("_", " ").title())
        raise ToolError(f"request_user_input is unavailable in {name} mode")
    args = call.json_arguments()
    questions = args.get("questions")
    if not isinstance(questions, list) or not questions:
        raise ToolError("failed to parse function arguments: missing field `questions`")
    wire_questions = []
    for q in questions:
        if not isinstance(q, dict) or not all(isinstance(q.get(k), str)
                                              for k in ("id", "header", "question")):
            raise ToolError("failed to parse function arguments: invalid question")
        options = q.get("options")
        if not isinstance(options, list) or not options:
            raise ToolError("request_user_input requires non-empty options for every question")
        wire_questions.append(ToolRequestUserInputQuestion(
            id=q["id"], header=q["header"], question=q["question"], is_other=True,
            is_secret=bool(q.get("isSecret", False)),
            options=[ToolRequestUserInputOption(label=str(o.get("label", "")),
                                                description=str(o.get("description", "")))
                     for o in options if isinstance(o, dict)]))
    params = ToolRequestUserInputParams(thread_id=ctx.thread_id, turn_id=ctx.turn_id,
                                        item_id=call.call_id, questions=wire_questions,
                                        is_blocking=True)
    try:
        result = await ctx.ask(params, "waitingOnUserInput")
    except ClientAnswerError:
        result = None
    answers = result.get("answers") if isinstance(result, dict) else None
    clean: dict[str, Any] = {}
    if isinstance(answers, dict):
        for key, value in answers.items():
            picked = value.get("answers") if isinstance(value, dict) else None
            if isinstance(picked, list) and all(isinstance(a, str) for a in picked):
                clean[str(key)] = {"answers": picked}
    return json.dumps({"answers": clean}, separators=(",", ":"), ensure_ascii=False)


async def dynamic_tool_call(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    """A client-implemented tool: ask the client through ``item/tool/call``."""
    try:
        arguments: Any = json.loads(call.payload) if call.payload.strip() else {}
    except ValueError:
        arguments = call.payload
    started = time.perf_counter()
    item = {"type": "dynamicToolCall", "id": call.call_id, "tool": call.name,
            "arguments": arguments, "status": "inProgress", "contentItems": None,
            "success": None, "durationMs": None}
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
    await ctx.finish_item({**item, "status": "completed" if success else "failed",
                           "contentItems": content, "success": success,
                           "durationMs": duration}, started_ms)
    out: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "inputText":
            out.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif part.get("type") == "inputImage":
            out.append({"type": "input_image", "image_url": str(part.get("imageUrl", ""))})
    return out
