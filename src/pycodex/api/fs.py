"""``fs/*`` methods (host filesystem access by absolute path) and ``fuzzyFileSearch``.

I/O failures answer ``-32603`` with Rust's ``io::Error`` wording (``No such file or directory
(os error 2)``); misuse answers ``-32600`` with the reference texts.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pycodex.api.context import AppState, RequestContext
from pycodex.api.router import route
from pycodex.atomic import atomic_write
from pycodex.core import fuzzy_search
from pycodex.core.exec.encoding import Base64Error, decode_base64, encode_base64, os_error_text
from pycodex.core.fs_watch import FsWatcher
from pycodex.core.fuzzy_search import FileMatch
from pycodex.protocol.errors import RpcError, internal_error, invalid_request
from pycodex.protocol.types.fs import (
    FsChangedNotification,
    FsCopyParams,
    FsCopyResponse,
    FsCreateDirectoryParams,
    FsCreateDirectoryResponse,
    FsGetMetadataParams,
    FsGetMetadataResponse,
    FsReadDirectoryEntry,
    FsReadDirectoryParams,
    FsReadDirectoryResponse,
    FsReadFileParams,
    FsReadFileResponse,
    FsRemoveParams,
    FsRemoveResponse,
    FsUnwatchParams,
    FsUnwatchResponse,
    FsWatchParams,
    FsWatchResponse,
    FsWriteFileParams,
    FsWriteFileResponse,
    FuzzyFileSearchParams,
    FuzzyFileSearchResponse,
    FuzzyFileSearchResult,
    FuzzyFileSearchSessionCompletedNotification,
    FuzzyFileSearchSessionEmptyResponse,
    FuzzyFileSearchSessionStartParams,
    FuzzyFileSearchSessionStopParams,
    FuzzyFileSearchSessionUpdatedNotification,
    FuzzyFileSearchSessionUpdateParams,
)

T = TypeVar("T")


async def _io(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking file I/O in a worker thread; ``OSError`` becomes ``-32603``."""
    try:
        return await asyncio.to_thread(fn, *args)
    except OSError as exc:
        raise internal_error(os_error_text(exc)) from None


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


# -- read / write -------------------------------------------------------------------------------
def _read_file(path: str) -> bytes:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _NotAFile(path)
    with open(path, "rb") as fh:
        return fh.read()


