"""Wire types of thread sections (``threadSection/*``, ``thread/section/move``)."""

from __future__ import annotations

from typing import Any

from pycodex.protocol.base import UNSET, UnsetType, WireStruct
from pycodex.protocol.methods import MethodSpec


class ThreadSectionAppearance(WireStruct):
    icon: str | None = None
    color: str | None = None


class ThreadSection(WireStruct):
    id: str
    name: str
    appearance: ThreadSectionAppearance | None = None


class ThreadSectionListParams(WireStruct):
    cursor: str | None = None
    limit: int | None = None


class ThreadSectionListResponse(WireStruct):
    data: list[ThreadSection]
    next_cursor: str | None


class ThreadSectionCreateParams(WireStruct):
    name: str
    appearance: ThreadSectionAppearance | None = None


class ThreadSectionCreateResponse(WireStruct):
    section: ThreadSection


class ThreadSectionUpdateParams(WireStruct):
    section_id: str
    name: str
    appearance: ThreadSectionAppearance | UnsetType | None = UNSET
    """Omitted keeps the appearance, ``null`` clears it."""


class ThreadSectionUpdateResponse(WireStruct):
    section: ThreadSection


class ThreadSectionDeleteParams(WireStruct):
    section_id: str


class ThreadSectionDeleteResponse(WireStruct):
    pass


class ThreadSectionMoveParams(WireStruct):
    thread_id: str
    section_id: str | None
    before_thread_id: str | None = None


class ThreadSectionMoveResponse(WireStruct):
    pass


class ThreadSectionChangedNotification(WireStruct):
    thread_id: str
    section_id: str | None


REQUESTS: list[MethodSpec] = [
    MethodSpec("threadSection/list", ThreadSectionListParams, ThreadSectionListResponse),
    MethodSpec("threadSection/create", ThreadSectionCreateParams, ThreadSectionCreateResponse),
    MethodSpec("threadSection/update", ThreadSectionUpdateParams, ThreadSectionUpdateResponse),
    MethodSpec("threadSection/delete", ThreadSectionDeleteParams, ThreadSectionDeleteResponse),
    MethodSpec("thread/section/move", ThreadSectionMoveParams, ThreadSectionMoveResponse),
]
NOTIFICATIONS: dict[str, Any] = {"thread/section/changed": ThreadSectionChangedNotification}
