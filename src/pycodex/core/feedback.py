"""Feedback reports: a ZIP holding ``report.json`` (classification, reason, tags),
``manifest.json`` and, when logs are included, this process's recent log lines, the
thread's rollout and any extra log files the client names."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from pycodex import PROTOCOL_VERSION

_TITLES = {"bug": "Bug", "good_result": "Good result", "bad_result": "Bad result",
           "safety_check": "Safety check"}


class FeedbackReport(msgspec.Struct, kw_only=True):
    classification: str
    thread_id: str
    reason: str | None = None
    tags: Mapping[str, str] = {}
    logs: str | None = None
    rollout: Path | None = None
    extra_files: list[Path] = []


def no_thread_id() -> str:
    """The session id of a report about no particular thread."""
    return f"no-active-thread-{uuid.uuid4()}"


def prompt_hash(rollout: Path | None) -> str | None:
    """SHA-256 of the whitespace-normalized base instructions in the rollout's session
    header; ``None`` when there are none."""
    if rollout is None:
        return None
    try:
        with rollout.open(encoding="utf-8") as handle:
            first = json.loads(handle.readline() or "null")
    except (OSError, ValueError):
        return None
    payload = first.get("payload") if isinstance(first, dict) else None
    base = payload.get("base_instructions") if isinstance(payload, dict) else None
    text = base.get("text") if isinstance(base, dict) else None
    if not isinstance(text, str):
        return None
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def _report_json(report: FeedbackReport) -> bytes:
    title = _TITLES.get(report.classification, report.classification)
    message = f"[{title}]: Codex session {report.thread_id}"
    body: dict[str, Any] = {
        "event_id": uuid.uuid4().hex, "level": "info", "message": message,
        "timestamp": time.time()}
    if report.reason:
        body["exception"] = {"values": [{"type": message, "value": report.reason}]}
    body["tags"] = {**report.tags, "classification": report.classification,
                    "cli_version": PROTOCOL_VERSION, "session_source": "vscode",
                    "thread_id": report.thread_id}
    return json.dumps(body).encode()


def build_archive(report: FeedbackReport) -> bytes:
    """The ZIP bytes of ``report``; unreadable extra files are skipped."""
    attachments: list[tuple[str, bytes, str]] = []
    if report.logs is not None:
        attachments.append(("codex-logs.log", report.logs.encode(), "text/plain"))
    for path in ([report.rollout] if report.rollout else []) + list(report.extra_files):
        try:
            attachments.append((path.name, path.read_bytes(), "text/plain"))
        except OSError:
            continue
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.json", _report_json(report))
        for index, (name, data, content_type) in enumerate(attachments):
            entry = f"attachments/{index:04d}/{name}"
            archive.writestr(entry, data)
            manifest.append({"entry": entry, "filename": name, "contentType": content_type})
        archive.writestr("manifest.json", json.dumps(manifest))
    return buffer.getvalue()
