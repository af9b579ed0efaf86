"""``exec_command`` and ``write_stdin``: shell commands with approvals and the sandbox.

A command runs until it exits or ``yield_time_ms`` passes; a process still running then
stays in the thread's table under a session id that ``write_stdin`` can talk to. Its
``commandExecution`` item completes when the process exits.

Login commands (``<shell> -lc``, the default) of the user's shell run through the thread's
shell snapshot once it exists (:mod:`pycodex.core.shell_snapshot`): a non-login shell that
loads the profile's captured state instead of running the profile again. The item and the
approvals still show the ``-lc`` command the model asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.core import tool_specs
from pycodex.core.approvals import ApprovalOutcome, _shell_join, request_command_approval
from pycodex.core.ids import now_ms
from pycodex.core.tools import patch_tool
from pycodex.core.tools.context import Tool, ToolCall, ToolContext, ToolError, ToolOutput
from pycodex.core.truncation import approx_tokens, truncate_middle
from pycodex.protocol.types.items import (
    CommandAction,
    CommandExecutionItem,
    CommandExecutionOutputDeltaNotification,
    CommandExecutionSource,
    CommandExecutionStatus,
    TerminalInteractionNotification,
)

if TYPE_CHECKING:
    from pycodex.core.shell_snapshot import ShellSnapshot

logger = logging.getLogger(__name__)

DEFAULT_YIELD_MS = 10_000
MIN_YIELD_MS = 250
MAX_YIELD_MS = 30_000
MIN_POLL_YIELD_MS = 5_000
DEFAULT_MAX_OUTPUT_TOKENS = 10_000
MAX_SESSIONS = 64

_DENIAL_MARKERS = ("operation not permitted", "permission denied", "read-only file system",
                   "seccomp", "sandbox", "landlock", "failed to write file")


class ExecSession(msgspec.Struct):
    id: int
    process: Any
    item: CommandExecutionItem
    turn_id: str
    started: float
    output: Any  # HeadTailBuffer
    started_ms: int = msgspec.field(default_factory=now_ms)
    aggregated: bytearray = msgspec.field(default_factory=bytearray)
    exited: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    exit_code: int | None = None
    pump: asyncio.Task[None] | None = None


def _table(ctx: ToolContext) -> dict[int, ExecSession]:
    state = ctx.thread_state
    table: dict[int, ExecSession] = state.exec_sessions
    if "exec_sessions" not in state.closers:

        async def close_all() -> None:
            for sess in list(table.values()):
                with contextlib.suppress(Exception):
                    sess.process.kill()
        state.closers["exec_sessions"] = close_all
    return table


def _clamp_yield(value: Any, default: int, minimum: int) -> float:
    ms = value if isinstance(value, int | float) and not isinstance(value, bool) else default
    return max(minimum, min(MAX_YIELD_MS, int(ms))) / 1000


def _output_budget(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return DEFAULT_MAX_OUTPUT_TOKENS


def format_output(text: str, wall: float, *, exit_code: int | None, session_id: int | None,
                  max_tokens: int) -> str:
    lines = [f"Chunk ID: {random.randbytes(3).hex()}", f"Wall time: {wall:.4f} seconds"]
    if exit_code is not None:
        lines.append(f"Process exited with code {exit_code}")
    if session_id is not None:
        lines.append(f"Process running with session ID {session_id}")
    lines.append(f"Original token count: {approx_tokens(text)}")
    lines.append("Output:")
    return "\n".join(lines) + "\n" + truncate_middle(text, max_tokens)


def _looks_like_sandbox_denial(exit_code: int | None, output: str) -> bool:
    if exit_code in (None, 0, 2, 126, 127):
        return False
    lowered = output.lower()
    return any(marker in lowered for marker in _DENIAL_MARKERS)


def _exec_spec(settings: Any, info: Any) -> dict[str, Any]:
    return tool_specs.EXEC_COMMAND


def _stdin_spec(settings: Any, info: Any) -> dict[str, Any]:
    return tool_specs.WRITE_STDIN


async def exec_command(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    cmd = args.get("cmd")
    if not isinstance(cmd, str) or not cmd.strip():
        raise ToolError("failed to parse function arguments: missing field `cmd`")
    settings = ctx.settings
    workdir = args.get("workdir")
    cwd = settings.cwd
    if isinstance(workdir, str) and workdir:
        cwd = Path(workdir) if os.path.isabs(workdir) else settings.cwd / workdir
    requested_shell = args.get("shell")
    shell = requested_shell if isinstance(requested_shell, str) else _default_shell()
    login = args.get("login", True) is not False
    argv = [shell, "-lc" if login else "-c", cmd]
    if login:
        snapshot = _shell_snapshot(ctx, shell)
        if snapshot is not None:
            snapshot.start()

    intercepted = await patch_tool.maybe_intercept(argv, cwd, call, ctx)
    if intercepted is not None:
        return intercepted

    escalate = args.get("sandbox_permissions") == "require_escalated"
    justification = args.get("justification") if isinstance(args.get("justification"),
                                                             str) else None
    prefix_rule = args.get("prefix_rule") if isinstance(args.get("prefix_rule"), list) else None
    outcome = await request_command_approval(
        ctx, call.call_id, argv, cwd, escalate=escalate, justification=justification,
        prefix_rule=prefix_rule)
    if outcome.rejected is not None:
        return outcome.rejected
    result = await _run(ctx, call, argv, cwd, args, outcome, source="unifiedExecStartup")
    if (result.denied_by_sandbox and outcome.sandboxed
            and settings.approval_policy in ("untrusted", "on-failure")):
        retry = await request_command_approval(
            ctx, call.call_id, argv, cwd, escalate=True,
            justification="command failed; retry without sandbox?", retry=True)
        if retry.rejected is not None:
            return result.text
        result = await _run(ctx, call, argv, cwd, args, retry, source="agent")
    return result.text


class _RunResult(msgspec.Struct):
    text: str
    denied_by_sandbox: bool = False


def _default_shell() -> str:
    shell = os.environ.get("SHELL") or "/bin/bash"
    return shell if os.path.exists(shell) else "/bin/bash"


def _shell_snapshot(ctx: ToolContext, shell: str) -> ShellSnapshot | None:
    """The thread's login-shell snapshot when ``shell`` is the one it covers."""
    state = ctx.thread_state
    snapshot = state.shell_snapshot
    if snapshot is None:
        from pycodex.core.shell_snapshot import ShellSnapshot, shell_kind

        default = _default_shell()
        kind = shell_kind(default)
        if kind is None or shell != default:
            return None
        snapshot = ShellSnapshot(default, kind, ctx.codex_home, ctx.thread_id, ctx.cwd)
        state.shell_snapshot = snapshot
        state.closers["shell_snapshot"] = snapshot.close
    return snapshot if snapshot.shell == shell else None


