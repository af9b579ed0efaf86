"""``feedback/save`` writes a local report archive; ``feedback/upload`` has no service to
post to and says so."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pycodex.api.context import RequestContext
from pycodex.api.local_stores import find_thread
from pycodex.api.router import route
from pycodex.atomic import atomic_write
from pycodex.core.feedback import FeedbackReport, build_archive, no_thread_id, prompt_hash
from pycodex.log_buffer import RECENT
from pycodex.protocol.errors import internal_error, invalid_request
from pycodex.protocol.types import feedback as t
from pycodex.store.ids import InvalidId, parse_thread_id

NO_UPLOAD_ENDPOINT = (
    "failed to upload feedback: no feedback upload endpoint is reachable from pycodex; "
    "use feedback/save to write the report to a local file"
)


def _rollout(ctx: RequestContext, thread_id: str | None) -> Path | None:
    if thread_id is None:
        return None
    try:
        found = find_thread(ctx, parse_thread_id(thread_id))
    except InvalidId:
        return None
    return found.path if found is not None else None


def _save(path: Path, data: bytes) -> None:
    if path.exists() or path.is_symlink():
        raise FileExistsError("feedback save path already exists")
    atomic_write(path, data, mode=0o600, durable=True)


@route("feedback/save")
async def feedback_save(
    ctx: RequestContext, params: t.FeedbackSaveParams
) -> t.FeedbackSaveResponse:
    path = Path(params.save_path)
    if not path.is_absolute():
        raise invalid_request("feedback savePath must be an absolute host path")
    thread_id = params.thread_id or no_thread_id()
    rollout = _rollout(ctx, params.thread_id)
    report = FeedbackReport(
        classification=params.classification, thread_id=thread_id, reason=params.reason,
        tags=params.tags or {}, logs=RECENT.text() if params.include_logs else None,
        rollout=rollout if params.include_logs else None,
        extra_files=[Path(p) for p in params.extra_log_files or []]
        if params.include_logs else [])
    try:
        await asyncio.to_thread(lambda: _save(path, build_archive(report)))
    except FileExistsError as exc:
        raise internal_error(f"failed to save feedback: {exc}") from None
    except OSError as exc:
        detail = os.strerror(exc.errno) if exc.errno else str(exc)
        raise internal_error(
            f"failed to save feedback: {detail} (os error {exc.errno}) at path \"{path}\""
        ) from None
    return t.FeedbackSaveResponse(saved_path=str(path), thread_id=thread_id,
                                  prompt_hash=prompt_hash(rollout))


@route("feedback/upload")
async def feedback_upload(ctx: RequestContext, params: t.FeedbackUploadParams) -> None:
    raise internal_error(NO_UPLOAD_ENDPOINT)
