"""thread/* methods over stdio (issue 3): shapes, errors, persistence, interop with a
rollout recorded from the reference 0.169.0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import paths, schema
from tests.support.client import AppServerClient
from tests.support.rollouts import REF_FILE, REF_ID, install_reference_rollout

DATA = paths.DATA / "rollouts"
UNKNOWN = "01a20ad9-9643-72d2-a70f-7b6b70a6b470"

#: Thread fields the reference sends (handshake transcript), in its order.
REFERENCE_THREAD_KEYS = [
    "id", "environments", "extra", "sessionId", "forkedFromId", "attachedToThreadId",
    "parentThreadId", "preview", "ephemeral", "section", "sectionEnteredAt", "projectId",
    "historyMode", "modelProvider", "model", "reasoningEffort", "createdAt", "updatedAt",
    "recencyAt", "status", "path", "cwd", "cliVersion", "originator", "source",
    "canAcceptDirectInput", "threadSource", "agentNickname", "agentRole", "gitInfo", "name",
    "daybreakEnabled", "turns",
]  # fmt: skip


def reference_turns(workdir: Path) -> list[dict[str, Any]]:
    text = (DATA / "reference-turns.json").read_text().replace("$WORKDIR", str(workdir))
    turns: list[dict[str, Any]] = json.loads(text)
    return turns


def assert_subset(ours: Any, theirs: Any, where: str = "$") -> None:
    """Every field we send equals the reference's value (the reference may send more)."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), where
        for key, value in ours.items():
            assert key in theirs, f"{where}.{key} not sent by the reference"
            assert_subset(value, theirs[key], f"{where}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_subset(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


async def error_of(client: AppServerClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await client.request_raw(method, params)
    assert "error" in response, response
    error: dict[str, Any] = response["error"]
    return error


# -- thread/start ---------------------------------------------------------------------


async def test_start_matches_reference_shape_and_defaults(
    server: AppServerClient, codex_home: Path
) -> None:
    result = await server.request("thread/start", {})
    thread = result["thread"]
    assert list(thread) == REFERENCE_THREAD_KEYS
    assert thread["status"] == {"type": "idle"}
    assert thread["preview"] == "" and thread["turns"] == [] and thread["ephemeral"] is False
    assert thread["cliVersion"] == "0.171.0" and thread["source"] == "vscode"
    assert thread["sessionId"] == thread["id"] and thread["originator"] == "pytest"
    assert thread["canAcceptDirectInput"] is True
    assert Path(thread["path"]).name.endswith(f"-{thread['id']}.jsonl")
    assert Path(thread["path"]).parent.parent.parent.parent == codex_home / "sessions"
    assert not Path(thread["path"]).exists(), "a thread without turns leaves nothing on disk"
    assert result["model"] == "gpt-6.2-sol" and result["modelProvider"] == "openai"
    assert result["approvalPolicy"] == "on-request" and result["approvalsReviewer"] == "user"
    assert result["sandbox"] == {"type": "readOnly", "networkAccess": False}
    assert result["activePermissionProfile"] == {"id": ":read-only", "extends": None}
    assert result["reasoningEffort"] is None and result["serviceTier"] is None
    # thread/started comes after the response, with the same thread.
    index_response = next(i for i, m in enumerate(server.received) if m.get("id") == 1 + 1)
    started = await server.wait_notification("thread/started")
    index_started = next(
        i for i, m in enumerate(server.received) if m.get("method") == "thread/started"
    )
    assert index_started > index_response
    assert started["thread"] == thread
    loaded = await server.request("thread/loaded/list", {})
    assert loaded == {"data": [thread["id"]], "nextCursor": None}


async def test_start_overrides_and_config(server: AppServerClient, workdir: Path) -> None:
    result = await server.request(
        "thread/start",
        {
            "cwd": str(workdir),
            "sandbox": "workspace-write",
            "approvalPolicy": "untrusted",
            "model": "foo",
            "config": {"model_reasoning_effort": "high"},
        },
    )
    assert result["sandbox"] == {
        "type": "workspaceWrite",
        "writableRoots": [],
        "networkAccess": False,
        "excludeTmpdirEnvVar": False,
        "excludeSlashTmp": False,
    }
    assert result["approvalPolicy"] == "untrusted" and result["model"] == "foo"
    assert result["reasoningEffort"] == "high" and result["thread"]["reasoningEffort"] == "high"
    assert result["activePermissionProfile"] is None
    assert result["cwd"] == str(workdir) and result["thread"]["cwd"] == str(workdir)
    full = await server.request("thread/start", {"sandbox": "danger-full-access"})
    assert full["sandbox"] == {"type": "dangerFullAccess"}
    error = await error_of(server, "thread/start", {"approvalPolicy": "on-failure"})
    assert error["code"] == -32600 and "unknown variant `on-failure`" in error["message"]


async def test_start_experimental_fields_are_gated(server: AppServerClient) -> None:
    error = await error_of(
        server, "thread/start", {"dynamicTools": [{"name": "x", "description": "d"}]}
    )
    assert error == {
        "code": -32600,
        "message": "thread/start.dynamicTools requires experimentalApi capability",
    }
    error = await error_of(server, "thread/resume", {"threadId": UNKNOWN, "path": "/x"})
    assert error["message"] == "thread/resume.path requires experimentalApi capability"


async def test_ephemeral_thread_never_touches_disk(
    server: AppServerClient, codex_home: Path
) -> None:
    result = await server.request("thread/start", {"ephemeral": True})
    thread = result["thread"]
    assert thread["ephemeral"] is True and thread["path"] is None
    tid = thread["id"]
    assert await error_of(server, "thread/read", {"threadId": tid, "includeTurns": True}) == {
        "code": -32600,
        "message": "ephemeral threads do not support includeTurns",
    }
    assert await error_of(
        server, "thread/metadata/update", {"threadId": tid, "gitInfo": {"branch": "x"}}
    ) == {"code": -32600, "message": f"ephemeral thread does not support metadata updates: {tid}"}
    read = await server.request("thread/read", {"threadId": tid})
    assert read["thread"]["ephemeral"] is True
    await server.request("thread/name/set", {"threadId": tid, "name": "temp"})
    listed = await server.request("thread/list", {})
    assert listed["data"] == []
    assert not (codex_home / "sessions").exists()
    assert not (codex_home / "session_index.jsonl").exists()


async def test_read_before_first_turn(server: AppServerClient) -> None:
    tid = (await server.request("thread/start", {}))["thread"]["id"]
    assert await error_of(server, "thread/read", {"threadId": tid, "includeTurns": True}) == {
        "code": -32600,
        "message": f"thread {tid} is not materialized yet; "
        "includeTurns is unavailable before first user message",
    }
    read = await server.request("thread/read", {"threadId": tid})
    assert read["thread"]["id"] == tid and read["thread"]["status"] == {"type": "idle"}


# -- interop with the reference's rollout ---------------------------------------------


async def test_reference_rollout_list_read_resume_fork(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    install_reference_rollout(codex_home, workdir)
    client = await spawn(cwd=workdir)
    listed = await client.request("thread/list", {})
    assert [t["id"] for t in listed["data"]] == [REF_ID] and listed["nextCursor"] is None
    row = listed["data"][0]
    assert list(row) == REFERENCE_THREAD_KEYS
    assert row["preview"] == "hello" and row["modelProvider"] == "mock"
    assert row["model"] == "gpt-5.5" and row["status"] == {"type": "notLoaded"}
    assert row["createdAt"] == 1795492070 and row["cwd"] == str(workdir)
    assert row["originator"] == "probe" and row["environments"] is None

    read = await client.request("thread/read", {"threadId": REF_ID, "includeTurns": True})
    expected = reference_turns(workdir)
    assert_subset(read["thread"]["turns"], expected)
    assert [t["status"] for t in read["thread"]["turns"]] == [
        "completed", "completed", "completed", "failed", "completed"
    ]  # fmt: skip
    assert read["thread"]["turns"][3]["error"] == {
        "message": "We\u2019re currently experiencing high demand, "
        "which may cause temporary errors.",
        "codexErrorInfo": "internalServerError",
        "additionalDetails": None,
    }

    resumed = await client.request("thread/resume", {"threadId": REF_ID})
    assert resumed["thread"]["status"] == {"type": "idle"}
    assert_subset(resumed["thread"]["turns"], expected)
    assert resumed["model"] == "gpt-5.5" and resumed["modelProvider"] == "openai"
    assert resumed["thread"]["path"].endswith(REF_FILE)
    assert (await client.request("thread/loaded/list", {}))["data"] == [REF_ID]
    assert not client.notifications("thread/started"), "resume emits no thread/started"

    forked = await client.request("thread/fork", {"threadId": REF_ID})
    fork = forked["thread"]
    assert fork["id"] != REF_ID and fork["forkedFromId"] == REF_ID
    assert fork["preview"] == "hello"
    assert_subset(fork["turns"], expected)
    started = await client.wait_notification("thread/started")
    assert started["thread"]["id"] == fork["id"] and started["thread"]["turns"] == []
    fork_path = Path(fork["path"])
    first = json.loads(fork_path.read_text().splitlines()[0])
    assert first["type"] == "session_meta"
    assert first["payload"]["id"] == fork["id"]
    assert first["payload"]["forked_from_id"] == REF_ID
    listed = await client.request("thread/list", {})
    assert {t["id"] for t in listed["data"]} == {REF_ID, fork["id"]}


async def test_reference_rollout_after_restart_is_resumable(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    install_reference_rollout(codex_home, workdir)
    first = await spawn()
    await first.request("thread/name/set", {"threadId": REF_ID, "name": "  Named  "})
    assert (await first.wait_notification("thread/name/updated")) == {
        "threadId": REF_ID,
        "threadName": "Named",
    }
    await first.close()
    second = await spawn()
    read = await second.request("thread/read", {"threadId": REF_ID})
    assert read["thread"]["name"] == "Named"
    names = (codex_home / "session_index.jsonl").read_text().splitlines()
    assert json.loads(names[-1])["thread_name"] == "Named"


# -- crash tolerance ------------------------------------------------------------------


async def test_torn_tail_and_bad_lines_are_skipped(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    path = install_reference_rollout(codex_home, workdir)
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    # Garbage in the middle and a torn last line (kill -9 mid-write). (A BOM at the start
    # makes the file no rollout at all, as for the reference: tests/store/test_rollout_junk.py.)
    torn = b'{"timestamp":"2026-11-24T03:47:51.000Z","type":"event_msg","payload":{"type":"ta'
    path.write_bytes(b"".join(lines[:20]) + b"\xff\xfenot json\n" + b"".join(lines[20:]) + torn)
    client = await spawn()
    listed = await client.request("thread/list", {})
    assert [t["id"] for t in listed["data"]] == [REF_ID]
    read = await client.request("thread/read", {"threadId": REF_ID, "includeTurns": True})
    assert_subset(read["thread"]["turns"], reference_turns(workdir))
    resumed = await client.request("thread/resume", {"threadId": REF_ID})
    assert len(resumed["thread"]["turns"]) == 5
    await client.close()
    logs = "\n".join(client.stderr_lines)
    assert "torn last line" in logs and "skipping unreadable line" in logs


async def test_index_is_rebuilt_when_deleted(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    install_reference_rollout(codex_home, workdir)
    first = await spawn()
    await first.request("thread/metadata/update", {"threadId": REF_ID, "gitInfo": {"branch": "b"}})
    assert [t["id"] for t in (await first.request("thread/list", {}))["data"]] == [REF_ID]
    await first.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{codex_home}/state_pycodex.sqlite{suffix}").unlink(missing_ok=True)
    second = await spawn()
    listed = await second.request("thread/list", {})
    assert [t["id"] for t in listed["data"]] == [REF_ID]
    assert listed["data"][0]["gitInfo"] == {"sha": None, "branch": "b", "originUrl": None}
    assert (codex_home / "state_pycodex.sqlite").exists()


# -- list -----------------------------------------------------------------------------


def write_rollout(
    codex_home: Path,
    thread_id: str,
    stamp: str,
    text: str,
    *,
    source: Any = "vscode",
    provider: str = "openai",
    cwd: str = "/work/a",
) -> Path:
    day = stamp[:10].split("-")
    path = codex_home / "sessions" / day[0] / day[1] / day[2]
    path.mkdir(parents=True, exist_ok=True)
    file = path / f"rollout-{stamp[:19].replace(':', '-')}-{thread_id}.jsonl"
    meta = {
        "id": thread_id,
        "timestamp": stamp,
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": "0.100.0",
        "source": source,
        "model_provider": provider,
    }
    rows = [
        {"timestamp": stamp, "type": "session_meta", "payload": meta},
        {
            "timestamp": stamp,
            "type": "event_msg",
            "payload": {"type": "user_message", "message": text},
        },
        {
            "timestamp": stamp,
            "type": "event_msg",
            "payload": {"type": "agent_message", "message": "ok"},
        },
    ]
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return file


def tid(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012d}"


async def test_list_paging_filters_and_search(spawn: ServerFactory, codex_home: Path) -> None:
    for n in range(1, 8):
        write_rollout(codex_home, tid(n), f"2025-01-0{n}T10:00:00.000Z", f"task number {n}")
    write_rollout(codex_home, tid(8), "2025-01-08T10:00:00.000Z", "exec one", source="exec")
    write_rollout(codex_home, tid(9), "2025-01-09T10:00:00.000Z", "other", provider="oss")
    write_rollout(codex_home, tid(10), "2025-01-10T10:00:00.000Z", "elsewhere", cwd="/work/b")
    client = await spawn()
    page1 = await client.request("thread/list", {"limit": 3})
    assert [t["id"] for t in page1["data"]] == [tid(10), tid(9), tid(7)]
    assert page1["nextCursor"]
    page2 = await client.request("thread/list", {"limit": 3, "cursor": page1["nextCursor"]})
    assert [t["id"] for t in page2["data"]] == [tid(6), tid(5), tid(4)]
    page4 = await client.request("thread/list", {"limit": 100, "cursor": page2["nextCursor"]})
    assert [t["id"] for t in page4["data"]] == [tid(3), tid(2), tid(1)]
    assert page4["nextCursor"] is None
    zero = await client.request("thread/list", {"limit": 0})
    assert len(zero["data"]) == 1
    execs = await client.request("thread/list", {"sourceKinds": ["exec"]})
    assert [t["id"] for t in execs["data"]] == [tid(8)] and execs["data"][0]["source"] == "exec"
    oss = await client.request("thread/list", {"modelProviders": ["oss"]})
    assert [t["id"] for t in oss["data"]] == [tid(9)]
    by_cwd = await client.request("thread/list", {"cwd": "/work/b"})
    assert [t["id"] for t in by_cwd["data"]] == [tid(10)]
    found = await client.request("thread/list", {"searchTerm": "number 3"})
    assert [t["id"] for t in found["data"]] == [tid(3)]
    assert (await client.request("thread/list", {"searchTerm": "Number 3"}))["data"] == []
    asc = await client.request("thread/list", {"sortDirection": "asc", "limit": 2})
    assert [t["id"] for t in asc["data"]] == [tid(1), tid(2)]
    for bad in ("bad", "2025-01-01T00:00:00Z|nope", "x|" + tid(1)):
        assert await error_of(client, "thread/list", {"cursor": bad}) == {
            "code": -32600,
            "message": f"invalid cursor: {bad}",
        }


# -- archive / unarchive / delete -----------------------------------------------------


async def test_archive_unarchive_delete(spawn: ServerFactory, codex_home: Path) -> None:
    path = write_rollout(codex_home, tid(1), "2025-01-01T10:00:00.000Z", "first")
    write_rollout(codex_home, tid(2), "2025-01-02T10:00:00.000Z", "second")
    client = await spawn()
    assert await client.request("thread/archive", {"threadId": tid(1)}) == {}
    assert await client.wait_notification("thread/archived") == {"threadId": tid(1)}
    archived = codex_home / "archived_sessions" / path.name
    assert archived.exists() and not path.exists()
    assert [t["id"] for t in (await client.request("thread/list", {}))["data"]] == [tid(2)]
    listed = await client.request("thread/list", {"archived": True})
    assert [t["id"] for t in listed["data"]] == [tid(1)]
    assert listed["data"][0]["path"] == str(archived)
    assert (await error_of(client, "thread/archive", {"threadId": tid(1)}))["message"] == (
        f"no rollout found for thread id {tid(1)}"
    )
    restored = await client.request("thread/unarchive", {"threadId": tid(1)})
    assert restored["thread"]["id"] == tid(1) and restored["thread"]["path"] == str(path)
    assert await client.wait_notification("thread/unarchived") == {"threadId": tid(1)}
    assert path.exists() and not archived.exists()
    assert (await error_of(client, "thread/unarchive", {"threadId": tid(1)}))["message"] == (
        f"no archived rollout found for thread id {tid(1)}"
    )
    assert await client.request("thread/delete", {"threadId": tid(2)}) == {}
    assert await client.wait_notification("thread/deleted") == {"threadId": tid(2)}
    assert [t["id"] for t in (await client.request("thread/list", {}))["data"]] == [tid(1)]


async def test_archive_loaded_thread_unloads_it(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    install_reference_rollout(codex_home, workdir)
    client = await spawn()
    await client.request("thread/resume", {"threadId": REF_ID})
    await client.request("thread/archive", {"threadId": REF_ID})
    assert await client.wait_notification("thread/status/changed") == {
        "threadId": REF_ID,
        "status": {"type": "notLoaded"},
    }
    assert (await client.request("thread/loaded/list", {}))["data"] == []


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "invalid length: expected length 32 for simple format, found 0"),
        ("abc", "invalid length: expected length 32 for simple format, found 3"),
        (
            "not-a-uuid",
            "invalid character: expected an optional prefix of `urn:uuid:` followed by "
            "[0-9a-fA-F-], found `n` at 1",
        ),
        ("01a20ad9-9643-72d2a70f-7b6b70a6b470", "invalid group count: expected 5, found 4"),
        (
            "01a20ad9-96437-2d2-a70f-7b6b70a6b470",
            "invalid group length in group 1: expected 4, found 5",
        ),
    ],
)
async def test_invalid_thread_ids(server: AppServerClient, value: str, detail: str) -> None:
    for method in ("thread/read", "thread/resume", "thread/unsubscribe", "thread/archive"):
        assert await error_of(server, method, {"threadId": value}) == {
            "code": -32600,
            "message": f"invalid thread id: {detail}",
        }


async def test_unknown_thread_errors(server: AppServerClient) -> None:
    missing = f"no rollout found for thread id {UNKNOWN}"
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("thread/read", {}, f"thread not loaded: {UNKNOWN}"),
        ("thread/resume", {}, missing),
        ("thread/fork", {}, missing),
        ("thread/archive", {}, missing),
        ("thread/delete", {}, missing),
        ("thread/unarchive", {}, f"no archived rollout found for thread id {UNKNOWN}"),
        ("thread/name/set", {"name": "x"}, missing),
        ("thread/metadata/update", {"gitInfo": {"branch": "x"}}, missing),
        ("thread/rollback", {"numTurns": 1}, f"thread not found: {UNKNOWN}"),
    ]
    for method, extra, message in cases:
        assert await error_of(server, method, {"threadId": UNKNOWN, **extra}) == {
            "code": -32600,
            "message": message,
        }, method
    # The uppercase/simple form is accepted and canonicalised.
    error = await error_of(server, "thread/read", {"threadId": UNKNOWN.replace("-", "").upper()})
    assert error["message"] == f"thread not loaded: {UNKNOWN}"
    assert await server.request("thread/unsubscribe", {"threadId": UNKNOWN}) == {
        "status": "notLoaded"
    }


async def test_validation_errors(server: AppServerClient) -> None:
    tid_ = (await server.request("thread/start", {}))["thread"]["id"]
    assert (await error_of(server, "thread/name/set", {"threadId": tid_, "name": "  "})) == {
        "code": -32600,
        "message": "thread name must not be empty",
    }
    for git, message in (
        ({}, "gitInfo must include at least one field"),
        (None, "gitInfo must include at least one field"),
        ({"sha": " "}, "gitInfo.sha must not be empty"),
        ({"branch": ""}, "gitInfo.branch must not be empty"),
        ({"originUrl": "\t"}, "gitInfo.originUrl must not be empty"),
    ):
        params: dict[str, Any] = {"threadId": tid_}
        if git is not None:
            params["gitInfo"] = git
        assert await error_of(server, "thread/metadata/update", params) == {
            "code": -32600,
            "message": message,
        }
    assert await error_of(server, "thread/rollback", {"threadId": tid_, "numTurns": 0}) == {
        "code": -32600,
        "message": "numTurns must be >= 1",
    }
    assert await error_of(server, "thread/loaded/list", {"cursor": "bad"}) == {
        "code": -32600,
        "message": "invalid cursor: bad",
    }
    error = await error_of(server, "thread/read", {})
    assert error == {"code": -32600, "message": "Invalid request: missing field `threadId`"}


# -- metadata, names, unsubscribe, rollback -------------------------------------------


async def test_metadata_update_double_options(
    spawn: ServerFactory, codex_home: Path, workdir: Path
) -> None:
    install_reference_rollout(codex_home, workdir)
    client = await spawn()
    r = await client.request(
        "thread/metadata/update", {"threadId": REF_ID, "gitInfo": {"sha": "abc", "branch": "main"}}
    )
    assert r["thread"]["gitInfo"] == {"sha": "abc", "branch": "main", "originUrl": None}
    r = await client.request(
        "thread/metadata/update", {"threadId": REF_ID, "gitInfo": {"originUrl": "git@x:y"}}
    )
    assert r["thread"]["gitInfo"] == {"sha": "abc", "branch": "main", "originUrl": "git@x:y"}
    r = await client.request(
        "thread/metadata/update",
        {"threadId": REF_ID, "gitInfo": {"sha": None, "branch": None, "originUrl": None}},
    )
    assert r["thread"]["gitInfo"] is None


async def test_unsubscribe_statuses(server: AppServerClient) -> None:
    tid_ = (await server.request("thread/start", {}))["thread"]["id"]
    assert await server.request("thread/unsubscribe", {"threadId": tid_}) == {
        "status": "unsubscribed"
    }
    assert await server.request("thread/unsubscribe", {"threadId": tid_}) == {
        "status": "notSubscribed"
    }
    # Still loaded until the idle delay passes.
    assert (await server.request("thread/loaded/list", {}))["data"] == [tid_]


async def test_idle_unload_after_delay(spawn: ServerFactory) -> None:
    client = await spawn(args=("-c", "thread_unload_delay_secs=1"))
    tid_ = (await client.request("thread/start", {}))["thread"]["id"]
    await client.request("thread/unsubscribe", {"threadId": tid_})
    status = await client.wait_notification("thread/status/changed", timeout=5)
    assert status == {"threadId": tid_, "status": {"type": "notLoaded"}}
    assert await client.wait_notification("thread/closed", timeout=5) == {"threadId": tid_}
    assert (await client.request("thread/loaded/list", {}))["data"] == []
    assert await client.request("thread/unsubscribe", {"threadId": tid_}) == {"status": "notLoaded"}


async def test_rollback_drops_turns(spawn: ServerFactory, codex_home: Path, workdir: Path) -> None:
    install_reference_rollout(codex_home, workdir)
    # thread/rollback is not in the 0.171.0 bundle (removed in 0.169): check its
    # thread against the Thread schema by hand.
    client = await spawn(validate=False)
    await client.request("thread/resume", {"threadId": REF_ID})
    result = await client.request("thread/rollback", {"threadId": REF_ID, "numTurns": 2})
    assert schema._errors("#/definitions/v2/Thread", result["thread"]) == []
    expected = reference_turns(workdir)[:3]
    assert_subset(result["thread"]["turns"], expected)
    read = await client.request("thread/read", {"threadId": REF_ID, "includeTurns": True})
    assert len(read["thread"]["turns"]) == 3


async def test_loaded_list_paging(server: AppServerClient) -> None:
    ids = sorted([(await server.request("thread/start", {}))["thread"]["id"] for _ in range(3)])
    page = await server.request("thread/loaded/list", {"limit": 2})
    assert page == {"data": ids[:2], "nextCursor": ids[1]}
    rest = await server.request("thread/loaded/list", {"cursor": ids[1], "limit": 2})
    assert rest == {"data": ids[2:], "nextCursor": None}


async def test_resume_twice_rejoins(spawn: ServerFactory, codex_home: Path, workdir: Path) -> None:
    install_reference_rollout(codex_home, workdir)
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    await client.request("thread/resume", {"threadId": REF_ID})
    again = await client.request("thread/resume", {"threadId": REF_ID})
    assert len(again["thread"]["turns"]) == 5
    error = await error_of(
        client, "thread/resume", {"threadId": REF_ID, "history": [{"type": "message"}]}
    )
    assert error["message"] == (
        f"cannot resume thread {REF_ID} with history while it is already running"
    )
    error = await error_of(
        client, "thread/resume", {"threadId": REF_ID, "path": "/elsewhere.jsonl"}
    )
    assert error["message"].startswith(
        f"cannot resume running thread {REF_ID} with mismatched path: requested `/elsewhere.jsonl`"
    )
    shutil.rmtree(workdir, ignore_errors=True)
