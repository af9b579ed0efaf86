"""What a tool gets: the call, a narrow :class:`ToolContext` (cwd and policies, typed tool
state, item events, client requests) and the output types — never the engine itself."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET

from pycodex.core import item_events
from pycodex.core.host import ServerRequest, TurnHost, TurnSettings
from pycodex.protocol.types.items import ThreadItem

if TYPE_CHECKING:
    from pycodex.core.diffs import TurnDiffTracker
    from pycodex.core.shell_snapshot import ShellSnapshot


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


ToolOutput = str | list[dict[str, Any]]
Closer = Callable[[], Awaitable[None]]


class ThreadToolState(msgspec.Struct):
    """Tool state that lives as long as the thread is loaded."""

    #: running ``exec_command`` processes by session id (``exec_tools.ExecSession``)
    exec_sessions: dict[int, Any] = msgspec.field(default_factory=dict)
    shell_snapshot: ShellSnapshot | None = None
    #: exec-policy rules allowed during this session (``approvals.PrefixRule``)
    session_rules: list[Any] = msgspec.field(default_factory=list)
    #: command / patch keys the user approved "for the session"
    approved_for_session: set[str] = msgspec.field(default_factory=set)
    #: cleanups run when the thread unloads, by what they clean up
    closers: dict[str, Closer] = msgspec.field(default_factory=dict)


class TurnToolState(msgspec.Struct):
    """Tool state of one turn."""

    diff_tracker: TurnDiffTracker | None = None


class ToolContext(msgspec.Struct, kw_only=True):
    """Everything a tool may use for one call."""

    host: TurnHost
    turn_id: str
    settings: TurnSettings
    model_info: Any
    thread_state: ThreadToolState
    turn_state: TurnToolState

    @property
    def thread_id(self) -> str:
        return self.host.thread_id

    @property
    def cwd(self) -> Path:
        return self.settings.cwd

    @property
    def codex_home(self) -> Path:
        return self.host.codex_home

    async def emit(self, notification: msgspec.Struct) -> None:
        await self.host.emit(notification)

    async def item_started(self, item: ThreadItem) -> int:
        """Emit ``item/started``; the item's own ``startedAtMs`` is used when it has one."""
        event = item_events.started(self.thread_id, self.turn_id, item)
        await self.host.emit(event)
        return event.started_at_ms

    async def item_completed(self, item: ThreadItem) -> None:
        """Emit ``item/completed``; the item's own ``completedAtMs`` is used when set."""
        await self.host.emit(item_events.completed(self.thread_id, self.turn_id, item))

    async def finish_item(self, item: ThreadItem, started_ms: int | None, *,
                          turn_id: str | None = None) -> None:
        """Record a finished item in the rollout, then emit its ``item/completed`` (an item
        with a ``completedAtMs`` field gets it stamped now unless it is set)."""
        completed = item_events.stamp(item, "completedAtMs")
        if getattr(item, "completed_at_ms", UNSET) is None:
            item = msgspec.structs.replace(item, completed_at_ms=completed)
        turn = turn_id or self.turn_id
        await self.host.persist(item_events.item_lines(self.thread_id, turn, item,
                                                       started_ms, completed))
        await self.host.emit(item_events.completed(self.thread_id, turn, item, completed))

    async def ask(self, params: ServerRequest, flag: str | None) -> Any:
        """A server→client request, with ``flag`` (waitingOnApproval...) set meanwhile."""
        if flag:
            await self.host.waiting(flag, True)
        try:
            return await self.host.ask(params)
        finally:
            if flag:
                await self.host.waiting(flag, False)


Handler = Callable[[ToolCall, ToolContext], Awaitable[ToolOutput]]
#: ``spec(settings, model_info)``: the tool's definition, or None when it is not offered.
SpecFn = Callable[[TurnSettings, Any], dict[str, Any] | None]


class Tool(msgspec.Struct, frozen=True):
    """A built-in tool: its handler and when / how it is offered to the model."""

    name: str
    handler: Handler
    spec: SpecFn
