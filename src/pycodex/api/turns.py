"""turn/start, turn/steer, turn/interrupt, thread/compact/start and thread/inject_items."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from pycodex.api.config import config_service
from pycodex.api.context import DEFERRED, RequestContext
from pycodex.api.engine_host import engine_for
from pycodex.api.router import route
from pycodex.api.threads import thread_manager
from pycodex.core.thread_config import TurnOverrides, apply_turn_overrides, turn_settings
from pycodex.protocol.errors import RpcError, internal_error, invalid_params, invalid_request
from pycodex.protocol.types.items import ImageUserInput
from pycodex.protocol.types.turns import (
    ThreadCompactStartParams,
    ThreadInjectItemsParams,
    TurnInterruptParams,
    TurnStartParams,
    TurnStartResponse,
    TurnSteerParams,
)

#: Longest combined text input of one turn/start or turn/steer.
MAX_INPUT_CHARS = 1_048_576


def _check_input_size(inputs: list[Any]) -> None:
    total = sum(len(getattr(item, "text", "") or "") for item in inputs)
    if total > MAX_INPUT_CHARS:
        raise invalid_params(
            f"Input exceeds the maximum length of {MAX_INPUT_CHARS} characters.",
            {"input_error_code": "input_too_large"},
        )


def _check_image_urls(inputs: list[Any]) -> None:
    """Images must be inline (``data:``): the reference refuses http(s) URLs."""
    for item in inputs:
        url = getattr(item, "url", None) if isinstance(item, ImageUserInput) else None
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            raise invalid_request(
                "remote image URLs are not supported; use an inline data URL instead")


def _inputs(items: list[Any]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(item) for item in items]


def _turn_overrides(params: TurnStartParams) -> TurnOverrides:
    """What ``turn/start`` changes for this turn and the later ones."""
    mode = params.collaboration_mode
    chosen = mode.settings if mode is not None and mode.settings is not None else None
    return TurnOverrides(
        model=(chosen.model if chosen else None) or params.model,
        effort=(chosen.reasoning_effort if chosen else None) or params.effort,
        summary=params.summary,
        personality=params.personality,
        service_tier=params.service_tier,
        cwd=params.cwd,
        approval_policy=params.approval_policy,
        approvals_reviewer=params.approvals_reviewer,
        sandbox_policy=params.sandbox_policy,
        # legacy names (code, pair_programming, execute, custom) all mean the default mode
        collaboration_mode=None if mode is None else "plan" if mode.mode == "plan" else "default",
        developer_instructions=chosen.developer_instructions if chosen else None,
    )


@route("turn/start")
async def turn_start(ctx: RequestContext, params: TurnStartParams) -> TurnStartResponse:
    _check_input_size(params.input)
    _check_image_urls(params.input)
    engine = await engine_for(ctx, params.thread_id)
    ctx.app.get(config_service).require_usable(engine.settings.cwd)
    thread = ctx.app.get(thread_manager).get(params.thread_id)
    if thread is not None:  # the thread's one settings record, then the engine's view of it
        apply_turn_overrides(thread.settings, _turn_overrides(params), str(ctx.app.options.cwd))
        engine.settings = turn_settings(thread.settings)
    inputs = _inputs(params.input)
    running = engine.running_turn()
    if running is not None and engine.turn is not None:
        # turn/start on a busy thread adds the input to the running turn, as the reference.
        if engine.turn.kind != "regular":
            raise invalid_request("cannot add input to a turn that is not steerable")
        engine.steer(inputs, None)
        return TurnStartResponse(turn=running)
    try:
        turn = engine.start_turn(inputs, output_schema=params.output_schema,
                                 client_metadata=params.responsesapi_client_metadata)
    except Exception as exc:
        raise internal_error(f"failed to start turn: {exc}") from None
    return TurnStartResponse(turn=turn)


@route("turn/steer")
async def turn_steer(ctx: RequestContext, params: TurnSteerParams) -> dict[str, Any]:
    if not params.expected_turn_id:
        raise invalid_request("expectedTurnId must not be empty")
    if not params.input:
        raise invalid_request("input must not be empty")
    _check_input_size(params.input)
    _check_image_urls(params.input)
    engine = await engine_for(ctx, params.thread_id)
    return {"turnId": engine.steer(_inputs(params.input), params.expected_turn_id)}


@route("turn/interrupt")
async def turn_interrupt(ctx: RequestContext, params: TurnInterruptParams) -> Any:
    engine = await engine_for(ctx, params.thread_id)
    turn = engine.turn
    if not engine.running or turn is None:
        raise invalid_request("no active turn to interrupt")
    if params.turn_id != turn.id:
        raise invalid_request(
            f"expected active turn id {params.turn_id} but found {turn.id}")

    async def wait_and_answer() -> None:
        try:
            await engine.interrupt()
        except Exception as exc:  # never leave an interrupt unanswered
            ctx.respond(error=RpcError(-32603, f"failed to interrupt turn: {exc}"))
        else:
            ctx.respond({})

    asyncio.get_running_loop().create_task(wait_and_answer())
    return DEFERRED


@route("thread/compact/start")
async def thread_compact_start(ctx: RequestContext, params: ThreadCompactStartParams
                               ) -> dict[str, Any]:
    engine = await engine_for(ctx, params.thread_id)
    if engine.running:
        raise internal_error("failed to start compaction: a turn is already running")
    engine.start_turn([], kind="compact")
    return {}


#: Required fields of the Responses item kinds the engine reads; other kinds are accepted
#: and dropped, as the reference's catch-all item variant does.
_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("role", "content"),
    "reasoning": ("summary",),
    "function_call": ("name", "arguments", "call_id"),
    "function_call_output": ("call_id", "output"),
    "custom_tool_call": ("name", "input", "call_id"),
    "custom_tool_call_output": ("call_id", "output"),
    "local_shell_call": ("action",),
    "web_search_call": (),
}


def _response_items(raw: list[Any]) -> list[dict[str, Any]]:
    """The items the engine keeps; ``-32600`` naming the first invalid one."""
    kept: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        def invalid(detail: str, index: int = index) -> RpcError:
            return invalid_request(f"items[{index}] is not a valid response item: {detail}")

        if not isinstance(item, dict):
            raise invalid("invalid type: expected an object")
        kind = item.get("type")
        if not isinstance(kind, str):
            raise invalid("missing field `type`")
        fields = _ITEM_FIELDS.get(kind)
        if fields is None:
            continue
        for name in fields:
            if name not in item:
                raise invalid(f"missing field `{name}`")
        if kind == "message" and not isinstance(item["content"], list):
            raise invalid("invalid type: `content` must be a list")
        kept.append(item)
    return kept


@route("thread/inject_items")
async def thread_inject_items(ctx: RequestContext, params: ThreadInjectItemsParams
                              ) -> dict[str, Any]:
    """Append raw Responses items to a loaded thread's model-visible history."""
    engine = await engine_for(ctx, params.thread_id)
    if not params.items:
        raise invalid_request("items must not be empty")
    items = _response_items(params.items)
    if items:
        await engine.inject(items)
    return {}
