"""Where the turn engine calls hooks. Each function is one call site in the engine and
does everything for its event: pick the handlers, build the stdin object, run them
(``hook/started``/``hook/completed`` go out through the thread's host), and record what
the model must see (additional context, feedback).

The engine passes itself (a ``ThreadEngine``) and the running turn; only these functions
know which parts of them hooks need.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.core.hooks.config import HookSet, discover, hooks_off
from pycodex.core.hooks.model import HookContext, HookOutcome, permission_mode
from pycodex.core.ids import now_ms, uuid7
from pycodex.core.token_usage import _rollout as usage_record
from pycodex.protocol.base import WireStruct

if TYPE_CHECKING:
    from pycodex.core.host import TurnHost, TurnSettings
    from pycodex.core.tools.context import ToolCall, ToolContext
    from pycodex.core.turn.active import ActiveTurn
    from pycodex.core.turn.engine import ThreadEngine as Session
    from pycodex.core.turn.stream import StreamResult

_STATE_KEY = "hooks"
_STARTED_KEY = "hooks.session_started"
_PENDING_KEY = "hooks.pending"
_DENIED_KEY = "hooks.denied_calls"
#: per-thread hook state (the turn's hooks, whether SessionStart ran), keyed by the
#: thread's host so that tools (which see the host, not the engine) share it
_STATE: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _state(host: TurnHost) -> dict[str, Any]:
    state = _STATE.get(host)
    if state is None:
        state = _STATE[host] = {}
    return state


SHELL_TOOLS = frozenset({"exec_command", "shell", "shell_command", "local_shell"})
#: how many times a Stop hook may send the model back to work in one turn
MAX_STOP_CONTINUATIONS = 3


def _hooks(session: Session, turn: ActiveTurn) -> HookSet:
    return _hooks_for(session.host, session.settings, turn.id)


def _hooks_for(host: TurnHost, settings: TurnSettings, turn_id: str) -> HookSet:
    """The thread's hooks, read once per turn (trust changes apply from the next turn)."""
    cached = _state(host).get(_STATE_KEY)
    if isinstance(cached, tuple) and cached[0] == turn_id:
        hooks: HookSet = cached[1]
        return hooks
    hooks = discover(host.codex_home, settings.cwd)
    if hooks_off(settings.config):
        hooks = HookSet(enabled=False)  # e.g. the TUI's helper threads (thread config)
    _state(host)[_STATE_KEY] = (turn_id, hooks)
    return hooks


def _context(session: Session, turn: ActiveTurn | None) -> HookContext:
    return _context_for(session.host, session.settings, turn.id if turn else None)


def _context_for(host: TurnHost, s: TurnSettings, turn_id: str | None) -> HookContext:
    transcript = getattr(host, "transcript_path", None)
    return HookContext(
        thread_id=host.thread_id, turn_id=turn_id, cwd=s.cwd,
        model=s.model, permission_mode=permission_mode(s.approval_policy, s.sandbox_policy),
        transcript_path=Path(transcript) if transcript else None,
        codex_home=host.codex_home)


async def run_hooks(hooks: HookSet, event: str, ctx: HookContext, fields: dict[str, Any],
                    emit: Any, *, subjects: list[str] | None = None,
                    call_id: str | None = None) -> HookOutcome:
    """:func:`pycodex.core.hooks.runner.run_hooks`, importing the runner only when the
    event has a handler that may run."""
    if not hooks.enabled or not any(h.event == event and h.runnable for h in hooks.handlers):
        return HookOutcome()
    from pycodex.core.hooks import runner

    return await runner.run_hooks(hooks, event, ctx, fields, emit, subjects=subjects,
                                  call_id=call_id)


def _emitter(session: Session | TurnHost) -> Any:
    host = session.host if hasattr(session, "host") else session

    async def emit(params: WireStruct) -> None:
        await host.emit(params)

    return emit


def _developer(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "developer",
            "content": [{"type": "input_text", "text": text}]}


async def _record(session: Session, texts: list[str]) -> None:
    """Hook texts for the model, as developer messages in history and rollout."""
    if texts:
        items = [_developer(text) for text in texts]
        session.history.extend(items)
        await session.host.persist([("response_item", item) for item in items])


class TurnStart(msgspec.Struct):
    """What the start-of-turn hooks decided."""

    contexts: list[str]
    """Additional context to record after the user message."""
    blocked: bool = False
    """A ``UserPromptSubmit`` hook refused the prompt, or a start hook answered
    ``continue: false``: the turn ends without the prompt (no model request, no ``Stop``)."""


