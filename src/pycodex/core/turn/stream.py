"""One sampling's model stream → item notifications, deltas, rollout lines and tool calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import msgspec

from pycodex.core import item_events
from pycodex.core.host import TurnHost
from pycodex.core.ids import now_ms, uuid7
from pycodex.core.model_events import (
    BufferingFallback,
    Completed,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningSummaryPartAdded,
    ReasoningSummaryTextDelta,
    ReasoningTextDelta,
    ResponseMetadata,
    ServedModel,
    StreamRetry,
)
from pycodex.core.tools.context import ToolCall
from pycodex.core.turn.active import ActiveTurn, full_turn_error
from pycodex.core.turn.history import ResponseItem, message_text
from pycodex.core.turn.plan_blocks import PlanSplitter
from pycodex.protocol.types.items import (
    AgentMessageDeltaNotification,
    AgentMessageItem,
    PlanDeltaNotification,
    PlanItem,
    ReasoningItem,
    ReasoningSummaryPartAddedNotification,
    ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification,
    ThreadItem,
    WebSearchItem,
)
from pycodex.protocol.types.turns import (
    ErrorNotification,
    ModelReroutedNotification,
    ModelSafetyBufferingUpdatedNotification,
    ModelVerificationNotification,
    WarningNotification,
)
from pycodex.store import events

#: ``openai_verification_recommendation`` names → ``ModelVerification`` wire values
_VERIFICATIONS: dict[str, Literal["trustedAccessForCyber"]] = {
    "trusted_access_for_cyber": "trustedAccessForCyber"}

_TOOL_CALLS = ("function_call", "custom_tool_call", "local_shell_call", "tool_search_call")


class LiveItem(msgspec.Struct):
    """An item the model is still streaming."""

    id: str
    kind: str  # "message" | "reasoning"
    started: int
    deltas: list[str] = msgspec.field(default_factory=list)
    #: plan mode: splits ``<proposed_plan>`` blocks off the message
    plans: PlanSplitter | None = None
    #: its plan items so far, ``(item, startedAtMs)``; the last one grows while open
    plan_items: list[tuple[PlanItem, int]] = msgspec.field(default_factory=list)


def agent_message(item_id: str, text: str, started_ms: int | None,
                  completed_ms: int | None) -> AgentMessageItem:
    """An ``agentMessage`` item with every field the reference sends."""
    return AgentMessageItem(id=item_id, text=text, started_at_ms=started_ms,
                            completed_at_ms=completed_ms)




class StreamResult(msgspec.Struct):
    """What one sampling produced."""

    outputs: list[ResponseItem] = msgspec.field(default_factory=list)
    calls: list[ToolCall] = msgspec.field(default_factory=list)
    rate_limits: list[dict[str, Any]] = msgspec.field(default_factory=list)
    completed: Completed | None = None


class StreamConsumer:
    """Turns the events of one model stream into what the client sees and records
    (``announce=False``: records only, the client sees no items or deltas)."""

    def __init__(self, host: TurnHost, turn: ActiveTurn, *, model: str,
                 announce: bool = True, plans: bool = False) -> None:
        self.host = host
        self.plans = plans
        self.turn = turn
        self.model = model
        self.announce = announce
        self.thread_id = host.thread_id
        self.live: dict[str, LiveItem] = {}
        self.result = StreamResult()
        #: the answer's ``x-codex-safety-buffering-faster-model`` header
        self.faster_model: str | None = None

    async def _emit(self, notification: msgspec.Struct) -> None:
        if self.announce:
            await self.host.emit(notification)

    async def consume(self, stream: AsyncIterator[list[Any]]) -> StreamResult:
        """Handle the model's events, one list per network read
        (:meth:`~pycodex.core.model_client.ModelClient.stream_batches`). The deltas of a list
        go out together, in order with the other notifications."""
        for_client = self.announce
        async for batch in stream:
            deltas: list[msgspec.Struct] = []
            for event in batch:
                notification = self._delta(event)
                if notification is not None:
                    if for_client:
                        deltas.append(notification)
                    continue
                if deltas:
                    await self.host.emit_many(deltas)
                    deltas = []
                await self._event(event)
            if deltas:
                await self.host.emit_many(deltas)
        return self.result

    def _delta(self, event: Any) -> msgspec.Struct | None:
        """The notification of a text delta (recorded on its live item), or None when
        ``event`` is not a delta or its item is unknown."""
        turn, live = self.turn, self.live
        if type(event) is OutputTextDelta:
            if turn.first_token_ms is None:
                turn.first_token_ms = int((time.perf_counter() - turn.started_perf) * 1000)
            state = live.get(event.item_id or "") or self._ensure_message(event)
            if state.plans is not None:  # plan mode: :meth:`_event` splits out the plan
                return None
            state.deltas.append(event.delta)  # not str +=: that copies (quadratic)
            return AgentMessageDeltaNotification(
                thread_id=self.thread_id, turn_id=turn.id, item_id=state.id,
                delta=event.delta)
        if type(event) is ReasoningSummaryTextDelta:
            found = live.get(event.item_id or "")
            return None if found is None else ReasoningSummaryTextDeltaNotification(
                thread_id=self.thread_id, turn_id=turn.id, item_id=found.id,
                delta=event.delta, summary_index=event.summary_index)
        if type(event) is ReasoningTextDelta:
            found = live.get(event.item_id or "")
            return None if found is None else ReasoningTextDeltaNotification(
                thread_id=self.thread_id, turn_id=turn.id, item_id=found.id,
                delta=event.delta, content_index=event.content_index)
        return None

    async def _event(self, event: Any) -> None:
        """Any other event of the stream."""
        result, live = self.result, self.live
        if type(event) is OutputTextDelta:  # a delta of a plan-mode message
            state = live.get(event.item_id or "") or self._ensure_message(event)
            state.deltas.append(event.delta)
            if state.plans is not None:
                await self._plan_pieces(state, state.plans.push(event.delta))
        elif isinstance(event, OutputItemAdded):
            await self._item_added(event.item)
        elif isinstance(event, ReasoningSummaryPartAdded):
            found = live.get(event.item_id or "")
            if found is not None:
                await self._emit(ReasoningSummaryPartAddedNotification(
                    thread_id=self.thread_id, turn_id=self.turn.id, item_id=found.id,
                    summary_index=event.summary_index))
        elif isinstance(event, OutputItemDone):
            call = await self._item_done(event.item)
            if call is not None:
                result.calls.append(call)
        elif isinstance(event, RateLimits):
            result.rate_limits.append(event.snapshot)
        elif isinstance(event, ServedModel):
            await self._served(event.model)
        elif isinstance(event, ResponseMetadata):
            await self._metadata(event)
        elif isinstance(event, BufferingFallback):
            self.faster_model = event.model
        elif isinstance(event, Completed):
            result.completed = event
        elif isinstance(event, StreamRetry):
            result.outputs.clear()
            result.calls.clear()
            live.clear()
            await self.host.emit(ErrorNotification(
                error=full_turn_error(event.to_turn_error()), will_retry=True,
                thread_id=self.thread_id, turn_id=self.turn.id))

    async def _served(self, model: str) -> None:
        """The service answered with another model than the one asked for: say so once
        per turn (``model/rerouted``, then a ``warning``)."""
        if model == self.model or self.turn.rerouted:
            return
        self.turn.rerouted = True
        await self.host.emit(ModelReroutedNotification(
            thread_id=self.thread_id, turn_id=self.turn.id, from_model=self.model,
            to_model=model, reason="highRiskCyberActivity"))
        await self.host.emit(WarningNotification(
            thread_id=self.thread_id,
            message=f"This request was routed to {model} instead of {self.model}. "
                    "Answers may differ from what the requested model would give."))

    async def _metadata(self, event: ResponseMetadata) -> None:
        """What the service says besides the items: recommended verifications
        (``model/verification``, once per turn, known kinds only) and safety buffering
        (``model/safetyBuffering/updated``, every time, as the reference 0.171)."""
        known = [_VERIFICATIONS[v] for v in event.verifications if v in _VERIFICATIONS]
        if known and not self.turn.verified:
            self.turn.verified = True
            await self.host.emit(ModelVerificationNotification(
                thread_id=self.thread_id, turn_id=self.turn.id, verifications=known))
        safety = event.safety
        if safety is not None:
            await self.host.emit(ModelSafetyBufferingUpdatedNotification(
                thread_id=self.thread_id, turn_id=self.turn.id, model=self.model,
                use_cases=safety.use_cases, reasons=safety.reasons, show_buffering_ui=True,
                faster_model=safety.retry_model or self.faster_model))

    def _ensure_message(self, event: OutputTextDelta) -> LiveItem:
        key = event.item_id or "msg"
        state = self._message(key, now_ms())
        self.live[key] = state
        return state

    def _message(self, item_id: str, started: int) -> LiveItem:
        return LiveItem(id=item_id, kind="message", started=started,
                        plans=PlanSplitter() if self.plans else None)

    async def _plan_pieces(self, state: LiveItem, pieces: list[tuple[str, str]]) -> None:
        """Plan mode: the message's visible text as agent message deltas, each plan block
        as a ``plan`` item with its deltas (completed with the message)."""
        turn_id = self.turn.id
        for kind, text in pieces:
            if kind == "text":
                await self._emit(AgentMessageDeltaNotification(
                    thread_id=self.thread_id, turn_id=turn_id, item_id=state.id, delta=text))
            elif kind == "open":
                started = now_ms()
                item = PlanItem(id=uuid7(), text="")
                state.plan_items.append((item, started))
                await self._emit(item_events.started(self.thread_id, turn_id, item, started))
            elif kind == "plan" and state.plan_items:
                item, started = state.plan_items[-1]
                state.plan_items[-1] = (PlanItem(id=item.id, text=item.text + text), started)
                await self._emit(PlanDeltaNotification(
                    thread_id=self.thread_id, turn_id=turn_id, item_id=item.id, delta=text))

    async def _plans_done(self, state: LiveItem, now: int) -> str | None:
        """Plan mode, at the message's end: its plan items complete; the message's text
        without them (None when the message had no plan splitter)."""
        if state.plans is None:
            return None
        await self._plan_pieces(state, state.plans.finish())
        for item, started in state.plan_items:
            if self.announce:
                await self.host.persist(item_events.item_lines(
                    self.thread_id, self.turn.id, item, started, now))
            await self._emit(item_events.completed(self.thread_id, self.turn.id, item, now))
        return "".join(state.plans.visible)

    async def _item_added(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        item_id = item.get("id") or uuid7()
        started = now_ms()
        if kind == "message" and item.get("role", "assistant") == "assistant":
            self.live[item_id] = self._message(item_id, started)
            shown: ThreadItem = agent_message(item_id, "", started, None)
        elif kind == "reasoning":
            self.live[item_id] = LiveItem(id=item_id, kind="reasoning", started=started)
            shown = ReasoningItem(id=item_id, started_at_ms=started)
        else:
            return
        await self._emit(item_events.started(self.thread_id, self.turn.id, shown, started))

    async def _item_done(self, item: dict[str, Any]) -> ToolCall | None:
        kind = item.get("type")
        item_id = item.get("id") or uuid7()
        now = now_ms()
        outputs = self.result.outputs
        if kind == "message":
            await self._message_done(item, item_id, now)
            return None
        if kind == "reasoning":
            await self._reasoning_done(item, item_id, now)
            return None
        outputs.append(item)
        if kind in _TOOL_CALLS:
            await self.host.persist([("response_item", item)])
            return ToolCall.from_item(item)
        if kind == "web_search_call":
            await self.host.persist([("response_item", item)])
            action = item.get("action") or {}
            search = WebSearchItem(id=item_id, query=action.get("query") or "", action=None)
            await self._emit(item_events.started(self.thread_id, self.turn.id, search, now))
            await self._emit(item_events.completed(self.thread_id, self.turn.id, search, now))
        return None

    async def _message_done(self, item: dict[str, Any], item_id: str, now: int) -> None:
        turn = self.turn
        text = message_text(item)
        state = self.live.pop(item_id, None)
        if state is None:  # no output_item.added seen: start it now
            await self._item_added({**item, "id": item_id})
            state = self.live.pop(item_id, LiveItem(id=item_id, kind="message", started=now))
        if state.plans is not None and not state.deltas and text:  # not streamed: split now
            await self._plan_pieces(state, state.plans.push(text))
        visible = await self._plans_done(state, now)
        if visible is not None:
            text = visible
        done = agent_message(item_id, text, state.started, now)
        turn.items.append(done)
        if text:
            turn.last_agent_message = text
        self.result.outputs.append(item)
        shown = (item_events.item_lines(self.thread_id, turn.id, done, state.started, now)
                 if self.announce else [])
        await self.host.persist([*shown, events.response_item(item)])
        await self._emit(item_events.completed(self.thread_id, turn.id, done, now))

    async def _reasoning_done(self, item: dict[str, Any], item_id: str, now: int) -> None:
        state = self.live.pop(item_id, None)
        summary = [p.get("text", "") for p in item.get("summary") or [] if isinstance(p, dict)]
        content = [p.get("text", "") for p in item.get("content") or [] if isinstance(p, dict)]
        self.result.outputs.append(item)
        recorded = ReasoningItem(id=item_id, summary=summary, content=content)
        await self.host.persist([*events.reasoning(recorded), ("response_item", item)])
        if state is None and not summary and not content:
            return
        started = now if state is None else state.started
        if state is None:
            await self._emit(item_events.started(
                self.thread_id, self.turn.id, ReasoningItem(id=item_id, started_at_ms=started),
                now))
        done = ReasoningItem(id=item_id, summary=summary, content=content,
                             started_at_ms=started, completed_at_ms=now)
        await self._emit(item_events.completed(self.thread_id, self.turn.id, done, now))
