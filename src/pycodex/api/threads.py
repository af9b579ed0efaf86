"""``thread/*`` handlers and the process-wide :class:`ThreadManager` service."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

from pycodex import PROTOCOL_VERSION
from pycodex.api.config import config_service
from pycodex.api.context import DEFERRED, AppState, RequestContext
from pycodex.api.router import route
from pycodex.core.git_info import collect_git_info
from pycodex.core.thread_config import (
    ConfigError,
    Overrides,
    resolve_cwd,
    resolve_settings,
)
from pycodex.core.threads import DEFAULT_UNLOAD_DELAY_SECS, LoadedThread, ThreadManager
from pycodex.protocol.errors import RpcError, internal_error, invalid_request
from pycodex.protocol.types.items import Turn
from pycodex.protocol.types.threads import (
    EmptyResponse,
    GitInfo,
    ThreadArchiveParams,
    ThreadDeleteParams,
    ThreadForkParams,
    ThreadIdNotification,
    ThreadListParams,
    ThreadListResponse,
    ThreadLoadedListParams,
    ThreadLoadedListResponse,
    ThreadMetadataUpdateParams,
    ThreadNameUpdatedNotification,
    ThreadReadParams,
    ThreadResponse,
    ThreadResumeParams,
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
from pycodex.store.archive import ArchiveError, archive_rollout, unarchive_rollout
from pycodex.store.history import read_thread, read_turns, turn_preview
from pycodex.store.ids import InvalidId, new_thread_id, parse_thread_id
from pycodex.store.names import append_git_info, append_name
from pycodex.store.rollout import (
    MemoryRolloutWriter,
    RolloutLine,
    RolloutWriter,
    find_rollout,
    iter_rollout,
    parse_timestamp_ms,
    rollout_path,
    utc_timestamp,
)
from pycodex.store.scan import ListQuery, scan_page, servable
from pycodex.store.summary import INTERACTIVE_SOURCES, ThreadSummary, source_to_wire, summarize

logger = logging.getLogger(__name__)

SESSION_SOURCE = "vscode"
DEFAULT_LIST_LIMIT = 25
MAX_LIST_LIMIT = 100


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
    manager = ThreadManager(app.options.codex_home, app.outgoing.notify, unload_delay=delay)
    app.connection_closed_hooks.append(manager.connection_closed)
    app.shutdown_hooks.append(manager.shutdown)
    return manager


# -- helpers --------------------------------------------------------------------------


def _thread_id(text: str) -> str:
    try:
        return parse_thread_id(text)
    except InvalidId as exc:
        raise invalid_request(f"invalid thread id: {exc}") from None


def _no_rollout(thread_id: str) -> RpcError:
    return invalid_request(f"no rollout found for thread id {thread_id}")


def _locate(
    mgr: ThreadManager, thread_id: str, *, archived: bool | None = None
) -> ThreadSummary | None:
    """The stored thread ``thread_id`` (index first, then its file by name)."""
    summary = mgr.index.get(thread_id)
    if summary is not None and Path(summary.path).exists():
        if archived is None or summary.archived == archived:
            return summary
        return None
    for is_archived in (False, True) if archived is None else (archived,):
        path = find_rollout(mgr.codex_home, thread_id, archived=is_archived)
        if path is None:
            continue
        found = summarize(path, archived=is_archived)
        if found is not None and found.id == thread_id:
            if summary is not None:
                found.name, found.git_sha = summary.name, summary.git_sha
                found.git_branch, found.git_origin_url = summary.git_branch, summary.git_origin_url
            mgr.index.upsert(found)
            return found
    if summary is not None:
        mgr.index.delete(thread_id)
    return None


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
    try:
        return ctx.app.get(config_service).effective(cwd=Path(cwd), overrides=params.config)
    except Exception as exc:
        raise invalid_request(f"error deriving config: {exc}") from None


def _session_meta(
    thread_id: str,
    created: float,
    thread: LoadedThread,
    *,
    forked_from: str | None = None,
) -> dict[str, Any]:
    s = thread.settings
    meta: dict[str, Any] = {
        "id": thread_id,
        "session_id": thread_id,
        "timestamp": utc_timestamp(created),
        "cwd": s.cwd,
        "originator": thread.originator,
        "cli_version": PROTOCOL_VERSION,
        "source": SESSION_SOURCE,
        "model_provider": s.model_provider,
        "base_instructions": {"text": s.base_instructions} if s.base_instructions else None,
    }
    if forked_from:
        meta["forked_from_id"] = forked_from
    if s.dynamic_tools:
        meta["dynamic_tools"] = s.dynamic_tools
    return meta


def _start_response(
    mgr: ThreadManager, thread: LoadedThread, turns: list[Turn]
) -> ThreadStartResponse:
    s = thread.settings
    return ThreadStartResponse(
        thread=mgr.wire_thread(thread, turns=turns),
        model=s.model,
        model_provider=s.model_provider,
        service_tier=s.service_tier,
        disabled_plugin_ids=[],
        cwd=s.cwd,
        runtime_workspace_roots=[s.cwd],
        instruction_sources=[],
        approval_policy=s.approval_policy,
        approvals_reviewer=s.approvals_reviewer,  # type: ignore[arg-type]
        sandbox=s.sandbox_policy,
        active_permission_profile=s.active_permission_profile,
        reasoning_effort=s.reasoning_effort,
    )


def _new_loaded(
    ctx: RequestContext,
    mgr: ThreadManager,
    params: _ThreadConfigParams,
    *,
    ephemeral: bool,
    persisted: dict[str, Any] | None = None,
) -> tuple[LoadedThread, float]:
    persisted = persisted or {}
    server_cwd = str(ctx.app.options.cwd)
    cwd = resolve_cwd(params.cwd, server_cwd) if params.cwd else persisted.get("cwd") or server_cwd
    config = _effective_config(ctx, params, cwd)
    try:
        settings = resolve_settings(
            config,
            _overrides(params),
            server_cwd,
            persisted_model=persisted.get("model"),
            persisted_effort=persisted.get("effort"),
            persisted_cwd=persisted.get("cwd"),
        )
    except ConfigError as exc:
        raise invalid_request(f"error deriving config: {exc}") from None
    created = time.time()
    thread = LoadedThread(
        id=new_thread_id(),
        settings=settings,
        writer=MemoryRolloutWriter(),
        ephemeral=ephemeral,
        created_at=int(created),
        source=SESSION_SOURCE,
        cli_version=PROTOCOL_VERSION,
        originator=ctx.app.originator,
    )
    return thread, created


def _attach_writer(
    mgr: ThreadManager, thread: LoadedThread, created: float, forked_from: str | None = None
) -> None:
    meta = _session_meta(thread.id, created, thread, forked_from=forked_from)
    git = collect_git_info(Path(thread.settings.cwd))
    if git is not None:  # in a repository (an unborn one records an empty table)
        meta["git"] = git
    if git:
        thread.git_info = GitInfo(sha=git.get("commit_hash"), branch=git.get("branch"),
                                  origin_url=git.get("repository_url"))
    if thread.ephemeral:
        thread.writer = MemoryRolloutWriter(meta)
    else:
        thread.writer = RolloutWriter(
            rollout_path(mgr.codex_home, thread.id, created),
            session_meta=meta,
            on_append=mgr.on_append(thread),
        )


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
            from pycodex.core import session, tool_router

            tool_router.ToolRouter()
            del session
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
    from pycodex.core.models_catalog import lookup_model

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
    thread.settings.dynamic_tools = params.dynamic_tools
    thread.settings.experimental_raw_events = params.experimental_raw_events
    thread.settings.persist_extended_history = params.persist_extended_history
    try:
        _attach_writer(mgr, thread, created)
    except OSError as exc:
        raise internal_error(f"error creating thread: {exc}") from None
    mgr.register(thread, ctx.connection_id)
    ctx.respond(_start_response(mgr, thread, []))
    ctx.outgoing.notify("thread/started", ThreadStartedNotification(thread=mgr.wire_thread(thread)))
    _after_thread_started(ctx, thread)
    return DEFERRED


# -- resume ---------------------------------------------------------------------------


def _read_rollout(
    path: Path, thread_id: str
) -> tuple[dict[str, Any], list[Turn], dict[str, Any], int]:
    """(session_meta, turns, last turn_context, next ordinal) in one streaming pass."""
    stored = read_thread(path, thread_id)
    return stored.meta, stored.turns, stored.context, stored.next_ordinal


@route("thread/resume")
async def thread_resume(ctx: RequestContext, params: ThreadResumeParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    # after this answer is out: the warm-up would compete with the resume for the GIL
    asyncio.get_running_loop().call_soon(warm_up_model_client)
    loaded = mgr.get(thread_id)
    if loaded is not None:
        return _rejoin(ctx, mgr, loaded, params)
    if params.history is not None and not params.history:
        raise invalid_request("history must not be empty")
    path: Path | None
    summary: ThreadSummary | None = None
    if params.path:
        path = Path(resolve_cwd(params.path, str(ctx.app.options.cwd)))
        if not path.exists():
            raise invalid_request(f"failed to load rollout `{path}`: file not found")
    else:
        summary = _locate(mgr, thread_id)
        if summary is None or summary.archived:
            raise _no_rollout(thread_id)
        path = Path(summary.path)
    try:
        meta, turns, context, ordinal = _read_rollout(path, thread_id)
    except OSError as exc:
        raise invalid_request(f"failed to load rollout `{path}`: {exc}") from None
    if not meta:
        raise invalid_request(f"failed to load rollout `{path}`: missing session metadata")
    persisted = {
        "model": context.get("model") if isinstance(context.get("model"), str) else None,
        "effort": context.get("effort") if isinstance(context.get("effort"), str) else None,
        "cwd": meta.get("cwd") if isinstance(meta.get("cwd"), str) else None,
    }
    thread, _ = _new_loaded(ctx, mgr, params, ephemeral=False, persisted=persisted)
    created_ms = parse_timestamp_ms(str(meta.get("timestamp", ""))) or int(time.time() * 1000)
    thread.id = thread_id
    thread.created_at = created_ms // 1000
    thread.source = source_to_wire(meta.get("source", SESSION_SOURCE))
    thread.cli_version = str(meta.get("cli_version", ""))
    thread.originator = meta.get("originator") if isinstance(meta.get("originator"), str) else None
    thread.forked_from_id = (
        meta.get("forked_from_id") if isinstance(meta.get("forked_from_id"), str) else None
    )
    thread.preview = summary.preview if summary and summary.preview else turn_preview(turns)
    thread.name = summary.name if summary else None
    if summary and (summary.git_sha or summary.git_branch or summary.git_origin_url):
        thread.git_info = GitInfo(
            sha=summary.git_sha, branch=summary.git_branch, origin_url=summary.git_origin_url
        )
    try:
        thread.updated_at = int(path.stat().st_mtime)
    except OSError:
        thread.updated_at = thread.created_at
    thread.writer = RolloutWriter(path, next_ordinal=ordinal, on_append=mgr.on_append(thread))
    mgr.register(thread, ctx.connection_id)
    if params.history:
        # The given items become the model history from here on: recorded like a
        # compaction whose replacement history they are, so the change survives restarts.
        from pycodex.store import events

        items = [item for item in params.history if isinstance(item, dict)]
        await thread.writer.append([events.compacted("", items)])
    return _start_response(mgr, thread, [] if params.exclude_turns else turns)


def _rejoin(
    ctx: RequestContext, mgr: ThreadManager, thread: LoadedThread, params: ThreadResumeParams
) -> ThreadStartResponse:
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
    turns = [] if params.exclude_turns else thread.turns()
    return _start_response(mgr, thread, turns)


# -- fork -----------------------------------------------------------------------------


@route("thread/fork")
async def thread_fork(ctx: RequestContext, params: ThreadForkParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    source_id = _thread_id(params.thread_id)
    source = mgr.get(source_id)
    lines: list[RolloutLine] | None = None
    path: Path | None = None
    name: str | None = None
    if params.path:
        path = Path(resolve_cwd(params.path, str(ctx.app.options.cwd)))
    elif source is not None:
        if source.ephemeral:
            lines = list(source.lines())
        elif source.materialized:
            path = source.writer.path
        name = source.name
    if lines is None and path is None:
        summary = _locate(mgr, source_id)
        if summary is None:
            raise _no_rollout(source_id)
        path = Path(summary.path)
        name = summary.name
    if lines is None:
        assert path is not None
        try:
            lines = [line for line in iter_rollout(path) if line.type != "session_meta"]
        except OSError as exc:
            raise invalid_request(f"failed to load rollout `{path}`: {exc}") from None
    else:
        lines = [line for line in lines if line.type != "session_meta"]
    persisted: dict[str, Any] = {}
    for line in lines:
        if line.type == "turn_context" and isinstance(line.payload, dict):
            persisted = {"model": line.payload.get("model"), "effort": line.payload.get("effort")}
    if source is not None:
        persisted["cwd"] = source.settings.cwd
    thread, created = _new_loaded(ctx, mgr, params, ephemeral=params.ephemeral, persisted=persisted)
    thread.forked_from_id = source_id
    thread.name = name
    items: list[tuple[str, Any]] = [(line.type, line.payload) for line in lines]
    if source is not None and source.active_turn_id is not None:
        items.append(
            (
                "event_msg",
                {"type": "turn_aborted", "turn_id": source.active_turn_id, "reason": "interrupted"},
            )
        )
    try:
        _attach_writer(mgr, thread, created, forked_from=source_id)
        thread.writer.append_nowait(items)
    except OSError as exc:
        raise internal_error(f"error creating thread: {exc}") from None
    turns = thread.turns()
    thread.preview = thread.preview or turn_preview(turns)
    mgr.register(thread, ctx.connection_id)
    mgr.refresh_index(thread)
    if name and not thread.ephemeral:
        append_name(mgr.codex_home, thread.id, name)
    ctx.respond(_start_response(mgr, thread, [] if params.exclude_turns else turns))
    ctx.outgoing.notify("thread/started", ThreadStartedNotification(thread=mgr.wire_thread(thread)))
    _after_thread_started(ctx, thread)
    return DEFERRED


# -- list / read ----------------------------------------------------------------------


def _parse_cursor(cursor: str) -> tuple[int, str]:
    stamp, sep, tid = cursor.partition("|")
    ms = parse_timestamp_ms(stamp) if sep else None
    if ms is None:
        raise invalid_request(f"invalid cursor: {cursor}")
    try:
        return ms, parse_thread_id(tid)
    except InvalidId:
        raise invalid_request(f"invalid cursor: {cursor}") from None


def _list_query(ctx: RequestContext, params: ThreadListParams) -> ListQuery:
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
        after=_parse_cursor(params.cursor) if params.cursor else None,
        limit=limit + 1,
        model_providers=params.model_providers or None,
        source_kinds=params.source_kinds or list(INTERACTIVE_SOURCES),
        cwds=cwds,
        search_term=params.search_term or None,
    )


async def _list_rows(mgr: ThreadManager, query: ListQuery) -> list[ThreadSummary]:
    """Rows from the index; while it is still being built, from the files when their order
    serves the page (the rebuild pauses meanwhile), else once the index is ready."""
    index = mgr.index
    if not index.is_ready():
        index.warm_up_in_background()
        if not index.building():  # an existing index opens in a moment, unless it is stale
            await asyncio.to_thread(index.wait_decided)
        if servable(query) and index.building():
            with index.paused():
                rows = scan_page(mgr.codex_home, query)
            if rows is not None:
                logger.debug("thread/list: page read from the rollout files (%d rows)", len(rows))
                return rows
        logger.debug("thread/list: waiting for the thread index")
        await asyncio.to_thread(index.wait_ready)
    return index.list(**query.index_kwargs())


@route("thread/list")
async def thread_list(ctx: RequestContext, params: ThreadListParams) -> ThreadListResponse:
    mgr = ctx.app.get(thread_manager)
    query = _list_query(ctx, params)
    rows = await _list_rows(mgr, query)
    limit = query.limit - 1
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        stamp_ms = last.updated_at_ms if query.sort_key == "updated_at" else last.created_at_ms
        next_cursor = f"{utc_timestamp(stamp_ms / 1000)}|{last.id}"
    return ThreadListResponse(data=[mgr.wire_summary(row) for row in rows], next_cursor=next_cursor)


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


def _load_turns(path: Path, thread_id: str, running: str | None = None) -> list[Turn]:
    try:
        return read_turns(path, thread_id, running)
    except OSError as exc:
        raise internal_error(f"failed to load rollout `{path}`: {exc}") from None


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
            turns = _load_turns(loaded.writer.path, thread_id, loaded.active_turn_id)
        return ThreadResponse(thread=mgr.wire_thread(loaded, turns=turns))
    summary = _locate(mgr, thread_id)
    if summary is None:
        raise invalid_request(f"thread not loaded: {thread_id}")
    turns = _load_turns(Path(summary.path), thread_id) if params.include_turns else []
    return ThreadResponse(thread=mgr.wire_summary(summary, turns))


@route("thread/turns/list")
async def thread_turns_list(
    ctx: RequestContext, params: ThreadTurnsListParams
) -> ThreadTurnsListResponse:
    """A page of a thread's turns, rebuilt from its rollout (a running turn included)."""
    from pycodex.api.turn_pages import apply_view, paginate

    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    loaded = mgr.get(thread_id)
    if loaded is not None:
        if loaded.ephemeral:
            raise invalid_request("ephemeral threads do not support thread/turns/list")
        turns = (_load_turns(loaded.writer.path, thread_id, loaded.active_turn_id)
                 if loaded.materialized else [])
    else:
        summary = _locate(mgr, thread_id)
        if summary is None:
            raise invalid_request(f"thread not loaded: {thread_id}")
        turns = _load_turns(Path(summary.path), thread_id)
    view = params.items_view or "summary"
    page = paginate([apply_view(turn, view) for turn in turns], params.cursor, params.limit,
                    params.sort_direction or "desc")
    return ThreadTurnsListResponse(data=page.turns, next_cursor=page.next_cursor,
                                   backwards_cursor=page.backwards_cursor)


