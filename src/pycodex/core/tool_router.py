"""Dispatch of the model's tool calls to tool handlers, and the tool list sent upstream.

A handler gets the call and a :class:`ToolContext` and returns the output for the model: a
string, or a list of Responses content items. Bad arguments and unknown tools are answered
to the model as text; the turn goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.core import tool_specs
from pycodex.core.hooks import turn_points
from pycodex.core.host import ClientAnswerError
from pycodex.core.ids import now_ms

if TYPE_CHECKING:
    from pycodex.core.session import ActiveTurn, Session

logger = logging.getLogger(__name__)


class ToolCall(msgspec.Struct, frozen=True):
    kind: str  # "function" | "custom" | "local_shell"
    name: str
    call_id: str
    payload: str
    item: dict[str, Any]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ToolCall:
        kind = item.get("type")
        call_id = str(item.get("call_id") or item.get("id") or "")
        if kind == "custom_tool_call":
            return cls("custom", str(item.get("name")), call_id, str(item.get("input") or ""),
                       item)
        if kind == "local_shell_call":
            return cls("local_shell", "local_shell", call_id,
                       json.dumps(item.get("action") or {}), item)
        return cls("function", str(item.get("name")), call_id,
                   str(item.get("arguments") or ""), item)

    def json_arguments(self) -> dict[str, Any]:
        """The function arguments; raises :class:`ToolError` with the model-facing text."""
        if not self.payload.strip():
            return {}
        try:
            value = json.loads(self.payload)
        except ValueError as exc:
            raise ToolError(f"failed to parse function arguments: {exc}") from None
        if not isinstance(value, dict):
            raise ToolError("failed to parse function arguments: expected an object")
        return value


class ToolError(Exception):
    """A tool failure that is reported to the model as the tool's output."""


class ToolContext(msgspec.Struct):
    session: Session
    turn: ActiveTurn

    @property
    def thread_id(self) -> str:
        return self.session.host.thread_id

    @property
    def turn_id(self) -> str:
        return self.turn.id

    async def emit(self, method: str, params: dict[str, Any]) -> None:
        await self.session.host.emit(method, params)

    async def item_started(self, item: dict[str, Any]) -> int:
        """Emit ``item/started``; the item's own ``startedAtMs`` is used when it has one."""
        stamp = item.get("startedAtMs")
        started = stamp if isinstance(stamp, int) else now_ms()
        await self.emit("item/started", {"item": item, "threadId": self.thread_id,
                                         "turnId": self.turn_id, "startedAtMs": started})
        return started

    async def item_completed(self, item: dict[str, Any]) -> None:
        """Emit ``item/completed``; the item's own ``completedAtMs`` is used when set."""
        stamp = item.get("completedAtMs")
        completed = stamp if isinstance(stamp, int) else now_ms()
        await self.emit("item/completed", {"item": item, "threadId": self.thread_id,
                                           "turnId": self.turn_id, "contentTokenCount": None,
                                           "completedAtMs": completed})

    async def finish_item(self, item: dict[str, Any], started_ms: int | None) -> None:
        """Record a finished item in the rollout, then emit its ``item/completed``."""
        stamp = item.get("completedAtMs")
        completed = stamp if isinstance(stamp, int) else now_ms()
        if "completedAtMs" in item:
            item = {**item, "completedAtMs": completed}
        session = self.session
        await session.host.persist(session.item_lines(self.turn_id, item, started_ms, completed))
        await self.item_completed(item)

    async def ask(self, method: str, params: dict[str, Any], flag: str | None) -> Any:
        """A server→client request, with ``flag`` (waitingOnApproval...) set meanwhile."""
        host = self.session.host
        if flag:
            await host.waiting(flag, True)
        try:
            return await host.request(method, params)
        finally:
            if flag:
                await host.waiting(flag, False)


ToolOutput = str | list[dict[str, Any]]
Handler = Callable[[ToolCall, ToolContext], Awaitable[ToolOutput]]
SpecFn = Callable[["Session", Any], dict[str, Any] | None]


class Tool(msgspec.Struct, frozen=True):
    name: str
    handler: Handler
    spec: SpecFn


_BUILTINS: dict[str, Tool] = {}


def builtin(name: str, spec: SpecFn) -> Callable[[Handler], Handler]:
    """Register a built-in tool: ``spec(session, model_info)`` returns its definition or
    ``None`` when the tool is not offered."""

    def register(fn: Handler) -> Handler:
        _BUILTINS[name] = Tool(name, fn, spec)
        return fn

    return register


