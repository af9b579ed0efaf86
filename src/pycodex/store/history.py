"""Rebuild turns (v2 ``Turn`` objects with items) and the model history from rollout lines.

Reads both the 0.169.0 form (``item_completed`` with core items) and the older event kinds
(``user_message``, ``agent_message``, ``agent_reasoning``, ``exec_command_end``,
``patch_apply_end``, ``dynamic_tool_call_response``...). Turn boundaries:
``task_started``/``turn_started``, ``task_complete``/``turn_complete`` (with ``error`` →
failed), ``turn_aborted`` (→ interrupted); ``thread_rolled_back`` drops the last N turns.
A turn still open at the end is ``inProgress`` only if it is the thread's running turn,
else ``interrupted``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from pycodex.protocol.types.items import (
    AgentMessageItem,
    CommandExecutionItem,
    ContextCompactionItem,
    FileChangeItem,
    ReasoningItem,
    TextUserInput,
    ThreadItem,
    Turn,
    TurnError,
    UserInput,
    UserMessageItem,
    WebSearchItem,
)
from pycodex.store.item_codec import (
    _command_from_core,
    camel,
    changes_from_core,
    dynamic_tool_call_from_core,
    item_from_core,
    user_input_from_core,
)
from pycodex.store.rollout import RolloutLine, iter_rollout, parse_timestamp_ms

REQUEST_MARKER = "## My request for Codex:"
#: The preview of a thread whose first message holds only images.
IMAGE_PREVIEW = "[Image]"


def error_info_to_wire(raw: Any) -> Any:
    """Core ``codex_error_info`` (snake_case) → v2 ``codexErrorInfo`` (camelCase)."""
    if isinstance(raw, str):
        return camel(raw)
    if isinstance(raw, dict):
        return {
            camel(k): ({camel(k2): v2 for k2, v2 in v.items()} if isinstance(v, dict) else v)
            for k, v in raw.items()
        }
    return None


def turn_error_from_core(raw: Any) -> TurnError | None:
    if isinstance(raw, str):
        return TurnError(message=raw)
    if not isinstance(raw, dict):
        return None
    return TurnError(
        message=str(raw.get("message", "")),
        codex_error_info=error_info_to_wire(raw.get("codex_error_info")),
        additional_details=raw.get("additional_details")
        if isinstance(raw.get("additional_details"), str)
        else None,
    )


class _TurnAcc(msgspec.Struct):
    id: str
    explicit: bool
    started_at: int | None = None
    items: list[ThreadItem] = msgspec.field(default_factory=list)
    index: dict[str, int] = msgspec.field(default_factory=dict)
    status: str = "inProgress"
    error: TurnError | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    has_user_message: bool = False

    def put(self, item: ThreadItem) -> None:
        at = self.index.get(item.id)
        if at is not None:
            self.items[at] = item
        else:
            self.index[item.id] = len(self.items)
            self.items.append(item)
        if isinstance(item, UserMessageItem):
            self.has_user_message = True

    def build(self, running: bool) -> Turn:
        status = self.status
        if status == "inProgress" and not running:
            status = "interrupted"
        return Turn(
            id=self.id,
            items=self.items,
            status=status,  # type: ignore[arg-type]
            error=self.error,
            started_at=self.started_at,
            completed_at=self.completed_at,
            duration_ms=self.duration_ms,
        )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class TurnBuilder:
    """Feed rollout lines in order, then :meth:`finish` to get the turns."""

    def __init__(self, thread_id: str = "") -> None:
        self._thread_id = thread_id
        self._turns: list[_TurnAcc] = []
        self._by_id: dict[str, _TurnAcc] = {}
        self._current: _TurnAcc | None = None
        self._counter = 0
        self._last_stamp = ""
        self._last_seconds: int | None = None
        #: Set when a line depended on what came before the lines fed: a generated id (it
        #: counts from the file's start), a turn id not fed, a rollback deeper than the
        #: turns fed. A builder fed only the end of a file is exact while this stays False.
        self.needs_prefix = False

    # -- helpers --------------------------------------------------------------------
    def _synthetic_id(self, line: RolloutLine) -> str:
        self.needs_prefix = True
        self._counter += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pycodex:{self._thread_id}:{line.line_no}"))

    def _item_id(self) -> str:
        self.needs_prefix = True
        self._counter += 1
        return f"item-{self._counter}"

    def _seconds(self, line: RolloutLine) -> int | None:
        stamp = line.timestamp
        if not stamp:
            return None
        if stamp == self._last_stamp:
            return self._last_seconds
        ms = parse_timestamp_ms(stamp)
        self._last_stamp = stamp
        self._last_seconds = ms // 1000 if ms is not None else None
        return self._last_seconds

    def _new_turn(self, turn_id: str, explicit: bool, started_at: int | None) -> _TurnAcc:
        turn = _TurnAcc(id=turn_id, explicit=explicit, started_at=started_at)
        self._turns.append(turn)
        self._by_id[turn_id] = turn
        self._current = turn
        return turn

    def _turn_for(self, line: RolloutLine, turn_id: Any = None) -> _TurnAcc:
        if isinstance(turn_id, str) and turn_id:
            if turn_id in self._by_id:
                return self._by_id[turn_id]
            self.needs_prefix = True
        if self._current is not None:
            return self._current
        new_id = turn_id if isinstance(turn_id, str) and turn_id else self._synthetic_id(line)
        return self._new_turn(new_id, False, self._seconds(line))

    def _close(
        self, turn: _TurnAcc, status: str, payload: dict[str, Any], line: RolloutLine
    ) -> None:
        if turn.status == "inProgress":
            turn.status = status
        turn.completed_at = _int(payload.get("completed_at")) or self._seconds(line)
        turn.duration_ms = _int(payload.get("duration_ms"))
        if turn.started_at is None:
            turn.started_at = _int(payload.get("started_at"))
        if self._current is turn:
            self._current = None

    # -- feeding --------------------------------------------------------------------
    def feed_all(self, lines: Iterable[RolloutLine]) -> TurnBuilder:
        for line in lines:
            self.feed(line)
        return self

    def feed(self, line: RolloutLine) -> None:
        if line.type != "event_msg":
            return
        payload = line.payload
        if not isinstance(payload, dict):
            return
        kind = payload.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            handler(self, payload, line)

    def _on_turn_started(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn_id = payload.get("turn_id")
        if not isinstance(turn_id, str) or not turn_id:
            turn_id = self._synthetic_id(line)
        if self._current is not None and self._current.id != turn_id:
            # The previous turn never finished: it was cut short.
            self._close(self._current, "interrupted", {}, line)
        existing = self._by_id.get(turn_id)
        if existing is not None:
            self._current = existing
            return
        self._new_turn(turn_id, True, _int(payload.get("started_at")) or self._seconds(line))

    def _on_turn_complete(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line, payload.get("turn_id"))
        error = turn_error_from_core(payload.get("error"))
        if error is not None:
            turn.error = error
            self._close(turn, "failed", payload, line)
        else:
            self._close(turn, "completed", payload, line)

    def _on_turn_aborted(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line, payload.get("turn_id"))
        self._close(turn, "interrupted", payload, line)

    def _on_item_completed(self, payload: dict[str, Any], line: RolloutLine) -> None:
        item = item_from_core(
            payload.get("item"),
            _int(payload.get("started_at_ms")),
            _int(payload.get("completed_at_ms")),
        )
        if item is None:
            return
        turn = self._turn_for(line, payload.get("turn_id"))
        turn.put(item)

    def _on_user_message(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._current
        if turn is None or (not turn.explicit and turn.has_user_message):
            turn = self._new_turn(self._synthetic_id(line), False, self._seconds(line))
        content: list[UserInput] = []
        message = payload.get("message")
        if isinstance(message, str) and message:
            text_input = user_input_from_core(
                {"type": "text", "text": message, "text_elements": payload.get("text_elements")}
            )
            if text_input is not None:
                content.append(text_input)
        for url in payload.get("images") or []:
            image = user_input_from_core({"type": "image", "image_url": url})
            if image is not None:
                content.append(image)
        for path in payload.get("local_images") or []:
            local = user_input_from_core({"type": "local_image", "path": path})
            if local is not None:
                content.append(local)
        turn.put(UserMessageItem(id=self._item_id(), content=content))

    def _on_agent_message(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line)
        phase = payload.get("phase")
        turn.put(
            AgentMessageItem(
                id=self._item_id(),
                text=str(payload.get("message", "")),
                phase=phase if isinstance(phase, str) else None,
            )
        )

    def _on_reasoning(self, payload: dict[str, Any], line: RolloutLine, raw: bool) -> None:
        turn = self._turn_for(line)
        text = str(payload.get("text", ""))
        last = turn.items[-1] if turn.items else None
        if isinstance(last, ReasoningItem) and last.id.startswith("item-"):
            (last.content if raw else last.summary).append(text)
            return
        item = ReasoningItem(id=self._item_id())
        (item.content if raw else item.summary).append(text)
        turn.put(item)

    def _on_exec_end(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line, payload.get("turn_id"))
        raw = dict(payload)
        raw["id"] = payload.get("call_id") or self._item_id()
        if "status" not in raw:
            raw["status"] = "completed" if payload.get("exit_code") == 0 else "failed"
        item: CommandExecutionItem = _command_from_core(raw, None, None)
        turn.put(item)

    def _on_patch_end(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line, payload.get("turn_id"))
        status = payload.get("status")
        if isinstance(status, str):
            status = camel(status)
        else:
            status = "completed" if payload.get("success", True) else "failed"
        if status not in ("inProgress", "completed", "failed", "declined"):
            status = "completed"
        turn.put(
            FileChangeItem(
                id=str(payload.get("call_id") or self._item_id()),
                changes=changes_from_core(payload.get("changes")),
                status=status,  # type: ignore[arg-type]
            )
        )

    def _on_dynamic_tool_response(self, payload: dict[str, Any], line: RolloutLine) -> None:
        """Older builds recorded finished dynamic tool calls as their own event."""
        turn = self._turn_for(line, payload.get("turn_id"))
        raw = dict(payload)
        raw["id"] = payload.get("call_id") or self._item_id()
        raw["status"] = "completed" if payload.get("success") is True else "failed"
        turn.put(dynamic_tool_call_from_core(raw))

    def _on_compacted(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line, payload.get("turn_id"))
        turn.put(ContextCompactionItem(id=self._item_id()))

    def _on_web_search(self, payload: dict[str, Any], line: RolloutLine) -> None:
        turn = self._turn_for(line)
        turn.put(
            WebSearchItem(
                id=str(payload.get("call_id") or self._item_id()),
                query=str(payload.get("query", "")),
                action=payload.get("action"),
            )
        )

    def _on_rolled_back(self, payload: dict[str, Any], line: RolloutLine) -> None:
        count = _int(payload.get("num_turns")) or 0
        self._current = None
        if count > len(self._turns):
            self.needs_prefix = True
        for _ in range(min(count, len(self._turns))):
            dropped = self._turns.pop()
            self._by_id.pop(dropped.id, None)

    # -- result ---------------------------------------------------------------------
    def finish(self, running_turn_id: str | None = None) -> list[Turn]:
        return [t.build(running=t.id == running_turn_id) for t in self._turns]

    @property
    def turn_count(self) -> int:
        return len(self._turns)


_HANDLERS: dict[str, Any] = {
    "task_started": TurnBuilder._on_turn_started,
    "turn_started": TurnBuilder._on_turn_started,
    "task_complete": TurnBuilder._on_turn_complete,
    "turn_complete": TurnBuilder._on_turn_complete,
    "turn_aborted": TurnBuilder._on_turn_aborted,
    "item_completed": TurnBuilder._on_item_completed,
    "user_message": TurnBuilder._on_user_message,
    "agent_message": TurnBuilder._on_agent_message,
    "agent_reasoning": lambda self, p, line: self._on_reasoning(p, line, False),
    "agent_reasoning_raw_content": lambda self, p, line: self._on_reasoning(p, line, True),
    "exec_command_end": TurnBuilder._on_exec_end,
    "patch_apply_end": TurnBuilder._on_patch_end,
    "dynamic_tool_call_response": TurnBuilder._on_dynamic_tool_response,
    "context_compacted": TurnBuilder._on_compacted,
    "web_search_end": TurnBuilder._on_web_search,
    "thread_rolled_back": TurnBuilder._on_rolled_back,
}


# -- one pass over a stored thread ----------------------------------------------------


class StoredThread(msgspec.Struct):
    """What one read of a rollout yields for ``thread/resume``: the ``session_meta``
    payload, the turns, the last ``turn_context`` and the ordinal for the next line."""

    meta: dict[str, Any]
    turns: list[Turn]
    context: dict[str, Any]
    next_ordinal: int
    #: ``thread_settings`` of a ``thread_settings_applied`` event after that turn context
    applied: dict[str, Any] | None = None


def read_thread(path: Path, thread_id: str, running_turn_id: str | None = None) -> StoredThread:
    """Stream ``path`` once. ``response_item`` payloads are never decoded here (the model
    history is rebuilt from the file when the next turn needs it).

    Raises ``OSError`` when the file cannot be opened."""
    meta: dict[str, Any] = {}
    context: dict[str, Any] = {}
    applied: dict[str, Any] | None = None
    builder = TurnBuilder(thread_id)
    feed = builder.feed
    last_ordinal = -1
    count = 0
    for line in iter_rollout(path):
        count += 1
        ordinal = line.ordinal
        if ordinal is not None and ordinal > last_ordinal:
            last_ordinal = ordinal
        kind = line.type
        if kind == "event_msg":
            payload = line.payload
            if (isinstance(payload, dict) and payload.get("type") == "thread_settings_applied"
                    and isinstance(payload.get("thread_settings"), dict)):
                applied = payload["thread_settings"]
            feed(line)
        elif kind == "session_meta":
            if not meta and isinstance(line.payload, dict):
                meta = line.payload
        elif kind == "turn_context" and isinstance(line.payload, dict):
            context, applied = line.payload, None
    turns = builder.finish(running_turn_id)
    return StoredThread(meta, turns, context, max(last_ordinal + 1, count), applied)


def read_turns(path: Path, thread_id: str, running_turn_id: str | None = None) -> list[Turn]:
    """The turns of the rollout at ``path`` (``OSError`` when it cannot be opened)."""
    return read_thread(path, thread_id, running_turn_id).turns


# -- preview --------------------------------------------------------------------------


def preview_text(text: str) -> str:
    """The part of a user message shown as a thread preview."""
    at = text.find(REQUEST_MARKER)
    if at >= 0:
        text = text[at + len(REQUEST_MARKER) :]
    return text.strip()


def user_message_preview(line: RolloutLine) -> str | None:
    """The preview text when ``line`` records a user message, else ``None``."""
    if line.type != "event_msg" or not isinstance(line.payload, dict):
        return None
    payload = line.payload
    kind = payload.get("type")
    if kind == "user_message":
        message = payload.get("message")
        if isinstance(message, str) and message.strip():
            return preview_text(message)
        return IMAGE_PREVIEW if payload.get("images") or payload.get("local_images") else None
    if kind == "item_completed":
        item = payload.get("item")
        if isinstance(item, dict) and item.get("type") == "UserMessage":
            texts = [
                c.get("text", "")
                for c in item.get("content") or []
                if isinstance(c, dict) and c.get("type") == "text"
            ]
            joined = "\n".join(t for t in texts if isinstance(t, str))
            if joined.strip():
                return preview_text(joined)
            return IMAGE_PREVIEW if item.get("content") else None
    return None


def turn_preview(turns: list[Turn]) -> str:
    for turn in turns:
        for item in turn.items:
            if isinstance(item, UserMessageItem):
                texts = [c.text for c in item.content if isinstance(c, TextUserInput)]
                if any(t.strip() for t in texts):
                    return preview_text("\n".join(texts))
                if item.content:
                    return IMAGE_PREVIEW
    return ""


# -- model history --------------------------------------------------------------------


def _is_user_turn_start(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("type") != "message" or item.get("role") != "user":
        return False
    for part in item.get("content") or []:
        text = part.get("text") if isinstance(part, dict) else None
        if isinstance(text, str) and text.lstrip().startswith(
            ("<environment_context>", "<user_instructions>", "# AGENTS.md")
        ):
            return False
    return True


def model_history(lines: Iterable[RolloutLine]) -> list[Any]:
    """The Responses-API items to send on the next turn: response items in order, reset by
    ``compacted`` (to its ``replacement_history`` when present) and cut by
    ``thread_rolled_back`` back to where the dropped turns started (their ``task_started``
    lines; older rollouts without them: their user messages)."""
    history: list[Any] = []
    #: (the history list, its length) at each turn's start; a compaction or a rollback
    #: rebinds ``history`` to a new list, so every recorded prefix stays valid.
    starts: list[tuple[list[Any], int]] = []
    for line in lines:
        kind, payload = line.type, line.payload
        if kind == "response_item":
            history.append(payload)
        elif kind == "compacted" and isinstance(payload, dict):
            history = _compacted(history, payload)
        elif kind == "event_msg" and isinstance(payload, dict):
            event = payload.get("type")
            if event in ("task_started", "turn_started"):
                starts.append((history, len(history)))
            elif event == "thread_rolled_back":
                count = _int(payload.get("num_turns")) or 0
                if 0 < count <= len(starts):
                    base, length = starts[-count]
                    history = base[:length]
                    del starts[-count:]
                elif count:
                    history = _cut_user_turns(history, count)
                    starts.clear()
    return history


def _compacted(history: list[Any], payload: dict[str, Any]) -> list[Any]:
    replacement = payload.get("replacement_history")
    if isinstance(replacement, list):
        return list(replacement)
    kept = [item for item in history if _is_user_turn_start(item)]
    message = payload.get("message")
    if isinstance(message, str):
        content = [{"type": "input_text", "text": message}]
        kept.append({"type": "message", "role": "user", "content": content})
    return kept


def _cut_user_turns(history: list[Any], count: int) -> list[Any]:
    """``history`` without its last ``count`` user turns (rollouts without turn starts)."""
    starts = [i for i, item in enumerate(history) if _is_user_turn_start(item)]
    if not starts:
        return history
    return history[: starts[-count] if count <= len(starts) else starts[0]]
