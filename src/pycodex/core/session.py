"""The turn engine of one thread: history, the running turn, steering, interruption and
compaction.

A :class:`Session` lives as long as its thread is loaded. ``start_turn`` spawns the turn as a
task; the turn samples the model, runs the tools it asks for, feeds their output back and
loops until the model answers without tool calls. Everything the client sees goes through
the :class:`~pycodex.core.host.TurnHost` (notifications, status, rollout lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import msgspec

from pycodex.core import instructions
from pycodex.core.hooks import turn_points
from pycodex.core.host import TurnHost, TurnSettings
from pycodex.core.ids import now_ms, uuid7
from pycodex.core.model_events import (
    Completed,
    ModelError,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningSummaryPartAdded,
    ReasoningSummaryTextDelta,
    ReasoningTextDelta,
    StreamRetry,
)
from pycodex.core.skills import turn_context as skill_context
from pycodex.core.token_usage import TokenLedger
from pycodex.core.tool_router import ToolCall, ToolContext, ToolRouter
from pycodex.protocol.types.items import ReasoningItem, ThreadItem, TurnError
from pycodex.store import events

logger = logging.getLogger(__name__)

TURN_ABORTED_MESSAGE = (
    "<turn_aborted>\nThe user interrupted the previous turn on purpose. Any processes it "
    "started may still be running. Tools that were aborted may have partially run.\n"
    "</turn_aborted>"
)

COMPACT_PROMPT = (
    "You are handing this task over to another assistant that will continue it. Write a "
    "concise, structured summary of the conversation so far: the user's goal, what has been "
    "done and decided, important facts, constraints and preferences, and the next steps."
)

SUMMARY_PREFIX = (
    "Another assistant worked on this task before you and left this summary of the "
    "conversation so far. Build on it instead of repeating work:\n"
)

#: Token budget for the user messages kept verbatim across a compaction.
KEEP_USER_TOKENS = 20_000


class TurnNotActive(Exception):
    """A steer that cannot join the running turn. ``data`` is machine-readable detail for
    the JSON-RPC error (``reason`` plus the ids, or the reference's ``TurnError`` shape
    for a turn that cannot be steered)."""

    def __init__(self, message: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.data = data


class ActiveTurn(msgspec.Struct):
    id: str
    kind: str = "regular"  # "regular" | "compact"
    started_at: int = msgspec.field(default_factory=lambda: int(time.time()))
    started_perf: float = msgspec.field(default_factory=time.perf_counter)
    pending_input: list[list[dict[str, Any]]] = msgspec.field(default_factory=list)
    #: raw Responses items injected while the turn runs (``thread/inject_items``)
    pending_items: list[dict[str, Any]] = msgspec.field(default_factory=list)
    items: list[dict[str, Any]] = msgspec.field(default_factory=list)
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = msgspec.field(default_factory=asyncio.Event)
    interrupt_waiters: list[asyncio.Future[None]] = msgspec.field(default_factory=list)
    last_agent_message: str | None = None
    diff_changes: dict[str, Any] = msgspec.field(default_factory=dict)
    first_token_ms: int | None = None
    started_ms: int = msgspec.field(default_factory=now_ms)
    #: ``responsesapiClientMetadata`` of turn/start, forwarded in ``client_metadata``
    client_metadata: dict[str, str] = msgspec.field(default_factory=dict)


def turn_wire(turn: ActiveTurn | None, *, turn_id: str, status: str, started_at: int | None,
              error: dict[str, Any] | None = None, completed_at: int | None = None,
              duration_ms: int | None = None, items: list[dict[str, Any]] | None = None
              ) -> dict[str, Any]:
    items = items or []
    return {
        "id": turn_id,
        "rootTurnId": turn_id,
        "items": items,
        "itemsView": "summary" if items else "notLoaded",
        "status": status,
        "error": error,
        "startedAt": started_at,
        "completedAt": completed_at,
        "durationMs": duration_ms,
    }


def user_input_to_content(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses API content parts for the user's input items."""
    content: list[dict[str, Any]] = []
    for item in inputs:
        kind = item.get("type")
        if kind == "text":
            content.append({"type": "input_text", "text": item.get("text", "")})
        elif kind == "image" and item.get("url"):
            content.append({"type": "input_image", "image_url": item["url"]})
        elif kind == "localImage" and item.get("path"):
            content.append({"type": "input_image", "image_url": _data_url(item["path"])})
        elif kind == "mention":  # ``skill`` inputs travel as their own messages
            content.append({"type": "input_text",
                            "text": f"[{kind} {item.get('name')}: {item.get('path')}]"})
    return content


