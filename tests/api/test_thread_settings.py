"""One settings record per thread (issue 10 item 1): turn/start overrides hold for the later
turns, are reported by thread/resume, thread/read and thread/fork, are recorded in the
rollout's ``turn_context`` lines as the reference writes them, and survive a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ServerFactory
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import run_turn, start_thread, write_config

WORKSPACE_WRITE = {"type": "workspaceWrite", "writableRoots": [], "networkAccess": False,
                   "excludeTmpdirEnvVar": False, "excludeSlashTmp": False}


def turn_contexts(path: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [line["payload"] for line in lines if line["type"] == "turn_context"]


async def test_turn_overrides_stick_are_reported_and_survive_a_restart(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)  # model gpt-5.5, never, danger-full-access
    env = {"MOCK_API_KEY": "k"}
    client = await spawn(env=env)
    thread_id = await start_thread(client, workdir)
    sub = workdir / "sub"
    sub.mkdir()
    mock.push(text_reply("one"), text_reply("two"), text_reply("three"))
    await run_turn(client, thread_id, "first")
    assert mock.requests[-1].body["model"] == "gpt-5.5"
    await run_turn(client, thread_id, "second", model="gpt-6-sol", effort="high", cwd=str(sub),
                   approvalPolicy="on-request", sandboxPolicy={"type": "workspaceWrite"},
                   personality="pragmatic")
    await run_turn(client, thread_id, "third")  # no overrides: the last ones hold
    body = mock.requests[-1].body
    assert body["model"] == "gpt-6-sol" and body["reasoning"]["effort"] == "high"

    resumed = await client.request("thread/resume", {"threadId": thread_id})
    expected = {"model": "gpt-6-sol", "reasoningEffort": "high", "cwd": str(sub),
                "approvalPolicy": "on-request", "sandbox": WORKSPACE_WRITE}
    assert {key: resumed[key] for key in expected} == expected
    assert resumed["thread"]["model"] == "gpt-6-sol" and resumed["thread"]["cwd"] == str(sub)
    assert resumed["collaborationMode"] == {"mode": "default", "settings": {
        "model": "gpt-6-sol", "reasoning_effort": "high", "developer_instructions": None}}
    last_page = await client.request("thread/turns/list", {
        "threadId": thread_id, "cursor": resumed["turnsBackwardsCursor"],
        "sortDirection": "desc", "limit": 1})
    assert last_page["data"][0]["id"] == resumed["thread"]["turns"][-1]["id"]
    read = (await client.request("thread/read", {"threadId": thread_id}))["thread"]
    assert (read["model"], read["reasoningEffort"], read["cwd"]) == (
        "gpt-6-sol", "high", str(sub))

    # recorded as the reference records it
    last = turn_contexts(resumed["thread"]["path"])[-1]
    assert {key: last[key] for key in ("model", "effort", "cwd", "approval_policy")} == {
        "model": "gpt-6-sol", "effort": "high", "cwd": str(sub),
        "approval_policy": "on-request"}
    assert last["sandbox_policy"] == {"type": "workspace-write", "writable_roots": [],
                                      "network_access": False,
                                      "exclude_tmpdir_env_var": False,
                                      "exclude_slash_tmp": False}
    assert last["collaboration_mode"] == {"mode": "default", "settings": {
        "model": "gpt-6-sol", "reasoning_effort": "high", "developer_instructions": None}}
    assert last["personality"] == "pragmatic"

    await client.close()
    again = await spawn(env=env)
    read = (await again.request("thread/read", {"threadId": thread_id}))["thread"]
    assert (read["model"], read["reasoningEffort"]) == ("gpt-6-sol", "high")
    resumed = await again.request("thread/resume", {"threadId": thread_id})
    # the recorded model, effort, cwd and approval win over config.toml; its sandbox_mode
    # wins over the recorded sandbox (as the reference 0.171 answers)
    assert {key: resumed[key] for key in expected} == {
        **expected, "sandbox": {"type": "dangerFullAccess"}}
    mock.push(text_reply("four"))
    await run_turn(again, thread_id, "fourth")
    body = mock.requests[-1].body
    assert body["model"] == "gpt-6-sol" and body["reasoning"]["effort"] == "high"

    # a fork takes the configured model, the recorded cwd and approval policy
    fork = await again.request("thread/fork", {"threadId": thread_id})
    assert (fork["model"], fork["reasoningEffort"], fork["cwd"], fork["approvalPolicy"]) == (
        "gpt-5.5", None, str(sub), "on-request")


async def test_reference_turn_context_restores_settings(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    """A rollout written by the reference 0.171 (kebab-case sandbox, collaboration mode)."""
    write_config(codex_home, mock)
    env = {"MOCK_API_KEY": "k"}
    client = await spawn(env=env)
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("one"))
    await run_turn(client, thread_id, "first")
    path = Path((await client.request("thread/read", {"threadId": thread_id}))["thread"]["path"])
    await client.close()
    reference_context = {
        "turn_id": "t-ref", "cwd": str(workdir), "approval_policy": "untrusted",
        "approvals_reviewer": "user", "model": "gpt-6-sol",
        "collaboration_mode": {"mode": "plan", "settings": {
            "model": "gpt-6-sol", "reasoning_effort": "low", "developer_instructions": None}},
        "effort": "low", "summary": "none",
        "sandbox_policy": {"type": "workspace-write", "network_access": True,
                           "exclude_tmpdir_env_var": False, "exclude_slash_tmp": False}}
    with path.open("a") as fh:
        fh.write(json.dumps({"timestamp": "2026-12-03T15:24:11.353Z", "type": "turn_context",
                             "payload": reference_context}) + "\n")
    (codex_home / "config.toml").write_text(
        (codex_home / "config.toml").read_text().replace(
            'sandbox_mode = "danger-full-access"\n', ""))
    again = await spawn(env=env)
    resumed = await again.request("thread/resume", {"threadId": thread_id})
    assert (resumed["model"], resumed["reasoningEffort"], resumed["approvalPolicy"]) == (
        "gpt-6-sol", "low", "untrusted")
    assert resumed["sandbox"] == {**WORKSPACE_WRITE, "networkAccess": True}
    assert resumed["activePermissionProfile"] is None
    assert resumed["collaborationMode"] == {"mode": "plan", "settings": {
        "model": "gpt-6-sol", "reasoning_effort": "low", "developer_instructions": None}}


def _told(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (role, first text) of each message of a request's input."""
    return [(item["role"], item["content"][0]["text"]) for item in body["input"]
            if item.get("type") == "message"]


