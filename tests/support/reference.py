"""The reference binary (the Rust codex 0.171.0) and the mark that skips a test without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(os.environ.get("CODEX_BIN") or (
    Path.home() / ".cache/refcodex-install/node_modules/@openai/codex-linux-x64/vendor"
    / "x86_64-unknown-linux-musl/bin/codex"))

#: ``pytestmark = needs_reference`` in a module whose tests all drive the reference.
needs_reference = pytest.mark.skipif(not REFERENCE.exists(),
                                     reason=f"reference binary not installed at {REFERENCE}")