async def turn_start(session: Session, turn: ActiveTurn, inputs: list[dict[str, Any]]
                     ) -> TurnStart:
    """``SessionStart`` (first turn of this engine; ``source``: ``fork`` for a fork,
    ``clear`` when ``thread/start`` said so, ``resume`` for a thread with history, else
    ``startup``) then ``UserPromptSubmit``."""
    contexts: list[str] = []
    if not _state(session.host).get(_STARTED_KEY):
        _state(session.host)[_STARTED_KEY] = True
        source = str(getattr(session.host, "session_start_source", "startup"))
        if source == "startup" and session.context_recorded:
            source = "resume"
        outcome = await run_hooks(_hooks(session, turn), "SessionStart",
                                  _context(session, turn), {"source": source},
                                  _emitter(session), subjects=[source])
        contexts += outcome.additional_contexts
        if outcome.stop:  # ``continue: false``: the turn ends before the prompt
            return TurnStart(contexts=contexts, blocked=True)
    submitted = await prompt_submit(session, turn, inputs)
    return TurnStart(contexts=contexts + submitted.contexts, blocked=submitted.blocked)


async def prompt_submit(session: Session, turn: ActiveTurn, inputs: list[dict[str, Any]]
                        ) -> TurnStart:
    """``UserPromptSubmit`` for a turn's input or for input steered into it."""
    prompt = "\n".join(str(item.get("text", "")) for item in inputs
                       if item.get("type") == "text")
    outcome = await run_hooks(_hooks(session, turn), "UserPromptSubmit",
                              _context(session, turn), {"prompt": prompt}, _emitter(session))
    return TurnStart(contexts=outcome.additional_contexts,
                     blocked=outcome.blocked or outcome.stop)


async def review_prompt(session: Session, turn: ActiveTurn, prompt: str) -> None:
    """``UserPromptSubmit`` with a review's prompt (the reference runs its review as a
    sub-agent turn: this hook and the model hooks run, ``SessionStart`` and ``Stop`` do
    not). Reported only: the review's conversation stays its own."""
    await run_hooks(_hooks(session, turn), "UserPromptSubmit", _context(session, turn),
                    {"prompt": prompt}, _emitter(session))


async def record_contexts(session: Session, contexts: list[str]) -> None:
    await _record(session, contexts)


async def stop(session: Session, turn: ActiveTurn, attempt: int) -> bool:
    """``Stop`` (``attempt`` counts the continuations so far); True when a hook blocked the
    stop: its reason went to the model as a hook prompt (a ``hookPrompt`` item and a user
    message) and the turn must go on. After :data:`MAX_STOP_CONTINUATIONS` the turn ends."""
    await settle(session)
    outcome = await run_hooks(
        _hooks(session, turn), "Stop", _context(session, turn),
        {"stop_hook_active": attempt > 0,
         "last_assistant_message": turn.last_agent_message},
        _emitter(session))
    await _record(session, outcome.additional_contexts)
    if not outcome.blocked or not outcome.block_reason or outcome.block_run_id is None \
            or attempt >= MAX_STOP_CONTINUATIONS:
        return False
    await _hook_prompt(session, turn, outcome.block_reason, outcome.block_run_id)
    return True


async def _hook_prompt(session: Session, turn: ActiveTurn, text: str, run_id: str) -> None:
    import html

    from pycodex.core import item_events
    from pycodex.protocol.types.items import HookPromptFragment, HookPromptItem

    item_id = f"msg_{uuid7()}"
    now = now_ms()
    item = HookPromptItem(id=item_id, fragments=[HookPromptFragment(text=text,
                                                                    hook_run_id=run_id)],
                          started_at_ms=now, completed_at_ms=None)
    host = session.host
    await host.emit(item_events.started(host.thread_id, turn.id, item, now))
    message = {"type": "message", "role": "user", "content": [{
        "type": "input_text",
        "text": f'<hook_prompt hook_run_id="{html.escape(run_id)}">{html.escape(text, quote=False)}'
                "</hook_prompt>"}]}
    session.history.append(message)
    await host.persist([("response_item", message)])
    await host.emit(item_events.completed(
        host.thread_id, turn.id, msgspec.structs.replace(item, completed_at_ms=now), now))


class PermissionVerdict(msgspec.Struct, frozen=True):
    """What ``PermissionRequest`` hooks decided: approve, or refuse with ``message``."""

    allow: bool
    message: str = ""