def _data_url(path: str) -> str:
    import base64
    import mimetypes

    mime = mimetypes.guess_type(path)[0] or "image/png"
    try:
        with open(path, "rb") as fh:
            data = base64.b64encode(fh.read()).decode()
    except OSError:
        return f"data:{mime};base64,"
    return f"data:{mime};base64,{data}"


def wire_user_inputs(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UserInput as echoed in ``userMessage`` items (text gets ``text_elements``)."""
    out = []
    for item in inputs:
        if item.get("type") == "text":
            out.append({"type": "text", "text": item.get("text", ""),
                        "text_elements": item.get("text_elements") or []})
        else:
            out.append(item)
    return out


def _message(role: str, text: str) -> dict[str, Any]:
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def message_text(item: dict[str, Any]) -> str:
    parts = item.get("content") or []
    return "".join(
        p.get("text", "") for p in parts
        if isinstance(p, dict) and p.get("type") in ("output_text", "input_text", "text")
    )


def agent_message_wire(item_id: str, text: str, started_ms: int | None,
                       completed_ms: int | None) -> dict[str, Any]:
    """An ``agentMessage`` ThreadItem with every field the reference sends."""
    return {"type": "agentMessage", "moderation": None, "id": item_id, "text": text,
            "phase": None, "memoryCitation": None, "delivery": None, "questions": None,
            "startedAtMs": started_ms, "completedAtMs": completed_ms}


def full_turn_error(error: dict[str, Any]) -> dict[str, Any]:
    """A ``TurnError`` with the optional fields the reference always sends set to null."""
    return {**error, "additionalDetails": error.get("additionalDetails"),
            "misalignment": error.get("misalignment")}


#: ``RateLimitSnapshot`` fields the reference always sends (null when unknown).
_CALL_OUTPUT = {"function_call": "function_call_output",
                "local_shell_call": "function_call_output",
                "custom_tool_call": "custom_tool_call_output"}


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


def _approx_tokens(text: str) -> int:
    return (len(text.encode()) + 3) // 4


class Session:
    """Engine state of one loaded thread."""

    def __init__(
        self,
        host: TurnHost,
        settings: TurnSettings,
        *,
        history: list[dict[str, Any]] | None = None,
        tokens: TokenLedger | None = None,
        router: ToolRouter | None = None,
    ) -> None:
        self.host = host
        self.settings = settings
        self.history: list[dict[str, Any]] = list(history or [])
        self.context_recorded = bool(self.history)
        self.tokens = tokens or TokenLedger()
        self.router = router or ToolRouter()
        self.turn: ActiveTurn | None = None
        self.approved_for_session: set[str] = set()
        self.state: dict[str, Any] = {}  # per-thread tool state (exec sessions...)
        #: context windows started by compaction (``x-codex-window-id`` is ``<thread>:<n>``)
        self.window_number = 0
        self._lock = asyncio.Lock()

    # -- public API ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.turn is not None and not self.turn.done.is_set()

    def start_turn(self, inputs: list[dict[str, Any]], *, kind: str = "regular",
                   output_schema: Any = None,
                   client_metadata: dict[str, str] | None = None) -> dict[str, Any]:
        """Start a turn now; returns the ``Turn`` wire object for the ``turn/start`` answer.

        ``client_metadata`` is added to the ``client_metadata`` of the turn's model requests.
        """
        turn = ActiveTurn(id=uuid7(), kind=kind, client_metadata=dict(client_metadata or {}))
        self.turn = turn
        turn.task = asyncio.get_running_loop().create_task(
            self._run_turn(turn, inputs, output_schema), name=f"turn-{turn.id}"
        )
        return turn_wire(None, turn_id=turn.id, status="inProgress", started_at=None)

    def steer(self, inputs: list[dict[str, Any]], expected_turn_id: str | None) -> str:
        turn = self.turn
        if turn is None or turn.done.is_set():
            raise TurnNotActive("no active turn to steer", {"reason": "noActiveTurn"})
        if expected_turn_id is not None and expected_turn_id != turn.id:
            raise TurnNotActive(
                f"expected active turn id `{expected_turn_id}` but found `{turn.id}`",
                {"reason": "expectedTurnMismatch", "expectedTurnId": expected_turn_id,
                 "activeTurnId": turn.id})
        if turn.kind != "regular":
            message = f"cannot steer a {turn.kind} turn"
            raise TurnNotActive(message, {
                "message": message,
                "codexErrorInfo": {"activeTurnNotSteerable": {"turnKind": turn.kind}},
                "additionalDetails": None})
        turn.pending_input.append(inputs)
        return turn.id

    async def interrupt(self) -> None:
        """Abort the running turn; returns right before its ``turn/completed`` is sent."""
        turn = self.turn
        if turn is None or turn.done.is_set() or turn.task is None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turn.interrupt_waiters.append(waiter)
        turn.task.cancel()
        await waiter

    async def shutdown(self) -> None:
        turn = self.turn
        if turn is not None and turn.task is not None and not turn.done.is_set():
            turn.task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(turn.done.wait(), 5)
        await self.router.close(self)

    # -- the turn ------------------------------------------------------------------------
    async def _run_turn(self, turn: ActiveTurn, inputs: list[dict[str, Any]],
                        output_schema: Any) -> None:
        status = "completed"
        error: dict[str, Any] | None = None
        host = self.host
        try:
            await host.turn_started(turn.id)
            await host.emit("turn/started", {
                "threadId": host.thread_id,
                "turn": turn_wire(turn, turn_id=turn.id, status="inProgress",
                                  started_at=turn.started_at),
            })
            await host.persist([events.task_started(
                turn.id, turn.started_at, self._model_info().effective_context_window)])
            if turn.kind == "compact":
                await self._compact(turn)
            else:
                hooks = await turn_points.turn_start(self, turn, inputs)  # hooks
                await self._record_initial_context(turn)
                await self._record_turn_context(turn)
                if not hooks.blocked:  # hooks: a refused prompt ends the turn here
                    await self._record_user_input(turn, inputs)
                    await self._record_items(await asyncio.to_thread(  # skills
                        skill_context.invoked_skill_items, self.host.codex_home,
                        self.settings.cwd, inputs))
                    await turn_points.record_contexts(self, hooks.contexts)  # hooks
                    await self._sampling_loop(turn, output_schema)
                    await self._stop_hooks(turn, output_schema)  # hooks
        except asyncio.CancelledError:
            status = "interrupted"
            with contextlib.suppress(Exception):
                await self._record_abort(turn)
            with contextlib.suppress(Exception):
                await turn_points.interrupted(self, turn)  # hooks
        except ModelError as exc:
            status = "failed"
            error = full_turn_error(exc.to_turn_error())
        except Exception as exc:  # a bug or an unexpected failure: fail the turn, keep serving
            logger.exception("turn %s failed", turn.id)
            status = "failed"
            error = full_turn_error({"message": str(exc) or repr(exc),
                                     "codexErrorInfo": "other"})
        with contextlib.suppress(Exception):  # injected after the last request: keep them
            await self._record_injected(turn)
        await self._finish_turn(turn, status, error)

    async def _finish_turn(self, turn: ActiveTurn, status: str,
                           error: dict[str, Any] | None) -> None:
        host = self.host
        completed_at = int(time.time())
        duration_ms = int((time.perf_counter() - turn.started_perf) * 1000)
        try:
            if status == "failed" and error is not None:
                await host.turn_finished(failed=True)
                await host.emit("error", {"error": error, "willRetry": False,
                                          "threadId": host.thread_id, "turnId": turn.id})
            if status == "interrupted":
                line = events.turn_aborted(turn.id, completed_at=completed_at,
                                           duration_ms=duration_ms)
            else:
                line = events.task_complete(
                    turn.id, started_at=turn.started_at, completed_at=completed_at,
                    duration_ms=duration_ms, last_agent_message=turn.last_agent_message,
                    error=None if error is None else msgspec.convert(error, TurnError))
            await host.persist([line])
        except Exception:
            logger.exception("could not record the end of turn %s", turn.id)
        finally:
            for waiter in turn.interrupt_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            await asyncio.sleep(0)  # let the interrupt answer go out first
            if status != "failed" or error is None:
                await host.turn_finished(failed=False)
            turn.done.set()
            await host.emit("turn/completed", {
                "threadId": host.thread_id,
                "turn": turn_wire(turn, turn_id=turn.id, status=status,
                                  started_at=turn.started_at, error=error,
                                  completed_at=completed_at, duration_ms=duration_ms,
                                  items=turn.items),
            })

    async def _stop_hooks(self, turn: ActiveTurn, output_schema: Any) -> None:
        """``Stop`` hooks; a hook that blocks the stop sends its reason to the model and the
        turn goes on (a few times at most)."""
        attempt = 0
        while await turn_points.stop(self, turn, attempt):
            await self._sampling_loop(turn, output_schema)
            attempt += 1

    async def _record_abort(self, turn: ActiveTurn) -> None:
        message = _message("user", TURN_ABORTED_MESSAGE)
        self.history.append(message)
        await self.host.persist([("response_item", message)])

    # -- context -------------------------------------------------------------------------
    def _model_info(self) -> Any:
        from pycodex.core.models_catalog import lookup_model

        info, _warning = lookup_model(self.settings.model)
        return info

    def _writable_roots(self) -> list[str]:
        policy = self.settings.sandbox_policy
        roots = [str(self.settings.cwd)]
        roots += [r for r in policy.get("writableRoots") or [] if isinstance(r, str)]
        return roots

    async def _record_initial_context(self, turn: ActiveTurn) -> None:
        if self.context_recorded:
            return
        self.context_recorded = True
        s = self.settings
        developer_parts = [instructions.permissions_text(
            s.sandbox_policy, s.approval_policy, self._writable_roots())]
        skills = await asyncio.to_thread(  # skills
            skill_context.skills_text, self.host.codex_home, s.cwd)
        if skills:
            developer_parts.insert(0, skills)
        if s.developer_instructions:
            developer_parts.append(s.developer_instructions)
        items = [{"type": "message", "role": "developer",
                  "content": [{"type": "input_text", "text": t} for t in developer_parts]}]
        docs = instructions.discover_agents_md(self.host.codex_home, s.cwd, s.config)
        if docs.text:
            items.append(_message("user", instructions.agents_md_message(s.cwd, docs.text)))
        shell = _user_shell()
        items.append(_message("user", instructions.environment_context(
            s.cwd, shell, s.sandbox_policy, self._writable_roots())))
        self.history.extend(items)
        await self.host.persist([("response_item", item) for item in items])

    async def _record_turn_context(self, turn: ActiveTurn) -> None:
        s = self.settings
        await self.host.persist([("turn_context", {
            "turn_id": turn.id, "cwd": str(s.cwd), "approval_policy": s.approval_policy,
            "sandbox_policy": s.sandbox_policy, "model": s.model, "effort": s.effort,
            "summary": s.summary or "auto", "approvals_reviewer": s.approvals_reviewer,
            "model_provider": s.provider_id,
        })])

    async def _record_user_input(self, turn: ActiveTurn, inputs: list[dict[str, Any]]) -> None:
        host = self.host
        item_id = uuid7()
        started = now_ms()
        wire_content = wire_user_inputs(inputs)
        item = {"type": "userMessage", "id": item_id, "clientId": None,
                "content": wire_content, "startedAtMs": started, "completedAtMs": None}
        await host.emit("item/started", {"item": item, "threadId": host.thread_id,
                                         "turnId": turn.id, "startedAtMs": started})
        message = {"type": "message", "role": "user", "content": user_input_to_content(inputs)}
        self.history.append(message)
        done = {**item, "completedAtMs": started}
        await host.persist([events.response_item(message),
                            *self.item_lines(turn.id, done, started, started)])
        await host.emit("item/completed", {"item": done, "threadId": host.thread_id,
                                           "turnId": turn.id, "contentTokenCount": None,
                                           "completedAtMs": started})

    # -- sampling ------------------------------------------------------------------------
    async def _sampling_loop(self, turn: ActiveTurn, output_schema: Any) -> None:
        first = True
        while True:
            if not first:
                await self._record_injected(turn)
                while turn.pending_input:
                    await self._record_user_input(turn, turn.pending_input.pop(0))
            first = False
            needs_follow_up = await self._sample(turn, output_schema)
            if needs_follow_up and self._over_compact_limit():
                await self._compact(turn, mid_turn=True)
            if not needs_follow_up and not turn.pending_input and not turn.pending_items:
                return

    async def inject(self, items: list[dict[str, Any]]) -> None:
        """Append raw Responses items to the model-visible history (``thread/inject_items``).
        A running turn takes them before its next model request (and makes one more);
        otherwise they are recorded at once."""
        turn = self.turn
        if turn is not None and not turn.done.is_set() and turn.kind == "regular":
            turn.pending_items.extend(items)
            return
        await self._record_items(items)

    async def _record_injected(self, turn: ActiveTurn) -> None:
        if turn.pending_items:
            items, turn.pending_items = turn.pending_items, []
            await self._record_items(items)

    async def _record_items(self, items: list[dict[str, Any]]) -> None:
        """Injected items into the model history and the rollout."""
        self.history.extend(items)
        await self.host.persist([events.response_item(item) for item in items])

    def _over_compact_limit(self) -> bool:
        limit = self._model_info().auto_compact_limit
        configured = self.settings.config.get("model_auto_compact_token_limit")
        if isinstance(configured, int):
            limit = configured if limit is None else min(limit, configured)
        return limit is not None and self.tokens.last.total_tokens >= limit

    def build_request(self, turn: ActiveTurn, output_schema: Any = None, *,
                      tools: bool = True, extra: list[dict[str, Any]] | None = None
                      ) -> dict[str, Any]:
        s = self.settings
        info = self._model_info()
        base = s.base_instructions or _configured_instructions(s.config) or \
            instructions.BASE_INSTRUCTIONS
        request: dict[str, Any] = {
            "model": s.model,
            "input": [_message("developer", base),
                      *normalize_history([*self.history, *(extra or [])])],
            "tool_choice": "auto",
            "parallel_tool_calls": bool(info.supports_parallel_tool_calls),
            "store": False,
            "stream": True,
            "prompt_cache_key": self.host.thread_id,
        }
        specs = self.router.specs(self, info) if tools else []
        request["tools"] = specs
        reasoning: dict[str, Any] = {}
        effort = s.effort or info.default_reasoning_effort
        if effort and effort != "none" and info.supported_reasoning_efforts:
            reasoning["effort"] = effort
        summary = s.summary
        if summary is None and info.supports_reasoning_summaries:
            summary = None
        if summary and summary != "none" and (info.supports_reasoning_summaries
                                              or info.is_fallback):
            reasoning["summary"] = summary
        elif info.is_fallback and not reasoning:
            reasoning["summary"] = "auto"
        if reasoning:
            request["reasoning"] = reasoning
            request["include"] = ["reasoning.encrypted_content"]
        else:
            request["include"] = []
        text: dict[str, Any] = {}
        verbosity = s.config.get("model_verbosity") or info.default_verbosity
        if info.support_verbosity and verbosity:
            text["verbosity"] = verbosity
        if output_schema is not None:
            text["format"] = {"type": "json_schema", "name": "codex_output_schema",
                              "strict": True, "schema": output_schema}
        if text:
            request["text"] = text
        if s.service_tier:
            request["service_tier"] = s.service_tier
        request["client_metadata"] = self._client_metadata(turn, reasoning.get("effort"))
        return request

    def _window_id(self) -> str:
        return f"{self.host.thread_id}:{self.window_number}"

    def _turn_metadata(self, turn: ActiveTurn, effort: str | None) -> str:
        """The ``x-codex-turn-metadata`` JSON: which thread, turn and context window a
        request belongs to, and under which sandbox and model it runs."""
        tid = self.host.thread_id
        meta: dict[str, Any] = {}
        installation = _installation_id(self.host.codex_home)
        if installation:
            meta["installation_id"] = installation
        meta.update({
            "session_id": tid, "thread_id": tid, "turn_id": turn.id,
            "window_id": self._window_id(), "window_number": self.window_number,
            "request_kind": "turn", "root_turn_id": turn.id,
            "sandbox_mode": _sandbox_mode(self.settings.sandbox_policy),
            "turn_started_at_unix_ms": turn.started_ms, "model": self.settings.model,
        })
        if effort:
            meta["reasoning_effort"] = effort
        return json.dumps(meta, separators=(",", ":"))

    def _client_metadata(self, turn: ActiveTurn, effort: str | None) -> dict[str, str]:
        tid = self.host.thread_id
        meta = {"session_id": tid, "thread_id": tid, "turn_id": turn.id,
                "root_turn_id": turn.id, "x-codex-window-id": self._window_id(),
                "x-codex-turn-metadata": self._turn_metadata(turn, effort)}
        installation = _installation_id(self.host.codex_home)
        if installation:
            meta["x-codex-installation-id"] = installation
        return {**turn.client_metadata, **meta}

    def _headers(self, turn: ActiveTurn, request: dict[str, Any] | None = None
                 ) -> dict[str, str]:
        tid = self.host.thread_id
        headers = {
            "originator": self.host.originator,
            "user-agent": self.host.user_agent,
            "session-id": tid,
            "thread-id": tid,
            "x-client-request-id": tid,
            "x-codex-window-id": self._window_id(),
        }
        metadata = (request or {}).get("client_metadata") or {}
        if "x-codex-turn-metadata" in metadata:
            headers["x-codex-turn-metadata"] = metadata["x-codex-turn-metadata"]
        return headers

    def _client(self) -> Any:
        from pycodex.core.model_client import ModelClient
        from pycodex.core.providers import ProviderError, resolve_provider

        try:
            provider = resolve_provider(self.settings.config, self.settings.provider_id)
        except ProviderError as exc:
            raise ModelError(str(exc), "other", kind="config") from None
        return ModelClient(provider, self.host.token_source(self.settings.provider_id))

    async def _sample(self, turn: ActiveTurn, output_schema: Any, *, tools: bool = True,
                      extra: list[dict[str, Any]] | None = None) -> bool:
        """One sampling request (with its retries); True when the model wants more."""
        host = self.host
        client = self._client()
        request = self.build_request(turn, output_schema, tools=tools, extra=extra)
        outputs: list[dict[str, Any]] = []
        calls: list[ToolCall] = []
        live: dict[str, dict[str, Any]] = {}
        rate_limits: list[dict[str, Any]] = []
        completed: Completed | None = None
        try:
            async with contextlib.aclosing(client.stream(request, self._headers(turn, request))
                                           ) as stream:
                completed = await self._consume(turn, stream, live, outputs, calls,
                                                rate_limits)
        except ModelError:
            # the reference reports the answer's rate-limit headers even when the stream
            # then fails, before the error itself
            for snapshot in rate_limits:
                await host.emit("account/rateLimits/updated",
                                {"rateLimits": snapshot})
            raise
        self.history.extend(outputs)
        if completed is not None and completed.usage is not None:
            self.tokens.context_window = self._model_info().effective_context_window
            self.tokens.record(completed.usage)
            await host.emit("thread/tokenUsage/updated", {
                "threadId": host.thread_id, "turnId": turn.id,
                "tokenUsage": self.tokens.to_wire()})
            await host.persist([events.token_count(self.tokens.to_rollout())])
        for snapshot in rate_limits:
            await host.emit("account/rateLimits/updated",
                            {"rateLimits": snapshot})
        for call in calls:
            ctx = ToolContext(self, turn)
            output = await self.router.dispatch(call, ctx)
            self.history.append(output)
            await host.persist([("response_item", output)])
        return bool(calls) or (completed is not None and completed.end_turn is False)

    async def _consume(self, turn: ActiveTurn, stream: Any, live: dict[str, dict[str, Any]],
                       outputs: list[dict[str, Any]], calls: list[ToolCall],
                       rate_limits: list[dict[str, Any]]) -> Completed | None:
        """Turn the model's stream into item notifications; returns its completion."""
        host = self.host
        completed: Completed | None = None
        async for event in stream:
            if isinstance(event, OutputTextDelta):
                if turn.first_token_ms is None:
                    turn.first_token_ms = int((time.perf_counter() - turn.started_perf)
                                              * 1000)
                state = live.get(event.item_id or "") or self._ensure_message(live, event)
                state["deltas"].append(event.delta)  # not str +=: that copies (quadratic)
                await host.emit("item/agentMessage/delta", {
                    "threadId": host.thread_id, "turnId": turn.id,
                    "itemId": state["id"], "delta": event.delta})
            elif isinstance(event, OutputItemAdded):
                await self._item_added(turn, live, event.item)
            elif isinstance(event, ReasoningSummaryTextDelta):
                found = live.get(event.item_id or "")
                if found is not None:
                    await host.emit("item/reasoning/summaryTextDelta", {
                        "threadId": host.thread_id, "turnId": turn.id,
                        "itemId": found["id"], "delta": event.delta,
                        "summaryIndex": event.summary_index})
            elif isinstance(event, ReasoningSummaryPartAdded):
                found = live.get(event.item_id or "")
                if found is not None:
                    await host.emit("item/reasoning/summaryPartAdded", {
                        "threadId": host.thread_id, "turnId": turn.id,
                        "itemId": found["id"], "summaryIndex": event.summary_index})
            elif isinstance(event, ReasoningTextDelta):
                found = live.get(event.item_id or "")
                if found is not None:
                    await host.emit("item/reasoning/textDelta", {
                        "threadId": host.thread_id, "turnId": turn.id,
                        "itemId": found["id"], "delta": event.delta,
                        "contentIndex": event.content_index})
            elif isinstance(event, OutputItemDone):
                call = await self._item_done(turn, live, event.item, outputs)
                if call is not None:
                    calls.append(call)
            elif isinstance(event, RateLimits):
                rate_limits.append(event.snapshot)
            elif isinstance(event, Completed):
                completed = event
            elif isinstance(event, StreamRetry):
                outputs.clear()
                calls.clear()
                live.clear()
                await host.emit("error", {"error": full_turn_error(event.to_turn_error()),
                                          "willRetry": True, "threadId": host.thread_id,
                                          "turnId": turn.id})
        return completed

    @staticmethod
    def _ensure_message(live: dict[str, dict[str, Any]], event: OutputTextDelta
                        ) -> dict[str, Any]:
        key = event.item_id or "msg"
        state = {"id": key, "kind": "message", "deltas": [], "started": now_ms()}
        live[key] = state
        return state

    async def _item_added(self, turn: ActiveTurn, live: dict[str, dict[str, Any]],
                          item: dict[str, Any]) -> None:
        host = self.host
        kind = item.get("type")
        item_id = item.get("id") or uuid7()
        started = now_ms()
        if kind == "message" and item.get("role", "assistant") == "assistant":
            live[item_id] = {"id": item_id, "kind": "message", "deltas": [], "started": started}
            wire = agent_message_wire(item_id, "", started, None)
        elif kind == "reasoning":
            live[item_id] = {"id": item_id, "kind": "reasoning", "started": started}
            wire = {"type": "reasoning", "id": item_id, "summary": [], "content": []}
        else:
            return
        await host.emit("item/started", {"item": wire, "threadId": host.thread_id,
                                         "turnId": turn.id, "startedAtMs": started})

    async def _item_done(self, turn: ActiveTurn, live: dict[str, dict[str, Any]],
                         item: dict[str, Any], outputs: list[dict[str, Any]]
                         ) -> ToolCall | None:
        host = self.host
        kind = item.get("type")
        item_id = item.get("id") or uuid7()
        now = now_ms()
        if kind == "message":
            text = message_text(item)
            state = live.pop(item_id, None)
            if state is None:  # no output_item.added seen: start it now
                await self._item_added(turn, live, {**item, "id": item_id})
                state = live.pop(item_id, {"started": now})
            wire = agent_message_wire(item_id, text, state["started"], now)
            turn.items.append(wire)
            if text:
                turn.last_agent_message = text
            outputs.append(item)
            await host.persist([*self.item_lines(turn.id, wire, state["started"], now),
                                events.response_item(item)])
            await host.emit("item/completed", {"item": wire, "threadId": host.thread_id,
                                               "turnId": turn.id, "contentTokenCount": None,
                                               "completedAtMs": now})
            return None
        if kind == "reasoning":
            state = live.pop(item_id, None)
            summary = [p.get("text", "") for p in item.get("summary") or []
                       if isinstance(p, dict)]
            content = [p.get("text", "") for p in item.get("content") or []
                       if isinstance(p, dict)]
            outputs.append(item)
            recorded = ReasoningItem(id=item_id, summary=summary, content=content)
            await host.persist([*events.reasoning(recorded), ("response_item", item)])
            if state is not None or summary or content:
                if state is None:
                    await host.emit("item/started", {
                        "item": {"type": "reasoning", "id": item_id, "summary": [],
                                 "content": []},
                        "threadId": host.thread_id, "turnId": turn.id, "startedAtMs": now})
                wire = {"type": "reasoning", "id": item_id, "summary": summary,
                        "content": content}
                await host.emit("item/completed", {"item": wire, "threadId": host.thread_id,
                                                   "turnId": turn.id,
                                                   "contentTokenCount": None,
                                                   "completedAtMs": now})
            return None
        if kind in ("function_call", "custom_tool_call", "local_shell_call"):
            outputs.append(item)
            await host.persist([("response_item", item)])
            return ToolCall.from_item(item)
        if kind == "web_search_call":
            outputs.append(item)
            await host.persist([("response_item", item)])
            action = item.get("action") or {}
            query = action.get("query") or ""
            wire = {"type": "webSearch", "id": item_id, "query": query, "action": None}
            await host.emit("item/started", {"item": wire, "threadId": host.thread_id,
                                             "turnId": turn.id, "startedAtMs": now})
            await host.emit("item/completed", {"item": wire, "threadId": host.thread_id,
                                               "turnId": turn.id, "contentTokenCount": None,
                                               "completedAtMs": now})
            return None
        outputs.append(item)
        return None

    def item_lines(self, turn_id: str, item: dict[str, Any], started_ms: int | None,
                   completed_ms: int | None) -> list[tuple[str, dict[str, Any]]]:
        """Rollout lines recording a finished item (none for kinds not persisted)."""
        try:
            typed = msgspec.convert(item, ThreadItem)
        except msgspec.ValidationError:
            logger.warning("cannot persist item of type %s", item.get("type"))
            return []
        line = events.item_completed(self.host.thread_id, turn_id, typed,
                                     started_at_ms=started_ms, completed_at_ms=completed_ms)
        return [] if line is None else [line]

    # -- compaction ----------------------------------------------------------------------
    async def _compact(self, turn: ActiveTurn, *, mid_turn: bool = False) -> None:
        host = self.host
        await turn_points.compact(self, turn, "PreCompact", auto=mid_turn)  # hooks
        item_id = uuid7()
        started = now_ms()
        wire = {"type": "contextCompaction", "id": item_id}
        await host.emit("item/started", {"item": wire, "threadId": host.thread_id,
                                         "turnId": turn.id, "startedAtMs": started})
        prompt = _message("user", self.settings.config.get("compact_prompt") or COMPACT_PROMPT)
        before = len(self.history)
        saved_items = list(turn.items)
        await self._sample(turn, None, tools=False, extra=[prompt])
        produced = self.history[before:]
        del self.history[before:]
        turn.items[:] = saved_items
        summary = ""
        for item in reversed(produced):
            if item.get("type") == "message" and item.get("role") == "assistant":
                summary = message_text(item)
                break
        replacement = self._compacted_history(summary or "(no summary available)")
        self.history[:] = replacement
        self.window_number += 1
        await host.persist([events.compacted(summary, replacement)])
        done = now_ms()
        await host.emit("item/completed", {"item": wire, "threadId": host.thread_id,
                                           "turnId": turn.id, "contentTokenCount": None,
                                           "completedAtMs": done})
        await turn_points.compact(self, turn, "PostCompact", auto=mid_turn)  # hooks

    def _compacted_history(self, summary: str) -> list[dict[str, Any]]:
        initial: list[dict[str, Any]] = []
        users: list[dict[str, Any]] = []
        for item in self.history:
            if item.get("type") != "message":
                continue
            text = message_text(item)
            if item.get("role") == "developer" or text.startswith(
                ("<environment_context>", "# AGENTS.md instructions")
            ):
                if len(initial) < 4:
                    initial.append(item)
            elif item.get("role") == "user" and not text.startswith(
                ("<turn_aborted>", SUMMARY_PREFIX)
            ):
                users.append(item)
        kept: list[dict[str, Any]] = []
        budget = KEEP_USER_TOKENS
        for item in reversed(users):
            cost = _approx_tokens(message_text(item))
            if cost > budget:
                break
            kept.insert(0, item)
            budget -= cost
        return [*initial, *kept, _message("user", SUMMARY_PREFIX + summary)]


def _configured_instructions(config: dict[str, Any]) -> str | None:
    text = config.get("instructions")
    if isinstance(text, str) and text.strip():
        return text
    path = config.get("model_instructions_file") or config.get("experimental_instructions_file")
    if isinstance(path, str):
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            logger.warning("cannot read model_instructions_file %s", path)
    return None


def _installation_id(codex_home: Any) -> str | None:
    """The id in ``$CODEX_HOME/installation_id`` when present (never created here)."""
    import os

    try:
        with open(os.path.join(str(codex_home), "installation_id"), encoding="utf-8") as fh:
            value = fh.read().strip()
    except OSError:
        return None
    return value or None


def _sandbox_mode(policy: dict[str, Any]) -> str:
    kind = policy.get("type")
    return {"dangerFullAccess": "danger-full-access", "readOnly": "read-only",
            "workspaceWrite": "workspace-write"}.get(str(kind), str(kind or "unknown"))


def _user_shell() -> str:
    import os

    return os.path.basename(os.environ.get("SHELL") or "bash") or "bash"
