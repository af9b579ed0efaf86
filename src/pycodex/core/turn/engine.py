"""The turn engine of one loaded thread: the running turn's life (start, steer, interrupt,
inject, end) and its sampling loop.

A :class:`ThreadEngine` lives as long as its thread is loaded. ``start_turn`` spawns the
turn as a task; the turn samples the model, runs the tools it asks for, feeds their output
back and loops until the model answers without tool calls. Everything the client sees goes
through the :class:`~pycodex.core.host.TurnHost` as typed notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import msgspec

from pycodex.core import item_events, review
from pycodex.core.errors import TurnNotActive
from pycodex.core.goals import continues
from pycodex.core.hooks import turn_points
from pycodex.core.host import TurnHost, TurnSettings
from pycodex.core.ids import now_ms, uuid7
from pycodex.core.model_events import ModelError
from pycodex.core.read_state import ReadState
from pycodex.core.skills import turn_context as skill_context
from pycodex.core.token_usage import TokenLedger
from pycodex.core.tool_router import ToolRouter
from pycodex.core.tools.context import ThreadToolState, ToolContext
from pycodex.core.turn import compaction
from pycodex.core.turn.active import ActiveTurn, full_turn_error, turn_snapshot
from pycodex.core.turn.context import (
    initial_context,
    settings_update,
    told_settings,
    turn_context_line,
)
from pycodex.core.turn.history import History, ResponseItem, message, message_text
from pycodex.core.turn.inputs import user_input_to_content, wire_user_inputs
from pycodex.core.turn.request import RequestBuilder
from pycodex.core.turn.stream import StreamConsumer
from pycodex.core.turn.user_shell import run_user_shell
from pycodex.protocol.types.account import (
    AccountRateLimitsUpdatedNotification,
    RateLimitSnapshot,
)
from pycodex.protocol.types.items import (
    AgentMessageItem,
    ContextCompactionItem,
    EnteredReviewModeItem,
    ExitedReviewModeItem,
    TextUserInput,
    ThreadItem,
    Turn,
    TurnError,
    TurnStatus,
    UserInput,
    UserMessageItem,
)
from pycodex.protocol.types.thread_controls import ThreadReadStateChangedNotification
from pycodex.protocol.types.turns import (
    ErrorNotification,
    TokenUsageUpdatedNotification,
    TurnCompletedNotification,
    TurnDiffUpdatedNotification,
    TurnStartedNotification,
)
from pycodex.store import events, goals

logger = logging.getLogger(__name__)

TURN_ABORTED_MESSAGE = (
    "<turn_aborted>\nThe user interrupted the previous turn on purpose. Any processes it "
    "started may still be running. Tools that were aborted may have partially run.\n"
    "</turn_aborted>"
)


class ThreadEngine:
    """Engine state of one loaded thread."""

    def __init__(
        self,
        host: TurnHost,
        settings: TurnSettings,
        *,
        history: list[ResponseItem] | None = None,
        tokens: TokenLedger | None = None,
        router: ToolRouter | None = None,
        read_state: ReadState | None = None,
    ) -> None:
        self.host = host
        self.settings = settings
        self.history = History(history)
        self.context_recorded = bool(self.history)
        #: the settings the model was last told of (a thread from its rollout: those it
        #: ran its last turn with)
        self.told = told_settings(settings)
        self.tokens = tokens or TokenLedger()
        self.router = router or ToolRouter()
        self.requests = RequestBuilder(host)
        self.turn: ActiveTurn | None = None
        self.tool_state = ThreadToolState()
        self._background: set[asyncio.Task[None]] = set()
        self.read_state = read_state or ReadState()
        #: the user's turn the goal turns that follow continue (their ``rootTurnId``); None
        #: after a turn the goal started itself
        self.user_root: str | None = None

    # -- public API ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.turn is not None and not self.turn.done.is_set()

    def start_turn(self, inputs: list[dict[str, Any]], *, kind: str = "regular",
                   output_schema: Any = None,
                   client_metadata: dict[str, str] | None = None,
                   client_id: str | None = None,
                   hidden: list[ResponseItem] | None = None,
                   root_id: str | None = None) -> Turn:
        """Start a turn now; returns the ``Turn`` for the ``turn/start`` answer.

        ``client_metadata`` is added to the ``client_metadata`` of the turn's model requests;
        ``client_id`` is echoed in the user message item. A turn on ``hidden`` input (a
        goal's prompt) shows no user message; ``root_id`` is the turn it continues.
        """
        turn = ActiveTurn(id=uuid7(), kind=kind, client_metadata=dict(client_metadata or {}),
                          client_id=client_id, hidden_input=list(hidden or []),
                          root_id=root_id)
        self.turn = turn
        if kind == "regular":  # a goal's own turn roots nothing (as the reference)
            self.user_root = None if hidden else turn.id
        turn.task = asyncio.get_running_loop().create_task(
            self._run_turn(turn, inputs, output_schema), name=f"turn-{turn.id}"
        )
        return turn_snapshot(turn, started=False)

    def shell_command(self, command: str, timeout_ms: int | None) -> None:
        """Run the user's own shell command: on the running regular turn (its record
        reaches the model before the turn's next request), else as a turn of its own."""
        turn = self.turn
        loop = asyncio.get_running_loop()
        if turn is not None and not turn.items_closed and turn.kind in ("regular", "userShell"):
            task = loop.create_task(self._shell_in_turn(turn, command, timeout_ms),
                                    name=f"shell-{turn.id}")
            turn.shell_tasks.append(task)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        previous = turn if turn is not None and not turn.done.is_set() else None
        turn = ActiveTurn(id=uuid7(), kind="userShell", shell_command=(command, timeout_ms))
        self.turn = turn
        turn.task = loop.create_task(self._run_turn(turn, [], None, after=previous),
                                     name=f"turn-{turn.id}")

    def start_review(self, prompt: str, hint: str) -> Turn:
        """Start a review turn (``review/start``, inline delivery); returns the ``Turn`` of
        the answer: one user message, whose id is the turn's, holding the hint."""
        turn = ActiveTurn(id=uuid7(), kind="review", review=(prompt, hint))
        self.turn = turn
        turn.task = asyncio.get_running_loop().create_task(
            self._run_turn(turn, [], None), name=f"turn-{turn.id}")
        content: list[UserInput] = [TextUserInput(text=hint)] if hint else []
        return Turn(id=turn.id, root_turn_id=None,
                    items=[UserMessageItem(id=turn.id, content=content)],
                    items_view="notLoaded", status="inProgress")

    def running_turn(self) -> Turn | None:
        """The ``Turn`` of the running turn, if any."""
        return turn_snapshot(self.turn) if self.running and self.turn is not None else None

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
            text = f"cannot steer a {turn.kind} turn"
            raise TurnNotActive(text, {
                "message": text,
                "codexErrorInfo": {"activeTurnNotSteerable": {"turnKind": turn.kind}},
                "additionalDetails": None})
        turn.pending_input.append(inputs)
        if turn.stream is not None:  # as the reference: the answer so far is dropped and
            turn.stream.cancel()     # the model asked again with the steered input
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

    async def inject(self, items: list[ResponseItem]) -> None:
        """Append raw Responses items to the model-visible history (``thread/inject_items``).
        A running turn takes them before its next model request (and makes one more);
        otherwise they are recorded at once."""
        turn = self.turn
        if turn is not None and not turn.items_closed and turn.kind == "regular":
            turn.pending_items.extend(items)
            return
        await self._record_items(items)

    def replace_history(self, items: list[dict[str, Any]]) -> None:
        """The thread's history was rewritten (rollback, revert): the model sees ``items``
        from the next request on, as a restarted engine would."""
        self.history.replace(items)
        self.context_recorded = bool(self.history)

    async def shutdown(self) -> None:
        turn = self.turn
        if turn is not None and turn.task is not None and not turn.done.is_set():
            turn.task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(turn.done.wait(), 5)
        await self.router.close(self.tool_state)
        with contextlib.suppress(Exception):
            await turn_points.session_end(self)  # hooks

    # -- the turn ------------------------------------------------------------------------
    async def _run_turn(self, turn: ActiveTurn, inputs: list[dict[str, Any]],
                        output_schema: Any, *, after: ActiveTurn | None = None) -> None:
        """Run ``turn`` to its end (once the finishing turn ``after``, if any, is over)."""
        status: TurnStatus = "completed"
        error: TurnError | None = None
        host = self.host
        try:
            if after is not None:
                await after.done.wait()
            await host.turn_started(turn.id)
            await host.emit(TurnStartedNotification(thread_id=host.thread_id,
                                                    turn=turn_snapshot(turn)))
            await host.persist([events.task_started(
                turn.id, turn.started_at, self._model_info().effective_context_window)])
            if turn.kind == "compact":
                await self._compact(turn)
            elif turn.kind == "review" and turn.review is not None:
                await turn_points.review_prompt(self, turn, turn.review[0])  # hooks
                await self._review(turn, *turn.review)
            elif turn.kind == "userShell" and turn.shell_command is not None:
                record = await run_user_shell(host, self.settings, turn.id,
                                              *turn.shell_command)
                await self._record_items([record])
                while turn.shell_tasks:  # the commands that joined it end the turn with it
                    joined, turn.shell_tasks = turn.shell_tasks, []
                    await asyncio.gather(*joined, return_exceptions=True)
            else:
                hooks = await turn_points.turn_start(self, turn, inputs)  # hooks
                await self._record_initial_context()
                await self._record_settings_update()
                await host.persist([turn_context_line(self.settings, turn.id)])
                if not hooks.blocked:  # hooks: a refused prompt ends the turn here
                    await self._record_prompt(turn, inputs, hidden=turn.hidden_input)
                    await turn_points.record_contexts(self, hooks.contexts)  # hooks
                    await self._sampling_loop(turn, output_schema)
                    await self._stop_hooks(turn, output_schema)  # hooks
        except asyncio.CancelledError:
            status = "interrupted"
            with contextlib.suppress(Exception):
                await self._record_abort()
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
        with contextlib.suppress(Exception):  # hooks: those still running end with the turn
            await turn_points.settle(self)
        await self._finish_turn(turn, status, error)

    async def _finish_turn(self, turn: ActiveTurn, status: TurnStatus,
                           error: TurnError | None) -> None:
        host = self.host
        completed_at = int(time.time())
        duration_ms = int((time.perf_counter() - turn.started_perf) * 1000)
        try:
            if status == "failed" and error is not None:
                await host.turn_finished(failed=True)
                await host.emit(ErrorNotification(error=error, will_retry=False,
                                                  thread_id=host.thread_id, turn_id=turn.id))
            if status == "interrupted":
                line = events.turn_aborted(turn.id, completed_at=completed_at,
                                           duration_ms=duration_ms)
            else:
                line = events.task_complete(
                    turn.id, started_at=turn.started_at, completed_at=completed_at,
                    duration_ms=duration_ms, last_agent_message=turn.last_agent_message,
                    error=error)
            await host.persist([line])
        except Exception:
            logger.exception("could not record the end of turn %s", turn.id)
        finally:
            for waiter in turn.interrupt_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            await asyncio.sleep(0)  # let the interrupt answer go out first
            if turn.kind in ("regular", "review") and status != "failed" \
                    and not self._goal_follows(status):
                with contextlib.suppress(Exception):
                    await host.emit(ThreadReadStateChangedNotification(
                        thread_id=host.thread_id,
                        read_state=self.read_state.turn_finished(turn.id)))
            if status != "failed" or error is None:
                await host.turn_finished(failed=False)
            turn.done.set()
            await host.emit(TurnCompletedNotification(thread_id=host.thread_id, turn=turn_snapshot(
                turn, status=status, error=error, completed_at=completed_at,
                duration_ms=duration_ms, with_items=True)))

    def _goal_follows(self, status: TurnStatus) -> bool:
        """Another goal turn follows this one: as the reference, the thread is marked read
        only once its goal's chain of turns stops."""
        if not (self.host.codex_home / goals.FILE_NAME).exists():
            return False
        try:
            goal = self.host.goals().get(self.host.thread_id)
        except Exception:  # an unreadable goal store never holds up the turn's end
            return False
        return continues(goal, self.settings, status)

    async def _review(self, turn: ActiveTurn, prompt: str, hint: str) -> None:
        """The review: entered/exited review mode items around a model conversation on a
        fresh history; the rendered result joins the thread's history."""
        host = self.host
        await self._announce_finished(turn, EnteredReviewModeItem(
            id=uuid7(), review=hint, started_at_ms=now_ms(), completed_at_ms=None))
        await self._record_user_input(turn, [{"type": "text", "text": prompt}], record=False)
        saved = self.history
        self.history = History([message("developer", review.GUIDELINES),
                                *initial_context(self.settings, host.codex_home)[1:],
                                message("user", prompt)])
        try:
            while await self._sample(turn, None, announce=False):
                pass
            answer = next((message_text(item) for item in reversed(self.history.items)
                           if item.get("type") == "message"
                           and item.get("role") == "assistant"), "")
        finally:
            self.history = saved
        text = review.render_review(answer)
        await self._announce_finished(turn, ExitedReviewModeItem(
            id=uuid7(), review=text, started_at_ms=now_ms(), completed_at_ms=None))
        reply = await self._announce_finished(turn, AgentMessageItem(
            id=f"msg_{uuid7()}", text=text, started_at_ms=now_ms()))
        assert isinstance(reply, AgentMessageItem)
        turn.items.append(reply)
        turn.last_agent_message = text
        await self._record_items([message("user", f"Code review of {hint}."),
                                  message("assistant", text)])

    async def _announce_finished(self, turn: ActiveTurn, item: ThreadItem) -> ThreadItem:
        """``item/started`` then, recorded, ``item/completed`` of an item made at once;
        returns the completed item."""
        host = self.host
        started = item_events.stamp(item, "startedAtMs")
        await host.emit(item_events.started(host.thread_id, turn.id, item, started))
        done = msgspec.structs.replace(item, completed_at_ms=now_ms())
        completed = item_events.stamp(done, "completedAtMs")
        await host.persist(item_events.item_lines(host.thread_id, turn.id, done, started,
                                                  completed))
        await host.emit(item_events.completed(host.thread_id, turn.id, done))
        return done

    async def _shell_in_turn(self, turn: ActiveTurn, command: str,
                             timeout_ms: int | None) -> None:
        try:
            record = await run_user_shell(self.host, self.settings, turn.id, command,
                                          timeout_ms)
        except Exception:
            logger.exception("user shell command on turn %s failed", turn.id)
            return
        if turn.items_closed:  # the turn took its last items: straight to the history
            await self._record_items([record])
        else:
            turn.pending_items.append(record)
    async def _stop_hooks(self, turn: ActiveTurn, output_schema: Any) -> None:
        """``Stop`` hooks; a hook that blocks the stop sends its reason to the model and the
        turn goes on (a few times at most)."""
        attempt = 0
        while await turn_points.stop(self, turn, attempt):
            await self._sampling_loop(turn, output_schema)
            attempt += 1

    async def _record_abort(self) -> None:
        aborted = message("user", TURN_ABORTED_MESSAGE)
        self.history.append(aborted)
        await self.host.persist([("response_item", aborted)])

    # -- context -------------------------------------------------------------------------
    def _model_info(self) -> Any:
        from pycodex.core.models_catalog import lookup_model

        info, _warning = lookup_model(self.settings.model)
        return info

    async def _record_initial_context(self) -> None:
        if self.context_recorded:
            return
        self.context_recorded = True
        self.told = told_settings(self.settings)
        items = initial_context(self.settings, self.host.codex_home)
        skills = await asyncio.to_thread(  # skills: first part of the developer message
            skill_context.skills_text, self.host.codex_home, self.settings.cwd)
        if skills:
            items[0]["content"].insert(0, {"type": "input_text", "text": skills})
        self.history.extend(items)
        await self.host.persist([("response_item", item) for item in items])

    async def _record_settings_update(self) -> None:
        """Tell the model of permissions or a cwd changed since it was last told."""
        told = told_settings(self.settings)
        if told != self.told:
            items = settings_update(self.told, self.settings)
            self.told = told
            if items:
                await self._record_items(items)

    async def _record_user_input(self, turn: ActiveTurn, inputs: list[dict[str, Any]], *,
                                 record: bool = True) -> None:
        """The user message item; ``record=False`` shows it without adding it to the
        thread's model history (a review's request)."""
        host = self.host
        started = now_ms()
        item = UserMessageItem(id=uuid7(), client_id=turn.client_id,
                               content=msgspec.convert(wire_user_inputs(inputs), list[UserInput]),
                               started_at_ms=started)
        await host.emit(item_events.started(host.thread_id, turn.id, item, started))
        user = {"type": "message", "role": "user", "content": user_input_to_content(inputs)}
        done = msgspec.structs.replace(item, completed_at_ms=started)
        lines = item_events.item_lines(host.thread_id, turn.id, done, started, started)
        if record:
            self.history.append(user)
            lines.insert(0, events.response_item(user))
        await host.persist(lines)
        await host.emit(item_events.completed(host.thread_id, turn.id, done, started))

    # -- sampling ------------------------------------------------------------------------
    async def _sampling_loop(self, turn: ActiveTurn, output_schema: Any) -> None:
        first = True
        needs_follow_up = True
        while True:
            if not first:
                more = needs_follow_up or bool(turn.pending_items)
                await self._record_injected(turn)
                turn.client_id = None  # only the turn's own input echoes it
                while turn.pending_input:  # steered input: its hooks, then the prompt
                    inputs = turn.pending_input.pop(0)
                    hooks = await turn_points.prompt_submit(self, turn, inputs)  # hooks
                    if not hooks.blocked:
                        more = True
                        await self._record_prompt(turn, inputs)
                        await turn_points.record_contexts(self, hooks.contexts)  # hooks
                if not more:  # hooks: every steered input was refused, nothing else to do
                    return
            first = False
            needs_follow_up = await self._sample(turn, output_schema)
            if needs_follow_up and self._over_compact_limit():
                await self._compact(turn)
            if not needs_follow_up and not turn.pending_input and not turn.pending_items:
                return

    async def _record_prompt(self, turn: ActiveTurn, inputs: list[dict[str, Any]], *,
                             hidden: list[dict[str, Any]] | None = None) -> None:
        """The user's input (or ``hidden``: a goal turn's model-only prompt), then the
        ``SKILL.md`` of each skill it names."""
        if hidden:
            await self._record_items(hidden)
        else:
            await self._record_user_input(turn, inputs)
        await self._record_items(await asyncio.to_thread(  # skills
            skill_context.invoked_skill_items, self.host.codex_home, self.settings.cwd,
            inputs))

    async def _record_injected(self, turn: ActiveTurn) -> None:
        """Record what was injected after the turn's last request; from now on, what
        joins the turn is recorded directly."""
        turn.items_closed = True
        if turn.pending_items:
            items, turn.pending_items = turn.pending_items, []
            await self._record_items(items)

    async def _record_items(self, items: list[ResponseItem]) -> None:
        """Injected items into the model history and the rollout."""
        self.history.extend(items)
        await self.host.persist([events.response_item(item) for item in items])

    def _over_compact_limit(self) -> bool:
        limit = self._model_info().auto_compact_limit
        configured = self.settings.config.get("model_auto_compact_token_limit")
        if isinstance(configured, int):
            limit = configured if limit is None else min(limit, configured)
        return limit is not None and self.tokens.last.total_tokens >= limit

    def _client(self) -> Any:
        from pycodex.core.model_client import ModelClient
        from pycodex.core.providers import ProviderError, resolve_provider

        try:
            provider = resolve_provider(self.settings.config, self.settings.provider_id)
        except ProviderError as exc:
            raise ModelError(str(exc), "other", kind="config") from None
        return ModelClient(provider, self.host.token_source(self.settings.provider_id))

    async def _sample(self, turn: ActiveTurn, output_schema: Any, *, tools: bool = True,
                      announce: bool = True, extra: list[ResponseItem] | None = None) -> bool:
        """One sampling request (with its retries); True when the model wants more.
        ``announce=False`` keeps the answer's items from the client (compaction)."""
        host = self.host
        client = self._client()
        info = self._model_info()
        specs = self.router.specs(self.settings, info) if tools else []
        request = self.requests.build(turn, self.settings, self.history.for_request(extra),
                                      info, specs, output_schema)
        consumer = StreamConsumer(host, turn, model=str(request["model"]), announce=announce,
                                  plans=self.settings.collaboration_mode == "plan")
        request_id = await turn_points.model_request(self, turn)  # hooks
        try:
            async with contextlib.aclosing(client.stream_batches(
                    request, self.requests.headers(request))) as stream:
                streaming = asyncio.ensure_future(consumer.consume(stream))
                if announce:
                    turn.stream = streaming
                try:
                    result = await streaming
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if not streaming.cancelled() or (current and current.cancelling()):
                        raise
                    turn_points.model_response(self, turn, request_id, cancelled=True)  # hooks
                    await self._rate_limits(consumer.result.rate_limits)
                    return False  # steered: the loop goes on with the steered input
                finally:
                    turn.stream = None
        except ModelError as exc:
            turn_points.model_response(self, turn, request_id, error=exc)  # hooks
            # the reference reports the answer's rate-limit headers even when the stream
            # then fails, before the error itself
            await self._rate_limits(consumer.result.rate_limits)
            raise
        turn_points.model_response(self, turn, request_id, result=result)  # hooks
        self.history.extend(result.outputs)
        completed = result.completed
        if completed is not None and completed.usage is not None:
            self.tokens.context_window = info.effective_context_window
            self.tokens.record(completed.usage)
            await host.emit(TokenUsageUpdatedNotification(
                thread_id=host.thread_id, turn_id=turn.id, token_usage=self.tokens.to_wire()))
            await host.persist([events.token_count(self.tokens.to_rollout())])
        await self._rate_limits(result.rate_limits)
        await self._turn_diff(turn)
        for call in result.calls:
            ctx = ToolContext(host=host, turn_id=turn.id, settings=self.settings,
                              model_info=info, thread_state=self.tool_state,
                              turn_state=turn.tool_state)
            started = time.perf_counter()
            try:
                blocked = None
                if turn_points.hookable(call):  # hooks: may block or rewrite the call
                    call, blocked = await turn_points.pre_tool_use(self, turn, call)
                if blocked is not None:
                    output = self.router.output_item(call, blocked)
                else:
                    output = await self.router.dispatch(call, ctx)
                    if turn_points.hookable(call):  # hooks: may replace the output
                        replaced = await turn_points.post_tool_use(self, turn, call,
                                                                   output["output"])
                        if replaced is not None:
                            output = self.router.output_item(call, replaced)
            except asyncio.CancelledError:
                # Interrupted (or an approval was cancelled): the call still gets an output
                # so the history stays valid for the next request.
                aborted = self.router.aborted_output(call, time.perf_counter() - started)
                self.history.append(aborted)
                try:
                    await host.persist([("response_item", aborted)])
                except Exception:
                    logger.exception("could not record the aborted tool call")
                raise
            self.history.append(output)
            await host.persist([("response_item", output)])
        return bool(result.calls) or (completed is not None and completed.end_turn is False)

    async def _turn_diff(self, turn: ActiveTurn) -> None:
        """The turn's aggregated diff so far, re-sent after each model answer once the
        turn changed files (as the reference does)."""
        tracker = turn.tool_state.diff_tracker
        diff = tracker.unified_diff() if tracker is not None else None
        if diff is not None:
            await self.host.emit(TurnDiffUpdatedNotification(
                thread_id=self.host.thread_id, turn_id=turn.id, diff=diff))

    async def _rate_limits(self, snapshots: list[dict[str, Any]]) -> None:
        for snapshot in snapshots:
            await self.host.emit(AccountRateLimitsUpdatedNotification(
                rate_limits=msgspec.convert(snapshot, RateLimitSnapshot)))

    # -- compaction ----------------------------------------------------------------------
    async def _compact(self, turn: ActiveTurn) -> None:
        """Replace the history with a summary. As the reference, the summary request's
        own items are not announced; the ``contextCompaction`` item stands for it."""
        host = self.host
        auto = turn.kind != "compact"
        await turn_points.compact(self, turn, "PreCompact", auto=auto)  # hooks
        started = now_ms()
        item = ContextCompactionItem(id=uuid7(), started_at_ms=started, completed_at_ms=None)
        await host.emit(item_events.started(host.thread_id, turn.id, item, started))
        mark = len(self.history)
        saved_items = list(turn.items)
        await self._sample(turn, None, tools=False, announce=False, extra=[
            compaction.compact_prompt(self.settings.config.get("compact_prompt"))])
        produced = self.history.since(mark)
        self.history.truncate(mark)
        turn.items[:] = saved_items
        summary = compaction.summary_of(produced)
        replacement = compaction.compacted_history(list(self.history),
                                                   summary or "(no summary available)")
        self.history.replace(replacement)
        self.requests.window_number += 1
        await host.persist([events.compacted(summary, replacement)])
        done = now_ms()
        await host.emit(item_events.completed(
            host.thread_id, turn.id, msgspec.structs.replace(item, completed_at_ms=done), done))
        await turn_points.compact(self, turn, "PostCompact", auto=auto)  # hooks
