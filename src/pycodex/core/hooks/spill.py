"""Keeping hook text within the model's budget: text over the limit (default 2,500 tokens,
``additionalContextLimit`` per handler, ``0`` for none) is saved whole under
``$CODEX_HOME/hook_outputs/<thread id>/`` and the model gets a head-and-tail preview
that names the file."""

from __future__ import annotations

from pathlib import Path

from pycodex.atomic import atomic_write
from pycodex.core.truncation import approx_tokens, truncate_middle

DEFAULT_LIMIT = 2_500
OUTPUT_DIR = "hook_outputs"


def limit_for(configured: int | None) -> int | None:
    """The token budget for a handler's text; ``None`` means unlimited."""
    if configured is None:
        return DEFAULT_LIMIT
    return configured or None


def spill(text: str, limit: int | None, codex_home: Path, thread_id: str) -> str:
    if limit is None or approx_tokens(text) <= limit:
        return text
    import uuid

    path = codex_home / OUTPUT_DIR / thread_id / f"{uuid.uuid4()}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError:
        return truncate_middle(text, limit)
    footer = f"\n\nFull hook output saved to: {path}"
    return truncate_middle(text, max(0, limit - approx_tokens(footer))) + footer
