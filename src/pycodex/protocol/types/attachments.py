"""Wire types of thread attachments (``thread/attachment/*``,
``thread/attachmentOwner/list``)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec


class ThreadAttachment(WireStruct):
    id: str
    attachment_type: str
    identity_key: str
    payload: Any
    created_at: int


class ThreadAttachmentAddParams(WireStruct):
    thread_id: str
    attachment_type: str
    identity_key: str
    payload: Any


class ThreadAttachmentAddResponse(WireStruct):
    outcome: Literal["created", "existing"]
    attachment: ThreadAttachment


class ThreadAttachmentListParams(WireStruct):
    thread_id: str
    cursor: str | None = None
    limit: int | None = None


class ThreadAttachmentListResponse(WireStruct):
    data: list[ThreadAttachment]
    next_cursor: str | None


class ThreadAttachmentOwnerListParams(WireStruct):
    attachment_type: str
    identity_key: str
    archived: bool | None = None
    cursor: str | None = None
    limit: int | None = None


class ThreadAttachmentOwner(WireStruct):
    thread_id: str
    archived: bool


class ThreadAttachmentOwnerListResponse(WireStruct):
    data: list[ThreadAttachmentOwner]
    next_cursor: str | None


class ThreadAttachmentRemoveParams(WireStruct):
    thread_id: str
    attachment_type: str
    identity_key: str


class ThreadAttachmentRemoveResponse(WireStruct):
    pass


class ThreadAttachmentUpdatedNotification(WireStruct):
    thread_id: str
    attachment_type: str
    identity_key: str
    attachment_id: str
    operation: Literal["created", "deleted"]


REQUESTS: list[MethodSpec] = [
    MethodSpec("thread/attachment/add", ThreadAttachmentAddParams, ThreadAttachmentAddResponse),
    MethodSpec(
        "thread/attachment/list", ThreadAttachmentListParams, ThreadAttachmentListResponse
    ),
    MethodSpec(
        "thread/attachmentOwner/list",
        ThreadAttachmentOwnerListParams,
        ThreadAttachmentOwnerListResponse,
    ),
    MethodSpec(
        "thread/attachment/remove", ThreadAttachmentRemoveParams, ThreadAttachmentRemoveResponse
    ),
]
NOTIFICATIONS: dict[str, Any] = {
    "thread/attachment/updated": ThreadAttachmentUpdatedNotification,
}