async def _run(ctx: ToolContext, call: ToolCall, argv: list[str], cwd: Path,
               args: dict[str, Any], outcome: ApprovalOutcome, *,
               source: CommandExecutionSource) -> _RunResult:
    from pycodex.core.exec import spawn_command
    from pycodex.core.exec.buffer import HeadTailBuffer
    from pycodex.core.sandbox import SandboxPolicy, SandboxUnavailable

    settings = ctx.settings

    command = _shell_join(argv)
    actions = outcome.command_actions
    yield_s = _clamp_yield(args.get("yield_time_ms"), DEFAULT_YIELD_MS, MIN_YIELD_MS)
    budget = _output_budget(args.get("max_output_tokens"))
    policy = SandboxPolicy.from_wire(
        settings.sandbox_policy if outcome.sandboxed else {"type": "dangerFullAccess"})
    started = time.perf_counter()
    started_ms = outcome.started_ms if outcome.item_started and outcome.started_ms else now_ms()
    item = CommandExecutionItem(
        id=call.call_id, command=command, cwd=str(cwd), source=source, status="inProgress",
        command_actions=msgspec.convert(actions, list[CommandAction]),
        started_at_ms=started_ms)
    spawn_argv, env_overrides = argv, None
    snapshot = ctx.thread_state.shell_snapshot
    launch = None
    if snapshot is not None and snapshot.covers(argv):
        if snapshot.building:
            from pycodex.core.shell_snapshot import LAUNCH_WAIT_S

            await snapshot.wait(LAUNCH_WAIT_S)
        launch = snapshot.launch(argv)
    if launch is not None:
        spawn_argv, env_overrides = launch.argv, launch.env
    try:
        process = await spawn_command(spawn_argv, cwd=cwd, policy=policy,
                                      sandbox_cwd=settings.cwd, env_overrides=env_overrides,
                                      tty=bool(args.get("tty")), stdin=True)
    except (SandboxUnavailable, OSError) as exc:
        if not outcome.item_started:
            await ctx.item_started(item)
        await ctx.finish_item(msgspec.structs.replace(
            item, status="failed", exit_code=-1, aggregated_output=str(exc), duration_ms=0),
            started_ms)
        if isinstance(exc, SandboxUnavailable):
            return _RunResult(f"exec failed: {exc}")
        return _RunResult(f"failed to spawn command: {exc}")
    item = msgspec.structs.replace(item, process_id=str(process.pid))
    if not outcome.item_started:
        await ctx.item_started(item)
    table = _table(ctx)
    sess = ExecSession(id=_new_session_id(table), process=process, item=item,
                       turn_id=ctx.turn_id, started=started, output=HeadTailBuffer(),
                       started_ms=started_ms)
    sess.pump = asyncio.get_running_loop().create_task(_pump(ctx, sess))
    try:
        await asyncio.wait_for(asyncio.shield(sess.exited.wait()), yield_s)
    except TimeoutError:
        pass
    except asyncio.CancelledError:
        process.kill()
        raise
    wall = time.perf_counter() - started
    text = sess.output.drain().decode("utf-8", errors="replace")
    if sess.exited.is_set():
        return _RunResult(
            format_output(text, wall, exit_code=sess.exit_code, session_id=None,
                          max_tokens=budget),
            denied_by_sandbox=outcome.sandboxed and policy.needs_wrapper
            and _looks_like_sandbox_denial(sess.exit_code, text))
    if len(table) >= MAX_SESSIONS:
        _prune(table)
    table[sess.id] = sess
    return _RunResult(format_output(text, wall, exit_code=None, session_id=sess.id,
                                    max_tokens=budget))


