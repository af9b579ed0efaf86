"""``thread/goal/set|get|clear``: one standing objective per thread (``goals_pycodex.sqlite``).

As the reference: activating a goal on an idle thread starts a turn on it, and after each
turn that completes while the goal is still active the next goal turn starts on its own,
until the model marks it complete (``update_goal``), the token budget is spent, or the user
pauses or clears it. A goal turn's prompt reaches the model only (no user message). Tokens
and wall-clock time are counted while the goal is active (``thread/goal/updated``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from pycodex.api.context import AppState, RequestContext
from pycodex.api.local_stores import ThreadRef, goal_store, require_thread
from pycodex.api.router import route
from pycodex.core.errors import InvalidInput
from pycodex.core.goals import continues, goal_prompt, goal_wire, pursues_goals
from pycodex.protocol.base import is_set
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types import goals as t
from pycodex.store.goals import FILE_NAME, KEEP, Goal, NoGoal

if TYPE_CHECKING:
    from pycodex.core.turn.engine import ThreadEngine

logger = logging.getLogger(__name__)


class GoalClocks:
    """Wall-clock time of active goals not yet counted, per thread (seconds since the last
    count, the fraction of a second carried over)."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}

    def start(self, thread_id: str) -> None:
        self._since.setdefault(thread_id, time.monotonic())

    def take(self, thread_id: str) -> int:
        """Whole seconds since the last count (the clock keeps running)."""
        since = self._since.get(thread_id)
        if since is None:
            return 0
        seconds = int(time.monotonic() - since)
        self._since[thread_id] = since + seconds
        return seconds

    def stop(self, thread_id: str) -> None:
        self._since.pop(thread_id, None)


def goal_clocks(app: AppState) -> GoalClocks:
    return GoalClocks()


def _publish(app: AppState, goal: Goal, turn_id: str | None) -> None:
    app.outgoing.notify("thread/goal/updated", t.ThreadGoalUpdatedNotification(
        thread_id=goal.thread_id, turn_id=turn_id, goal=goal_wire(goal)))


def _engine(app: AppState, thread_id: str) -> ThreadEngine | None:
    """The engine of a loaded, persisted thread (ephemeral threads keep no goals)."""
    from pycodex.api.threads import thread_manager

    thread = app.get(thread_manager).get(thread_id)
    engine: ThreadEngine | None = None if thread is None or thread.ephemeral else thread.engine
    return engine


def _start_goal_turn(engine: ThreadEngine, goal: Goal, root_id: str | None) -> None:
    if engine.running or not pursues_goals(engine.settings):
        return
    try:
        engine.start_turn([], hidden=[goal_prompt(goal)], root_id=root_id)
    except Exception:  # the goal is kept either way; the client sees no turn start
        logger.exception("could not start a turn for the goal of %s", goal.thread_id)


async def _pursue(ctx: RequestContext, goal: Goal) -> None:
    """Start a turn on the goal unless the thread is already working."""
    from pycodex.api.engine_host import engine_for

    engine = await engine_for(ctx, goal.thread_id)
    _start_goal_turn(engine, goal, None)


async def resume_goal(ctx: RequestContext, thread_id: str) -> None:
    """A thread loaded by ``thread/resume`` whose goal is active works on it again."""
    if not (ctx.app.options.codex_home / FILE_NAME).exists():
        return
    goal = ctx.app.get(goal_store).get(thread_id)
    if goal is not None and goal.status == "active":
        await _pursue(ctx, goal)


def goal_on_resume(app: AppState, thread_id: str) -> tuple[str, Any]:
    """The notification the reference sends a client that resumes ``thread_id``:
    ``thread/goal/updated`` (no turn) with its goal, else ``thread/goal/cleared``."""
    exists = (app.options.codex_home / FILE_NAME).exists()
    goal = app.get(goal_store).get(thread_id) if exists else None
    if goal is None:
        return "thread/goal/cleared", t.ThreadGoalClearedNotification(thread_id=thread_id)
    if goal.status == "active":
        app.get(goal_clocks).start(thread_id)
    return "thread/goal/updated", t.ThreadGoalUpdatedNotification(
        thread_id=thread_id, turn_id=None, goal=goal_wire(goal))


def no_goals(thread_id: str) -> InvalidInput:
    """The reference's refusal of goals on an ephemeral thread."""
    return InvalidInput(f"ephemeral thread does not support goals: {thread_id}")


def _goal_thread(ctx: RequestContext, text: str) -> ThreadRef:
    """The named thread, which must be one that can keep a goal (not ephemeral)."""
    from pycodex.api.threads import thread_manager

    thread = require_thread(ctx, text)
    loaded = ctx.app.get(thread_manager).get(thread.id)
    if loaded is not None and loaded.ephemeral:
        raise no_goals(thread.id)
    return thread


