"""Running the handlers of one hook event: each through the user's shell with the event's
JSON on stdin, announced by ``hook/started`` / ``hook/completed``, its output turned into
what the engine acts on (:class:`HookOutcome`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from pycodex.core.hooks import output_wire
from pycodex.core.hooks.config import HookHandler, HookSet
from pycodex.core.hooks.events import MODEL_EVENTS, THREAD_SCOPED, TOOL_EVENTS, camel, kebab
from pycodex.core.hooks.model import HookContext, HookOutcome
from pycodex.core.hooks.spill import limit_for, spill
from pycodex.core.truncation import approx_tokens, truncate_middle
from pycodex.protocol.base import WireStruct
from pycodex.protocol.types.hooks import (
    HookCompletedNotification,
    HookOutputEntry,
    HookRunSummary,
    HookStartedNotification,
)

logger = logging.getLogger(__name__)

Emit = Callable[[WireStruct], Awaitable[None]]

#: events where exit code 2 means "block" (elsewhere it is an ordinary failure)
BLOCKING_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse",
                             "UserPromptSubmit", "Stop"})
#: events whose stdout must be JSON when it is not empty
JSON_ONLY_EVENTS = frozenset({"Interrupt"})
#: events whose stdin object has no ``permission_mode``
WITHOUT_PERMISSION_MODE = frozenset({"PreCompact", "PostCompact", "SessionEnd"})
#: events whose stdin object has no ``model``
WITHOUT_MODEL = frozenset({"SessionEnd"})
#: Claude-Code-style events whose plain (non-JSON) stdout is context for the model
_PLAIN_STDOUT_IS_CONTEXT = frozenset({"SessionStart", "UserPromptSubmit"})


class _Result(msgspec.Struct):
    status: str
    entries: list[HookOutputEntry]
    outcome: HookOutcome
    started_at: int
    completed_at: int
    duration_ms: int


def stdin_payload(event: str, ctx: HookContext, fields: dict[str, Any]) -> dict[str, Any]:
    if event in MODEL_EVENTS:
        return _model_payload(event, ctx, fields)
    payload: dict[str, Any] = {"session_id": ctx.thread_id}
    if event not in THREAD_SCOPED and ctx.turn_id is not None:
        payload["turn_id"] = ctx.turn_id
    payload.update({
        "transcript_path": str(ctx.transcript_path) if ctx.transcript_path else None,
        "cwd": str(ctx.cwd), "hook_event_name": event})
    if event not in WITHOUT_MODEL:
        payload["model"] = ctx.model
    if event not in WITHOUT_PERMISSION_MODE:
        payload["permission_mode"] = ctx.permission_mode
    payload.update(fields)
    return payload


def _model_payload(event: str, ctx: HookContext, fields: dict[str, Any]) -> dict[str, Any]:
    """``PreModelRequest`` / ``PostModelRequest``: the request's identity first, then the
    thread's; ``fields`` holds ``request_id``, ``attempt_number`` and the answer's fields."""
    head = {"kind": "sampling", "request_id": fields.get("request_id"),
            "attempt_number": fields.get("attempt_number", 1)}
    rest = {k: v for k, v in fields.items() if k not in head}
    return {**head, "session_id": ctx.thread_id, "thread_id": ctx.thread_id,
            "turn_id": ctx.turn_id, "cwd": str(ctx.cwd),
            "transcript_path": str(ctx.transcript_path) if ctx.transcript_path else None,
            "model": ctx.model, "hook_event_name": event, **rest}


def matching(hooks: HookSet, event: str, subjects: list[str]) -> list[HookHandler]:
    """Runnable handlers of ``event`` whose matcher accepts one of ``subjects`` (tool name
    and aliases, or the session start source)."""
    if not hooks.enabled:
        return []
    out = []
    for handler in hooks.handlers:
        if handler.event != event or not handler.runnable:
            continue
        matcher = handler.matcher
        if matcher and matcher != "*" and subjects:
            try:
                pattern = re.compile(matcher)
            except re.error:
                continue
            if not any(pattern.search(subject) for subject in subjects):
                continue
        out.append(handler)
    return out


async def run_hooks(hooks: HookSet, event: str, ctx: HookContext, fields: dict[str, Any],
                    emit: Emit, *, subjects: list[str] | None = None,
                    call_id: str | None = None) -> HookOutcome:
    """Run the matching, trusted handlers of ``event`` concurrently; returns the combined
    outcome (blocked if any blocked; contexts in handler order)."""
    selected = matching(hooks, event, subjects or [])
    if not selected:
        return HookOutcome()
    payload = json.dumps(stdin_payload(event, ctx, fields), separators=(",", ":"),
                         ensure_ascii=False)
    started_at = int(time.time())
    for handler in selected:
        await emit(HookStartedNotification(
            thread_id=ctx.thread_id, turn_id=ctx.turn_id,
            run=_summary(handler, call_id, "running", started_at)))
    for handler in selected:
        if handler.is_async:  # runs on its own; its output does not steer the turn
            task = asyncio.get_running_loop().create_task(
                _complete(handler, event, payload, ctx, emit, call_id))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
    synchronous = [h for h in selected if not h.is_async]
    results = await asyncio.gather(*(_run_one(h, event, payload, ctx.cwd)
                                     for h in synchronous))
    combined = HookOutcome()
    for handler, result in zip(synchronous, results, strict=True):
        summary = await _announce(handler, result, ctx, emit, call_id)
        outcome = result.outcome
        for text in outcome.additional_contexts:
            combined.additional_contexts.append(await _within_limit(text, handler, ctx))
        if outcome.updated_input is not None:
            combined.updated_input = outcome.updated_input
        if outcome.blocked and not combined.blocked:
            combined.blocked = True
            combined.block_reason = (None if outcome.block_reason is None else
                                     await _within_limit(outcome.block_reason, handler, ctx))
            combined.block_run_id = summary.id
        combined.allowed = combined.allowed or outcome.allowed
        if outcome.stop and not combined.stop:
            combined.stop, combined.stop_reason = True, outcome.stop_reason
    return combined


async def _within_limit(text: str, handler: HookHandler, ctx: HookContext) -> str:
    """``text`` as the model may see it (over-long text saved to a file, see ``spill``)."""
    limit = limit_for(handler.additional_context_limit)
    if limit is None or approx_tokens(text) <= limit:
        return text
    if ctx.codex_home is None:
        return truncate_middle(text, limit)
    return await asyncio.to_thread(spill, text, limit, ctx.codex_home, ctx.thread_id)


async def _announce(handler: HookHandler, result: _Result, ctx: HookContext, emit: Emit,
                    call_id: str | None) -> HookRunSummary:
    summary = _summary(handler, call_id, result.status, result.started_at,
                       completed_at=result.completed_at, duration_ms=result.duration_ms,
                       entries=result.entries)
    await emit(HookCompletedNotification(
        thread_id=ctx.thread_id, turn_id=ctx.turn_id, run=summary))
    return summary


async def _complete(handler: HookHandler, event: str, payload: str, ctx: HookContext,
                    emit: Emit, call_id: str | None) -> None:
    try:
        await _announce(handler, await _run_one(handler, event, payload, ctx.cwd), ctx, emit,
                        call_id)
    except Exception:
        logger.exception("async hook %s failed", handler.key)


#: async runs in flight (kept referenced until they finish)
_BACKGROUND: set[asyncio.Task[None]] = set()


def _summary(handler: HookHandler, call_id: str | None, status: Any, started_at: int, *,
             completed_at: int | None = None, duration_ms: int | None = None,
             entries: list[HookOutputEntry] | None = None) -> HookRunSummary:
    run_id = f"{kebab(handler.event)}:{handler.display_order}:{handler.source_path}"
    if call_id is not None and (handler.event in TOOL_EVENTS or handler.event in MODEL_EVENTS):
        run_id += f":{call_id}"
    return HookRunSummary(
        id=run_id, event_name=camel(handler.event),  # type: ignore[arg-type]
        handler_type="command", execution_mode="async" if handler.is_async else "sync",
        scope="thread" if handler.event in THREAD_SCOPED else "turn",
        source_path=str(handler.source_path), source=handler.source,  # type: ignore[arg-type]
        display_order=handler.display_order, status=status,
        status_message=handler.status_message, started_at=started_at,
        completed_at=completed_at, duration_ms=duration_ms, entries=list(entries or []))


async def _run_one(handler: HookHandler, event: str, payload: str, cwd: Path) -> _Result:
    started_at = int(time.time())
    started = time.perf_counter()
    exit_code, stdout, stderr, error = await _execute(handler, payload, cwd)
    status, entries, outcome = interpret(event, exit_code, stdout, stderr, error)
    return _Result(status=status, entries=entries, outcome=outcome, started_at=started_at,
                   completed_at=int(time.time()),
                   duration_ms=int((time.perf_counter() - started) * 1000))


async def _execute(handler: HookHandler, payload: str, cwd: Path
                   ) -> tuple[int | None, str, str, str | None]:
    """``(exit code, stdout, stderr, error)``; the process group is killed on timeout."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    try:
        proc = await asyncio.create_subprocess_exec(
            shell, "-lc", handler.command, cwd=str(cwd), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True)
    except OSError as exc:
        return None, "", "", str(exc)
    try:
        out, err = await asyncio.wait_for(proc.communicate(payload.encode()),
                                          handler.timeout_sec)
    except TimeoutError:
        _kill(proc)
        return None, "", "", f"hook timed out after {handler.timeout_sec}s"
    except asyncio.CancelledError:
        _kill(proc)
        raise
    return (proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            None)


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def interpret(event: str, exit_code: int | None, stdout: str, stderr: str,
              error: str | None) -> tuple[str, list[HookOutputEntry], HookOutcome]:
    """The run's status, its entries and the outcome, from how the command ended."""
    outcome = HookOutcome()
    entries: list[HookOutputEntry] = []
    if error is not None:
        return "failed", [HookOutputEntry(kind="error", text=error)], outcome
    if exit_code is None and event in output_wire.STATELESS:
        text = "hook process terminated without an exit code"
        return "failed", [HookOutputEntry(kind="error", text=text)], outcome
    if exit_code == 2 and event in BLOCKING_EVENTS:
        reason = stderr.strip()
        if not reason:
            what = "a denial" if event == "PermissionRequest" else "a blocking"
            text = f"{event} hook exited with code 2 but did not write {what} reason to stderr"
            return "failed", [HookOutputEntry(kind="error", text=text)], outcome
        outcome.blocked, outcome.block_reason = True, reason
        return "blocked", [HookOutputEntry(kind="feedback", text=reason)], outcome
    if exit_code != 0:
        text = ("hook exited without a status code" if exit_code is None
                else f"hook exited with code {exit_code}")
        if (event in output_wire.STATELESS or event in output_wire.UNREAD) and stderr.strip():
            text = stderr.strip()  # these events report the hook's own words
        return "failed", [HookOutputEntry(kind="error", text=text)], outcome
    text = stdout.strip()
    if not text or event in output_wire.UNREAD:
        return "completed", entries, outcome
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        if text.startswith(("{", "[")) or event in output_wire.JSON_ONLY:
            message = f"hook returned invalid {output_wire.label(event)} JSON output"
            return "failed", [HookOutputEntry(kind="error", text=message)], outcome
        if event in JSON_ONLY_EVENTS:
            message = f"{event} hook returned non-JSON stdout"
            return "failed", [HookOutputEntry(kind="error", text=message)], outcome
        if event in _PLAIN_STDOUT_IS_CONTEXT:
            outcome.additional_contexts.append(text)
            entries.append(HookOutputEntry(kind="context", text=text))
        return "completed", entries, outcome
    problem = output_wire.invalid(event, parsed)
    if problem is not None:
        return "failed", [HookOutputEntry(kind="error", text=problem)], outcome
    if event == "PermissionRequest":
        return _interpret_permission(parsed, outcome)
    return _interpret_json(event, parsed, outcome)


