"""Wire types of thread goals (``thread/goal/*``)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import UNSET, UnsetType, WireStruct
from pycodex.protocol.methods import MethodSpec

ThreadGoalStatus = Literal[
    "active", "paused", "blocked", "usageLimited", "budgetLimited", "complete"
]


class ThreadGoal(WireStruct):
    thread_id: str
    objective: str
    status: ThreadGoalStatus
    token_budget: int | None
    tokens_used: int
    time_used_seconds: int
    created_at: int
    updated_at: int


class ThreadGoalSetParams(WireStruct):
    thread_id: str
    objective: str | None = None
    status: ThreadGoalStatus | None = None
    token_budget: int | UnsetType | None = UNSET
    """Omitted keeps the budget, ``null`` removes it."""
    origin: Literal["user", "automatic"] | None = None


class ThreadGoalSetResponse(WireStruct):
    goal: ThreadGoal


class ThreadGoalGetParams(WireStruct):
    thread_id: str


class ThreadGoalGetResponse(WireStruct):
    goal: ThreadGoal | None


class ThreadGoalClearParams(WireStruct):
    thread_id: str
    origin: Literal["user", "automatic"] | None = None


class ThreadGoalClearResponse(WireStruct):
    cleared: bool


class ThreadGoalUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str | None
    goal: ThreadGoal


class ThreadGoalClearedNotification(WireStruct):
    thread_id: str


REQUESTS: list[MethodSpec] = [
    MethodSpec("thread/goal/set", ThreadGoalSetParams, ThreadGoalSetResponse),
    MethodSpec("thread/goal/get", ThreadGoalGetParams, ThreadGoalGetResponse),
    MethodSpec("thread/goal/clear", ThreadGoalClearParams, ThreadGoalClearResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "thread/goal/updated": ThreadGoalUpdatedNotification,
    "thread/goal/cleared": ThreadGoalClearedNotification,
}
