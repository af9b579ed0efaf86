"""The running turn's state, and the one builder of the ``Turn`` wire object."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from pycodex.core.ids import now_ms
from pycodex.core.tools.context import TurnToolState
from pycodex.protocol.types.items import AgentMessageItem, Turn, TurnError, TurnStatus


class ActiveTurn(msgspec.Struct):
    id: str
    kind: str = "regular"  # "regular" | "compact" | "userShell" | "review"
    started_at: int = msgspec.field(default_factory=lambda: int(time.time()))
    started_perf: float = msgspec.field(default_factory=time.perf_counter)
    pending_input: list[list[dict[str, Any]]] = msgspec.field(default_factory=list)
    #: raw Responses items injected while the turn runs (``thread/inject_items``)
    pending_items: list[dict[str, Any]] = msgspec.field(default_factory=list)
    #: the turn's finished agent messages (the ``items`` of ``turn/completed``)
    items: list[AgentMessageItem] = msgspec.field(default_factory=list)
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    interrupt_waiters: list[asyncio.Future[None]] = msgspec.field(default_factory=list)
    last_agent_message: str | None = None
    tool_state: TurnToolState = msgspec.field(default_factory=TurnToolState)
    first_token_ms: int | None = None
    #: a ``model/rerouted`` was sent for this turn (once per turn, as the reference)
    rerouted: bool = False
    #: a ``model/verification`` was sent for this turn (once per turn, as the reference)
    verified: bool = False
    started_ms: int = msgspec.field(default_factory=now_ms)
    #: ``responsesapiClientMetadata`` of turn/start, forwarded in ``client_metadata``
    client_metadata: dict[str, str] = msgspec.field(default_factory=dict)
    #: ``clientUserMessageId`` of turn/start, echoed as the user message's ``clientId``
    client_id: str | None = None
    #: ``(command, timeoutMs)`` of a ``userShell`` turn
    shell_command: tuple[str, int | None] | None = None
    #: ``(prompt, hint)`` of a ``review`` turn
    review: tuple[str, str] | None = None
    #: set when the turn took its last pending items: later ones go to the history directly
    items_closed: bool = False
    #: the user's shell commands that joined the turn (a ``userShell`` turn waits for them)
    shell_tasks: list[asyncio.Task[None]] = msgspec.field(default_factory=list)
    #: model-only input of a turn no user message started (a goal's prompt)
    hidden_input: list[dict[str, Any]] = msgspec.field(default_factory=list)
    #: the turn whose work this one continues (``rootTurnId``); None: itself
    root_id: str | None = None
    #: the model answer being streamed, which a ``turn/steer`` cancels
    stream: asyncio.Task[Any] | None = None


def turn_snapshot(turn: ActiveTurn, *, status: TurnStatus = "inProgress",
                  started: bool = True, error: TurnError | None = None,
                  completed_at: int | None = None, duration_ms: int | None = None,
                  with_items: bool = False) -> Turn:
    """The ``Turn`` wire object of a running or finished turn (``started=False`` for the
    ``turn/start`` answer, which goes out before the turn has started)."""
    items = list(turn.items) if with_items else []
    return Turn(id=turn.id, root_turn_id=turn.root_id or turn.id, items=list(items),
                items_view="summary" if items else "notLoaded", status=status, error=error,
                started_at=turn.started_at if started else None,
                completed_at=completed_at, duration_ms=duration_ms)


def full_turn_error(error: dict[str, Any]) -> TurnError:
    """A ``TurnError`` with the optional fields the reference always sends set to null."""
    return TurnError(message=str(error.get("message", "")),
                     codex_error_info=error.get("codexErrorInfo"),
                     additional_details=error.get("additionalDetails"),
                     misalignment=error.get("misalignment"))
