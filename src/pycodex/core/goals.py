"""What a thread goal means for the engine: the goal's wire shape, the hidden prompt of a
turn that works on it (the objective and its budget, never shown as a user message), and
whether a collaboration mode works on goals at all."""

from __future__ import annotations

import json
from typing import Any, cast

import msgspec

from pycodex.core.host import TurnSettings
from pycodex.protocol.types.goals import ThreadGoal, ThreadGoalStatus
from pycodex.store.goals import Goal

#: Plan mode plans; it neither continues goals nor counts its turns against them.
_GOALLESS_MODES = frozenset({"plan"})

_PROMPT = (
    "<codex_internal_context source=\"goal\">\n"
    "This thread has an active goal. Keep working toward it: inspect the current state, "
    "make concrete progress and verify it. When the objective is fully achieved and "
    "verified, call update_goal with status \"complete\". Call get_goal for the goal's "
    "current usage.\n\n"
    "Budget:\n- Tokens used: {used}\n- Token budget: {budget}\n- Tokens remaining: {left}\n\n"
    "<goal_objective>\n{objective}\n</goal_objective>\n"
    "</codex_internal_context>"
)


def goal_wire(goal: Goal) -> ThreadGoal:
    return ThreadGoal(
        thread_id=goal.thread_id, objective=goal.objective,
        status=cast(ThreadGoalStatus, goal.status), token_budget=goal.token_budget,
        tokens_used=goal.tokens_used, time_used_seconds=goal.time_used_seconds,
        created_at=goal.created_at, updated_at=goal.updated_at)


def works_on_goals(collaboration_mode: str) -> bool:
    return collaboration_mode not in _GOALLESS_MODES


def goals_enabled(config: dict[str, Any]) -> bool:
    """``features.goals`` is not switched off (the TUI's title threads do)."""
    features = config.get("features")
    return not (isinstance(features, dict) and features.get("goals") is False)


def pursues_goals(settings: TurnSettings) -> bool:
    """A thread with these settings works on its goal and counts its turns against it:
    goals switched on, not in plan mode."""
    return works_on_goals(settings.collaboration_mode) and goals_enabled(settings.config)


def continues(goal: Goal | None, settings: TurnSettings, turn_status: str) -> bool:
    """Whether another turn on ``goal`` follows a turn that ended with ``turn_status``:
    only after a completed turn, while the goal is active and the thread pursues goals."""
    return (goal is not None and goal.status == "active" and turn_status == "completed"
            and pursues_goals(settings))


def remaining_tokens(goal: Goal) -> int | None:
    return None if goal.token_budget is None else max(goal.token_budget - goal.tokens_used, 0)


def goal_prompt(goal: Goal) -> dict[str, Any]:
    """The model-only input of a turn working on ``goal`` (a Responses user message)."""
    left = remaining_tokens(goal)
    text = _PROMPT.format(
        objective=goal.objective, used=goal.tokens_used,
        budget="none" if goal.token_budget is None else goal.token_budget,
        left="unlimited" if left is None else left)
    return {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}]}


def goal_report(goal: Goal | None) -> str:
    """What the goal tools answer the model: the goal (a budget only when it has one) and
    the tokens left."""
    wire: dict[str, Any] | None = None
    if goal is not None:
        wire = msgspec.to_builtins(goal_wire(goal))
        if wire.get("tokenBudget") is None:
            wire.pop("tokenBudget", None)
    return json.dumps({"goal": wire,
                       "remainingTokens": remaining_tokens(goal) if goal else None,
                       "completionBudgetReport": None}, separators=(",", ":"))
