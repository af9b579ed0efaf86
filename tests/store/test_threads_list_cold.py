"""``thread/list`` before the SQLite index exists: pages read from the rollout files
(newest first, stopping early) must equal the index's pages, rows, order and cursors."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pycodex.api.threads import thread_manager
from pycodex.store.index import ThreadIndex
from pycodex.store.names import append_git_info, append_name
from pycodex.store.scan import ListQuery, scan_page
from pycodex.store.summary import ThreadSummary
from tests.conftest import ServerFactory
from tests.support.inprocess import InProcessClient
from tests.support.rollouts import BASE, thread_id, write_thread

INTERACTIVE = ("cli", "vscode")


def mixed_store(home: Path) -> None:
    """~150 threads over several days: ties within a second, every filter, names, git
    overrides, archived ones and a file without session_meta."""
    when = BASE
    for n in range(150):
        if n % 11 != 3:  # otherwise the same created time as the previous one: ids decide
            when += 1 + (n * 7919) % 5000 + 0.321
        write_thread(
            home,
            n,
            when,
            f"task {n}" + (" needle" if n % 9 == 0 else ""),
            provider="oss" if n % 5 == 0 else "openai",
            source=["vscode", "cli", "exec", {"subagent": "review"}][n % 4],
            cwd="/work/b" if n % 3 == 0 else "/work/a",
            archived=n % 13 == 0,
        )
        if n % 17 == 0:
            append_name(home, thread_id(n), f"named {n} needle" if n % 2 else f"named {n}")
        if n % 19 == 0:
            append_git_info(home, thread_id(n), "abc123", "main", None)
    junk = (
        home
        / "sessions"
        / "2026"
        / "01"
        / "02"
        / f"rollout-2026-01-02T00-00-00-{thread_id(999)}.jsonl"
    )
    junk.parent.mkdir(parents=True, exist_ok=True)
    junk.write_text('{"timestamp":"x","type":"event_msg","payload":{"type":"agent_message"}}\n')


QUERIES: list[dict[str, Any]] = [
    {},
    {"model_providers": ("oss",)},
    {"source_kinds": ("exec",)},
    {"source_kinds": ("cli", "vscode", "exec", "subAgentReview")},
    {"cwds": ("/work/b",)},
    {"archived": True},
    {"archived": True, "source_kinds": ("vscode", "exec", "subAgentReview", "cli")},
    {"search_term": "needle"},
    {"search_term": "named 1"},
    {"model_providers": ("openai",), "cwds": ("/work/a",), "search_term": "task 1"},
]


def as_dicts(rows: list[ThreadSummary]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(row) for row in rows]


def pages(home: Path, index: ThreadIndex, limit: int, **filters: Any) -> int:
    """Walk every page both ways from the same cursors; returns how many pages matched."""
    filters.setdefault("source_kinds", INTERACTIVE)
    after: tuple[int, str] | None = None
    count = 0
    while True:
        query = ListQuery(after=after, limit=limit + 1, **filters)
        cold = scan_page(home, query)
        assert cold is not None, (filters, after)
        warm = index.list(**query.index_kwargs())
        assert as_dicts(cold) == as_dicts(warm), (filters, after)
        count += 1
        if len(cold) <= limit:
            return count
        last = cold[limit - 1]
        after = (last.created_at_ms, last.id)


@pytest.mark.parametrize("limit", [1, 4, 25])
def test_cold_pages_equal_index_pages(tmp_path: Path, limit: int) -> None:
    home = tmp_path / "home"
    mixed_store(home)
    index = ThreadIndex(home, db_path=tmp_path / "index.sqlite")
    try:
        total = sum(pages(home, index, limit, **query) for query in QUERIES)
    finally:
        index.close()
    assert total >= len(QUERIES)
    if limit == 1:
        assert total > 100  # the walk really paged through ties, filters and days


def test_cold_pages_across_a_dst_fall_back(tmp_path: Path) -> None:
    """Wall times 01:00-02:00 happen twice on 2026-11-01 in New York: names repeat and
    reorder, the created times do not."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        home = tmp_path / "home"
        start = 1_793_510_000.0  # 2026-11-01T03:13:20Z, before the 06:00Z change
        for n in range(60):
            write_thread(home, n, start + n * 311.5, f"task {n}")
        files = list((home / "sessions").rglob("*.jsonl"))
        by_name = sorted(files, key=lambda p: p.name, reverse=True)
        by_time = sorted(files, key=lambda p: p.name[-17:], reverse=True)  # ids grow with n
        assert by_name != by_time  # the walk meets the repeated hour out of order
        index = ThreadIndex(home, db_path=tmp_path / "index.sqlite")
        try:
            for limit in (1, 3, 25):
                pages(home, index, limit)
        finally:
            index.close()
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_cold_page_reads_only_the_heads_it_needs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for n in range(400):
        write_thread(home, n, BASE + n * 45.0, f"task {n}")
    reads = 0

    def count() -> None:
        nonlocal reads
        reads += 1

    first = scan_page(home, ListQuery(limit=26, source_kinds=INTERACTIVE), on_read=count)
    assert first is not None and [r.id for r in first] == [
        thread_id(n) for n in range(399, 373, -1)
    ]
    assert reads == 26
    reads = 0
    after = (first[24].created_at_ms, first[24].id)
    second = scan_page(
        home, ListQuery(after=after, limit=26, source_kinds=INTERACTIVE), on_read=count
    )
    assert second is not None and second[0].id == thread_id(374)
    assert reads <= 28


