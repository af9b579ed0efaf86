"""``thread/*`` handlers and the process-wide :class:`ThreadManager` service."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path
from typing import Any

from pycodex import PROTOCOL_VERSION
from pycodex.api.config import config_service
from pycodex.api.context import DEFERRED, AppState, RequestContext
from pycodex.api.event_methods import method_of
from pycodex.api.mcp_required import require_servers
from pycodex.api.router import route
from pycodex.core import thread_history, thread_service
from pycodex.core.thread_config import (
    ConfigError,
    Overrides,
    resolve_cwd,
    resolve_settings,
)
from pycodex.core.threads import DEFAULT_UNLOAD_DELAY_SECS, LoadedThread, ThreadManager
from pycodex.core.turn_context import PersistedSettings
from pycodex.protocol.errors import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    RpcError,
    internal_error,
    invalid_params,
    invalid_request,
)
from pycodex.protocol.types.items import Turn
from pycodex.protocol.types.threads import (
    DeprecationNoticeNotification,
    EmptyResponse,
    GitInfo,
    Thread,
    ThreadArchiveParams,
    ThreadDeleteParams,
    ThreadForkParams,
    ThreadIdNotification,
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadListParams,
    ThreadListResponse,
    ThreadLoadedListParams,
    ThreadLoadedListResponse,
    ThreadMetadataUpdateParams,
    ThreadNameUpdatedNotification,
    ThreadReadParams,
    ThreadResponse,
    ThreadResumeParams,
    ThreadResumeResponse,
    ThreadRevertedNotification,
    ThreadRevertParams,
    ThreadRevertResponse,
    ThreadRollbackParams,
    ThreadSetNameParams,
    ThreadStartedNotification,
    ThreadStartParams,
    ThreadStartResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
    ThreadUnarchiveParams,
    ThreadUnsubscribeParams,
    ThreadUnsubscribeResponse,
    _ThreadConfigParams,
)
from pycodex.protocol.types.turns import (
    CollaborationMode,
    CollaborationModeSettings,
    TokenUsageUpdatedNotification,
)
from pycodex.store.ids import InvalidId, new_thread_id, parse_thread_id
from pycodex.store.names import append_git_info, append_name
from pycodex.store.rollout import (
    MemoryRolloutWriter,
    parse_timestamp_ms,
    utc_timestamp,
)
from pycodex.store.scan import ListQuery, scan_page, servable
from pycodex.store.summary import INTERACTIVE_SOURCES, ThreadSummary

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 25
MAX_LIST_LIMIT = 100
MAX_INCLUDED_THREAD_IDS = 100


# -- service --------------------------------------------------------------------------


def thread_manager(app: AppState) -> ThreadManager:
    """``app.get(thread_manager)`` — the process-wide manager of loaded threads."""
    delay = DEFAULT_UNLOAD_DELAY_SECS
    try:
        value = app.get(config_service).effective().get("thread_unload_delay_secs")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            delay = float(value)
    except Exception:
        logger.exception("could not read thread_unload_delay_secs")
    outgoing = app.outgoing
    manager = ThreadManager(
        app.options.codex_home,
        lambda params, to: outgoing.notify(method_of(params), params, to),
        unload_delay=delay,
    )
    app.connection_closed_hooks.append(manager.connection_closed)
    app.shutdown_hooks.append(manager.shutdown)
    return manager


# -- helpers --------------------------------------------------------------------------


def _thread_id(text: str) -> str:
    try:
        return parse_thread_id(text)
    except InvalidId as exc:
        raise invalid_request(f"invalid thread id: {exc}") from None




def _overrides(params: _ThreadConfigParams) -> Overrides:
    return Overrides(
        model=params.model,
        model_provider=params.model_provider,
        service_tier=params.service_tier,
        cwd=params.cwd,
        approval_policy=params.approval_policy,
        approvals_reviewer=params.approvals_reviewer,
        sandbox=params.sandbox,
        base_instructions=params.base_instructions,
        developer_instructions=params.developer_instructions,
        personality=params.personality,
    )


def _effective_config(ctx: RequestContext, params: _ThreadConfigParams, cwd: str) -> dict[str, Any]:
    ctx.app.get(config_service).require_usable(cwd)
    try:
        return ctx.app.get(config_service).effective(cwd=Path(cwd), overrides=params.config)
    except Exception as exc:
        raise invalid_request(f"error deriving config: {exc}") from None


def _start_response(
    mgr: ThreadManager, thread: LoadedThread, turns: list[Turn]
) -> ThreadStartResponse:
    return ThreadStartResponse(**_response_fields(mgr, thread, turns))


def _response_fields(mgr: ThreadManager, thread: LoadedThread, turns: list[Turn]
                     ) -> dict[str, Any]:
    s = thread.settings
    return {
        "thread": mgr.wire_thread(thread, turns=turns),
        "model": s.model,
        "model_provider": s.model_provider,
        "service_tier": s.service_tier,
        "disabled_plugin_ids": [],
        "cwd": s.cwd,
        "runtime_workspace_roots": [s.cwd],
        "instruction_sources": [],
        "approval_policy": s.approval_policy,
        "approvals_reviewer": s.approvals_reviewer,
        "sandbox": s.sandbox_policy,
        "active_permission_profile": s.active_permission_profile,
        "reasoning_effort": s.reasoning_effort,
    }


def _resume_response(mgr: ThreadManager, thread: LoadedThread, turns: list[Turn],
                     *, exclude_turns: bool) -> ThreadResumeResponse:
    """The start answer plus the thread's current collaboration mode and the cursor that
    pages its turns backwards from the last one."""
    s = thread.settings
    # legacy threads (older rollouts) are read whole: no cursors, as the reference
    turns_cursor, items_cursor = (_backwards_cursors(turns) if thread.history_mode == "paginated"
                                  else (None, None))
    mode = CollaborationMode(mode=s.collaboration_mode, settings=CollaborationModeSettings(
        model=s.model, reasoning_effort=s.reasoning_effort,
        developer_instructions=s.developer_instructions))
    return ThreadResumeResponse(
        **_response_fields(mgr, thread, [] if exclude_turns else turns),
        collaboration_mode=mode,
        turns_backwards_cursor=turns_cursor,
        items_backwards_cursor=items_cursor,
    )


def _backwards_cursors(turns: list[Turn]) -> tuple[str | None, str | None]:
    """Cursors whose ``desc`` pages start with the last turn and the last item."""
    from pycodex.api.turn_pages import anchor_cursor, item_cursor

    last_item = next((turn.items[-1] for turn in reversed(turns) if turn.items), None)
    return (anchor_cursor(turns[-1].id) if turns else None,
            item_cursor(last_item.id) if last_item else None)


def _new_loaded(
    ctx: RequestContext,
    mgr: ThreadManager,
    params: _ThreadConfigParams,
    *,
    ephemeral: bool,
    persisted: PersistedSettings | None = None,
    resume: bool = False,
) -> tuple[LoadedThread, float]:
    server_cwd = str(ctx.app.options.cwd)
    recorded_cwd = persisted.cwd if persisted is not None else None
    cwd = resolve_cwd(params.cwd, server_cwd) if params.cwd else recorded_cwd or server_cwd
    config = _effective_config(ctx, params, cwd)
    try:
        settings = resolve_settings(
            config, _overrides(params), server_cwd, persisted=persisted, resume=resume)
    except ConfigError as exc:
        raise invalid_request(f"error deriving config: {exc}") from None
    created = time.time()
    thread = LoadedThread(
        id=new_thread_id(),
        settings=settings,
        writer=MemoryRolloutWriter(),
        ephemeral=ephemeral,
        created_at=int(created),
        source=thread_service.SESSION_SOURCE,
        cli_version=PROTOCOL_VERSION,
        originator=ctx.app.originator,
    )
    return thread, created


# -- start ----------------------------------------------------------------------------


@functools.cache
def warm_up_model_client(endpoint: str | None) -> None:
    """Load the HTTP code and the engine on a worker thread (once: after the first
    initialize answer, or when a thread is opened) so the first turn does not pay for them.
    ``endpoint`` is the model provider's URL when known (an ``https`` one also loads the CA
    bundle)."""
    import threading

    from pycodex.core import model_client

    def warm() -> None:
        model_client.warm_up(endpoint)
        try:  # the engine and its tools, so the first turn.start finds them loaded
            from pycodex.core import tool_router
            from pycodex.core.turn import engine

            tool_router.ToolRouter()
            del engine
        except Exception:
            logger.debug("engine warm-up failed", exc_info=True)

    threading.Thread(target=warm, name="warm-up", daemon=True).start()


def provider_endpoint(config: dict[str, Any], provider_id: str | None) -> str | None:
    """The URL model requests go to, or None when the provider cannot be resolved."""
    from pycodex.core.providers import resolve_provider

    try:
        return resolve_provider(config, provider_id).endpoint
    except Exception:
        return None


def default_provider_endpoint(app: AppState) -> str | None:
    """The model URL of the configured default provider (None if it cannot be resolved)."""
    try:
        config = app.get(config_service).effective()
    except Exception:
        return None
    provider = config.get("model_provider")
    return provider_endpoint(config, provider if isinstance(provider, str) else None)


def _after_thread_started(ctx: RequestContext, thread: LoadedThread) -> None:
    """Once ``thread/started`` is out: load the HTTP stack for the coming turn, and warn
    (as the reference does) when the model is not in the catalog and fallback metadata
    will be used."""
    from pycodex.api.mcp import start_thread_servers
    from pycodex.core.models_catalog import lookup_model

    start_thread_servers(ctx, thread)
    warm_up_model_client(
        provider_endpoint(thread.settings.config, thread.settings.model_provider))
    _info, warning = lookup_model(thread.settings.model)
    if warning:
        ctx.outgoing.notify("warning", {"threadId": thread.id, "message": warning},
                            [ctx.connection_id])
    from pycodex.api.hooks import thread_hook_warnings

    for hook_warning in thread_hook_warnings(ctx, thread.settings):  # hooks
        ctx.outgoing.notify("warning", {"threadId": thread.id, "message": hook_warning},
                            [ctx.connection_id])


@route("thread/start")
async def thread_start(ctx: RequestContext, params: ThreadStartParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread, created = _new_loaded(ctx, mgr, params, ephemeral=bool(params.ephemeral))
    await require_servers(ctx, thread, "creating")
    thread.history_mode = params.history_mode or "paginated"  # 0.171's default
    thread.settings.dynamic_tools = params.dynamic_tools
    thread.settings.experimental_raw_events = params.experimental_raw_events
    thread.settings.persist_extended_history = params.persist_extended_history
    thread.session_start_source = params.session_start_source or "startup"
    try:
        await thread_service.attach_writer(mgr, thread, created)
    except OSError as exc:
        raise internal_error(f"error creating thread: {exc}") from None
    mgr.register(thread, ctx.connection_id)
    ctx.respond(_start_response(mgr, thread, []))
    ctx.outgoing.notify("thread/started", ThreadStartedNotification(thread=mgr.wire_thread(thread)))
    _after_thread_started(ctx, thread)
    return DEFERRED


# -- resume ---------------------------------------------------------------------------


@route("thread/resume")
async def thread_resume(ctx: RequestContext, params: ThreadResumeParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    # after this answer is out: the warm-up would compete with the resume for the GIL
    asyncio.get_running_loop().call_soon(warm_up_model_client, None)
    loaded = mgr.get(thread_id)
    if loaded is not None:
        return await _resumed(ctx, await _rejoin(ctx, mgr, loaded, params),
                              whole=not params.exclude_turns)
    if params.history is not None and not params.history:
        raise invalid_request("history must not be empty")
    path: Path | None
    summary: ThreadSummary | None = None
    if params.path:
        path = Path(resolve_cwd(params.path, str(ctx.app.options.cwd)))
        if not await asyncio.to_thread(path.exists):
            raise invalid_request(f"failed to load rollout `{path}`: file not found")
    else:
        summary = await thread_service.locate(mgr, thread_id)
        if summary is None or summary.archived:
            raise thread_service.no_rollout(thread_id)
        path = Path(summary.path)
    # without turns in the answer, only the last turn is needed (for the backwards cursors),
    # unless the preview must come from the turns too
    stored = await thread_service.read_stored(
        path, thread_id,
        last_turn_only=bool(params.exclude_turns) and summary is not None
        and bool(summary.preview))
    raced = mgr.get(thread_id)
    if raced is not None:  # another connection loaded it while the file was read
        return await _resumed(ctx, await _rejoin(ctx, mgr, raced, params),
                              whole=not params.exclude_turns)
    thread, _ = _new_loaded(ctx, mgr, params, ephemeral=False,
                            persisted=thread_service.recorded_settings(stored), resume=True)
    await require_servers(ctx, thread, "resuming")
    thread.id = thread_id
    thread_service.restore(mgr, thread, stored, path, summary)
    turns = stored.turns
    mgr.register(thread, ctx.connection_id)
    from pycodex.api.mcp import start_thread_servers

    start_thread_servers(ctx, thread)
    if params.history:
        # The given items become the model history from here on: recorded like a
        # compaction whose replacement history they are, so the change survives restarts.
        from pycodex.store import events

        items = [item for item in params.history if isinstance(item, dict)]
        await thread.writer.append([events.compacted("", items)])
    return await _resumed(ctx, _resume_response(mgr, thread, turns,
                                                exclude_turns=bool(params.exclude_turns)),
                          whole=not params.exclude_turns, loaded=path)


async def _resumed(ctx: RequestContext, response: ThreadResumeResponse, *, whole: bool,
                   loaded: Path | None = None) -> Any:
    """Answer, then tell the resuming client the thread's token usage and goal (the goal
    also when it joins a running thread); a thread ``loaded`` here from that rollout with an
    active goal goes back to work on it (as the reference). A ``whole`` history of a
    paginated thread is answered with a deprecation notice first, as the reference does."""
    from pycodex.api.goals import goal_on_resume, resume_goal
    from pycodex.api.thread_sections import with_sections

    thread_id, to = response.thread.id, [ctx.connection_id]
    if whole and response.thread.history_mode == "paginated":
        ctx.outgoing.notify("deprecationNotice", DeprecationNoticeNotification(
            summary="Resuming with the whole history is deprecated for paginated threads: "
                    "resume with `excludeTurns: true` and page the history with "
                    "`thread/turns/list` and `thread/items/list`."), to)
    with_sections(ctx.app, [response.thread])
    ctx.respond(response)
    counted = await thread_service.last_token_usage(loaded) if loaded is not None else None
    if counted is not None:
        ledger, turn_id = counted
        ctx.outgoing.notify("thread/tokenUsage/updated", TokenUsageUpdatedNotification(
            thread_id=thread_id, turn_id=turn_id, token_usage=ledger.to_wire()), to)
    ctx.outgoing.notify(*goal_on_resume(ctx.app, thread_id), to)
    if loaded is not None:
        await resume_goal(ctx, thread_id)
    return DEFERRED


async def _rejoin(
    ctx: RequestContext, mgr: ThreadManager, thread: LoadedThread, params: ThreadResumeParams
) -> ThreadResumeResponse:
    if not thread.ephemeral and not thread.materialized:
        # started, no turn yet: nothing to resume, as the reference answers
        raise thread_service.no_rollout(thread.id)
    if params.history is not None:
        raise invalid_request(
            f"cannot resume thread {thread.id} with history while it is already running"
        )
    if params.path and not thread.ephemeral:
        requested = Path(resolve_cwd(params.path, str(ctx.app.options.cwd)))
        if requested != thread.writer.path:
            raise invalid_request(
                f"cannot resume running thread {thread.id} with mismatched path: "
                f"requested `{requested}`, active `{thread.writer.path}`"
            )
    mgr.subscribe(thread, ctx.connection_id)
    if params.exclude_turns and not thread.ephemeral:
        # the cursors need only the last turn and item: read from the end of the file
        turns = await thread_service.load_last_turns(
            thread.writer.path, thread.id, thread.active_turn_id, items=1)
    else:
        turns = await thread_history.current_turns(thread)
    return _resume_response(mgr, thread, turns, exclude_turns=bool(params.exclude_turns))


# -- fork -----------------------------------------------------------------------------


@route("thread/fork")
async def thread_fork(ctx: RequestContext, params: ThreadForkParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    source_id = _thread_id(params.thread_id)
    path = Path(resolve_cwd(params.path, str(ctx.app.options.cwd))) if params.path else None
    source = await thread_service.fork_source(mgr, source_id, path)
    thread, created = _new_loaded(ctx, mgr, params, ephemeral=params.ephemeral,
                                  persisted=source.persisted)
    await require_servers(ctx, thread, "forking")
    turns = await thread_service.write_fork(mgr, thread, created, source_id, source)
    name = source.name
    mgr.register(thread, ctx.connection_id)
    mgr.refresh_index(thread)
    if name and not thread.ephemeral:
        append_name(mgr.codex_home, thread.id, name)
    ctx.respond(_start_response(mgr, thread, [] if params.exclude_turns else turns))
    ctx.outgoing.notify("thread/started", ThreadStartedNotification(thread=mgr.wire_thread(thread)))
    _after_thread_started(ctx, thread)
    return DEFERRED


# -- list / read ----------------------------------------------------------------------


#: the id half of a bare-timestamp cursor: sorts before (descending) or after (ascending)
#: every thread id, so the page starts strictly past the timestamp
_BEFORE_ANY_ID, _AFTER_ANY_ID = "", "~"


def _parse_cursor(cursor: str, descending: bool = True) -> tuple[int, str]:
    """``TIMESTAMP|ID`` (a ``nextCursor``) or a bare ``TIMESTAMP`` (a ``backwardsCursor``,
    which the reference pages from too) as the ``after`` of a list query."""
    stamp, sep, tid = cursor.partition("|")
    ms = parse_timestamp_ms(stamp)
    if ms is None:
        raise invalid_request(f"invalid cursor: {cursor}")
    if not sep:
        return ms, _BEFORE_ANY_ID if descending else _AFTER_ANY_ID
    try:
        return ms, parse_thread_id(tid)
    except InvalidId:
        raise invalid_request(f"invalid cursor: {cursor}") from None


def _included_ids(raw: list[str] | None) -> list[str] | None:
    """``includedThreadIds`` in canonical form (``-32602`` for too many or a non-UUID)."""
    if raw is None:
        return None
    if len(raw) > MAX_INCLUDED_THREAD_IDS:
        raise invalid_params(
            f"includedThreadIds accepts at most {MAX_INCLUDED_THREAD_IDS} entries")
    try:
        return [parse_thread_id(text) for text in raw]
    except InvalidId as exc:
        raise invalid_params(f"invalid included thread id: {exc}") from None


def list_query(ctx: RequestContext, params: ThreadListParams) -> ListQuery:
    """The page ``params`` asks for, plus one row to learn whether more follow."""
    limit = min(
        max(params.limit if params.limit is not None else DEFAULT_LIST_LIMIT, 1), MAX_LIST_LIMIT
    )
    cwds: list[str] | None = None
    if params.cwd:
        raw = [params.cwd] if isinstance(params.cwd, str) else params.cwd
        cwds = [resolve_cwd(c, str(ctx.app.options.cwd)) for c in raw]
    return ListQuery(
        archived=bool(params.archived),
        sort_key="updated_at" if params.sort_key == "updated_at" else "created_at",
        descending=params.sort_direction != "asc",
        after=(_parse_cursor(params.cursor, params.sort_direction != "asc")
               if params.cursor else None),
        limit=limit + 1,
        model_providers=params.model_providers or None,
        source_kinds=params.source_kinds or list(INTERACTIVE_SOURCES),
        cwds=cwds,
        search_term=params.search_term or None,
        thread_ids=_included_ids(params.included_thread_ids),
    )


async def list_rows(mgr: ThreadManager, query: ListQuery) -> list[ThreadSummary]:
    """Rows from the index; while it is still being built, from the files when their order
    serves the page (the rebuild pauses meanwhile), else once the index is ready."""
    index = mgr.index
    if not index.is_ready():
        index.warm_up_in_background()
        if not index.building():  # an existing index opens in a moment, unless it is stale
            await asyncio.to_thread(index.wait_decided)
        if servable(query) and index.building():
            with index.paused():  # the walk runs on a worker thread, off the loop
                rows = await asyncio.to_thread(scan_page, mgr.codex_home, query)
            if rows is not None:
                logger.debug("thread/list: page read from the rollout files (%d rows)", len(rows))
                return rows
        logger.debug("thread/list: waiting for the thread index")
        await asyncio.to_thread(index.wait_ready)
    return index.list(**query.index_kwargs())


def row_key(row: ThreadSummary, query: ListQuery) -> tuple[int, str]:
    """Where ``row`` sits in the order of ``query`` (the ``after`` of the next page)."""
    return (row.updated_at_ms if query.sort_key == "updated_at" else row.created_at_ms), row.id


def page_of(rows: list[ThreadSummary], query: ListQuery
            ) -> tuple[list[ThreadSummary], str | None]:
    """The page out of ``rows`` (one more than the page when more follow) and its cursor."""
    limit = query.limit - 1
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        stamp_ms, last_id = row_key(rows[-1], query)
        next_cursor = f"{utc_timestamp(stamp_ms / 1000)}|{last_id}"
    return rows, next_cursor


def list_response(ctx: RequestContext, rows: list[ThreadSummary], next_cursor: str | None
                  ) -> ThreadListResponse:
    """A ``thread/list`` page: the threads with their sections, and their read receipts."""
    from pycodex.api.read_states import read_states_of
    from pycodex.api.thread_sections import with_sections
    from pycodex.protocol.types.thread_read_states import ThreadListResponseWithReadStates

    mgr = ctx.app.get(thread_manager)
    response = ThreadListResponseWithReadStates(
        data=[mgr.wire_summary(row) for row in rows], next_cursor=next_cursor,
        read_states=read_states_of(ctx.app, (row.id for row in rows)))
    with_sections(ctx.app, response.data)
    return response


@route("thread/list")
async def thread_list(ctx: RequestContext, params: ThreadListParams) -> ThreadListResponse:
    from pycodex.api.thread_sections import by_section, section_page

    if by_section(params):
        return await section_page(ctx, params)
    mgr = ctx.app.get(thread_manager)
    query = list_query(ctx, params)
    rows, next_cursor = page_of(await list_rows(mgr, query), query)
    return list_response(ctx, rows, next_cursor)


@route("thread/loaded/list")
async def thread_loaded_list(
    ctx: RequestContext, params: ThreadLoadedListParams
) -> ThreadLoadedListResponse:
    mgr = ctx.app.get(thread_manager)
    ids = mgr.loaded_ids()
    if params.cursor is not None:
        try:
            start = parse_thread_id(params.cursor)
        except InvalidId:
            raise invalid_request(f"invalid cursor: {params.cursor}") from None
        ids = [i for i in ids if i > start]
    limit = max(params.limit, 1) if params.limit is not None else len(ids)
    page = ids[:limit]
    next_cursor = page[-1] if len(ids) > limit and page else None
    return ThreadLoadedListResponse(data=page, next_cursor=next_cursor)


async def _load_turns(path: Path, thread_id: str, running: str | None = None) -> list[Turn]:
    return await thread_service.load_turns(path, thread_id, running)


@route("thread/read")
async def thread_read(ctx: RequestContext, params: ThreadReadParams) -> ThreadResponse:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    loaded = mgr.get(thread_id)
    if loaded is not None:
        turns: list[Turn] = []
        if params.include_turns:
            if loaded.ephemeral:
                raise invalid_request("ephemeral threads do not support includeTurns")
            if not loaded.materialized:
                raise invalid_request(
                    f"thread {thread_id} is not materialized yet; "
                    "includeTurns is unavailable before first user message"
                )
            turns = await _load_turns(loaded.writer.path, thread_id, loaded.active_turn_id)
        return _read_answer(ctx, mgr.wire_thread(loaded, turns=turns))
    summary = await thread_service.locate(mgr, thread_id)
    if summary is None:
        raise invalid_request(f"thread not loaded: {thread_id}")
    turns = await _load_turns(Path(summary.path), thread_id) if params.include_turns else []
    thread = mgr.wire_summary(summary, turns)
    thread.history_mode = await thread_service.stored_history_mode(Path(summary.path))
    return _read_answer(ctx, thread)


def _read_answer(ctx: RequestContext, thread: Thread) -> ThreadResponse:
    """The ``thread/read`` answer: the thread with its section, and its read receipt."""
    from pycodex.api.read_states import read_state_of
    from pycodex.api.thread_sections import with_sections
    from pycodex.protocol.types.thread_read_states import ThreadResponseWithReadState

    with_sections(ctx.app, [thread])
    return ThreadResponseWithReadState(thread=thread, read_state=read_state_of(ctx.app, thread.id))


async def _thread_turns(mgr: ThreadManager, params: Any, method: str, unknown: str,
                        code: int = INVALID_REQUEST, *, last: int | None = None,
                        last_items: int = 0) -> list[Turn]:
    """The turns of the loaded or stored thread ``params.threadId`` (a running turn
    included), or with ``last`` at least its last ``last`` turns holding at least its last
    ``last_items`` items (read from the end of the file); ``unknown`` (``{id}`` filled in)
    when there is no such thread."""
    thread_id = _thread_id(params.thread_id)
    loaded = mgr.get(thread_id)
    running: str | None = None
    if loaded is not None:
        if loaded.ephemeral:
            raise invalid_request(f"ephemeral threads do not support {method}")
        if not loaded.materialized:
            return []
        path, running = loaded.writer.path, loaded.active_turn_id
    else:
        summary = await thread_service.locate(mgr, thread_id)
        if summary is None:
            raise RpcError(code, unknown.format(id=thread_id))
        path = Path(summary.path)
    if last is not None:
        return await thread_service.load_last_turns(path, thread_id, running, turns=last,
                                                    items=last_items)
    return await _load_turns(path, thread_id, running)


@route("thread/items/list")
async def thread_items_list(
    ctx: RequestContext, params: ThreadItemsListParams
) -> ThreadItemsListResponse:
    """A page of a thread's items in order (of one turn with ``turnId``)."""
    from pycodex.api.turn_pages import entries_of, page_size, paginate_items

    direction = params.sort_direction or "asc"
    # the newest page of the whole thread needs only its last items (and one more)
    newest = params.cursor is None and params.turn_id is None and direction == "desc"
    turns = await _thread_turns(ctx.app.get(thread_manager), params, "thread/items/list",
                                "thread/items/list is not supported yet", METHOD_NOT_FOUND,
                                last=1 if newest else None,
                                last_items=page_size(params.limit) + 1)
    page = paginate_items(entries_of(turns, params.turn_id), params.cursor, params.turn_id,
                          params.limit, direction)
    return ThreadItemsListResponse(data=page.entries, next_cursor=page.next_cursor,
                                   backwards_cursor=page.backwards_cursor)


