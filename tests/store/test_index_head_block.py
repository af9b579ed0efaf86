"""The index reads a rollout's head with one block read; heads the block cuts short (a long
``session_meta``, a first user message far into the file) are read in full and give the same
rows as the full read."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from pycodex.store.index import ThreadIndex
from pycodex.store.rollout_check import HEAD_BLOCK
from pycodex.store.summary import summarize
from tests.conftest import ServerFactory
from tests.support.rollouts import BASE, thread_id, write_thread


def _with_padding(path: Path, *, meta_pad: int = 0, before_user: int = 0) -> None:
    """Grow the ``session_meta`` line, or put a long record before the user message."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    if meta_pad:
        lines[0]["payload"]["base_instructions"] = {"text": "m" * meta_pad}
    if before_user:
        output = {"type": "function_call_output", "call_id": "c", "output": "o" * before_user}
        lines.insert(2, {"timestamp": lines[0]["timestamp"], "type": "response_item",
                         "payload": output})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _store(home: Path) -> list[Path]:
    paths = [write_thread(home, n, BASE + n * 60.0, f"task {n}") for n in range(4)]
    _with_padding(paths[1], meta_pad=HEAD_BLOCK + 10)
    _with_padding(paths[2], before_user=HEAD_BLOCK)
    _with_padding(paths[3], before_user=HEAD_BLOCK - 400)  # the user line straddles the cut
    return paths


def test_rows_equal_the_full_read_whatever_the_block_cuts(tmp_path: Path) -> None:
    paths = _store(tmp_path)
    index = ThreadIndex(tmp_path)
    index.wait_ready()
    page = index.list(archived=False, sort_key="created_at", descending=True, after=None,
                      limit=10)
    rows = {row.id: row for row in page}
    assert len(rows) == 4
    for path in paths:
        full = summarize(path)
        assert full is not None
        assert msgspec.structs.asdict(rows[full.id]) == msgspec.structs.asdict(full)
        assert full.preview.startswith("task ")
    index.close()


async def test_listed_previews_of_long_heads(spawn: ServerFactory, codex_home: Path) -> None:
    _store(codex_home)
    client = await spawn()
    listed = await client.request("thread/list", {})
    assert {t["id"]: t["preview"] for t in listed["data"]} == {
        thread_id(n): f"task {n}" for n in range(4)
    }