def _universal_entries(data: dict[str, Any]) -> list[HookOutputEntry]:
    message = data.get("systemMessage")
    if isinstance(message, str) and message:
        return [HookOutputEntry(kind="warning", text=message)]
    return []


def _unsupported_universal(data: dict[str, Any]) -> str | None:
    """Which universal field an event that cannot stop the turn was given, if any."""
    if data.get("continue") is False:
        return "continue:false"
    if "stopReason" in data:
        return "stopReason"
    return "suppressOutput" if data.get("suppressOutput") is True else None


def _interpret_permission(data: dict[str, Any], outcome: HookOutcome
                          ) -> tuple[str, list[HookOutputEntry], HookOutcome]:
    """``hookSpecificOutput.decision {behavior: allow|deny, message?}``: approve or refuse
    the request without asking; no decision lets the normal approval go on."""
    entries = _universal_entries(data)
    specific = data.get("hookSpecificOutput")
    decision = specific.get("decision") if isinstance(specific, dict) else None
    decision = decision if isinstance(decision, dict) else {}
    unsupported = _unsupported_universal(data) or (
        "updatedInput" if "updatedInput" in decision
        else "updatedPermissions" if "updatedPermissions" in decision
        else "interrupt:true" if decision.get("interrupt") is True else None)
    if unsupported is not None:
        text = f"PermissionRequest hook returned unsupported {unsupported}"
        return "failed", [*entries, HookOutputEntry(kind="error", text=text)], outcome
    behavior = decision.get("behavior")
    if behavior == "allow":
        outcome.allowed = True
    elif behavior == "deny":
        message = decision.get("message")
        reason = (message.strip() if isinstance(message, str) and message.strip()
                  else "PermissionRequest hook denied approval")
        outcome.blocked, outcome.block_reason = True, reason
        return "blocked", [*entries, HookOutputEntry(kind="feedback", text=reason)], outcome
    return "completed", entries, outcome