@route("thread/turns/list")
async def thread_turns_list(
    ctx: RequestContext, params: ThreadTurnsListParams
) -> ThreadTurnsListResponse:
    """A page of a thread's turns, rebuilt from its rollout (a running turn included)."""
    from pycodex.api.turn_pages import apply_view, page_size, paginate

    direction = params.sort_direction or "desc"
    # the newest page needs only the last turns (and one more, to know that more follow)
    last = page_size(params.limit) + 1 if params.cursor is None and direction == "desc" \
        else None
    turns = await _thread_turns(ctx.app.get(thread_manager), params, "thread/turns/list",
                                "thread not loaded: {id}", last=last)
    view = params.items_view or "summary"
    page = paginate([apply_view(turn, view) for turn in turns], params.cursor, params.limit,
                    direction)
    return ThreadTurnsListResponse(data=page.turns, next_cursor=page.next_cursor,
                                   backwards_cursor=page.backwards_cursor)


# -- archive / unarchive / delete -----------------------------------------------------


@route("thread/archive")
async def thread_archive(ctx: RequestContext, params: ThreadArchiveParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    await thread_service.archive(mgr, thread_id)
    ctx.respond(EmptyResponse())
    ctx.outgoing.notify("thread/archived", ThreadIdNotification(thread_id=thread_id))
    return DEFERRED


@route("thread/unarchive")
async def thread_unarchive(ctx: RequestContext, params: ThreadUnarchiveParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    summary = await thread_service.unarchive(mgr, thread_id)
    ctx.respond(ThreadResponse(thread=mgr.wire_summary(summary)))
    ctx.outgoing.notify("thread/unarchived", ThreadIdNotification(thread_id=thread_id))
    return DEFERRED


@route("thread/delete")
async def thread_delete(ctx: RequestContext, params: ThreadDeleteParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    await thread_service.delete(mgr, thread_id)
    from pycodex.api.local_stores import read_receipt_store

    read_receipt_store(ctx.app).delete(thread_id)  # a receipt outlives no thread
    ctx.respond(EmptyResponse())
    ctx.outgoing.notify("thread/deleted", ThreadIdNotification(thread_id=thread_id))
    return DEFERRED


# -- subscriptions, names, metadata, rollback -----------------------------------------


@route("thread/unsubscribe")
async def thread_unsubscribe(
    ctx: RequestContext, params: ThreadUnsubscribeParams
) -> ThreadUnsubscribeResponse:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    status = mgr.unsubscribe(thread_id, ctx.connection_id)
    return ThreadUnsubscribeResponse(status=status)  # type: ignore[arg-type]


@route("thread/name/set")
async def thread_name_set(ctx: RequestContext, params: ThreadSetNameParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    name = params.name.strip()
    if not name:
        raise invalid_request("thread name must not be empty")
    loaded = mgr.get(thread_id)
    if loaded is None and await thread_service.locate(mgr, thread_id) is None:
        raise thread_service.no_rollout(thread_id)
    if loaded is None or not loaded.ephemeral:
        try:
            append_name(mgr.codex_home, thread_id, name)
        except OSError as exc:
            raise internal_error(f"failed to set thread name: {exc}") from None
    if loaded is not None:
        loaded.name = name
    mgr.index.update(thread_id, name=name)
    ctx.respond(EmptyResponse())
    ctx.outgoing.notify(
        "thread/name/updated", ThreadNameUpdatedNotification(thread_id=thread_id, thread_name=name)
    )
    return DEFERRED


@route("thread/metadata/update")
async def thread_metadata_update(
    ctx: RequestContext, params: ThreadMetadataUpdateParams
) -> ThreadResponse:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    git = params.git_info
    changes: dict[str, str | None] = {}
    if git is not None:
        for attr, wire in (("sha", "sha"), ("branch", "branch"), ("origin_url", "originUrl")):
            value = getattr(git, attr)
            if isinstance(value, str):
                if not value.strip():
                    raise invalid_request(f"gitInfo.{wire} must not be empty")
                changes[attr] = value.strip()
            elif value is None:
                changes[attr] = None
    if not changes:
        raise invalid_request("gitInfo must include at least one field")
    loaded = mgr.get(thread_id)
    if loaded is not None and loaded.ephemeral:
        raise invalid_request(f"ephemeral thread does not support metadata updates: {thread_id}")
    summary = None if loaded is not None else await thread_service.locate(mgr, thread_id)
    if loaded is None and summary is None:
        raise thread_service.no_rollout(thread_id)
    if loaded is not None:
        base = loaded.git_info or GitInfo()
    else:
        assert summary is not None
        base = GitInfo(
            sha=summary.git_sha, branch=summary.git_branch, origin_url=summary.git_origin_url
        )
    merged = GitInfo(
        sha=changes.get("sha", base.sha),
        branch=changes.get("branch", base.branch),
        origin_url=changes.get("origin_url", base.origin_url),
    )
    try:
        append_git_info(mgr.codex_home, thread_id, merged.sha, merged.branch, merged.origin_url)
    except OSError as exc:
        raise internal_error(f"failed to update thread metadata: {exc}") from None
    mgr.index.update(
        thread_id, git_sha=merged.sha, git_branch=merged.branch, git_origin_url=merged.origin_url
    )
    empty = merged.sha is None and merged.branch is None and merged.origin_url is None
    if loaded is not None:
        loaded.git_info = None if empty else merged
        return ThreadResponse(thread=mgr.wire_thread(loaded, direct_input=None))
    assert summary is not None
    summary.git_sha, summary.git_branch, summary.git_origin_url = (
        merged.sha,
        merged.branch,
        merged.origin_url,
    )
    return ThreadResponse(thread=mgr.wire_summary(summary))


def _loaded(mgr: ThreadManager, thread_id: str) -> LoadedThread:
    loaded = mgr.get(thread_id)
    if loaded is None:
        raise invalid_request(f"thread not found: {thread_id}")
    return loaded


@route("thread/rollback")
async def thread_rollback(ctx: RequestContext, params: ThreadRollbackParams) -> ThreadResponse:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    if params.num_turns < 1:
        raise invalid_request("numTurns must be >= 1")
    loaded = _loaded(mgr, thread_id)
    turns = await thread_history.rollback(mgr, loaded, params.num_turns)
    return ThreadResponse(thread=mgr.wire_thread(loaded, turns=turns))


@route("thread/revert")
async def thread_revert(ctx: RequestContext, params: ThreadRevertParams) -> Any:
    """Drop ``beforeTurnId`` and every later turn; the thread comes back without turns and
    with the cursors that page the remaining turns and items backwards."""
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    loaded = _loaded(mgr, thread_id)
    if loaded.history_mode != "paginated":
        raise invalid_request("thread/revert only supports paginated threads")
    if not loaded.ephemeral and not loaded.materialized:
        raise thread_service.no_rollout(thread_id)
    turns = await thread_history.revert(mgr, loaded, params.before_turn_id)
    turns_cursor, items_cursor = _backwards_cursors(turns)
    ctx.respond(ThreadRevertResponse(thread=mgr.wire_thread(loaded),
                                     turns_backwards_cursor=turns_cursor,
                                     items_backwards_cursor=items_cursor))
    # every client hears of it after the answer, as the reference announces it
    ctx.outgoing.notify("thread/reverted", ThreadRevertedNotification(thread_id=thread_id))
    return DEFERRED