def test_what_the_file_order_cannot_settle_is_left_to_the_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for n in range(5):
        write_thread(home, n, BASE + n * 60.0, f"task {n}")
    query = ListQuery(limit=3, source_kinds=INTERACTIVE)
    assert scan_page(home, query) is not None
    for other in (
        ListQuery(sort_key="updated_at", limit=3),
        ListQuery(descending=False, limit=3),
        ListQuery(limit=0),
    ):
        assert scan_page(home, other) is None
    assert scan_page(home, query, max_heads=0) is None

    # A file whose session_meta time is an hour past its name: the index lists it first,
    # so the walk must not answer once it has seen it.
    late = write_thread(home, 7, BASE + 240.5, "late", meta_when=BASE + 3_600)
    index = ThreadIndex(home, db_path=tmp_path / "index.sqlite")
    assert index.list(**query.index_kwargs())[0].id == thread_id(7)
    index.close()
    assert scan_page(home, query) is None
    late.unlink()
    assert scan_page(home, query) is not None

    # The same id twice, a stray directory.
    dup = write_thread(home, 1, BASE + 250.0, "copy", tid=thread_id(4))
    assert scan_page(home, query) is None
    dup.unlink()
    day = home / "sessions" / "2026" / "01" / "01"
    # A name without a timestamp is no rollout: skipped, as the index skips it.
    (day / "rollout-copy.jsonl").write_text("")
    assert scan_page(home, query) is not None
    (day / "rollout-copy.jsonl").unlink()
    (home / "sessions" / "imported").mkdir()
    assert scan_page(home, query) is None
    (home / "sessions" / "imported").rmdir()
    (day / "notes.txt").write_text("not a rollout")  # ignored, as the index ignores it
    assert scan_page(home, query) is not None


