"""What the TUI needs of a thread across a restart (``/model`` then resume, read state,
paged history), the user's ``!cmd`` at a turn's edges, and ``@``-mention search; driven as
the TUI does, against the mock model, with a server restart where it matters."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, slow_text_reply, text_reply
from tests.support.rollouts import BASE, write_thread
from tests.support.rollouts import thread_id as synthetic_id
from tests.support.turns import run_turn, start_thread, texts, turn_items


async def _restart(spawn: ServerFactory, client: AppServerClient) -> AppServerClient:
    """Close ``client``'s server and start a fresh one on the same ``CODEX_HOME``."""
    await client.close()
    fresh = await spawn(initialize=False)
    await fresh.initialize(experimental=True)
    return fresh


def _rollout_lines(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


async def _first_turn(client: AppServerClient, thread_id: str, mock: MockResponses) -> str:
    """Run one turn (the rollout appears with it); returns the rollout's path."""
    mock.push(text_reply("a"))
    await run_turn(client, thread_id, "hi")
    read = await client.request("thread/read", {"threadId": thread_id})
    return str(read["thread"]["path"])


# -- thread/settings/update is recorded at once -----------------------------------------

#: what the reference records for a read-only thread
READ_ONLY_PROFILE = {"type": "managed", "file_system": {"type": "restricted", "entries": [
    {"path": {"type": "special", "value": {"kind": "root"}}, "access": "read"}]},
    "network": "restricted"}


@pytest.mark.parametrize("resume", [{}, {"excludeTurns": True}], ids=["whole", "paged"])
async def test_settings_update_is_recorded_at_once_and_restored_on_resume_after_restart(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, mock: MockResponses,
    resume: dict[str, Any]
) -> None:
    """Also when the resume reads only the end of the rollout (``excludeTurns``, as the TUI
    resumes): the settings line after the last turn context is found there too."""
    client, thread_id = opened
    path = await _first_turn(client, thread_id, mock)
    await client.request("thread/settings/update", {
        "threadId": thread_id, "model": "gpt-5.6-sol", "effort": "high"})
    await client.wait_notification("thread/settings/updated")
    # the reference's event, written before the answer
    last = _rollout_lines(path)[-1]
    assert last["type"] == "event_msg"
    payload = last["payload"]
    assert (payload["type"], payload["thread_id"]) == ("thread_settings_applied", thread_id)
    settings = payload["thread_settings"]
    assert (settings["model"], settings["reasoning_effort"]) == ("gpt-5.6-sol", "high")
    # the reference skips the event without these two; a read-only thread's profile
    assert settings["requested_approvals_reviewer"] == "user"
    assert settings["permission_profile"] == READ_ONLY_PROFILE
    assert settings["collaboration_mode"] == {"mode": "default", "settings": {
        "model": "gpt-5.6-sol", "reasoning_effort": "high", "developer_instructions": None}}

    # no turn in between: a restart and a resume give the updated settings
    client = await _restart(spawn, client)
    resumed = await client.request("thread/resume", {"threadId": thread_id, **resume})
    assert (resumed["model"], resumed["reasoningEffort"]) == ("gpt-5.6-sol", "high")
    assert resumed["collaborationMode"]["settings"]["model"] == "gpt-5.6-sol"
    assert resumed["serviceTier"] is None
    assert resumed["sandbox"] == {"type": "readOnly", "networkAccess": False}
    mock.push(text_reply("b"))
    await run_turn(client, thread_id, "again")
    assert mock.requests[-1].body["model"] == "gpt-5.6-sol"
    assert mock.requests[-1].body["reasoning"]["effort"] == "high"


async def test_a_chosen_permission_profile_is_restored_on_resume_and_fork_after_restart(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, mock: MockResponses
) -> None:
    """As the reference 0.171: the profile chosen by its id is recorded with the settings
    and every later turn context, and comes back over the configured read-only sandbox."""
    client, thread_id = opened
    path = await _first_turn(client, thread_id, mock)
    await client.request("thread/settings/update", {"threadId": thread_id,
                                                    "permissions": ":workspace"})
    await client.wait_notification("thread/settings/updated")
    applied = _rollout_lines(path)[-1]["payload"]["thread_settings"]
    assert applied["active_permission_profile"] == {"id": ":workspace"}
    workspace = {"type": "workspaceWrite", "writableRoots": [], "networkAccess": False,
                 "excludeTmpdirEnvVar": False, "excludeSlashTmp": False}
    chosen = {"id": ":workspace", "extends": None}

    client = await _restart(spawn, client)
    # as the TUI resumes: without the turns (the settings read from the file's end)
    resumed = await client.request("thread/resume", {"threadId": thread_id,
                                                     "excludeTurns": True})
    assert (resumed["activePermissionProfile"], resumed["sandbox"]) == (chosen, workspace)
    mock.push(text_reply("b"))
    await run_turn(client, thread_id, "again")
    contexts = [line["payload"] for line in _rollout_lines(path)
                if line["type"] == "turn_context"]
    assert contexts[-1]["active_permission_profile"] == {"id": ":workspace"}

    client = await _restart(spawn, client)
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert (resumed["activePermissionProfile"], resumed["sandbox"]) == (chosen, workspace)
    forked = await client.request("thread/fork", {"threadId": thread_id})
    assert (forked["activePermissionProfile"], forked["sandbox"]) == (chosen, workspace)


async def test_the_reference_event_is_read_back(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, workdir: Path,
    codex_home: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    path = Path(await _first_turn(client, thread_id, mock))
    # a configured sandbox_mode wins over the recorded one: leave the choice to the thread
    config = codex_home / "config.toml"
    config.write_text(config.read_text().replace('sandbox_mode = "read-only"\n', ""))
    client = await _restart(spawn, client)
    # as the reference 0.171 writes it: no sandbox policy, a managed permission profile
    cwd = str(workdir)
    settings = {
        "model": "gpt-5.6-sol", "model_provider_id": "mock", "approval_policy": "never",
        "approvals_reviewer": "user", "requested_approvals_reviewer": "user",
        "permission_profile": {"type": "managed", "file_system": {"type": "restricted", "entries": [
            {"path": {"type": "special", "value": {"kind": "root"}}, "access": "read"},
            {"path": {"type": "path", "path": cwd}, "access": "write"},
            {"path": {"type": "special", "value": {"kind": "slash_tmp"}}, "access": "write"},
            {"path": {"type": "special", "value": {"kind": "tmpdir"}}, "access": "write"},
            {"path": {"type": "path", "path": f"{cwd}/.git"}, "access": "read",
             "missing_path_behavior": "skip"}]}, "network": "restricted"},
        "cwd": cwd, "runtime_workspace_roots": [cwd], "reasoning_effort": "low",
        "collaboration_mode": {"mode": "default", "settings": {
            "model": "gpt-5.6-sol", "reasoning_effort": "low", "developer_instructions": None}},
        "disabled_plugin_ids": []}
    line = {"timestamp": "2026-12-03T18:21:29.016Z", "ordinal": 99, "type": "event_msg",
            "payload": {"type": "thread_settings_applied", "thread_id": thread_id,
                        "thread_settings": settings}}
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert (resumed["model"], resumed["reasoningEffort"]) == ("gpt-5.6-sol", "low")
    assert resumed["sandbox"] == {"type": "workspaceWrite", "writableRoots": [],
                                  "networkAccess": False, "excludeTmpdirEnvVar": False,
                                  "excludeSlashTmp": False}


async def test_settings_update_before_the_first_turn_writes_no_rollout(
    opened: tuple[AppServerClient, str]
) -> None:
    client, thread_id = opened
    read = await client.request("thread/read", {"threadId": thread_id})
    await client.request("thread/settings/update", {"threadId": thread_id, "model": "gpt-5.4"})
    await client.wait_notification("thread/settings/updated")
    # as the reference: the file appears with the first turn, which records the settings
    assert not Path(read["thread"]["path"]).exists()


# -- read state survives a restart ------------------------------------------------------


async def test_read_state_is_kept_across_a_restart(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("a"))
    _, completed = await run_turn(client, thread_id, "hi")
    state = client.notifications("thread/readState/changed")[-1]["params"]["readState"]
    assert state["firstUnread"] == {"type": "turn", "turnId": completed["turn"]["id"]}
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["readState"] == state

    client = await _restart(spawn, client)
    # not loaded: thread/read and thread/list report the stored receipt
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["readState"] == state
    listed = await client.request("thread/list", {})
    assert listed["readStates"] == {thread_id: state}
    # the revision the TUI saw before the restart still marks the thread read
    await client.request("thread/resume", {"threadId": thread_id})
    marked = await client.request("thread/readState/update", {
        "threadId": thread_id, "operation": {"type": "read"},
        "expectedRevision": state["revision"]})
    assert marked["readState"]["firstUnread"] is None
    assert client.notifications("thread/readState/changed")[-1]["params"] == {
        "threadId": thread_id, "readState": marked["readState"]}

    client = await _restart(spawn, client)
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["readState"] == marked["readState"]


async def test_a_thread_without_receipt_reads_null(
    opened: tuple[AppServerClient, str]
) -> None:
    client, thread_id = opened
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["readState"] is None


async def test_deleting_a_thread_deletes_its_receipt(
    opened: tuple[AppServerClient, str], codex_home: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(text_reply("a"))
    await run_turn(client, thread_id, "hi")
    stored = codex_home / "thread_extras_pycodex.sqlite"

    def receipts() -> list[str]:
        with contextlib.closing(sqlite3.connect(stored)) as conn:
            return [row[0] for row in conn.execute(
                "SELECT thread_id FROM thread_read_receipts")]

    assert receipts() == [thread_id]
    await client.request("thread/delete", {"threadId": thread_id})
    assert receipts() == []


# -- history mode ------------------------------------------------------------------------


async def test_a_paginated_thread_stays_paginated_after_a_restart(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, mock: MockResponses
) -> None:
    client, thread_id = opened
    path = await _first_turn(client, thread_id, mock)
    assert _rollout_lines(path)[0]["payload"]["history_mode"] == "paginated"

    client = await _restart(spawn, client)
    listed = await client.request("thread/list", {})  # from the index, the thread unloaded
    assert [(t["id"], t["historyMode"]) for t in listed["data"]] == [(thread_id, "paginated")]
    read = await client.request("thread/read", {"threadId": thread_id})
    assert read["thread"]["historyMode"] == "paginated"
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["historyMode"] == "paginated"
    page = await client.request("thread/items/list", {
        "threadId": thread_id, "cursor": resumed["itemsBackwardsCursor"],
        "sortDirection": "desc"})
    assert page["data"][0]["item"] == {**page["data"][0]["item"], "type": "agentMessage",
                                       "text": "a"}


async def test_an_older_rollout_is_legacy_and_read_whole(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, mock: MockResponses
) -> None:
    client, thread_id = opened
    path = Path(await _first_turn(client, thread_id, mock))
    client = await _restart(spawn, client)
    # as written before 0.171: no history_mode in the session_meta
    lines = path.read_text().splitlines()
    meta = json.loads(lines[0])
    del meta["payload"]["history_mode"]
    path.write_text("\n".join([json.dumps(meta), *lines[1:]]) + "\n")

    read = await client.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert read["thread"]["historyMode"] == "legacy"
    assert len(read["thread"]["turns"]) == 1
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["historyMode"] == "legacy"
    # no cursors: the TUI reads the whole history with thread/read includeTurns
    assert (resumed["turnsBackwardsCursor"], resumed["itemsBackwardsCursor"]) == (None, None)


async def test_a_legacy_thread_start_is_recorded_as_such(
    opened: tuple[AppServerClient, str], spawn: ServerFactory, workdir: Path,
    mock: MockResponses
) -> None:
    client, _ = opened
    thread_id = await start_thread(client, workdir, historyMode="legacy")
    assert (await client.request("thread/read", {"threadId": thread_id}))[
        "thread"]["historyMode"] == "legacy"
    mock.push(text_reply("a"))
    await run_turn(client, thread_id, "hi")
    fork = await client.request("thread/fork", {"threadId": thread_id})
    assert fork["thread"]["historyMode"] == "paginated"
    client = await _restart(spawn, client)
    resumed = await client.request("thread/resume", {"threadId": thread_id})
    assert resumed["thread"]["historyMode"] == "legacy"


# -- the user's !cmd at a turn's edges ---------------------------------------------------

#: waits for the file ``go`` in the thread's cwd, then prints ``a``
GATED = "while [ ! -e go ]; do sleep 0.02; done; echo a"


async def test_a_second_command_joins_the_running_shell_turn(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    await client.request("thread/shellCommand", {"threadId": thread_id, "command": GATED})
    started = await client.wait_notification("turn/started")
    turn_id = started["turn"]["id"]
    await client.request("thread/shellCommand", {"threadId": thread_id, "command": "echo b"})
    second = await client.wait_notification(
        "item/completed", where=lambda p: p["item"].get("aggregatedOutput") == "b\n")
    assert second["turnId"] == turn_id
    (workdir / "go").touch()
    items = await turn_items(client, turn_id)
    # one turn, which ends once both commands did, as the reference
    assert sorted(item["aggregatedOutput"] for item in items) == ["a\n", "b\n"]
    assert [n["params"]["turn"]["id"] for n in client.notifications("turn/started")] == [
        turn_id]

    mock.push(text_reply("seen"))
    await run_turn(client, thread_id, "what did I run?")
    records = [t for t in texts(mock.requests[-1].body["input"])
               if t.startswith("<user_shell_command>")]
    assert len(records) == 2


async def test_a_command_outliving_its_turn_reaches_the_next_turn_once(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, thread_id = opened
    mock.push(slow_text_reply("one", "two", "three", interval=0.5))
    started = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
    turn_id = started["turn"]["id"]
    await client.request("thread/shellCommand", {"threadId": thread_id, "command": GATED})
    await client.wait_notification("item/started",
                                    where=lambda p: p["item"]["type"] == "commandExecution")
    # the turn ends while the command still runs; its item completes on that turn later
    await client.wait_notification("turn/completed",
                                    where=lambda p: p["turn"]["id"] == turn_id)
    (workdir / "go").touch()
    done = await client.wait_notification(
        "item/completed", where=lambda p: p["item"]["type"] == "commandExecution")
    assert (done["turnId"], done["item"]["aggregatedOutput"]) == (turn_id, "a\n")

    mock.push(text_reply("seen"))
    await run_turn(client, thread_id, "next")
    records = [t for t in texts(mock.requests[-1].body["input"])
               if t.startswith("<user_shell_command>")]
    assert len(records) == 1 and GATED in records[0]


# -- thread/search (@ mentions) ----------------------------------------------------------


async def test_search_matches_the_messages_of_a_thread_not_its_name(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, first = opened
    mock.push(text_reply("Hello from the mock!"), text_reply("done"), text_reply("ok"))
    await run_turn(client, first, "hello alpha first message")
    await run_turn(client, first, "second zebra banana message")
    second = await start_thread(client, workdir)
    await run_turn(client, second, "other thread words")
    await client.request("thread/name/set", {"threadId": second, "name": "Mango title"})

    async def search(term: str) -> list[tuple[str, str]]:
        found = await client.request("thread/search", {"searchTerm": term})
        return [(r["thread"]["id"], r["snippet"]) for r in found["data"]]

    # a later user message, in any case, the term trimmed
    assert await search("  ZEBRA ") == [(first, "second zebra banana message")]
    # the assistant's words too; newest thread first
    assert await search("done") == [(first, "done")]
    assert await search("ok") == [(second, "ok")]
    # the name is not searched, nor the developer instructions
    assert await search("mango") == []
    assert await search("<permissions instructions>") == []
    # a message spanning two turns' worth of text: the first match wins
    assert await search("message") == [(first, "hello alpha first message")]


async def test_search_snippet_is_the_window_around_the_match(
    opened: tuple[AppServerClient, str], mock: MockResponses
) -> None:
    client, thread_id = opened
    words = " ".join(f"w{i:03d}" for i in range(60))
    mock.push(text_reply("ok"))
    await run_turn(client, thread_id, words)

    async def snippet(term: str) -> str:
        found = await client.request("thread/search", {"searchTerm": term})
        return str(found["data"][0]["snippet"])

    # as the reference cuts them: 49 characters before, 96 after, "..." where it goes on
    assert await snippet("w000") == " ".join(f"w{i:03d}" for i in range(20)) + " ..."
    assert await snippet("w059") == "... 049 " + " ".join(f"w{i:03d}" for i in range(50, 60))


async def test_search_snippet_counts_code_points_and_collapses_whitespace(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    """The windows of the reference 0.171, probed: code points (not bytes, not graphemes:
    a family emoji is cut inside), 96 of them after the match, whitespace collapsed."""
    client, _ = opened
    messages = {
        "needlf": "ab " * 30 + "needlf" + " cd" * 50,
        "needli": "x" * 48 + "needli" + "y" * 96,
        "needlj": "  lead  spaces\n\nthen   needlj \t tabs " + "z" * 200,
        "needlk": "\U0001F469\u200d\U0001F469\u200d\U0001F467" * 30 + "needlk"
                  + "\U0001F44D\U0001F3FD" * 60,
    }
    for text in messages.values():
        thread_id = await start_thread(client, workdir)
        mock.push(text_reply("ok"))
        await run_turn(client, thread_id, text)

    async def snippet(term: str) -> str:
        found = await client.request("thread/search", {"searchTerm": term})
        return str(found["data"][0]["snippet"])

    assert await snippet("needlf") == "... " + "ab " * 16 + "needlf" + " cd" * 32 + " ..."
    # the message ends exactly where the window does: no ellipsis
    assert await snippet("needli") == messages["needli"]
    assert await snippet("needlj") == "lead spaces then needlj tabs " + "z" * 88 + " ..."
    family = "\U0001F469\u200d\U0001F469\u200d\U0001F467"
    assert await snippet("needlk") == (
        "... \u200d\U0001F469\u200d\U0001F467" + family * 9 + "needlk"
        + "\U0001F44D\U0001F3FD" * 48 + " ...")


async def test_search_pages_with_the_list_cursor(
    opened: tuple[AppServerClient, str], workdir: Path, mock: MockResponses
) -> None:
    client, first = opened
    mock.push(text_reply("a"), text_reply("b"), text_reply("c"))
    await run_turn(client, first, "needle one")
    other = await start_thread(client, workdir)
    await run_turn(client, other, "hay only")
    last = await start_thread(client, workdir)
    await run_turn(client, last, "needle two")
    page = await client.request("thread/search", {"searchTerm": "needle", "limit": 1})
    assert [r["thread"]["id"] for r in page["data"]] == [last]
    rest = await client.request("thread/search", {"searchTerm": "needle", "limit": 1,
                                                  "cursor": page["nextCursor"]})
    assert [r["thread"]["id"] for r in rest["data"]] == [first]


async def test_search_backwards_cursor_pages_back_from_a_timestamp(
    codex_home: Path, spawn: ServerFactory
) -> None:
    """As the reference 0.171 answers: ``backwardsCursor`` is a bare timestamp a
    millisecond before the first result (whole seconds), and the other direction read from
    it starts with that result."""
    for n in range(1, 5):
        _with_message(write_thread(codex_home, n, BASE + 10 * n, f"needle {n}"), f"needle {n}")
    write_thread(codex_home, 9, BASE + 90, "hay")
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)

    async def search(**params: Any) -> tuple[list[str], str | None, str | None]:
        page = await client.request("thread/search", {"searchTerm": "needle", "limit": 2,
                                                      **params})
        return ([r["thread"]["id"] for r in page["data"]], page["nextCursor"],
                page["backwardsCursor"])

    ids, after, back = await search()
    assert (ids, back) == ([synthetic_id(4), synthetic_id(3)], "2026-01-01T00:00:39.999Z")
    ids, after, back = await search(cursor=after)
    assert (ids, after, back) == ([synthetic_id(2), synthetic_id(1)], None,
                                  "2026-01-01T00:00:19.999Z")
    ids, after, back = await search(cursor=back, sortDirection="asc")
    assert (ids, back) == ([synthetic_id(2), synthetic_id(3)], "2026-01-01T00:00:20.001Z")
    assert after is not None
    # nothing older than the oldest match; an unreadable cursor is refused
    assert await search(cursor="2026-01-01T00:00:09.999Z") == ([], None, None)
    bad = await client.request_raw("thread/search", {"searchTerm": "needle",
                                                     "cursor": "yesterday"})
    assert bad["error"] == {"code": -32600, "message": "invalid cursor: yesterday"}


async def test_search_backwards_cursor_by_update_time_keeps_the_milliseconds(
    codex_home: Path, spawn: ServerFactory
) -> None:
    """Sorted by ``updated_at`` the reference's cursor keeps the milliseconds of the
    update: read back from it, the page starts again with its first result."""
    for n in range(1, 4):
        path = write_thread(codex_home, n, BASE + 10 * n, f"needle {n}")
        _with_message(path, f"needle {n}")
        stamp_ns = int((BASE + 10 * n + 90.5) * 1e9)
        os.utime(path, ns=(stamp_ns, stamp_ns))
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    by_update = {"searchTerm": "needle", "sortKey": "updated_at", "limit": 2}
    page = await client.request("thread/search", {**by_update, "sortDirection": "asc"})
    assert [r["thread"]["id"] for r in page["data"]] == [synthetic_id(1), synthetic_id(2)]
    assert page["backwardsCursor"] == "2026-01-01T00:01:40.501Z"
    back = await client.request("thread/search", {**by_update,
                                                  "cursor": page["backwardsCursor"]})
    assert [r["thread"]["id"] for r in back["data"]] == [synthetic_id(1)]
    assert back["backwardsCursor"] == "2026-01-01T00:01:40.499Z"


def _with_message(path: Path, text: str) -> None:
    """Append the response item of a user message (what ``thread/search`` reads)."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text",
                                                             "text": text}]}
    with path.open("a") as out:
        out.write(json.dumps({"timestamp": "2026-01-01T00:00:00.000Z",
                              "type": "response_item", "payload": item}) + "\n")
