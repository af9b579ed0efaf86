"""Loaded threads: their settings, rollout writer, status, subscribers and idle unload.

Engine-facing API (see :class:`ThreadManager` and :class:`LoadedThread`):

- ``manager.get(thread_id) -> LoadedThread | None``
- ``thread.settings`` (:class:`ThreadSettings`), ``thread.writer`` (rollout writer; an
  in-memory one for ephemeral threads), ``thread.subscribers``
- ``await thread.writer.append([(type, payload), ...])`` then ``thread.notify(params)`` (a
  typed notification; the api layer names its method)
- ``manager.turn_started(thread, turn_id)``, ``manager.turn_finished(thread, failed=...)``,
  ``manager.request_pending(thread, kind)``, ``manager.request_resolved(thread, kind)``
- ``thread.lines()`` — the rollout lines (history changes: :mod:`pycodex.core.thread_history`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import msgspec

from pycodex.core.host import Notification
from pycodex.protocol.types.items import (
    ActiveThreadStatus,
    AskForApproval,
    IdleThreadStatus,
    NotLoadedThreadStatus,
    SandboxPolicy,
    SystemErrorThreadStatus,
    ThreadActiveFlag,
    ThreadStatus,
    Turn,
)
from pycodex.protocol.types.threads import (
    GitInfo,
    Thread,
    ThreadClosedNotification,
    ThreadEnvironment,
    ThreadStatusChangedNotification,
)
from pycodex.store.history import user_message_preview
from pycodex.store.index import ThreadIndex
from pycodex.store.rollout import (
    MemoryRolloutWriter,
    RolloutItem,
    RolloutLine,
    RolloutWriter,
    iter_rollout,
)
from pycodex.store.summary import ThreadSummary

logger = logging.getLogger(__name__)

DEFAULT_UNLOAD_DELAY_SECS = 30 * 60.0

#: Sends a typed notification (``protocol.types.*Notification``) to some connections (``None``:
#: every one); the api layer names its method, as for the engine's notifications.
Notify = Callable[[Notification, "Iterable[int] | None"], None]


class ThreadSettings(msgspec.Struct):
    """The one settings record of a thread: built at start/resume/fork, changed by
    ``turn/start`` overrides (:func:`pycodex.core.thread_config.apply_turn_overrides`),
    reported by resume/read/fork and handed to the engine as ``TurnSettings``."""

    model: str
    model_provider: str
    cwd: str
    approval_policy: AskForApproval
    approvals_reviewer: str
    sandbox_mode: str
    sandbox_policy: SandboxPolicy
    reasoning_effort: str | None = None
    service_tier: str | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    personality: str | None = None
    #: reasoning summary chosen by a turn (``None``: the config's)
    summary: str | None = None
    #: ``default`` or ``plan`` (``turn/start.collaborationMode``, sticky)
    collaboration_mode: str = "default"
    dynamic_tools: list[dict[str, Any]] | None = None
    experimental_raw_events: bool = False
    persist_extended_history: bool = False
    active_permission_profile: dict[str, Any] | None = None
    #: The effective config (config.toml keys, snake_case) the thread was built from.
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class LoadedThread(msgspec.Struct, eq=False):
    """A thread in memory."""

    id: str
    settings: ThreadSettings
    writer: RolloutWriter
    ephemeral: bool
    created_at: int
    source: Any = "vscode"
    cli_version: str = ""
    originator: str | None = None
    preview: str = ""
    name: str | None = None
    git_info: GitInfo | None = None
    forked_from_id: str | None = None
    #: ``paginated`` for threads started here (0.171 pages their history: resume answers
    #: with backwards cursors), ``legacy`` for threads loaded from older rollouts
    history_mode: Literal["legacy", "paginated"] = "legacy"
    subscribers: set[int] = msgspec.field(default_factory=set)
    #: Id of the running turn, if any (set through ``ThreadManager.turn_started``).
    active_turn_id: str | None = None
    system_error: bool = False
    pending: dict[str, int] = msgspec.field(default_factory=dict)
    last_status: ThreadStatus | None = None
    updated_at: int = 0
    _manager: ThreadManager | None = None
    _unload_timer: asyncio.TimerHandle | None = None
    #: The turn engine (``core.turn.engine.ThreadEngine``) once a turn ran on this thread.
    engine: Any = None
    #: ``source`` of its ``SessionStart`` hooks (``thread/start``'s ``sessionStartSource``,
    #: ``fork`` for a fork)
    session_start_source: str = "startup"
    #: The thread's MCP servers (``core.mcp.manager.McpManager``), started on load.
    mcp: Any = None

    @property
    def running(self) -> bool:
        return self.active_turn_id is not None

    @property
    def path(self) -> Path | None:
        return None if self.ephemeral else self.writer.path

    @property
    def materialized(self) -> bool:
        return not self.ephemeral and self.writer.materialized

    def status(self) -> ThreadStatus:
        flags: list[ThreadActiveFlag] = []
        if self.pending.get("approval"):
            flags.append("waitingOnApproval")
        if self.pending.get("userInput"):
            flags.append("waitingOnUserInput")
        if self.running or flags:
            return ActiveThreadStatus(active_flags=flags)
        if self.system_error:
            return SystemErrorThreadStatus()
        return IdleThreadStatus()

    def notify(self, params: Notification) -> None:
        """Send a thread-scoped notification to this thread's subscribers."""
        if self._manager is not None and self.subscribers:
            self._manager.notify(params, list(self.subscribers))

    def lines(self) -> Iterable[RolloutLine]:
        if isinstance(self.writer, MemoryRolloutWriter):
            return list(self.writer.lines)
        if not self.writer.materialized:
            return []
        return iter_rollout(self.writer.path)

    async def append(self, items: list[RolloutItem]) -> None:
        """Append rollout lines (alias of ``writer.append``)."""
        await self.writer.append(items)