# -- archive / unarchive / delete -----------------------------------------------------


async def _stored_path(mgr: ThreadManager, thread_id: str) -> tuple[Path, LoadedThread | None]:
    """The rollout path of a non-archived thread, materializing a loaded one if needed."""
    loaded = mgr.get(thread_id)
    if loaded is not None and not loaded.ephemeral:
        await loaded.writer.materialize()
        mgr.refresh_index(loaded)
        return loaded.writer.path, loaded
    summary = _locate(mgr, thread_id, archived=False)
    if summary is None:
        raise _no_rollout(thread_id)
    return Path(summary.path), loaded


@route("thread/archive")
async def thread_archive(ctx: RequestContext, params: ThreadArchiveParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    path, loaded = await _stored_path(mgr, thread_id)
    if loaded is not None:
        mgr.unload(thread_id, closed_notification=False)
    try:
        new_path = archive_rollout(mgr.codex_home, path)
    except ArchiveError as exc:
        raise internal_error(str(exc)) from None
    mgr.index.update(thread_id, path=str(new_path), archived=1)
    ctx.respond(EmptyResponse())
    ctx.outgoing.notify("thread/archived", ThreadIdNotification(thread_id=thread_id))
    return DEFERRED


@route("thread/unarchive")
async def thread_unarchive(ctx: RequestContext, params: ThreadUnarchiveParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    summary = _locate(mgr, thread_id, archived=True)
    if summary is None:
        raise invalid_request(f"no archived rollout found for thread id {thread_id}")
    try:
        new_path = unarchive_rollout(mgr.codex_home, Path(summary.path), thread_id)
    except ArchiveError as exc:
        if exc.kind == "io":
            raise internal_error(str(exc)) from None
        raise invalid_request(str(exc)) from None
    st = new_path.stat()
    summary.path = str(new_path)
    summary.archived = False
    summary.updated_at_ms = st.st_mtime_ns // 1_000_000
    summary.file_size, summary.file_mtime_ns = st.st_size, st.st_mtime_ns
    mgr.index.upsert(summary)
    ctx.respond(ThreadResponse(thread=mgr.wire_summary(summary)))
    ctx.outgoing.notify("thread/unarchived", ThreadIdNotification(thread_id=thread_id))
    return DEFERRED


@route("thread/delete")
async def thread_delete(ctx: RequestContext, params: ThreadDeleteParams) -> Any:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    loaded = mgr.get(thread_id)
    path: Path | None = None
    if loaded is not None:
        path = loaded.writer.path if loaded.materialized else None
        mgr.unload(thread_id, closed_notification=False)
    else:
        summary = _locate(mgr, thread_id)
        if summary is None:
            raise _no_rollout(thread_id)
        path = Path(summary.path)
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise internal_error(f"failed to delete thread: {exc}") from None
    mgr.index.delete(thread_id)
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
    if loaded is None and _locate(mgr, thread_id) is None:
        raise _no_rollout(thread_id)
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
    summary = None if loaded is not None else _locate(mgr, thread_id)
    if loaded is None and summary is None:
        raise _no_rollout(thread_id)
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


@route("thread/rollback")
async def thread_rollback(ctx: RequestContext, params: ThreadRollbackParams) -> ThreadResponse:
    mgr = ctx.app.get(thread_manager)
    thread_id = _thread_id(params.thread_id)
    if params.num_turns < 1:
        raise invalid_request("numTurns must be >= 1")
    loaded = mgr.get(thread_id)
    if loaded is None:
        raise invalid_request(f"thread not found: {thread_id}")
    if loaded.running:
        raise invalid_request("rollback already in progress for this thread")
    try:
        await loaded.writer.append(
            [("event_msg", {"type": "thread_rolled_back", "num_turns": params.num_turns})]
        )
        await loaded.writer.sync()
    except OSError as exc:
        raise invalid_request(f"thread rollback failed: {exc}") from None
    turns = loaded.turns()
    mgr.refresh_index(loaded)
    return ThreadResponse(thread=mgr.wire_thread(loaded, turns=turns))
