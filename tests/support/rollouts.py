"""Rollout files written for tests: synthetic threads and the recorded reference rollout."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pycodex.store.rollout import utc_timestamp
from tests.support.paths import DATA

BASE = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def thread_id(n: int) -> str:
    return f"019b0000-0000-7000-8000-{n:012d}"


def write_thread(
    home: Path,
    n: int,
    when: float,
    text: str,
    *,
    provider: str = "openai",
    source: Any = "vscode",
    cwd: str = "/work/a",
    archived: bool = False,
    meta_when: float | None = None,
    tid: str | None = None,
    file_name: str | None = None,
) -> Path:
    """A rollout named with the local time of ``when``, like the reference writes them."""
    tid = tid or thread_id(n)
    local = time.localtime(when)
    folder = (
        home / "archived_sessions"
        if archived
        else home / "sessions" / time.strftime("%Y/%m/%d", local)
    )
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name or f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{tid}.jsonl"
    stamp = utc_timestamp(when if meta_when is None else meta_when)
    meta = {
        "id": tid,
        "timestamp": stamp,
        "cwd": cwd,
        "originator": "codex_vscode",
        "cli_version": "0.169.0",
        "source": source,
        "model_provider": provider,
    }
    lines = [
        {"timestamp": stamp, "type": "session_meta", "payload": meta},
        {"timestamp": stamp, "type": "turn_context", "payload": {"model": "gpt-5.5"}},
        {
            "timestamp": stamp,
            "type": "event_msg",
            "payload": {"type": "user_message", "message": text},
        },
    ]
    path = folder / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    os.utime(path, (when + 90, when + 90))
    return path


REF_ID = "01a20baa-c37f-7b43-b65e-8b631896a1de"


REF_FILE = f"rollout-2026-11-24T03-47-50-{REF_ID}.jsonl"


def install_reference_rollout(codex_home: Path, workdir: Path) -> Path:
    """Copy the recorded reference rollout into ``codex_home`` (placeholders filled in)."""
    target = codex_home / "sessions" / "2026" / "11" / "24" / REF_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    text = (DATA / "rollouts" / REF_FILE).read_text()
    text = text.replace("$WORKDIR", str(workdir)).replace("$CODEX_HOME", str(codex_home))
    target.write_text(text)
    return target
