"""Wire types of ``feedback/upload`` and ``feedback/save``."""

from __future__ import annotations

from typing import Any

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec


class FeedbackUploadParams(WireStruct):
    classification: str
    include_logs: bool = False
    reason: str | None = None
    thread_id: str | None = None
    extra_log_files: list[str] | None = None
    tags: dict[str, str] | None = None


class FeedbackUploadResponse(WireStruct):
    thread_id: str
    prompt_hash: str | None = None


class FeedbackSaveParams(WireStruct):
    classification: str
    save_path: str
    include_logs: bool = False
    reason: str | None = None
    thread_id: str | None = None
    extra_log_files: list[str] | None = None
    tags: dict[str, str] | None = None


class FeedbackSaveResponse(WireStruct):
    saved_path: str
    thread_id: str
    prompt_hash: str | None


REQUESTS: list[MethodSpec] = [
    MethodSpec("feedback/upload", FeedbackUploadParams, FeedbackUploadResponse),
    MethodSpec("feedback/save", FeedbackSaveParams, FeedbackSaveResponse),
]
NOTIFICATIONS: dict[str, Any] = {}