class _NotAFile(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


@route("fs/readFile")
async def fs_read_file(ctx: RequestContext, params: FsReadFileParams) -> FsReadFileResponse:
    try:
        data = await _io(_read_file, params.path)
    except _NotAFile as exc:
        raise invalid_request(f"path `{exc.path}` is not a file") from None
    return FsReadFileResponse(data_base64=encode_base64(data))




def _write_file(path: str, data: bytes) -> None:
    """Replace ``path`` atomically (temp file + rename), keeping an existing file's mode.

    Symlinks are written through; a directory that allows writing the file but not creating
    a sibling falls back to an in-place write.
    """
    if os.path.isdir(os.path.realpath(path)):
        raise _os_error(errno.EISDIR)
    atomic_write(path, data, in_place_if_no_temp=True)


@route("fs/writeFile")
async def fs_write_file(ctx: RequestContext, params: FsWriteFileParams) -> FsWriteFileResponse:
    try:
        data = decode_base64(params.data_base64)
    except Base64Error as exc:
        raise invalid_request(f"fs/writeFile requires valid base64 dataBase64: {exc}") from None
    await _io(_write_file, params.path, data)
    return FsWriteFileResponse()


# -- directories and metadata --------------------------------------------------------------------
def _create_directory(path: str, recursive: bool) -> None:
    if recursive:
        os.makedirs(path, exist_ok=True)
    else:
        os.mkdir(path)


@route("fs/createDirectory")
async def fs_create_directory(
    ctx: RequestContext, params: FsCreateDirectoryParams
) -> FsCreateDirectoryResponse:
    recursive = True if params.recursive is None else params.recursive
    await _io(_create_directory, params.path, recursive)
    return FsCreateDirectoryResponse()


def _millis(seconds: float | None) -> int:
    return int(seconds * 1000) if seconds else 0


def _metadata(path: str) -> FsGetMetadataResponse:
    st = os.stat(path)
    is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    return FsGetMetadataResponse(
        is_directory=stat.S_ISDIR(st.st_mode),
        is_file=stat.S_ISREG(st.st_mode),
        is_symlink=is_link,
        created_at_ms=_millis(getattr(st, "st_birthtime", None)),
        modified_at_ms=st.st_mtime_ns // 1_000_000,
    )


@route("fs/getMetadata")
async def fs_get_metadata(
    ctx: RequestContext, params: FsGetMetadataParams
) -> FsGetMetadataResponse:
    return await _io(_metadata, params.path)


def _read_directory(path: str) -> list[FsReadDirectoryEntry]:
    entries: list[FsReadDirectoryEntry] = []
    with os.scandir(path) as it:
        for entry in it:
            try:
                st = entry.stat()  # follows symlinks; dangling links are left out
            except OSError:
                continue
            entries.append(
                FsReadDirectoryEntry(
                    file_name=entry.name,
                    is_directory=stat.S_ISDIR(st.st_mode),
                    is_file=stat.S_ISREG(st.st_mode),
                )
            )
    return entries


@route("fs/readDirectory")
async def fs_read_directory(
    ctx: RequestContext, params: FsReadDirectoryParams
) -> FsReadDirectoryResponse:
    return FsReadDirectoryResponse(entries=await _io(_read_directory, params.path))


# -- remove / copy ------------------------------------------------------------------------------
def _remove(path: str, recursive: bool, force: bool) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if force:
            return
        raise
    if stat.S_ISDIR(st.st_mode):
        if recursive:
            shutil.rmtree(path)
        else:
            os.rmdir(path)
    else:
        os.unlink(path)


@route("fs/remove")
async def fs_remove(ctx: RequestContext, params: FsRemoveParams) -> FsRemoveResponse:
    recursive = True if params.recursive is None else params.recursive
    force = True if params.force is None else params.force
    await _io(_remove, params.path, recursive, force)
    return FsRemoveResponse()


def _copy_entry(source: str, destination: str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        if os.path.lexists(destination) and not os.path.isdir(destination):
            os.unlink(destination)
        os.symlink(os.readlink(source), destination)
    elif stat.S_ISDIR(st.st_mode):
        os.makedirs(destination, exist_ok=True)
        with os.scandir(source) as it:
            children = [(e.path, e.name, e.stat(follow_symlinks=False)) for e in it]
        for child, name, child_st in children:
            _copy_entry(child, os.path.join(destination, name), child_st)
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(source, destination)
        shutil.copymode(source, destination)
    # sockets, fifos and devices are skipped


class _CopyRefused(Exception):
    pass


def _copy(source: str, destination: str, recursive: bool) -> None:
    st = os.lstat(source)
    if stat.S_ISDIR(st.st_mode):
        if not recursive:
            raise _CopyRefused("fs/copy requires recursive: true when sourcePath is a directory")
        src = os.path.realpath(source)
        dst = os.path.realpath(destination)
        if dst == src or dst.startswith(src.rstrip("/") + "/"):
            raise _CopyRefused(
                "fs/copy cannot copy a directory to itself or one of its descendants"
            )
    _copy_entry(source, destination, st)


@route("fs/copy")
async def fs_copy(ctx: RequestContext, params: FsCopyParams) -> FsCopyResponse:
    try:
        await _io(_copy, params.source_path, params.destination_path, params.recursive)
    except _CopyRefused as exc:
        raise invalid_request(str(exc)) from None
    return FsCopyResponse()


# -- watches ------------------------------------------------------------------------------------
class FsWatchService:
    """Connection-scoped ``fs/watch`` registrations over one :class:`FsWatcher`."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self._watcher: FsWatcher | None = None
        app.connection_closed_hooks.append(self.connection_closed)

    @property
    def watcher(self) -> FsWatcher:
        if self._watcher is None:
            self._watcher = FsWatcher(self._changed)
        return self._watcher

    def _changed(self, key: Hashable, paths: list[str]) -> None:
        assert isinstance(key, tuple)
        connection_id, watch_id = key
        self.app.outgoing.notify(
            "fs/changed",
            FsChangedNotification(watch_id=watch_id, changed_paths=paths),
            to=[connection_id],
        )

    def connection_closed(self, connection_id: int) -> None:
        if self._watcher is None:
            return
        for key in self._watcher.watch_keys():
            if isinstance(key, tuple) and key[0] == connection_id:
                self._watcher.remove(key)


def fs_watch_service(app: AppState) -> FsWatchService:
    """``app.get(fs_watch_service)``."""
    return FsWatchService(app)


@route("fs/watch")
async def fs_watch(ctx: RequestContext, params: FsWatchParams) -> FsWatchResponse:
    service = ctx.app.get(fs_watch_service)
    key = (ctx.connection_id, params.watch_id)
    if key in service.watcher:
        raise invalid_request(f"watchId already exists: {params.watch_id}")
    path = os.path.normpath(params.path)
    if os.path.exists(path) and not os.path.islink(path):
        path = os.path.realpath(path)
    service.watcher.add(key, path)
    return FsWatchResponse(path=path)


@route("fs/unwatch")
async def fs_unwatch(ctx: RequestContext, params: FsUnwatchParams) -> FsUnwatchResponse:
    service = ctx.app.peek(fs_watch_service)
    if service is not None and service._watcher is not None:
        service._watcher.remove((ctx.connection_id, params.watch_id))
    return FsUnwatchResponse()


# -- fuzzy file search ------------------------------------------------------------------------
class FuzzySession:
    """An experimental search session: its roots, owner and the query being searched."""

    def __init__(self, roots: list[str], connection_id: int) -> None:
        self.roots = roots
        self.connection_id = connection_id
        self.generation = 0
        self.cancel = threading.Event()

    def next_query(self) -> tuple[int, threading.Event]:
        """A new query supersedes the running one: it is cancelled and never reported."""
        self.cancel.set()
        self.generation += 1
        self.cancel = threading.Event()
        return self.generation, self.cancel


class FuzzySearchService:
    """Cancellation tokens of running searches and the experimental search sessions."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self.tokens: dict[str, threading.Event] = {}
        self.sessions: dict[str, FuzzySession] = {}


def fuzzy_search_service(app: AppState) -> FuzzySearchService:
    """``app.get(fuzzy_search_service)``."""
    return FuzzySearchService(app)


def _wire_matches(matches: list[FileMatch]) -> list[FuzzyFileSearchResult]:
    return [
        FuzzyFileSearchResult(
            root=m.root,
            path=m.path,
            match_type=m.match_type,
            file_name=m.file_name,
            score=m.score,
            indices=m.indices,
        )
        for m in matches
    ]


@route("fuzzyFileSearch")
async def fuzzy_file_search(
    ctx: RequestContext, params: FuzzyFileSearchParams
) -> FuzzyFileSearchResponse:
    service = ctx.app.get(fuzzy_search_service)
    cancel = threading.Event()
    token = params.cancellation_token
    if token is not None:
        previous = service.tokens.get(token)
        if previous is not None:
            previous.set()
        service.tokens[token] = cancel
    try:
        matches = await asyncio.to_thread(
            fuzzy_search.search, params.query, params.roots, cancel=cancel
        )
    finally:
        if token is not None and service.tokens.get(token) is cancel:
            del service.tokens[token]
    return FuzzyFileSearchResponse(files=_wire_matches(matches))


async def _session_search(app: AppState, session_id: str, query: str) -> None:
    """Search for the session's latest query; a query superseded by a newer update (while
    waiting or searching) is dropped, so fast typing costs one result per settled query."""
    service = app.get(fuzzy_search_service)
    session = service.sessions.get(session_id)
    if session is None:
        return
    generation, cancel = session.next_query()
    await asyncio.sleep(0)  # let the response go out (and later updates in the same read)
    if session.generation != generation:
        return
    matches = (await asyncio.to_thread(fuzzy_search.search, query, session.roots,
                                       cancel=cancel) if query else [])
    if service.sessions.get(session_id) is not session or session.generation != generation:
        return  # stopped, restarted or superseded meanwhile
    to = [session.connection_id]
    app.outgoing.notify(
        "fuzzyFileSearch/sessionUpdated",
        FuzzyFileSearchSessionUpdatedNotification(
            session_id=session_id, query=query, files=_wire_matches(matches)
        ),
        to,
    )
    app.outgoing.notify(
        "fuzzyFileSearch/sessionCompleted",
        FuzzyFileSearchSessionCompletedNotification(session_id=session_id),
        to,
    )


def _spawn_session_search(app: AppState, session_id: str, query: str) -> None:
    task = asyncio.get_running_loop().create_task(_session_search(app, session_id, query))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


_BACKGROUND: set[asyncio.Task[None]] = set()


@route("fuzzyFileSearch/sessionStart")
async def fuzzy_session_start(
    ctx: RequestContext, params: FuzzyFileSearchSessionStartParams
) -> FuzzyFileSearchSessionEmptyResponse:
    if not params.session_id:
        raise invalid_request("sessionId must not be empty")
    service = ctx.app.get(fuzzy_search_service)
    previous = service.sessions.get(params.session_id)
    if previous is not None:
        previous.cancel.set()
    service.sessions[params.session_id] = FuzzySession(list(params.roots), ctx.connection_id)
    _spawn_session_search(ctx.app, params.session_id, "")
    return FuzzyFileSearchSessionEmptyResponse()


@route("fuzzyFileSearch/sessionUpdate")
async def fuzzy_session_update(
    ctx: RequestContext, params: FuzzyFileSearchSessionUpdateParams
) -> FuzzyFileSearchSessionEmptyResponse:
    service = ctx.app.get(fuzzy_search_service)
    if params.session_id not in service.sessions:
        raise invalid_request(f"fuzzy file search session not found: {params.session_id}")
    _spawn_session_search(ctx.app, params.session_id, params.query)
    return FuzzyFileSearchSessionEmptyResponse()


@route("fuzzyFileSearch/sessionStop")
async def fuzzy_session_stop(
    ctx: RequestContext, params: FuzzyFileSearchSessionStopParams
) -> FuzzyFileSearchSessionEmptyResponse:
    session = ctx.app.get(fuzzy_search_service).sessions.pop(params.session_id, None)
    if session is not None:
        session.cancel.set()
    return FuzzyFileSearchSessionEmptyResponse()


__all__ = ["FsWatchService", "FuzzySearchService", "RpcError", "fs_watch_service"]
