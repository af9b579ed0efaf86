"""``thread/attachment/*`` and ``thread/attachmentOwner/list``: opaque client payloads kept
per thread in SQLite, unique by ``(attachmentType, identityKey)``."""

from __future__ import annotations

from pycodex.api.context import RequestContext
from pycodex.api.keyset_pages import keyset_page
from pycodex.api.local_stores import attachment_store, find_thread, parse_id, require_thread
from pycodex.api.router import route
from pycodex.protocol.errors import INVALID_PARAMS
from pycodex.protocol.types import attachments as t
from pycodex.store.attachments import Attachment


def to_wire(attachment: Attachment) -> t.ThreadAttachment:
    return t.ThreadAttachment(
        id=attachment.id, attachment_type=attachment.attachment_type,
        identity_key=attachment.identity_key, payload=attachment.payload,
        created_at=attachment.created_at)


def _announce(ctx: RequestContext, attachment: Attachment, operation: str) -> None:
    ctx.outgoing.notify("thread/attachment/updated", t.ThreadAttachmentUpdatedNotification(
        thread_id=attachment.thread_id, attachment_type=attachment.attachment_type,
        identity_key=attachment.identity_key, attachment_id=attachment.id,
        operation=operation))  # type: ignore[arg-type]


@route("thread/attachment/add")
async def attachment_add(
    ctx: RequestContext, params: t.ThreadAttachmentAddParams
) -> t.ThreadAttachmentAddResponse:
    thread = require_thread(ctx, params.thread_id, code=INVALID_PARAMS)
    attachment, created = ctx.app.get(attachment_store).add(
        thread.id, params.attachment_type, params.identity_key, params.payload)
    if created:
        _announce(ctx, attachment, "created")
    return t.ThreadAttachmentAddResponse(
        outcome="created" if created else "existing", attachment=to_wire(attachment))


@route("thread/attachment/list")
async def attachment_list(
    ctx: RequestContext, params: t.ThreadAttachmentListParams
) -> t.ThreadAttachmentListResponse:
    thread_id = parse_id(params.thread_id, code=INVALID_PARAMS)
    items = ctx.app.get(attachment_store).of_thread(thread_id)
    page, cursor = keyset_page(items, lambda a: a.id, params.cursor, params.limit)
    return t.ThreadAttachmentListResponse(data=[to_wire(a) for a in page], next_cursor=cursor)


@route("thread/attachmentOwner/list")
async def attachment_owner_list(
    ctx: RequestContext, params: t.ThreadAttachmentOwnerListParams
) -> t.ThreadAttachmentOwnerListResponse:
    owners = []
    for thread_id in ctx.app.get(attachment_store).owners(
            params.attachment_type, params.identity_key):
        thread = find_thread(ctx, thread_id)
        if thread is not None and params.archived in (None, thread.archived):
            owners.append(t.ThreadAttachmentOwner(thread_id=thread.id, archived=thread.archived))
    page, cursor = keyset_page(owners, lambda o: o.thread_id, params.cursor, params.limit)
    return t.ThreadAttachmentOwnerListResponse(data=page, next_cursor=cursor)


@route("thread/attachment/remove")
async def attachment_remove(
    ctx: RequestContext, params: t.ThreadAttachmentRemoveParams
) -> t.ThreadAttachmentRemoveResponse:
    thread = require_thread(ctx, params.thread_id, code=INVALID_PARAMS)
    removed = ctx.app.get(attachment_store).remove(
        thread.id, params.attachment_type, params.identity_key)
    if removed is not None:
        _announce(ctx, removed, "deleted")
    return t.ThreadAttachmentRemoveResponse()