def test_a_cold_search_decodes_only_the_heads_that_may_match(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for n in range(300):
        write_thread(home, n, BASE + n * 45.0, f"task {n}" + (" needle" if n % 100 == 7 else ""))
    append_name(home, thread_id(5), "a needle by name")
    # named by the term, in a file whose name carries another id
    when = BASE + 299 * 45.0 + 20
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(when))
    write_thread(home, 400, when, "plain", file_name=f"rollout-{stamp}-{thread_id(401)}.jsonl")
    append_name(home, thread_id(400), "renamed needle")
    # the user message lies past the first block read: that file is decoded whatever
    big = write_thread(home, 300, BASE + 300 * 45.0, "late needle")
    lines = big.read_text().splitlines(keepends=True)
    filler = {"timestamp": "2026-01-01T00:00:00.000Z", "type": "response_item",
              "payload": {"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "x" * 70_000}]}}
    lines.insert(2, json.dumps(filler) + "\n")
    big.write_text("".join(lines))
    write_thread(home, 301, BASE + 301 * 45.0, 'café "needle"')  # written as caf\u00e9 \"
    pictured = write_thread(home, 302, BASE + 302 * 45.0, "")
    message = {"type": "user_message", "message": "", "images": ["data:image/png;base64,AA"]}
    pictured.write_text(pictured.read_text().replace(json.dumps(
        {"type": "user_message", "message": ""}), json.dumps(message)))
    reads = 0

    def count() -> None:
        nonlocal reads
        reads += 1

    query = ListQuery(limit=26, source_kinds=INTERACTIVE, search_term="needle")
    cold = scan_page(home, query, on_read=count)
    assert cold is not None
    assert [row.preview for row in cold] == [
        'café "needle"', "late needle", "plain", "task 207 needle", "task 107 needle",
        "task 7 needle", "task 5"]
    assert reads == 7
    index = ThreadIndex(home, db_path=tmp_path / "index.sqlite")
    try:
        assert as_dicts(cold) == as_dicts(index.list(**query.index_kwargs()))
        # terms that JSON escapes: every spelling is looked for, no head decoded in vain
        for term, expected in (("k 20/", []), ('é "ne', ['café "needle"']),
                               ("[Ima", None), ("e\n", None)):
            query = ListQuery(limit=26, source_kinds=INTERACTIVE, search_term=term)
            if expected is None:  # not spelled in the file as such: every head is decoded
                assert scan_page(home, query, max_heads=300) is None
                cold = scan_page(home, query)
            else:
                cold = scan_page(home, query, max_heads=len(expected) + 1)  # + the big file
                assert cold is not None and [row.preview for row in cold] == expected, term
            assert cold is not None
            assert as_dicts(cold) == as_dicts(index.list(**query.index_kwargs()))
        assert [row.preview for row in index.list(**ListQuery(
            source_kinds=INTERACTIVE, search_term="[Ima").index_kwargs())] == ["[Image]"]
    finally:
        index.close()


def test_an_empty_home_lists_nothing(tmp_path: Path) -> None:
    assert scan_page(tmp_path, ListQuery(source_kinds=INTERACTIVE)) == []
    assert scan_page(tmp_path, ListQuery(archived=True)) == []


async def test_first_pages_on_a_fresh_home_come_from_the_files_and_match_the_index(
    spawn: ServerFactory, codex_home: Path
) -> None:
    for n in range(4000):
        write_thread(
            codex_home,
            n,
            BASE + n * 37.0,
            f"task {n}" + (" needle" if n % 7 == 0 else ""),
            provider="oss" if n % 5 == 0 else "openai",
            cwd="/work/b" if n % 3 == 0 else "/work/a",
            archived=n % 50 == 0,
        )
    append_name(codex_home, thread_id(3999), "the newest")
    requests: list[dict[str, Any]] = [
        {},
        {"limit": 5},
        {"modelProviders": ["oss"], "limit": 3},
        {"cwd": "/work/b", "searchTerm": "needle", "limit": 4},
        {"archived": True, "limit": 2},
        {"searchTerm": "task 17", "limit": 3},
    ]
    client = await spawn(initialize=False)
    if not isinstance(client, InProcessClient) or client.connection is None:
        pytest.skip("holds the server's index build: needs the in-process server")
    index = client.connection.server.app.get(thread_manager).index

    async def run() -> list[dict[str, Any]]:
        answers = []
        for params in requests:
            page = await client.request("thread/list", params)
            answers.append(page)
            follow = await client.request("thread/list", {**params, "cursor": page["nextCursor"]})
            answers.append(follow)
        return answers

    with index.paused():  # the build waits before its first file until the pages are read
        await client.initialize()
        cold = await run()
        assert not index.is_ready() and not _index_built(codex_home)
    await asyncio.to_thread(index.wait_ready)
    assert _index_built(codex_home)
    warm = await run()
    assert cold == warm
    assert cold[0]["data"][0]["name"] == "the newest"
    assert cold[0]["data"][0]["id"] == thread_id(3999)
    assert len(cold[0]["data"]) == 25 and cold[0]["nextCursor"]
    assert [row["preview"] for row in cold[-2]["data"]] == ["task 1799 needle", "task 1798",
                                                            "task 1797"]


def _index_built(home: Path) -> bool:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{home / 'state_pycodex.sqlite'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='backfill'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None