def _new_session_id(table: dict[int, ExecSession]) -> int:
    while True:
        candidate = random.randint(1000, 99999)
        if candidate not in table:
            return candidate


def _prune(table: dict[int, ExecSession]) -> None:
    finished = [sid for sid, s in table.items() if s.exited.is_set()]
    for sid in finished or list(table)[:1]:
        sess = table.pop(sid)
        with contextlib.suppress(Exception):
            sess.process.kill()


async def _pump(ctx: ToolContext, sess: ExecSession) -> None:
    """Forward the process output to the client until it exits, then complete the item."""
    process = sess.process
    open_streams = process.stream_count
    try:
        while open_streams:
            _stream, data = await process.output.get()
            if data is None:
                open_streams -= 1
                continue
            sess.output.append(data)
            if len(sess.aggregated) < 1 << 20:
                sess.aggregated.extend(data)
            await ctx.emit(CommandExecutionOutputDeltaNotification(
                thread_id=ctx.thread_id, turn_id=sess.turn_id, item_id=sess.item.id,
                delta=data.decode("utf-8", errors="replace")))
        sess.exit_code = await process.wait()
    except asyncio.CancelledError:
        process.kill()
        raise
    finally:
        duration = int((time.perf_counter() - sess.started) * 1000)
        code = sess.exit_code
        status: CommandExecutionStatus = "completed" if code == 0 else "failed"
        sess.exited.set()
        completed_ms = now_ms()
        done = msgspec.structs.replace(
            sess.item, status=status, exit_code=code,
            aggregated_output=sess.aggregated.decode("utf-8", errors="replace") or None,
            duration_ms=duration, completed_at_ms=completed_ms)
        with contextlib.suppress(Exception):
            await ctx.finish_item(done, sess.started_ms, turn_id=sess.turn_id)


async def write_stdin(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    session_id = args.get("session_id")
    if not isinstance(session_id, int | float) or isinstance(session_id, bool):
        raise ToolError("failed to parse function arguments: missing field `session_id`")
    table = _table(ctx)
    sess = table.get(int(session_id))
    if sess is None:
        raise ToolError(f"Unknown process id {int(session_id)}")
    chars = args.get("chars") if isinstance(args.get("chars"), str) else ""
    started = time.perf_counter()
    if chars:
        await ctx.emit(TerminalInteractionNotification(
            thread_id=ctx.thread_id, turn_id=ctx.turn_id, item_id=sess.item.id,
            process_id=sess.item.process_id or "", stdin=chars))
        try:
            await sess.process.write(chars.encode())
        except Exception as exc:
            raise ToolError(f"failed to write to stdin: {exc}") from None
        yield_s = _clamp_yield(args.get("yield_time_ms"), MIN_YIELD_MS, MIN_YIELD_MS)
    else:
        yield_s = _clamp_yield(args.get("yield_time_ms"), MIN_POLL_YIELD_MS, MIN_POLL_YIELD_MS)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(sess.exited.wait()), yield_s)
    text = sess.output.drain().decode("utf-8", errors="replace")
    wall = time.perf_counter() - started
    budget = _output_budget(args.get("max_output_tokens"))
    if sess.exited.is_set():
        table.pop(sess.id, None)
        return format_output(text, wall, exit_code=sess.exit_code, session_id=None,
                             max_tokens=budget)
    return format_output(text, wall, exit_code=None, session_id=sess.id, max_tokens=budget)


TOOLS = [Tool("exec_command", exec_command, _exec_spec),
         Tool("write_stdin", write_stdin, _stdin_spec)]
