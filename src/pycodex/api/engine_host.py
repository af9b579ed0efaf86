"""Glue between loaded threads (``core.threads``) and the turn engine
(``core.turn.engine``): the :class:`~pycodex.core.host.TurnHost` a thread offers its
engine — the one outbound facade that turns the engine's typed notifications and requests
into JSON-RPC messages (the method of each params type comes from the protocol tables)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from pycodex.api.context import ClientRequestError, RequestContext
from pycodex.api.event_methods import method_of
from pycodex.api.local_stores import read_receipt_store
from pycodex.api.turn_events import REACT_FIRST, WATCHED, turn_event
from pycodex.core.errors import NotFound
from pycodex.core.host import ClientAnswerError, Notification, ServerRequest
from pycodex.core.platform import user_agent
from pycodex.core.read_state import ReadState
from pycodex.core.thread_config import turn_settings
from pycodex.core.threads import LoadedThread, ThreadManager
from pycodex.core.token_usage import TokenLedger
from pycodex.core.tool_router import ToolRouter
from pycodex.core.turn.engine import ThreadEngine
from pycodex.protocol.types.turns import ServerRequestResolvedNotification
from pycodex.store.events import token_count_info
from pycodex.store.goals import GoalStore

logger = logging.getLogger(__name__)

_FLAG_KINDS = {"waitingOnApproval": "approval", "waitingOnUserInput": "userInput"}


class ThreadHost:
    """A loaded thread as the engine sees it."""

    def __init__(self, ctx: RequestContext, manager: ThreadManager, thread: LoadedThread) -> None:
        self.app = ctx.app
        self.manager = manager
        self.thread = thread
        self.thread_id = thread.id
        self.codex_home = ctx.app.options.codex_home
        self.originator = ctx.app.originator
        self.user_agent = user_agent(self.originator, ctx.connection.client_name,
                                     ctx.connection.client_version)

    @property
    def transcript_path(self) -> Path | None:
        """The thread's rollout file (hooks receive it as ``transcript_path``)."""
        return self.thread.path

    @property
    def session_start_source(self) -> str:
        """``source`` of the thread's first ``SessionStart`` hooks (``startup``/``clear``)."""
        return self.thread.session_start_source

    async def emit(self, notification: Notification) -> None:
        await self.emit_many([notification])

    async def emit_many(self, notifications: list[Notification]) -> None:
        messages: list[tuple[str, Notification]] = []
        kind: type | None = None
        method = ""
        for notification in notifications:  # (a stream's deltas: all of one type)
            if type(notification) is not kind:
                kind, method = type(notification), method_of(notification)
            messages.append((method, notification))
        for method, notification in messages:
            if method in REACT_FIRST:
                await turn_event(self.app, self.thread_id, method, notification)
        if self.thread.subscribers:
            await self.app.outgoing.notify_many(messages, list(self.thread.subscribers))
        for method, notification in messages:
            if method in WATCHED and method not in REACT_FIRST:
                await turn_event(self.app, self.thread_id, method, notification)

    async def persist(self, lines: list[tuple[str, dict[str, Any]]]) -> None:
        await self.thread.writer.append(lines)
        if any(kind == "event_msg" and payload.get("type") in ("task_complete", "turn_aborted")
               for kind, payload in lines):
            await self.thread.writer.sync()

    async def turn_started(self, turn_id: str) -> None:
        self.manager.turn_started(self.thread, turn_id)

    async def turn_finished(self, *, failed: bool) -> None:
        for request_id in self.app.outgoing.cancel_thread_requests(
            self.thread_id, {"reason": "turnTransition"}
        ):
            await self._resolved(request_id)
        self.manager.turn_finished(self.thread, failed=failed)

    async def waiting(self, flag: str, on: bool) -> None:
        kind = _FLAG_KINDS.get(flag, "approval")
        if on:
            self.manager.request_pending(self.thread, kind)
        elif self.thread.pending.get(kind):
            self.manager.request_resolved(self.thread, kind)

    async def _resolved(self, request_id: int | str) -> None:
        await self.emit(ServerRequestResolvedNotification(thread_id=self.thread_id,
                                                          request_id=request_id))

    async def ask(self, params: ServerRequest) -> Any:
        """Ask a subscribed client; ``serverRequest/resolved`` follows its answer. When the
        asked client disconnects, the next subscriber is asked; when none is left the
        request fails with ``disconnected`` set (the engine then interrupts the turn)."""
        outgoing = self.app.outgoing
        method = method_of(params)
        asked: set[int] = set()
        while True:
            candidates = sorted(self.thread.subscribers - asked)
            if not candidates:
                raise ClientAnswerError("no client is connected to answer",
                                        disconnected=True)
            connection = candidates[0]
            asked.add(connection)
            request_id, future = outgoing.start_request(  # type: ignore[attr-defined]
                connection, method, params, thread_id=self.thread_id)
            try:
                result = await future
            except ClientRequestError as exc:
                transition = (isinstance(exc.data, dict)
                              and exc.data.get("reason") == "turnTransition")
                if exc.kind == "canceled" and not transition:
                    continue  # that client went away: ask another one
                if not transition:
                    await self._resolved(request_id)
                raise ClientAnswerError(exc.message, turn_transition=transition) from None
            await self._resolved(request_id)
            return result

    def token_source(self, provider_id: str) -> Any:
        from pycodex.core.providers import provider_token_source, resolve_provider

        if provider_id == "openai":
            from pycodex.api.account import auth_manager

            return self.app.get(auth_manager)
        provider = resolve_provider(self.thread.settings.config, provider_id)
        return provider_token_source(provider, self.codex_home)


    def goals(self) -> GoalStore:
        from pycodex.api.goals import no_goals
        from pycodex.api.local_stores import goal_store

        if self.thread.ephemeral:
            raise no_goals(self.thread_id)
        return self.app.get(goal_store)


def _last_token_info(lines: list[Any]) -> dict[str, Any] | None:
    info: dict[str, Any] | None = None
    for line in lines:
        if getattr(line, "type", None) == "event_msg":
            found = token_count_info(getattr(line, "payload", None))
            if found is not None:
                info = found
    return info


def _engine_state(thread: LoadedThread) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The model history and the last token info, in one pass over the rollout (run on a
    worker thread: a long rollout must not hold up other requests)."""
    from pycodex.store.history import model_history

    lines = list(thread.lines())
    history = [item for item in model_history(lines) if isinstance(item, dict)]
    return history, _last_token_info(lines)


async def engine_for(ctx: RequestContext, thread_id: str) -> ThreadEngine:
    """The engine of a loaded thread, created on first use (history from its rollout)."""
    from pycodex.api.threads import thread_manager

    manager = ctx.app.get(thread_manager)
    thread = manager.get(thread_id)
    if thread is None:
        raise NotFound(f"thread not found: {thread_id}")
    if thread.engine is None:
        history, tokens = await asyncio.to_thread(_engine_state, thread)
        if thread.engine is None:  # (another request may have made it meanwhile)
            thread.engine = ThreadEngine(
                ThreadHost(ctx, manager, thread), turn_settings(thread.settings), history=history,
                tokens=TokenLedger.from_rollout(tokens),
                router=ToolRouter(mcp=lambda: thread.mcp),
                read_state=ReadState(None if thread.ephemeral else read_receipt_store(ctx.app),
                                     thread.id))
    engine: ThreadEngine = thread.engine
    if ctx.connection_id not in thread.subscribers:
        manager.subscribe(thread, ctx.connection_id)
    return engine