async def permission_request(ctx: ToolContext, call_id: str, tool_input: dict[str, Any], *,
                             tool_name: str = "Bash", aliases: list[str] | None = None
                             ) -> PermissionVerdict | None:
    """``PermissionRequest`` where an approval would be asked (commands as ``Bash``,
    patches as ``apply_patch``): any denial wins, else an approval; ``None`` when no hook
    decided and the client must be asked."""
    hooks = _hooks_for(ctx.host, ctx.settings, ctx.turn_id)
    outcome = await run_hooks(
        hooks, "PermissionRequest", _context_for(ctx.host, ctx.settings, ctx.turn_id),
        {"tool_name": tool_name, "tool_input": tool_input}, _emitter(ctx.host),
        subjects=aliases or [tool_name], call_id=call_id)
    if outcome.blocked:  # the tool never ran: no PostToolUse either
        _state(ctx.host).setdefault(_DENIED_KEY, set()).add(call_id)
        return PermissionVerdict(allow=False, message=outcome.block_reason or "")
    return PermissionVerdict(allow=True) if outcome.allowed else None


async def patch_permission(ctx: ToolContext, call: ToolCall) -> PermissionVerdict | None:
    """:func:`permission_request` for an ``apply_patch`` call (the patch text as input)."""
    tool_input = tool_identity(call)[2]
    return await permission_request(
        ctx, call.call_id, tool_input if isinstance(tool_input, dict) else {},
        tool_name="apply_patch", aliases=["apply_patch", "Edit", "Write"])


async def model_request(session: Session, turn: ActiveTurn) -> str:
    """``PreModelRequest`` before each sampling request (reported only); returns the
    request's id, which names the runs of both model events."""
    request_id = str(uuid.uuid4())
    await run_hooks(_hooks(session, turn), "PreModelRequest", _context(session, turn),
                    {"request_id": request_id, "attempt_number": 1}, _emitter(session),
                    call_id=request_id)
    return request_id


def model_response(session: Session, turn: ActiveTurn, request_id: str, *,
                   result: StreamResult | None = None, error: Exception | None = None,
                   cancelled: bool = False) -> None:
    """``PostModelRequest`` once the answer is in (or failed, or was cut by a steer); it
    runs beside the turn, which waits for it only before it ends (:func:`settle`)."""
    hooks = _hooks(session, turn)
    if not hooks.enabled or not any(h.event == "PostModelRequest" and h.runnable
                                    for h in hooks.handlers):
        return
    completed = result.completed if result is not None else None
    usage = completed.usage if completed is not None else None
    fields = {"request_id": request_id, "attempt_number": 1,
              "status": "cancelled" if cancelled else "failed" if error is not None
              else "completed",
              "error": str(error) if error is not None else None,
              "token_usage": usage_record(usage) if usage is not None else None,
              "response_id": completed.response_id if completed is not None else None}
    task = asyncio.get_running_loop().create_task(run_hooks(
        hooks, "PostModelRequest", _context(session, turn), fields, _emitter(session),
        call_id=request_id))
    _state(session.host).setdefault(_PENDING_KEY, []).append(task)


async def settle(session: Session) -> None:
    """Wait for the hooks still running beside the turn (``PostModelRequest``)."""
    tasks: list[asyncio.Task[Any]] = _state(session.host).pop(_PENDING_KEY, [])
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def session_end(session: Session, reason: str = "other") -> None:
    """``SessionEnd`` when the thread's engine shuts down (idle unload, server exit)."""
    s = session.settings
    await end_session(session.host.codex_home, session.host.thread_id, s.cwd, s.config,
                      getattr(session.host, "transcript_path", None), _emitter(session),
                      reason)


async def end_session(codex_home: Path, thread_id: str, cwd: Path, config: dict[str, Any],
                      transcript_path: Path | None, emit: Any, reason: str = "other"
                      ) -> None:
    """``SessionEnd`` for a thread, also one that never built an engine (as the reference,
    which ends every loaded thread)."""
    if hooks_off(config):
        return
    hooks = discover(codex_home, cwd)
    ctx = HookContext(thread_id=thread_id, turn_id=None, cwd=cwd, model="",
                      permission_mode="default", transcript_path=transcript_path,
                      codex_home=codex_home)
    await run_hooks(hooks, "SessionEnd", ctx, {"reason": reason}, emit, subjects=[reason])


async def compact(session: Session, turn: ActiveTurn, event: str, *, auto: bool) -> None:
    """``PreCompact`` / ``PostCompact`` around a compaction (``trigger`` ``auto`` for one
    the context limit started, else ``manual``; matchers test the trigger). A
    ``PreCompact`` ``continue: false`` stops it: the turn ends interrupted."""
    trigger = "auto" if auto else "manual"
    outcome = await run_hooks(_hooks(session, turn), event, _context(session, turn),
                              {"trigger": trigger}, _emitter(session), subjects=[trigger])
    if event == "PreCompact" and outcome.stop:
        raise asyncio.CancelledError("compaction stopped by a PreCompact hook")


async def interrupted(session: Session, turn: ActiveTurn) -> None:
    """``Interrupt`` when the user interrupted the turn (its output is only reported)."""
    await settle(session)
    await run_hooks(_hooks(session, turn), "Interrupt", _context(session, turn), {},
                    _emitter(session))


