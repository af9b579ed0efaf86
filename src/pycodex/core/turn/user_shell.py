"""The user's own shell command (``thread/shellCommand``, the TUI's ``!cmd``).

It runs in the thread's cwd through the user's login shell, outside the sandbox (the user
typed it), streamed as a ``commandExecution`` item with ``source: "userShell"``. What it
printed joins the model-visible history as a ``<user_shell_command>`` record, so the model
sees it on the next turn.
"""

from __future__ import annotations

import os
import time
import uuid

import msgspec

from pycodex.core import item_events
from pycodex.core.host import TurnHost, TurnSettings
from pycodex.core.ids import now_ms
from pycodex.core.turn.history import ResponseItem, message
from pycodex.protocol.types.items import (
    CommandAction,
    CommandExecutionItem,
    CommandExecutionOutputDeltaNotification,
)

#: ``timeoutMs`` when the client gives none (0.171): one hour.
DEFAULT_TIMEOUT_MS = 3_600_000
#: Output kept for the item and the history record, per stream.
OUTPUT_CAP = 1024 * 1024


def _login_shell() -> str:
    shell = os.environ.get("SHELL") or "/bin/bash"
    return shell if os.path.exists(shell) else "/bin/bash"


def history_record(command: str, exit_code: int, duration_s: float, output: str) -> ResponseItem:
    """The user message that tells the model what the user ran and what it printed."""
    body = "\n".join([
        "<user_shell_command>", "<command>", command, "</command>", "<result>",
        f"Exit code: {exit_code}", f"Duration: {duration_s:.4f} seconds", "Output:",
        output, "</result>", "</user_shell_command>"])
    return message("user", body)


async def run_user_shell(host: TurnHost, settings: TurnSettings, turn_id: str, command: str,
                         timeout_ms: int | None) -> ResponseItem:
    """Run ``command``, streaming its item on ``turn_id``; returns the history record."""
    from pycodex.core.exec import spawn_command
    from pycodex.core.exec.process import Stream
    from pycodex.core.exec.runner import CommandRun
    from pycodex.core.sandbox import SandboxPolicy
    from pycodex.core.tools.command_actions import parse_command_actions, shell_join

    argv = [_login_shell(), "-lc", command]
    cwd = settings.cwd
    started_ms = now_ms()
    item = CommandExecutionItem(
        id=str(uuid.uuid4()), command=shell_join(argv), cwd=str(cwd), status="inProgress",
        command_actions=msgspec.convert(parse_command_actions(argv, str(cwd)),
                                        list[CommandAction]),
        source="userShell", started_at_ms=started_ms)
    await host.emit(item_events.started(host.thread_id, turn_id, item, started_ms))
    started = time.perf_counter()
    output = bytearray()

    async def on_output(_stream: Stream, chunk: bytes, _cap_reached: bool) -> None:
        output.extend(chunk)
        if chunk:
            await host.emit(CommandExecutionOutputDeltaNotification(
                thread_id=host.thread_id, turn_id=turn_id, item_id=item.id,
                delta=chunk.decode("utf-8", errors="replace")))

    try:
        process = await spawn_command(argv, cwd=cwd,
                                      policy=SandboxPolicy.from_wire({"type": "dangerFullAccess"}),
                                      sandbox_cwd=cwd)
    except OSError as exc:
        exit_code, text = -1, f"failed to spawn command: {exc}"
    else:
        timeout = DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms
        result = await CommandRun(process, timeout_s=timeout / 1000, output_cap=OUTPUT_CAP,
                                  on_output=on_output).run()
        exit_code, text = result.exit_code, output.decode("utf-8", errors="replace")
    duration = time.perf_counter() - started
    completed_ms = now_ms()
    done = msgspec.structs.replace(
        item, status="completed" if exit_code == 0 else "failed", exit_code=exit_code,
        aggregated_output=text or None, duration_ms=int(duration * 1000),
        completed_at_ms=completed_ms)
    await host.persist(item_events.item_lines(host.thread_id, turn_id, done, started_ms,
                                              completed_ms))
    await host.emit(item_events.completed(host.thread_id, turn_id, done, completed_ms))
    return history_record(command, exit_code, duration, text)
