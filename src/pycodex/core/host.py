"""What the turn engine needs from the thread that hosts it: the outbound facade.

The api layer (``api.engine_host``) implements :class:`TurnHost` for a loaded thread; the
engine never touches connections, subscriptions or files directly, and never spells a
method name: it emits typed notification structs and asks with typed request params (the
protocol's ``NOTIFICATIONS`` / ``SERVER_REQUESTS`` tables say which method each type is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import msgspec

from pycodex.core.errors import Unavailable
from pycodex.store.goals import GoalStore


class TurnSettings(msgspec.Struct):
    """Sticky per-thread settings a turn runs with (wire shapes where the wire has one)."""

    model: str
    provider_id: str
    cwd: Path
    approval_policy: Any = "on-request"
    sandbox_policy: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"type": "readOnly", "networkAccess": False}
    )
    effort: str | None = None
    summary: str | None = None
    personality: str | None = None
    service_tier: str | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    dynamic_tools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    approvals_reviewer: str = "user"
    #: ``default`` or ``plan`` (``turn/start.collaborationMode``, sticky).
    collaboration_mode: str = "default"
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    #: the permission profile chosen by its id (wire ``activePermissionProfile``), recorded
    #: with the settings so a resume restores it
    active_permission_profile: dict[str, Any] | None = None


#: A notification's params struct (``protocol.types.*Notification``).
Notification = msgspec.Struct
#: A server→client request's params struct (``protocol.types.*Params`` in ``SERVER_REQUESTS``).
ServerRequest = msgspec.Struct


class TurnHost(Protocol):
    """The thread as seen by the engine."""

    thread_id: str
    codex_home: Path
    originator: str
    user_agent: str

    async def emit(self, notification: Notification) -> None:
        """Send a thread-scoped notification to the thread's subscribers."""

    async def emit_many(self, notifications: list[Notification]) -> None:
        """:meth:`emit` each, in order (a stream's deltas: one wait for a backed-up
        client per list instead of one per delta)."""

    async def persist(self, lines: list[tuple[str, dict[str, Any]]]) -> None:
        """Append rollout lines ``(type, payload)``; returns once they are on disk."""

    async def turn_started(self, turn_id: str) -> None:
        """The thread is now running ``turn_id`` (status ``active``)."""

    async def turn_finished(self, *, failed: bool) -> None:
        """The turn ended: status ``idle``, or ``systemError`` when it failed."""

    async def waiting(self, flag: str, on: bool) -> None:
        """A request of kind ``flag`` (``waitingOnApproval``/``waitingOnUserInput``) became
        pending (``on``) or was resolved."""

    async def ask(self, params: ServerRequest) -> Any:
        """Ask a subscribed client (approvals, user input, dynamic tools); returns the
        answer's ``result`` as sent (the caller checks its shape). Raises
        :class:`ClientAnswerError` when it cannot be answered."""

    def token_source(self, provider_id: str) -> Any:
        """Credentials for the provider (``bearer()``/``on_unauthorized()``)."""

    def goals(self) -> GoalStore:
        """The store of thread goals (the model's goal tools); raises
        :class:`~pycodex.core.errors.InvalidInput` for a thread that keeps no goal."""


class ClientAnswerError(Unavailable):
    """A server→client request got an error, timed out or was abandoned."""

    def __init__(self, message: str, *, turn_transition: bool = False,
                 disconnected: bool = False) -> None:
        super().__init__(message)
        self.turn_transition = turn_transition
        #: every client that could answer went away: the turn should stop
        self.disconnected = disconnected