def hookable(call: ToolCall) -> bool:
    """Tool hooks see the shell tools and ``apply_patch`` (the reference does not run them
    for its other built-ins, e.g. ``update_plan``)."""
    return call.name in SHELL_TOOLS or call.name == "apply_patch"


def tool_identity(call: ToolCall) -> tuple[str, list[str], Any, str | None]:
    """``(tool_name, matcher aliases, tool_input, shell command)`` as hooks see a call."""
    if call.name in SHELL_TOOLS:
        command = _shell_command(call)
        return "Bash", ["Bash"], {"command": command}, command
    if call.name == "apply_patch":
        patch = call.payload
        if call.kind == "function":
            with contextlib.suppress(ValueError, AttributeError):
                patch = str(json.loads(call.payload).get("input", call.payload))
        return "apply_patch", ["apply_patch", "Edit", "Write"], {"command": patch}, None
    try:
        arguments: Any = json.loads(call.payload) if call.payload.strip() else {}
    except ValueError:
        arguments = call.payload
    return call.name, [call.name], arguments, None


def _shell_command(call: ToolCall) -> str:
    try:
        args = json.loads(call.payload) if call.payload.strip() else {}
    except ValueError:
        return call.payload
    if not isinstance(args, dict):
        return call.payload
    value = args.get("cmd", args.get("command"))
    if isinstance(value, list):
        return shlex.join(str(part) for part in value)
    return str(value) if value is not None else ""


async def pre_tool_use(session: Session, turn: ActiveTurn, call: ToolCall
                       ) -> tuple[ToolCall, str | None]:
    """``PreToolUse``: the call to run (a hook may rewrite its input) and, when a hook
    blocked it, the output the model gets instead."""
    name, aliases, tool_input, command = tool_identity(call)
    outcome = await run_hooks(
        _hooks(session, turn), "PreToolUse", _context(session, turn),
        {"tool_name": name, "tool_input": tool_input, "tool_use_id": call.call_id},
        _emitter(session), subjects=aliases, call_id=call.call_id)
    await _record(session, outcome.additional_contexts)
    if not outcome.blocked:
        return _rewritten(call, outcome.updated_input), None
    reason = (outcome.block_reason or "").rstrip(".")
    if command is not None:
        return call, f"Command blocked by PreToolUse hook: {reason}. Command: {command}"
    return call, f"Tool call blocked by PreToolUse hook: {reason}. Tool: {name}"


def _rewritten(call: ToolCall, updated: dict[str, Any] | None) -> ToolCall:
    """``call`` with the command a hook's ``updatedInput`` gave (shell tools and
    ``apply_patch``); unchanged when there is none or it does not fit the tool."""
    command = updated.get("command") if updated else None
    if not isinstance(command, str):
        return call
    if call.kind == "custom":
        return msgspec.structs.replace(call, payload=command)
    try:
        args = json.loads(call.payload) if call.payload.strip() else {}
    except ValueError:
        return call
    if not isinstance(args, dict):
        return call
    if call.name == "exec_command":
        args["cmd"] = command
    elif call.name == "shell_command":
        args["command"] = command
    elif call.name == "shell":
        args["command"] = ["bash", "-lc", command]
    elif call.name == "apply_patch":
        args["input"] = command
    else:
        return call
    return msgspec.structs.replace(call, payload=json.dumps(args))


async def post_tool_use(session: Session, turn: ActiveTurn, call: ToolCall, output: Any
                        ) -> str | None:
    """``PostToolUse`` after the tool's item completed; contexts go to the model right
    before the tool's output. Returns the text that replaces that output (a block's
    reason, or ``continue: false``'s ``stopReason``), else ``None``. Not run for a call a
    hook denied."""
    denied: set[str] = _state(session.host).get(_DENIED_KEY, set())
    if call.call_id in denied:
        denied.discard(call.call_id)
        return None
    name, aliases, tool_input, command = tool_identity(call)
    outcome = await run_hooks(
        _hooks(session, turn), "PostToolUse", _context(session, turn),
        {"tool_name": name, "tool_input": tool_input,
         "tool_response": _tool_response(output, shell=command is not None),
         "tool_use_id": call.call_id},
        _emitter(session), subjects=aliases, call_id=call.call_id)
    await _record(session, outcome.additional_contexts)
    if outcome.blocked and outcome.block_reason:
        return outcome.block_reason
    return (outcome.stop_reason or "") if outcome.stop else None


def _tool_response(output: Any, *, shell: bool) -> str:
    if not isinstance(output, str):
        return json.dumps(output, ensure_ascii=False)
    if shell:
        _, marker, rest = output.partition("\nOutput:\n")
        return rest if marker else output
    return output
