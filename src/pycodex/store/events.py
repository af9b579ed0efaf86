"""Builders for the rollout lines the turn engine writes, in the reference 0.169.0 format.

Each returns a ``(type, payload)`` pair for :meth:`RolloutWriter.append`. Writing turns
with these keeps ``thread/read``/``thread/resume`` (see :mod:`pycodex.store.history`) in
line with what the engine streamed live, and lets the reference read our files.
"""

from __future__ import annotations

from typing import Any

from pycodex.protocol.types.items import ReasoningItem, ThreadItem, TurnError
from pycodex.store.history import error_info_to_wire
from pycodex.store.item_codec import item_to_core, snake
from pycodex.store.rollout import RolloutItem


def task_started(
    turn_id: str, started_at: int, model_context_window: int | None = None
) -> RolloutItem:
    payload: dict[str, Any] = {"type": "task_started", "turn_id": turn_id, "started_at": started_at}
    if model_context_window is not None:
        payload["model_context_window"] = model_context_window
    return ("event_msg", payload)


def _error_to_core(error: TurnError) -> dict[str, Any]:
    info = error.codex_error_info
    if isinstance(info, str):
        core_info: Any = snake(info)
    elif isinstance(info, dict):
        core_info = {
            snake(k): ({snake(k2): v2 for k2, v2 in v.items()} if isinstance(v, dict) else v)
            for k, v in info.items()
        }
    else:
        core_info = None
    out: dict[str, Any] = {"message": error.message, "codex_error_info": core_info}
    if error.additional_details is not None:
        out["additional_details"] = error.additional_details
    return out


def task_complete(
    turn_id: str,
    *,
    started_at: int | None,
    completed_at: int,
    duration_ms: int | None,
    last_agent_message: str | None = None,
    error: TurnError | None = None,
) -> RolloutItem:
    """The end of a turn; with ``error`` the turn rebuilds as ``failed``."""
    payload: dict[str, Any] = {
        "type": "task_complete",
        "turn_id": turn_id,
        "last_agent_message": last_agent_message,
        "started_at": started_at,
        "completed_at": completed_at,
        "duration_ms": duration_ms,
    }
    if error is not None:
        payload["error"] = _error_to_core(error)
    return ("event_msg", payload)


def turn_aborted(
    turn_id: str,
    *,
    reason: str = "interrupted",
    completed_at: int | None = None,
    duration_ms: int | None = None,
) -> RolloutItem:
    """An interrupted turn (rebuilds as ``interrupted``)."""
    return (
        "event_msg",
        {
            "type": "turn_aborted",
            "turn_id": turn_id,
            "reason": reason,
            "completed_at": completed_at,
            "duration_ms": duration_ms,
        },
    )


def item_completed(
    thread_id: str,
    turn_id: str,
    item: ThreadItem,
    *,
    started_at_ms: int | None = None,
    completed_at_ms: int | None = None,
) -> RolloutItem | None:
    """A finished item (``None`` for kinds the rollout does not keep)."""
    core = item_to_core(item)
    if core is None:
        return None
    return (
        "event_msg",
        {
            "type": "item_completed",
            "thread_id": thread_id,
            "turn_id": turn_id,
            "item": core,
            "started_at_ms": started_at_ms,
            "completed_at_ms": completed_at_ms,
        },
    )


def reasoning(item: ReasoningItem) -> list[RolloutItem]:
    """A finished reasoning item as the reference records it: one ``agent_reasoning`` per
    summary part and one ``agent_reasoning_raw_content`` per raw text (thread/read and
    resume rebuild the item from them)."""
    lines: list[RolloutItem] = [
        ("event_msg", {"type": "agent_reasoning", "text": text}) for text in item.summary]
    lines += [("event_msg", {"type": "agent_reasoning_raw_content", "text": text})
              for text in item.content]
    return lines


def response_item(item: dict[str, Any]) -> RolloutItem:
    """A Responses-API item exactly as sent to / received from the model."""
    return ("response_item", item)


def turn_context(payload: dict[str, Any]) -> RolloutItem:
    """Per-turn settings (``turn_id``, ``cwd``, ``approval_policy``, ``sandbox_policy``,
    ``model``, ``effort``, ``summary``…); the last one restores settings on resume."""
    return ("turn_context", payload)


def token_count(
    info: dict[str, Any] | None, rate_limits: dict[str, Any] | None = None
) -> RolloutItem:
    return ("event_msg", {"type": "token_count", "info": info, "rate_limits": rate_limits})


def token_count_info(payload: Any) -> dict[str, Any] | None:
    """The usage an ``event_msg`` payload records, when it is a ``token_count`` with one."""
    if isinstance(payload, dict) and payload.get("type") == "token_count":
        info = payload.get("info")
        if isinstance(info, dict):
            return info
    return None


def compacted(message: str, replacement_history: list[Any] | None = None) -> RolloutItem:
    payload: dict[str, Any] = {"message": message}
    if replacement_history is not None:
        payload["replacement_history"] = replacement_history
    return ("compacted", payload)


def thread_rolled_back(num_turns: int) -> RolloutItem:
    """The last ``num_turns`` turns are dropped from the thread and the model history."""
    return ("event_msg", {"type": "thread_rolled_back", "num_turns": num_turns})


def thread_settings_applied(thread_id: str, thread_settings: dict[str, Any]) -> RolloutItem:
    """A thread's sticky settings changed between turns (``thread/settings/update``)."""
    return ("event_msg", {"type": "thread_settings_applied", "thread_id": thread_id,
                          "thread_settings": thread_settings})


__all__ = [
    "compacted",
    "error_info_to_wire",
    "item_completed",
    "response_item",
    "task_complete",
    "task_started",
    "thread_rolled_back",
    "thread_settings_applied",
    "token_count",
    "turn_aborted",
    "turn_context",
]
