"""What a hook run needs and what it decides: the records shared by the runner and the
engine's call sites (kept apart so that a turn without hooks never imports the runner)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec


class HookOutcome(msgspec.Struct):
    """What the engine must do after an event's hooks ran."""

    blocked: bool = False
    block_reason: str | None = None
    block_run_id: str | None = None
    """The id of the run that blocked (``hookRunId`` of a hook prompt)."""
    updated_input: dict[str, Any] | None = None
    """A ``PreToolUse`` rewrite of the tool's input (the last handler's wins)."""
    additional_contexts: list[str] = msgspec.field(default_factory=list)
    stop: bool = False
    stop_reason: str | None = None
    allowed: bool = False
    """A ``PermissionRequest`` hook approved the request (a denial sets ``blocked``)."""


class HookContext(msgspec.Struct, frozen=True):
    """Where the hooks run: the thread and turn, and the fields every stdin object has."""

    thread_id: str
    turn_id: str | None
    cwd: Path
    model: str
    permission_mode: str
    transcript_path: Path | None = None
    codex_home: Path | None = None
    """Where over-long hook text is saved (``hook_outputs/``); ``None``: truncated only."""


def permission_mode(approval_policy: Any, sandbox_policy: dict[str, Any]) -> str:
    """Claude-Code permission mode for the thread's approval and sandbox settings: the
    reference 0.171 says ``bypassPermissions`` under ``never`` whatever the sandbox."""
    if approval_policy == "never":
        return "bypassPermissions"
    return "default"
