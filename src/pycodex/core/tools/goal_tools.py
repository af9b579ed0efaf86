"""The model's goal tools: ``get_goal``, ``create_goal`` and ``update_goal`` on the thread's
goal (``store.goals``); every change is announced as ``thread/goal/updated`` with the
turn's id."""

from __future__ import annotations

from pycodex.core import tool_specs
from pycodex.core.errors import InvalidInput
from pycodex.core.goals import goal_report, goal_wire
from pycodex.core.tools.context import Tool, ToolCall, ToolContext, ToolError, ToolOutput
from pycodex.protocol.types.goals import ThreadGoalUpdatedNotification
from pycodex.store.goals import Goal, GoalStore, NoGoal, UnfinishedGoal

MODEL_STATUSES = tool_specs.GOAL_STATUSES_FOR_MODEL


def _store(ctx: ToolContext) -> GoalStore:
    try:
        return ctx.host.goals()
    except InvalidInput as exc:  # an ephemeral thread keeps no goal
        raise ToolError(exc.message) from None


async def _announce(ctx: ToolContext, goal: Goal) -> ToolOutput:
    await ctx.emit(ThreadGoalUpdatedNotification(thread_id=ctx.thread_id, turn_id=ctx.turn_id,
                                                 goal=goal_wire(goal)))
    return goal_report(goal)


async def get_goal(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    return goal_report(_store(ctx).get(ctx.thread_id))


async def create_goal(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    objective = args.get("objective")
    if not isinstance(objective, str) or not objective.strip():
        raise ToolError("failed to parse function arguments: missing field `objective`")
    budget = args.get("token_budget")
    if budget is not None and (not isinstance(budget, int) or budget <= 0):
        raise ToolError("token_budget must be a positive integer")
    try:
        goal = _store(ctx).create(ctx.thread_id, objective, budget)
    except UnfinishedGoal:
        raise ToolError("cannot create a new goal because this thread has an unfinished goal; "
                        "complete the existing goal first") from None
    return await _announce(ctx, goal)


async def update_goal(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    status = call.json_arguments().get("status")
    if status not in MODEL_STATUSES:
        raise ToolError(f"failed to parse function arguments: status must be one of "
                        f"{', '.join(MODEL_STATUSES)}")
    try:
        goal = _store(ctx).set(ctx.thread_id, objective=None, status=str(status))
    except NoGoal:
        raise ToolError("this thread has no goal to update") from None
    return await _announce(ctx, goal)


TOOLS = [
    Tool("get_goal", get_goal, lambda settings, info: tool_specs.GET_GOAL),
    Tool("create_goal", create_goal, lambda settings, info: tool_specs.CREATE_GOAL),
    Tool("update_goal", update_goal, lambda settings, info: tool_specs.UPDATE_GOAL),
]
