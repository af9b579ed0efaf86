"""The reference binary (the Rust codex 0.171.0), the mark that skips a test without it, and
clients of it and of pycodex on the same home (the mock provider's key set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.client import AppServerClient

REFERENCE = Path(os.environ.get("CODEX_BIN") or (
    Path.home() / ".cache/refcodex-install/node_modules/@openai/codex-linux-x64/vendor"
    / "x86_64-unknown-linux-musl/bin/codex"))

#: ``pytestmark = needs_reference`` in a module whose tests all drive the reference.
needs_reference = pytest.mark.skipif(not REFERENCE.exists(),
                                     reason=f"reference binary not installed at {REFERENCE}")


def reference_client(home: Path, workdir: Path) -> AppServerClient:
    return AppServerClient(
        home, cwd=workdir, env={"MOCK_API_KEY": "k"}, validate=False,
        command=[str(REFERENCE), "app-server", "--disable", "plugins"])


def pycodex_client(home: Path, workdir: Path) -> AppServerClient:
    return AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "k"})
