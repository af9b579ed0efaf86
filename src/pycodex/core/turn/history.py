"""The model-visible history of a thread: the one place it is kept and changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ResponseItem = dict[str, Any]

#: Which output kind answers each call kind.
_CALL_OUTPUT = {"function_call": "function_call_output",
                "local_shell_call": "function_call_output",
                "custom_tool_call": "custom_tool_call_output"}


def message(role: str, text: str) -> ResponseItem:
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def message_text(item: ResponseItem) -> str:
    parts = item.get("content") or []
    return "".join(
        p.get("text", "") for p in parts
        if isinstance(p, dict) and p.get("type") in ("output_text", "input_text", "text")
    )


class History:
    """Responses items in order. Appending, cutting back and replacing go through here
    (rollback and compaction replace it wholesale with :meth:`replace`)."""

    def __init__(self, items: list[ResponseItem] | None = None) -> None:
        self.items: list[ResponseItem] = list(items or [])

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[ResponseItem]:
        return iter(self.items)

    def append(self, item: ResponseItem) -> None:
        self.items.append(item)

    def extend(self, items: list[ResponseItem]) -> None:
        self.items.extend(items)

    def since(self, mark: int) -> list[ResponseItem]:
        """The items added after ``len(history)`` was ``mark``."""
        return self.items[mark:]

    def truncate(self, mark: int) -> None:
        """Drop the items added after ``len(history)`` was ``mark``."""
        del self.items[mark:]

    def replace(self, items: list[ResponseItem]) -> None:
        self.items[:] = items

    def for_request(self, extra: list[ResponseItem] | None = None) -> list[ResponseItem]:
        """The history (plus ``extra``) as sent upstream, see :func:`normalize_history`."""
        return normalize_history([*self.items, *(extra or [])])


def normalize_history(items: list[Any]) -> list[Any]:
    """The history as sent upstream: a tool call without an output gets an ``"aborted"``
    output right after it and an output without its call is dropped (the API rejects
    both). Such holes come from rollouts cut by a crash; ``items`` is left untouched."""
    calls: dict[str, set[str]] = {"function_call_output": set(),
                                  "custom_tool_call_output": set()}
    outputs: dict[str, set[str]] = {"function_call_output": set(),
                                    "custom_tool_call_output": set()}
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        call_id = item.get("call_id") if isinstance(item, dict) else None
        if not isinstance(call_id, str):
            continue
        if kind in _CALL_OUTPUT:
            calls[_CALL_OUTPUT[kind]].add(call_id)
        elif kind in outputs:
            outputs[kind].add(call_id)
    out: list[Any] = []
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        call_id = item.get("call_id") if isinstance(item, dict) else None
        if kind in outputs and call_id not in calls[kind]:
            continue
        out.append(item)
        if kind in _CALL_OUTPUT and isinstance(call_id, str):
            output_kind = _CALL_OUTPUT[kind]
            if call_id not in outputs[output_kind]:
                out.append({"type": output_kind, "call_id": call_id, "output": "aborted"})
                outputs[output_kind].add(call_id)
    return out