@route("thread/goal/get")
async def goal_get(ctx: RequestContext, params: t.ThreadGoalGetParams) -> t.ThreadGoalGetResponse:
    thread = _goal_thread(ctx, params.thread_id)
    goal = ctx.app.get(goal_store).get(thread.id)
    return t.ThreadGoalGetResponse(goal=goal_wire(goal) if goal else None)


@route("thread/goal/set")
async def goal_set(ctx: RequestContext, params: t.ThreadGoalSetParams) -> t.ThreadGoalSetResponse:
    thread = _goal_thread(ctx, params.thread_id)
    if params.objective is not None and not params.objective.strip():
        raise invalid_request("goal objective must not be empty")
    if isinstance(params.token_budget, int) and params.token_budget <= 0:
        raise invalid_request("goal budgets must be positive when provided")
    store = ctx.app.get(goal_store)
    clocks = ctx.app.get(goal_clocks)
    before = store.get(thread.id)
    if before is not None and before.status == "active":  # the time up to this change
        store.add_usage(thread.id, 0, clocks.take(thread.id))
    try:
        goal = store.set(thread.id, objective=params.objective, status=params.status,
                         token_budget=params.token_budget if is_set(params.token_budget)
                         else KEEP)
    except NoGoal:
        raise invalid_request(
            f"cannot update goal for thread {thread.id}: no goal exists") from None
    _publish(ctx.app, goal, None)
    if goal.status != "active":
        clocks.stop(thread.id)
    elif not thread.archived:
        clocks.start(thread.id)
        await _pursue(ctx, goal)
    return t.ThreadGoalSetResponse(goal=goal_wire(goal))


@route("thread/goal/clear")
async def goal_clear(
    ctx: RequestContext, params: t.ThreadGoalClearParams
) -> t.ThreadGoalClearResponse:
    thread = _goal_thread(ctx, params.thread_id)
    cleared = ctx.app.get(goal_store).clear(thread.id)
    ctx.app.get(goal_clocks).stop(thread.id)
    if cleared:
        ctx.outgoing.notify("thread/goal/cleared",
                            t.ThreadGoalClearedNotification(thread_id=thread.id))
    return t.ThreadGoalClearResponse(cleared=cleared)


async def account_turn(app: AppState, thread_id: str, method: str, params: dict[str, Any]) -> None:
    """A turn of a thread with a goal reported progress: its tokens and time count against
    an active goal (``thread/goal/updated`` with the turn id), a final error blocks it (a
    usage limit makes it ``usageLimited``), and a turn that completed with the goal still
    active is followed by the next goal turn."""
    store = app.get(goal_store)
    clocks = app.get(goal_clocks)
    turn_id = params.get("turnId") or (params.get("turn") or {}).get("id")
    if method == "turn/started":
        goal = store.get(thread_id)
        if goal is not None and goal.status == "active":
            clocks.start(thread_id)
        return
    if method == "turn/completed":
        await _after_turn(app, thread_id, params.get("turn") or {})
        return
    if method == "error":
        info = (params.get("error") or {}).get("codexErrorInfo")
        status = "usageLimited" if info == "usageLimitExceeded" else "blocked"
        goal = None if params.get("willRetry") else store.stop(thread_id, status)
    else:
        engine = _engine(app, thread_id)
        if engine is not None and not pursues_goals(engine.settings):
            return  # plan mode's turns, or with goals switched off, do not count
        last = (params.get("tokenUsage") or {}).get("last") or {}
        used = int(last.get("totalTokens") or 0) - int(last.get("cachedInputTokens") or 0)
        goal = store.add_usage(thread_id, used, clocks.take(thread_id))
    if goal is not None:
        if goal.status != "active":
            clocks.stop(thread_id)
        _publish(app, goal, turn_id)


async def _after_turn(app: AppState, thread_id: str, turn: dict[str, Any]) -> None:
    store = app.get(goal_store)
    goal = store.get(thread_id)
    if goal is None or goal.status != "active":
        return
    if turn.get("status") == "interrupted":  # the chain stops; the time so far counts
        counted = store.add_usage(thread_id, 0, app.get(goal_clocks).take(thread_id))
        if counted is not None:
            _publish(app, counted, turn.get("id"))
        return
    engine = _engine(app, thread_id)
    if engine is None or not continues(goal, engine.settings, str(turn.get("status"))):
        return
    root = engine.user_root

    def continue_goal() -> None:  # once the finished turn's task has let go of the engine
        current = app.get(goal_store).get(thread_id)
        if current is not None and current.status == "active":
            _start_goal_turn(engine, current, root)
            engine.user_root = root  # the chain keeps the user's turn as its root

    asyncio.get_running_loop().call_soon(continue_goal)