class ThreadManager:
    """Owns every loaded thread of the process."""

    def __init__(
        self,
        codex_home: Path,
        notify: Notify,
        *,
        unload_delay: float = DEFAULT_UNLOAD_DELAY_SECS,
        index: ThreadIndex | None = None,
    ) -> None:
        self.codex_home = codex_home
        self.notify = notify
        self.unload_delay = unload_delay
        self.index = index or ThreadIndex(codex_home)
        self._threads: dict[str, LoadedThread] = {}

    # -- lookup ---------------------------------------------------------------------
    def get(self, thread_id: str) -> LoadedThread | None:
        return self._threads.get(thread_id)

    def loaded_ids(self) -> list[str]:
        return sorted(self._threads)

    def all(self) -> list[LoadedThread]:
        return list(self._threads.values())

    # -- lifecycle ------------------------------------------------------------------
    def register(self, thread: LoadedThread, connection_id: int | None) -> None:
        """Make ``thread`` loaded and subscribe ``connection_id``; no status notification."""
        thread._manager = self
        self._threads[thread.id] = thread
        thread.last_status = thread.status()
        if connection_id is not None:
            thread.subscribers.add(connection_id)
        self._schedule_unload(thread)

    def subscribe(self, thread: LoadedThread, connection_id: int) -> None:
        thread.subscribers.add(connection_id)
        self._cancel_unload(thread)

    def unsubscribe(self, thread_id: str, connection_id: int) -> str:
        thread = self._threads.get(thread_id)
        if thread is None:
            return "notLoaded"
        if connection_id not in thread.subscribers:
            return "notSubscribed"
        thread.subscribers.discard(connection_id)
        self._schedule_unload(thread)
        return "unsubscribed"

    def connection_closed(self, connection_id: int) -> None:
        for thread in list(self._threads.values()):
            if connection_id in thread.subscribers:
                thread.subscribers.discard(connection_id)
                self._schedule_unload(thread)

    def _schedule_unload(self, thread: LoadedThread) -> None:
        self._cancel_unload(thread)
        if thread.subscribers or thread.running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        thread._unload_timer = loop.call_later(self.unload_delay, self._idle_unload, thread.id)

    @staticmethod
    def _cancel_unload(thread: LoadedThread) -> None:
        if thread._unload_timer is not None:
            thread._unload_timer.cancel()
            thread._unload_timer = None

    def _idle_unload(self, thread_id: str) -> None:
        thread = self._threads.get(thread_id)
        if thread is None or thread.subscribers or thread.running:
            return
        logger.info("unloading idle thread %s", thread_id)
        self.unload(thread_id, closed_notification=True)

    def unload(self, thread_id: str, *, closed_notification: bool = True) -> LoadedThread | None:
        """Drop a loaded thread: status → notLoaded (+ ``thread/closed``), writer closed."""
        thread = self._threads.pop(thread_id, None)
        if thread is None:
            return None
        self._cancel_unload(thread)
        if thread.engine is not None:
            asyncio.get_running_loop().create_task(thread.engine.shutdown())
        else:
            asyncio.get_running_loop().create_task(self._end_session(thread))  # hooks
        if thread.mcp is not None:
            asyncio.get_running_loop().create_task(thread.mcp.close())
        thread.writer.close_nowait()
        self.notify(
            ThreadStatusChangedNotification(thread_id=thread_id, status=NotLoadedThreadStatus()),
            None,
        )
        if closed_notification:
            self.notify(ThreadClosedNotification(thread_id=thread_id), None)
        return thread

    async def _end_session(self, thread: LoadedThread) -> None:
        """``SessionEnd`` hooks of a thread that never built an engine (the engine runs
        them itself on shutdown)."""
        from pycodex.core.hooks.turn_points import end_session

        async def emit(params: Any) -> None:
            thread.notify(params)

        try:
            await end_session(self.codex_home, thread.id, Path(thread.settings.cwd),
                              thread.settings.config, thread.path, emit)
        except Exception:
            logger.exception("SessionEnd hooks of thread %s failed", thread.id)

    async def shutdown(self) -> None:
        for thread in list(self._threads.values()):
            self._cancel_unload(thread)
            if thread.engine is not None:
                await thread.engine.shutdown()
            else:
                await self._end_session(thread)  # hooks
            if thread.mcp is not None:
                await thread.mcp.close()
            await thread.writer.close()
        self._threads.clear()
        self.index.close()

    # -- status (engine hooks) ------------------------------------------------------
    def _status_changed(self, thread: LoadedThread) -> None:
        status = thread.status()
        if status != thread.last_status and thread.id in self._threads:
            thread.last_status = status
            self.notify(
                ThreadStatusChangedNotification(thread_id=thread.id, status=status),
                None,
            )
        else:
            thread.last_status = status

    def turn_started(self, thread: LoadedThread, turn_id: str) -> None:
        thread.active_turn_id = turn_id
        thread.system_error = False
        thread.updated_at = int(time.time())
        self._cancel_unload(thread)
        self._status_changed(thread)

    def turn_finished(self, thread: LoadedThread, *, failed: bool = False) -> None:
        """The running turn completed, was interrupted (``failed=False``) or failed."""
        thread.active_turn_id = None
        thread.pending.clear()
        thread.system_error = failed
        thread.updated_at = int(time.time())
        self._status_changed(thread)
        self._schedule_unload(thread)
        self.refresh_index(thread)

    def set_system_error(self, thread: LoadedThread, value: bool = True) -> None:
        thread.system_error = value
        self._status_changed(thread)

    def request_pending(self, thread: LoadedThread, kind: str = "approval") -> None:
        """A server→client request is waiting (``kind`` = "approval" | "userInput")."""
        thread.pending[kind] = thread.pending.get(kind, 0) + 1
        self._status_changed(thread)

    def request_resolved(self, thread: LoadedThread, kind: str = "approval") -> None:
        count = thread.pending.get(kind, 0) - 1
        if count > 0:
            thread.pending[kind] = count
        else:
            thread.pending.pop(kind, None)
        self._status_changed(thread)

    def on_append(self, thread: LoadedThread) -> Callable[[RolloutWriter, list[RolloutItem]], None]:
        """The writer hook that keeps preview, updated-at and the index current."""

        def hook(writer: RolloutWriter, items: list[RolloutItem]) -> None:
            thread.updated_at = int(time.time())
            first = False
            if not thread.preview:
                for kind, payload in items:
                    preview = user_message_preview(RolloutLine(kind, payload))
                    if preview is not None:
                        thread.preview = preview
                        first = True
                        break
            if first and thread.id in self._threads:
                self.refresh_index(thread)

        return hook

    # -- index ----------------------------------------------------------------------
    def refresh_index(self, thread: LoadedThread) -> None:
        """Write the loaded thread's row to the index (after a turn, a rename...)."""
        if not thread.materialized:
            return
        try:
            self.index.upsert(self.summary_of(thread))
        except Exception:
            logger.exception("failed to update the thread index for %s", thread.id)

    def summary_of(self, thread: LoadedThread) -> ThreadSummary:
        path = thread.writer.path
        try:
            st = path.stat()
            size, mtime_ns = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime_ns = 0, time.time_ns()
        git = thread.git_info or GitInfo()
        return ThreadSummary(
            id=thread.id,
            path=str(path),
            created_at_ms=thread.created_at * 1000,
            updated_at_ms=max(mtime_ns // 1_000_000, thread.created_at * 1000),
            cwd=thread.settings.cwd,
            model_provider=thread.settings.model_provider,
            source=thread.source,
            cli_version=thread.cli_version,
            originator=thread.originator,
            preview=thread.preview,
            model=thread.settings.model,
            reasoning_effort=thread.settings.reasoning_effort,
            git_sha=git.sha,
            git_branch=git.branch,
            git_origin_url=git.origin_url,
            forked_from_id=thread.forked_from_id,
            archived=False,
            name=thread.name,
            file_size=size,
            file_mtime_ns=mtime_ns,
            history_mode=thread.history_mode,
        )

    # -- wire -----------------------------------------------------------------------
    def wire_thread(
        self,
        thread: LoadedThread,
        *,
        turns: list[Turn] | None = None,
        direct_input: bool | None = True,
    ) -> Thread:
        s = thread.settings
        return Thread(
            id=thread.id,
            environments=[
                ThreadEnvironment(
                    environment_id="local", cwd=s.cwd, runtime_workspace_roots=[s.cwd]
                )
            ],
            session_id=thread.id,
            forked_from_id=thread.forked_from_id,
            preview=thread.preview,
            ephemeral=thread.ephemeral,
            model_provider=s.model_provider,
            model=s.model,
            reasoning_effort=s.reasoning_effort,
            created_at=thread.created_at,
            updated_at=max(thread.updated_at, thread.created_at),
            recency_at=max(thread.updated_at, thread.created_at),
            status=thread.status(),
            path=None if thread.ephemeral else str(thread.writer.path),
            cwd=s.cwd,
            cli_version=thread.cli_version,
            originator=thread.originator,
            source=thread.source,
            can_accept_direct_input=direct_input,
            git_info=thread.git_info,
            name=thread.name,
            history_mode=thread.history_mode,
            turns=turns or [],
        )

    def wire_summary(self, summary: ThreadSummary, turns: list[Turn] | None = None) -> Thread:
        """A stored thread; live state wins when it is loaded."""
        loaded = self._threads.get(summary.id)
        if loaded is not None:
            thread = self.wire_thread(loaded, turns=turns, direct_input=None)
            thread.path = summary.path
            thread.preview = thread.preview or summary.preview
            return thread
        git = None
        if summary.git_sha or summary.git_branch or summary.git_origin_url:
            git = GitInfo(
                sha=summary.git_sha, branch=summary.git_branch, origin_url=summary.git_origin_url
            )
        return Thread(
            id=summary.id,
            session_id=summary.id,
            forked_from_id=summary.forked_from_id,
            preview=summary.preview,
            model_provider=summary.model_provider,
            model=summary.model,
            reasoning_effort=summary.reasoning_effort,
            created_at=summary.created_at_ms // 1000,
            updated_at=summary.updated_at_ms // 1000,
            recency_at=summary.updated_at_ms // 1000,
            status=NotLoadedThreadStatus(),
            path=summary.path,
            cwd=summary.cwd,
            cli_version=summary.cli_version,
            originator=summary.originator,
            source=summary.source,
            agent_nickname=summary.agent_nickname,
            agent_role=summary.agent_role,
            git_info=git,
            name=summary.name,
            history_mode="paginated" if summary.history_mode == "paginated" else "legacy",
            turns=turns or [],
        )