async def test_changed_permissions_and_cwd_are_told_to_the_model_on_the_next_turn(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    """As the reference does after ``/permissions`` or a new cwd: the next turn's request
    tells the model the new permissions (a developer message) and the new environment
    (a user message) before the user's words; an unchanged turn tells nothing again."""
    write_config(codex_home, mock)  # never, danger-full-access
    client = await spawn(env={"MOCK_API_KEY": "k"})
    thread_id = await start_thread(client, workdir)
    sub = workdir / "sub"
    sub.mkdir()
    mock.push(text_reply("one"), text_reply("two"), text_reply("three"), text_reply("four"))
    await run_turn(client, thread_id, "first")
    first = _told(mock.requests[-1].body)
    await run_turn(client, thread_id, "second", approvalPolicy="on-request",
                   sandboxPolicy={"type": "workspaceWrite"})
    second = _told(mock.requests[-1].body)
    added = second[len(first) + 1:]  # after the first turn's answer
    assert [role for role, _ in added] == ["developer", "user"]
    assert "<permissions instructions>" in added[0][1] and added[1][1] == "second"
    assert added[0][1] != first[0][1]  # not the first turn's permissions
    await run_turn(client, thread_id, "third")
    third = _told(mock.requests[-1].body)
    assert [role for role, _ in third[len(second) + 1:]] == ["user"]  # nothing changed
    await run_turn(client, thread_id, "fourth", cwd=str(sub))
    fourth = _told(mock.requests[-1].body)
    assert [role for role, _ in fourth[len(third) + 1:]] == ["user", "user"]
    assert "<environment_context>" in fourth[len(third) + 1][1]
    assert str(sub) in fourth[len(third) + 1][1]
