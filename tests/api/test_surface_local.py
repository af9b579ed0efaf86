"""Feedback, the Windows sandbox methods on Linux and the external-agent import history
(spec reference-0171.md §2.9–§2.11), driven over stdio against a spawned server."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.conftest import ServerFactory
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import write_config


async def test_feedback_save_writes_a_local_archive(
    spawn: ServerFactory, codex_home: Path, workdir: Path, tmp_path: Path
) -> None:
    with MockResponses(default=lambda: text_reply("hello there")) as mock:
        write_config(codex_home, mock)
        client = await spawn(cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        await client.request("turn/start", {"threadId": thread_id,
                                            "input": [{"type": "text", "text": "hi"}]})
        await client.wait_notification("turn/completed")

        bare = tmp_path / "bare.zip"
        answer = await client.request("feedback/save", {
            "classification": "bug", "savePath": str(bare), "includeLogs": False})
        assert answer["savedPath"] == str(bare) and answer["promptHash"] is None
        assert answer["threadId"].startswith("no-active-thread-")
        with zipfile.ZipFile(bare) as archive:
            assert archive.namelist() == ["report.json", "manifest.json"]
            report = json.loads(archive.read("report.json"))
        assert report["message"] == f"[Bug]: Codex session {answer['threadId']}"
        assert report["tags"]["classification"] == "bug"

        extra = tmp_path / "extra.log"
        extra.write_text("an extra log line\n")
        full = tmp_path / "full.zip"
        answer = await client.request("feedback/save", {
            "classification": "good_result", "savePath": str(full), "includeLogs": True,
            "reason": "nice", "threadId": thread_id, "tags": {"k": "v"},
            "extraLogFiles": [str(extra), str(tmp_path / "missing.log")]})
        assert answer["threadId"] == thread_id
        with zipfile.ZipFile(full) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            names = [entry["filename"] for entry in manifest]
            assert names[0] == "codex-logs.log"
            rollout = next(e["entry"] for e in manifest if e["filename"].startswith("rollout-"))
            assert "hello there" in archive.read(rollout).decode()
            extra_entry = next(e["entry"] for e in manifest if e["filename"] == "extra.log")
            assert archive.read(extra_entry) == b"an extra log line\n"
            assert "missing.log" not in names
            report = json.loads(archive.read("report.json"))
        assert report["tags"]["k"] == "v"
        assert report["exception"]["values"][0]["value"] == "nice"
        assert full.stat().st_mode & 0o777 == 0o600

        again = await client.request_raw("feedback/save", {
            "classification": "bug", "savePath": str(full), "includeLogs": False})
        assert again["error"] == {
            "code": -32603, "message": "failed to save feedback: feedback save path already exists"}
        relative = await client.request_raw("feedback/save", {
            "classification": "bug", "savePath": "rel.zip", "includeLogs": False})
        assert relative["error"] == {
            "code": -32600, "message": "feedback savePath must be an absolute host path"}
        missing = await client.request_raw("feedback/save", {
            "classification": "bug", "savePath": str(tmp_path / "no" / "x.zip")})
        assert missing["error"]["code"] == -32603
        assert missing["error"]["message"].startswith(
            "failed to save feedback: No such file or directory (os error 2)")
        upload = await client.request_raw("feedback/upload", {"classification": "bug"})
        assert upload["error"]["code"] == -32603
        assert upload["error"]["message"].startswith("failed to upload feedback: ")


async def test_windows_sandbox_on_linux(spawn: ServerFactory) -> None:
    client = await spawn()
    assert await client.request("windowsSandbox/readiness", None) == {"status": "notConfigured"}
    for mode, name in (("elevated", "elevated"), ("unelevated", "legacy")):
        assert await client.request("windowsSandbox/setupStart", {"mode": mode}) == {
            "started": True}
        done = await client.wait_notification("windowsSandbox/setupCompleted")
        assert done == {"mode": mode, "success": False,
                        "error": f"{name} Windows sandbox setup is only supported on Windows"}


async def test_import_history_is_recorded_and_survives_a_restart(spawn: ServerFactory) -> None:
    client = await spawn()
    assert await client.request("externalAgentConfig/import/readHistories", None) == {
        "data": [], "connectors": []}
    recorded = await client.request("externalAgentConfig/import/recordHistory", {
        "providerId": "claude", "itemTypeResults": [{
            "itemType": "AGENTS_MD",
            "successes": [{"itemType": "AGENTS_MD", "source": "/a", "target": "/b"}],
            "failures": [{"itemType": "AGENTS_MD", "failureStage": "copy", "message": "boom"}],
        }]})
    bad = await client.request_raw("externalAgentConfig/import/recordHistory", {
        "providerId": "x", "itemTypeResults": [{"itemType": "AGENTS_MD", "successes": [{}],
                                                "failures": []}]})
    assert bad["error"] == {"code": -32600, "message": "Invalid request: missing field `itemType`"}
    await client.close()

    again = await spawn()
    histories = await again.request("externalAgentConfig/import/readHistories", None)
    assert histories["connectors"] == []
    [entry] = histories["data"]
    assert entry["importId"] == recorded["importId"] and entry["providerId"] == "claude"
    assert entry["successes"] == [{"itemType": "AGENTS_MD", "cwd": None, "source": "/a",
                                   "target": "/b", "title": None}]
    assert entry["failures"] == [{"itemType": "AGENTS_MD", "failureStage": "copy",
                                  "message": "boom", "cwd": None, "source": None,
                                  "errorType": None, "subErrorType": None}]