def _interpret_json(event: str, data: dict[str, Any], outcome: HookOutcome
                    ) -> tuple[str, list[HookOutputEntry], HookOutcome]:
    if event == "PreToolUse":
        return _interpret_pre_tool_use(data, outcome)
    entries = _universal_entries(data)
    status = "completed"
    specific = data.get("hookSpecificOutput")
    specific = specific if isinstance(specific, dict) else {}
    decision, reason = data.get("decision"), data.get("reason")
    if decision == "block" and not (isinstance(reason, str) and reason.strip()):
        text = f"{event} hook returned decision:block without a non-empty reason"
        return "failed", [*entries, HookOutputEntry(kind="error", text=text)], outcome
    if event == "PostToolUse" and decision is None and reason is not None \
            and data.get("continue") is not False:
        text = "PostToolUse hook returned reason without decision"
        return "failed", [*entries, HookOutputEntry(kind="error", text=text)], outcome
    context = specific.get("additionalContext")
    if isinstance(context, str) and context:
        outcome.additional_contexts.append(context)
        entries.append(HookOutputEntry(kind="context", text=context))
    if decision == "block":
        status = "blocked"
        outcome.blocked, outcome.block_reason = True, str(reason)
        entries.append(HookOutputEntry(kind="feedback", text=str(reason)))
    if data.get("continue") is False:
        status = "stopped"
        stop_reason = data.get("stopReason")
        outcome.stop = True
        outcome.stop_reason = stop_reason if isinstance(stop_reason, str) else None
        if outcome.stop_reason:
            entries.append(HookOutputEntry(kind="stop", text=outcome.stop_reason))
    return status, entries, outcome


