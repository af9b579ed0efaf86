"""What ``thread/search`` matches in a stored thread: the text of its user and assistant
messages (not developer messages, tool output or the thread's name), case-insensitive, and
the snippet around the first match, as the reference shows it."""

from __future__ import annotations

import json
from pathlib import Path

from pycodex.store.rollout import iter_rollout

#: characters (code points, not bytes or graphemes) of the message kept before and after
#: the match, as the reference 0.171 cuts them
SNIPPET_BEFORE = 49
SNIPPET_AFTER = 96
ELLIPSIS = "..."


def snippet(text: str, at: int, length: int) -> str:
    """The words around ``text[at:at + length]``, whitespace collapsed, with ``...``
    where the message goes on."""
    start, end = max(at - SNIPPET_BEFORE, 0), min(at + length + SNIPPET_AFTER, len(text))
    body = " ".join(text[start:end].split())
    return " ".join(part for part in (ELLIPSIS if start > 0 else "", body,
                                      ELLIPSIS if end < len(text) else "") if part)


def _message_text(payload: object) -> str | None:
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return None
    if payload.get("role") not in ("user", "assistant"):
        return None
    content = payload.get("content")
    if not isinstance(content, list):
        return None
    return "\n".join(part["text"] for part in content
                     if isinstance(part, dict) and isinstance(part.get("text"), str))


def first_match(path: Path, term: str) -> str | None:
    """The snippet of the first user or assistant message of the rollout at ``path`` that
    contains ``term`` (already trimmed, non-empty), ``None`` when none does or the file
    cannot be read."""
    needle = term.lower()
    try:
        raw = path.read_bytes().decode("utf-8", errors="replace").lower()
        # a file whose JSON never spells the term has no message containing it
        if json.dumps(needle, ensure_ascii=False)[1:-1] not in raw:
            return None
        for line in iter_rollout(path):
            if line.type != "response_item":
                continue
            text = _message_text(line.payload)
            if text is None:
                continue
            at = text.lower().find(needle)
            if at >= 0:
                return snippet(text, at, len(needle))
    except OSError:
        return None
    return None
