"""Sections seen through threads, as the reference 0.171 answers (probed on the binary):
``thread/list`` filters by ``sectionId`` (omitted, ``null`` = in no section, an id, an
unknown id), sorts by ``section_position`` only with a section filter and then in the
section's own order whatever the direction, pages both, and thread/list, thread/read and
thread/resume report ``section`` / ``sectionEnteredAt`` (a fork starts in no section). The
same script runs on the reference when it is installed and must give the same answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.reference import REFERENCE
from tests.support.turns import write_config

PINNED = "01984de2-8f74-7c91-a3b2-5c5e937cf318"
UNKNOWN = "01984de2-0000-7c91-a3b2-5c5e937cf318"

#: (thread/list params, the answer: thread names with their section, or an error, and
#: whether a next page follows). "S" is the section the script makes.
EXPECTED: list[tuple[dict[str, Any], Any]] = [
    ({}, ([("t5", None), ("t4", "Pinned"), ("t3", "S"), ("t2", "S"), ("t1", None),
           ("t0", "S")], False)),
    ({"sectionId": "S"}, ([("t3", "S"), ("t2", "S"), ("t0", "S")], False)),
    ({"sectionId": None}, ([("t5", None), ("t1", None)], False)),
    ({"sectionId": None, "limit": 1}, ([("t5", None)], True)),
    ({"sectionId": PINNED}, ([("t4", "Pinned")], False)),
    ({"sectionId": "nope"}, ([], False)),
    ({"sectionId": UNKNOWN}, ([], False)),
    ({"sortKey": "section_position"},
     (-32600, "section-position sorting requires a section filter")),
    ({"sortKey": "section_position", "sectionId": None},
     (-32600, "section-position sorting requires a section filter")),
    ({"sortKey": "section_position", "sectionId": "S"},
     ([("t3", "S"), ("t0", "S"), ("t2", "S")], False)),
    ({"sortKey": "section_position", "sectionId": "S", "sortDirection": "asc"},
     ([("t3", "S"), ("t0", "S"), ("t2", "S")], False)),
    ({"sortKey": "section_position", "sectionId": "S", "limit": 2},
     ([("t3", "S"), ("t0", "S")], True)),
]


async def _script(client: AppServerClient) -> dict[str, Any]:
    await client.initialize(experimental=True)
    ids: list[str] = []
    for n in range(6):
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        await client.request("turn/start", {"threadId": thread_id,
                                            "input": [{"type": "text", "text": f"hi {n}"}]})
        await client.wait_notification("turn/completed", where=lambda p, t=thread_id:
                                       p["threadId"] == t)
        ids.append(thread_id)
    names = {thread_id: f"t{n}" for n, thread_id in enumerate(ids)}
    section = (await client.request("threadSection/create", {"name": "S"}))["section"]["id"]
    for thread_id, target, before in ((ids[0], section, None), (ids[2], section, None),
                                      (ids[3], section, ids[0]), (ids[4], PINNED, None)):
        move = {"threadId": thread_id, "sectionId": target}
        if before:
            move["beforeThreadId"] = before
        assert await client.request("thread/section/move", move) == {}

    def shown(threads: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        for thread in threads:  # a section always comes with when the thread entered it
            assert (thread["section"] is None) == (thread["sectionEnteredAt"] is None)
        return [(names[t["id"]], (t["section"] or {}).get("name")) for t in threads]

    answers: dict[str, Any] = {"list": []}
    for params, _ in EXPECTED:
        sent = {k: section if v == "S" else v for k, v in params.items()}
        answer = await client.request_raw("thread/list", sent)
        if "error" in answer:
            answers["list"].append((answer["error"]["code"], answer["error"]["message"]))
            continue
        result = answer["result"]
        answers["list"].append((shown(result["data"]), result["nextCursor"] is not None))
        if result["nextCursor"]:
            rest = await client.request("thread/list", {**sent,
                                                         "cursor": result["nextCursor"]})
            answers.setdefault("second pages", []).append(shown(rest["data"]))
    read = (await client.request("thread/read", {"threadId": ids[0]}))["thread"]
    answers["read"] = (read["section"], read["sectionEnteredAt"] is not None)
    resumed = (await client.request("thread/resume", {"threadId": ids[3]}))["thread"]
    answers["resume"] = (resumed["section"], resumed["sectionEnteredAt"] is not None)
    forked = (await client.request("thread/fork", {"threadId": ids[0]}))["thread"]
    answers["fork"] = (forked["section"], forked["sectionEnteredAt"])
    answers["section"] = section
    return answers


def _check(answers: dict[str, Any]) -> None:
    assert answers["list"] == [expected for _, expected in EXPECTED]
    assert answers["second pages"] == [[("t1", None)], [("t2", "S")]]
    section = {"id": answers["section"], "name": "S", "appearance": None}
    assert answers["read"] == answers["resume"] == (section, True)
    assert answers["fork"] == (None, None)


async def _run(home: Path, workdir: Path, command: list[str] | None) -> dict[str, Any]:
    with MockResponses(default=lambda: text_reply("ok")) as mock:
        write_config(home, mock)
        args = () if command else ("--disable", "plugins")
        async with AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "k"},
                                   validate=command is None, command=command,
                                   args=args) as client:
            answers = await _script(client)
            if command is None:
                client.assert_valid()
            return answers


async def test_thread_list_by_section(codex_home: Path, workdir: Path) -> None:
    _check(await _run(codex_home, workdir, None))


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference binary not installed at {REFERENCE}")
async def test_the_reference_lists_sections_the_same_way(tmp_path: Path, workdir: Path) -> None:
    home = tmp_path / "home-reference"
    home.mkdir()
    _check(await _run(home, workdir, [str(REFERENCE), "app-server", "--disable", "plugins"]))