def _interpret_pre_tool_use(data: dict[str, Any], outcome: HookOutcome
                            ) -> tuple[str, list[HookOutputEntry], HookOutcome]:
    """``PreToolUse``: ``hookSpecificOutput.permissionDecision`` (``deny`` with a reason
    blocks; ``allow`` only with an ``updatedInput`` rewrite) or the legacy ``decision:
    block`` + ``reason``; anything the reference does not support fails the run and the
    call goes on as if the hook had said nothing."""
    entries = _universal_entries(data)
    specific = data.get("hookSpecificOutput")
    specific = specific if isinstance(specific, dict) else {}
    permission = specific.get("permissionDecision")
    problem, reason = _pre_tool_problem(data, specific)
    if problem is not None:
        return "failed", [*entries, HookOutputEntry(kind="error", text=problem)], outcome
    context = specific.get("additionalContext")
    if isinstance(context, str) and context:
        outcome.additional_contexts.append(context)
        entries.append(HookOutputEntry(kind="context", text=context))
    if reason is not None:
        outcome.blocked, outcome.block_reason = True, reason
        return "blocked", [*entries, HookOutputEntry(kind="feedback", text=reason)], outcome
    if permission == "allow":
        outcome.updated_input = specific.get("updatedInput")
    return "completed", entries, outcome


def _pre_tool_problem(data: dict[str, Any], specific: dict[str, Any]
                      ) -> tuple[str | None, str | None]:
    """``(why the output is unsupported, the block reason)``; at most one is set."""
    prefix = "PreToolUse hook returned"
    unsupported = _unsupported_universal(data)
    if unsupported is not None:
        return f"{prefix} unsupported {unsupported}", None
    permission = specific.get("permissionDecision")
    given = specific.get("permissionDecisionReason")
    updated = specific.get("updatedInput")
    if permission is not None or given is not None or updated is not None:
        reason = given.strip() if isinstance(given, str) else ""
        if updated is not None and permission != "allow":
            return f"{prefix} updatedInput without permissionDecision:allow", None
        if permission == "allow":
            return (None if isinstance(updated, dict)
                    else f"{prefix} unsupported permissionDecision:allow"), None
        if permission == "ask":
            return f"{prefix} unsupported permissionDecision:ask", None
        if permission == "deny":
            return ((None, reason) if reason else (
                f"{prefix} permissionDecision:deny without a non-empty "
                "permissionDecisionReason", None))
        return f"{prefix} permissionDecisionReason without permissionDecision", None
    decision, legacy = data.get("decision"), data.get("reason")
    reason = legacy.strip() if isinstance(legacy, str) else ""
    if decision == "approve":
        return f"{prefix} unsupported decision:approve", None
    if decision == "block":
        return ((None, reason) if reason
                else (f"{prefix} decision:block without a non-empty reason", None))
    return (f"{prefix} reason without decision" if legacy is not None else None), None
