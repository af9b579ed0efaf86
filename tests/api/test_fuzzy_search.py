"""``fuzzyFileSearch`` (legacy, snake_case results) and the experimental session variant."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pycodex.core import fuzzy_search
from tests.conftest import ServerFactory
from tests.support.client import AppServerClient


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for rel in (
        "src/app/main.py",
        "src/app/maintenance.txt",
        "src/mainly.rs",
        "README.md",
        "node_modules/pkg/main.js",
        ".hidden/main.cfg",
        "build/main.o",
        "x.log",
        "keep/important.log",
        "docs/nested/main.md",
        "docs/nested/skip.md",
    ):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (root / ".gitignore").write_text("build/\n*.log\n!important.log\n")
    (root / "docs" / "nested" / ".gitignore").write_text("skip.md\n")
    return root


async def search(
    server: AppServerClient, query: str, *roots: Path | str
) -> list[dict[str, object]]:
    result = await server.request(
        "fuzzyFileSearch", {"query": query, "roots": [str(r) for r in roots]}
    )
    return result["files"]  # type: ignore[no-any-return]


async def test_results_are_snake_case_and_honour_gitignore(
    server: AppServerClient, tree: Path
) -> None:
    files = await search(server, "main", tree)
    paths = [f["path"] for f in files]
    assert "build/main.o" not in paths
    assert "docs/nested/main.md" in paths
    assert ".hidden/main.cfg" in paths  # hidden entries are searched
    assert "node_modules/pkg/main.js" in paths  # not ignored here
    first = next(f for f in files if f["path"] == "src/app/main.py")
    assert first == {
        "root": str(tree),
        "path": "src/app/main.py",
        "match_type": "file",
        "file_name": "main.py",
        "score": first["score"],
        "indices": [8, 9, 10, 11],
    }
    scores = [f["score"] for f in files]
    assert scores == sorted(scores, reverse=True)
    # Equal scores are ordered by path.
    top = [f["path"] for f in files if f["score"] == files[0]["score"]]
    assert top == sorted(top)


async def test_negation_and_nested_ignore_files(server: AppServerClient, tree: Path) -> None:
    paths = [f["path"] for f in await search(server, "log", tree)]
    assert "keep/important.log" in paths
    assert "x.log" not in paths
    paths = [f["path"] for f in await search(server, "skip", tree)]
    assert paths == []


async def test_directories_match_and_file_name_matches_rank_first(
    server: AppServerClient, tree: Path
) -> None:
    files = await search(server, "app", tree)
    assert files[0]["path"] == "src/app"
    assert files[0]["match_type"] == "directory"
    assert files[0]["indices"] == [4, 5, 6]
    assert files[0]["score"] > 2 * 65536
    under = next(f for f in files if f["path"] == "src/app/main.py")
    assert under["score"] < 65536  # matched in the directory part only


async def test_empty_query_missing_and_relative_roots(server: AppServerClient, tree: Path) -> None:
    assert await search(server, "", tree) == []
    assert await search(server, "   ", tree) == []
    assert await search(server, "main", "/definitely/not/here") == []
    assert await search(server, "main", "relative") == []
    files = await search(server, "readme", tree, "/definitely/not/here")
    assert [f["path"] for f in files] == ["README.md"]


async def test_case_insensitive_and_limit(server: AppServerClient, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(80):
        (root / f"File{i:02}.txt").write_text("")
    files = await search(server, "FILE", root)
    assert len(files) == 50
    assert files[0]["path"] == "File00.txt"


async def test_new_files_show_up_in_later_searches(server: AppServerClient, tree: Path) -> None:
    assert await search(server, "zebra", tree) == []
    (tree / "src" / "zebra.py").write_text("")
    assert [f["path"] for f in await search(server, "zebra", tree)] == ["src/zebra.py"]


async def test_reused_cancellation_token_still_answers(server: AppServerClient, tree: Path) -> None:
    ids = []
    for query in ("ma", "main"):
        rid = server.next_id()
        ids.append(rid)
        await server.send(
            {
                "method": "fuzzyFileSearch",
                "id": rid,
                "params": {"query": query, "roots": [str(tree)], "cancellationToken": "t"},
            }
        )
    for rid in ids:
        response = await server.wait_for(lambda m, rid=rid: m.get("id") == rid)
        assert "files" in response["result"]


async def test_sessions(spawn: ServerFactory, tree: Path) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    response = await client.request_raw(
        "fuzzyFileSearch/sessionStart", {"sessionId": "", "roots": [str(tree)]}
    )
    assert response["error"] == {"code": -32600, "message": "sessionId must not be empty"}
    response = await client.request_raw(
        "fuzzyFileSearch/sessionUpdate", {"sessionId": "nope", "query": "x"}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "fuzzy file search session not found: nope",
    }
    assert await client.request("fuzzyFileSearch/sessionStop", {"sessionId": "nope"}) == {}

    start = {"sessionId": "s1", "roots": [str(tree)]}
    assert await client.request("fuzzyFileSearch/sessionStart", start) == {}
    assert await client.wait_notification("fuzzyFileSearch/sessionUpdated") == {
        "sessionId": "s1",
        "query": "",
        "files": [],
    }
    assert await client.wait_notification("fuzzyFileSearch/sessionCompleted") == {"sessionId": "s1"}
    update = {"sessionId": "s1", "query": "mainly"}
    assert await client.request("fuzzyFileSearch/sessionUpdate", update) == {}
    updated = await client.wait_notification("fuzzyFileSearch/sessionUpdated")
    assert updated["query"] == "mainly"
    assert [f["path"] for f in updated["files"]] == ["src/mainly.rs"]
    await client.wait_notification("fuzzyFileSearch/sessionCompleted")
    assert await client.request("fuzzyFileSearch/sessionStop", {"sessionId": "s1"}) == {}
    response = await client.request_raw("fuzzyFileSearch/sessionUpdate", update)
    assert response["error"]["message"] == "fuzzy file search session not found: s1"


async def test_sessions_need_the_experimental_api(server: AppServerClient, tree: Path) -> None:
    response = await server.request_raw(
        "fuzzyFileSearch/sessionStart", {"sessionId": "s", "roots": [str(tree)]}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "fuzzyFileSearch/sessionStart requires experimentalApi capability",
    }
    await asyncio.sleep(0)


# -- unit level ------------------------------------------------------------------------------
def test_gitignore_patterns() -> None:
    rules = fuzzy_search.parse_ignore_file(
        "# comment\n/top.txt\ndocs/**/gen\n*.py[co]\n\\#hash\nout/\n", ""
    )
    ignored = fuzzy_search._ignored
    assert ignored(rules, "top.txt", "top.txt", False)
    assert not ignored(rules, "a/top.txt", "top.txt", False)
    assert ignored(rules, "docs/x/y/gen", "gen", False)
    assert ignored(rules, "docs/gen", "gen", False)
    assert ignored(rules, "pkg/m.pyc", "m.pyc", False)
    assert not ignored(rules, "pkg/m.py", "m.py", False)
    assert ignored(rules, "#hash", "#hash", False)
    assert ignored(rules, "a/out", "out", True)
    assert not ignored(rules, "a/out", "out", False)


def test_alignment_prefers_word_starts() -> None:
    got = fuzzy_search.align("src/fuzzy_search.py", "fs")
    assert got is not None
    assert got[1] == [4, 10]
    assert fuzzy_search.align("abc", "abd") is None


async def test_session_reports_only_the_latest_query(spawn: ServerFactory, tree: Path) -> None:
    """Updates sent while earlier ones are pending supersede them: the superseded queries
    are never reported after a newer one (no flood of stale snapshots)."""
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    start = {"sessionId": "s2", "roots": [str(tree)]}
    assert await client.request("fuzzyFileSearch/sessionStart", start) == {}
    await client.wait_notification("fuzzyFileSearch/sessionCompleted")
    queries = ["m", "ma", "mai", "main", "mainl", "mainly"]
    ids = [client.next_id() for _ in queries]
    await client.send_many([  # one write, read together: a fast typist
        {"method": "fuzzyFileSearch/sessionUpdate", "id": rid,
         "params": {"sessionId": "s2", "query": query}}
        for rid, query in zip(ids, queries, strict=True)])
    for rid in ids:
        assert (await client.wait_for(lambda m, rid=rid: m.get("id") == rid))["result"] == {}
    last = await client.wait_notification(
        "fuzzyFileSearch/sessionUpdated", where=lambda p: p["query"] == "mainly")
    assert [f["path"] for f in last["files"]] == ["src/mainly.rs"]
    await client.wait_notification("fuzzyFileSearch/sessionCompleted")
    await asyncio.sleep(0.3)  # anything stale would have arrived by now
    reported = [m["params"]["query"] for m in client.received
                if m.get("method") == "fuzzyFileSearch/sessionUpdated"
                and m["params"]["sessionId"] == "s2"]
    assert reported == ["", "mainly"]
