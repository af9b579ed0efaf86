"""``thread/goal/set|get|clear``: one standing objective per thread (``goals_pycodex.sqlite``).
Setting a new active objective on an idle thread starts a turn to pursue it, as the
reference does, through the engine's ordinary turn start."""

from __future__ import annotations

import logging
from typing import Any, cast

from pycodex.api.context import AppState, RequestContext
from pycodex.api.local_stores import goal_store, require_thread
from pycodex.api.router import route
from pycodex.core.goals import goal_turn_input
from pycodex.protocol.base import is_set
from pycodex.protocol.errors import invalid_request
from pycodex.protocol.types import goals as t
from pycodex.store.goals import KEEP, Goal, NoGoal

logger = logging.getLogger(__name__)


def to_wire(goal: Goal) -> t.ThreadGoal:
    return t.ThreadGoal(
        thread_id=goal.thread_id, objective=goal.objective,
        status=cast(t.ThreadGoalStatus, goal.status), token_budget=goal.token_budget,
        tokens_used=goal.tokens_used, time_used_seconds=goal.time_used_seconds,
        created_at=goal.created_at, updated_at=goal.updated_at)


async def _pursue(ctx: RequestContext, goal: Goal) -> None:
    """Start a turn on the goal unless the thread is already working."""
    from pycodex.api.engine_host import engine_for

    engine = await engine_for(ctx, goal.thread_id)
    if engine.running:
        return
    try:
        engine.start_turn(goal_turn_input(goal.objective))
    except Exception:  # the goal is stored either way; the client sees no turn start
        logger.exception("could not start a turn for the goal of %s", goal.thread_id)


def goal_on_resume(app: AppState, thread_id: str) -> tuple[str, Any]:
    """The notification the reference sends a client that resumes ``thread_id``:
    ``thread/goal/updated`` (no turn) with its goal, else ``thread/goal/cleared``.
    For ``thread/resume``: ``ctx.outgoing.notify(*goal_on_resume(ctx.app, thread_id),
    to=[ctx.connection_id])`` once the answer is out."""
    goal = app.get(goal_store).get(thread_id)
    if goal is None:
        return "thread/goal/cleared", t.ThreadGoalClearedNotification(thread_id=thread_id)
    return "thread/goal/updated", t.ThreadGoalUpdatedNotification(
        thread_id=thread_id, turn_id=None, goal=to_wire(goal))


@route("thread/goal/get")
async def goal_get(ctx: RequestContext, params: t.ThreadGoalGetParams) -> t.ThreadGoalGetResponse:
    thread = require_thread(ctx, params.thread_id)
    goal = ctx.app.get(goal_store).get(thread.id)
    return t.ThreadGoalGetResponse(goal=to_wire(goal) if goal else None)


@route("thread/goal/set")
async def goal_set(ctx: RequestContext, params: t.ThreadGoalSetParams) -> t.ThreadGoalSetResponse:
    thread = require_thread(ctx, params.thread_id)
    if params.objective is not None and not params.objective.strip():
        raise invalid_request("goal objective must not be empty")
    if isinstance(params.token_budget, int) and params.token_budget <= 0:
        raise invalid_request("goal budgets must be positive when provided")
    store = ctx.app.get(goal_store)
    before = store.get(thread.id)
    try:
        goal = store.set(thread.id, objective=params.objective, status=params.status,
                         token_budget=params.token_budget if is_set(params.token_budget)
                         else KEEP)
    except NoGoal:
        raise invalid_request(
            f"cannot update goal for thread {thread.id}: no goal exists") from None
    ctx.outgoing.notify("thread/goal/updated", t.ThreadGoalUpdatedNotification(
        thread_id=thread.id, turn_id=None, goal=to_wire(goal)))
    new_objective = before is None or before.objective != goal.objective
    resumed = before is not None and before.status != "active"
    if goal.status == "active" and (new_objective or resumed) and not thread.archived:
        await _pursue(ctx, goal)
    return t.ThreadGoalSetResponse(goal=to_wire(goal))


@route("thread/goal/clear")
async def goal_clear(
    ctx: RequestContext, params: t.ThreadGoalClearParams
) -> t.ThreadGoalClearResponse:
    thread = require_thread(ctx, params.thread_id)
    cleared = ctx.app.get(goal_store).clear(thread.id)
    if cleared:
        ctx.outgoing.notify("thread/goal/cleared",
                            t.ThreadGoalClearedNotification(thread_id=thread.id))
    return t.ThreadGoalClearResponse(cleared=cleared)


async def account_turn(app: AppState, thread_id: str, method: str, params: dict[str, Any]) -> None:
    """A turn of a thread with an active goal reported token usage (counted against the
    goal) or a final error (the goal is blocked): announce the goal with the turn id."""
    store = app.get(goal_store)
    if method == "error":
        goal = None if params.get("willRetry") else store.block(thread_id)
    else:
        last = (params.get("tokenUsage") or {}).get("last") or {}
        used = int(last.get("totalTokens") or 0) - int(last.get("cachedInputTokens") or 0)
        goal = store.add_tokens(thread_id, used)
    if goal is not None:
        app.outgoing.notify("thread/goal/updated", t.ThreadGoalUpdatedNotification(
            thread_id=thread_id, turn_id=params.get("turnId"), goal=to_wire(goal)))