def _load_builtin_tools() -> None:
    import importlib

    for module in ("exec_tools", "patch_tool"):
        try:
            importlib.import_module(f"pycodex.core.tools.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pycodex.core.tools.{module}":
                raise


class ToolRouter:
    """The tools of one session: built-ins plus the client's dynamic tools."""

    def __init__(self) -> None:
        _load_builtin_tools()

    def specs(self, session: Session, model_info: Any) -> list[dict[str, Any]]:
        specs: list[dict[str, Any]] = []
        for tool in _BUILTINS.values():
            spec = tool.spec(session, model_info)
            if spec is not None:
                specs.append(spec)
        for dyn in session.settings.dynamic_tools:
            if not dyn.get("deferLoading"):
                specs.append(tool_specs.dynamic_tool_spec(dyn))
        return specs

    def _dynamic(self, session: Session, name: str) -> dict[str, Any] | None:
        for dyn in session.settings.dynamic_tools:
            if dyn.get("name") == name:
                return dyn
        return None

    async def dispatch(self, call: ToolCall, ctx: ToolContext) -> dict[str, Any]:
        """Run one call; returns the output item recorded into history."""
        started = time.perf_counter()
        hooked, blocked = False, None
        try:
            tool = _BUILTINS.get(call.name)
            if tool is not None and tool.spec(ctx.session, ctx.session._model_info()) is None:
                tool = None
            hooked = tool is not None and turn_points.hookable(call)
            if hooked:  # hooks: may block the call or rewrite its input
                call, blocked = await turn_points.pre_tool_use(call, ctx)
            if blocked is not None:
                output: ToolOutput = blocked
            elif tool is not None:
                output = await tool.handler(call, ctx)
            elif self._dynamic(ctx.session, call.name) is not None:
                output = await dynamic_tool_call(call, ctx)
            else:
                logger.error("unsupported call: %s", call.name)
                output = f"unsupported call: {call.name}"
        except ToolError as exc:
            output = str(exc)
        except asyncio.CancelledError:
            # Interrupted (or an approval was cancelled): the call still gets an output so
            # the history stays valid for the next request.
            await self._record_aborted(call, ctx, time.perf_counter() - started)
            raise
        if hooked and blocked is None:
            await turn_points.post_tool_use(call, ctx, output)  # hooks
        return self._output_item(call, output)

    @staticmethod
    def _output_item(call: ToolCall, output: ToolOutput) -> dict[str, Any]:
        if call.kind == "custom":
            return {"type": "custom_tool_call_output", "call_id": call.call_id,
                    "output": output if isinstance(output, str) else json.dumps(output)}
        return {"type": "function_call_output", "call_id": call.call_id, "output": output}

    async def _record_aborted(self, call: ToolCall, ctx: ToolContext, elapsed: float) -> None:
        if call.name in ("exec_command", "write_stdin", "shell", "shell_command",
                         "local_shell"):
            text = f"Wall time: {elapsed:.1f} seconds\naborted by user"
        else:
            text = f"aborted by user after {elapsed:.1f}s"
        item = self._output_item(call, text)
        ctx.session.history.append(item)
        try:
            await ctx.session.host.persist([("response_item", item)])
        except Exception:
            logger.exception("could not record the aborted tool call")

    async def close(self, session: Session) -> None:
        closers = session.state.get("closers", [])
        for closer in closers:
            try:
                await closer()
            except Exception:
                logger.exception("tool cleanup failed")


# -- small built-in tools ------------------------------------------------------------------
@builtin("update_plan", lambda session, info: tool_specs.UPDATE_PLAN)
async def update_plan(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    plan = args.get("plan")
    if not isinstance(plan, list):
        raise ToolError("failed to parse function arguments: missing field `plan`")
    steps = []
    for entry in plan:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), str):
            raise ToolError("failed to parse function arguments: invalid plan item")
        raw_status = str(entry.get("status"))
        status = {"in_progress": "inProgress"}.get(raw_status, raw_status)
        if status not in ("pending", "inProgress", "completed"):
            raise ToolError(f"failed to parse function arguments: unknown status {status!r}")
        steps.append({"step": entry["step"], "status": status})
    explanation = args.get("explanation")
    await ctx.emit("turn/plan/updated", {
        "threadId": ctx.thread_id, "turnId": ctx.turn_id,
        "explanation": explanation if isinstance(explanation, str) else None, "plan": steps})
    return "Plan updated"


def _view_image_spec(session: Session, info: Any) -> dict[str, Any] | None:
    return tool_specs.VIEW_IMAGE if "image" in getattr(info, "input_modalities", ()) else None


@builtin("view_image", _view_image_spec)
async def view_image(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    import base64
    import mimetypes
    from pathlib import Path

    args = call.json_arguments()
    raw = args.get("path")
    if not isinstance(raw, str) or not raw:
        raise ToolError("failed to parse function arguments: missing field `path`")
    path = Path(raw)
    if not path.is_absolute():
        path = ctx.session.settings.cwd / path
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


@builtin("request_user_input", lambda session, info: tool_specs.REQUEST_USER_INPUT)
async def request_user_input(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    # Only Plan mode may ask; a session that does not track its mode lets the tool run.
    mode = getattr(ctx.session.settings, "collaboration_mode", None)
    if isinstance(mode, str) and mode != "plan":
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
        wire_questions.append({
            "id": q["id"], "header": q["header"], "question": q["question"],
            "isOther": True, "isSecret": bool(q.get("isSecret", False)),
            "options": [{"label": str(o.get("label", "")),
                         "description": str(o.get("description", ""))}
                        for o in options if isinstance(o, dict)],
        })
    params = {"threadId": ctx.thread_id, "turnId": ctx.turn_id, "itemId": call.call_id,
              "questions": wire_questions, "isBlocking": True}
    try:
        result = await ctx.ask("item/tool/requestUserInput", params, "waitingOnUserInput")
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
    params = {"threadId": ctx.thread_id, "turnId": ctx.turn_id, "callId": call.call_id,
              "tool": call.name, "arguments": arguments}
    content: list[dict[str, Any]]
    try:
        result = await ctx.ask("item/tool/call", params, None)
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
