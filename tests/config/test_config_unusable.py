"""A broken config.toml never redirects a user's code (issue 11 item 6).

With a config that does not parse, or has a mistyped key, threads and turns are refused
with codex-cli 0.171.0's error (`-32600 failed to load configuration: <file>:<line>:<col>:
<detail>`) instead of silently running on the built-in provider; the problem is reported as
a ``configWarning`` after initialize, and once the file is repaired (by hand or through
``config/value/write``) threads work again without a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.client import AppServerClient, ServerError
from tests.support.mock_responses import MockResponses, text_reply
from tests.support.turns import write_config


def good_config(home: Path, mock: MockResponses) -> str:
    write_config(home, mock)
    return (home / "config.toml").read_text()


async def open_client(home: Path, workdir: Path) -> AppServerClient:
    client = AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    await client.start()
    await client.initialize()
    return client


async def refused(client: AppServerClient, method: str, params: dict[str, object]) -> str:
    with pytest.raises(ServerError) as caught:
        await client.request(method, params)
    assert caught.value.code == -32600
    return str(caught.value.error["message"])


async def run_hello_turn(client: AppServerClient, mock: MockResponses, workdir: Path) -> None:
    started = await client.request("thread/start", {"cwd": str(workdir)})
    assert started["thread"]["modelProvider"] == "mock"
    mock.push(text_reply("hello"))
    await client.request("turn/start", {"threadId": started["thread"]["id"],
                                        "input": [{"type": "text", "text": "hi"}]})
    done = await client.wait_notification("turn/completed")
    assert done["turn"]["status"] == "completed"


async def test_a_config_that_does_not_parse_refuses_threads_until_repaired(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    good = good_config(codex_home, mock)
    config = codex_home / "config.toml"
    config.write_text(good + "\nthis is = = not toml [\n")
    line = good.count("\n") + 2
    client = await open_client(codex_home, workdir)
    try:
        warning = await client.wait_notification("configWarning")
        assert warning["summary"] == "Invalid configuration; using defaults."
        assert warning["path"] == str(config)
        # codex-cli 0.171.0's words for this file.
        assert warning["details"] == f"{config}:{line}:6: key with no value, expected `=`"
        assert warning["range"] == {"start": {"line": line, "column": 6},
                                    "end": {"line": line, "column": 6}}
        message = await refused(client, "thread/start", {"cwd": str(workdir)})
        assert message == f"failed to load configuration: {warning['details']}"
        assert mock.requests == []
        # The user repairs the file: no restart needed.
        config.write_text(good)
        await run_hello_turn(client, mock, workdir)
        assert len(mock.requests) == 1
    finally:
        await client.close()
    client.assert_valid()


async def test_a_mistyped_key_refuses_threads_turns_resume_and_fork(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    good = good_config(codex_home, mock)
    config = codex_home / "config.toml"
    client = await open_client(codex_home, workdir)
    try:
        started = await client.request("thread/start", {"cwd": str(workdir)})
        thread_id = started["thread"]["id"]
        mock.push(text_reply("hello"))
        await client.request("turn/start", {"threadId": thread_id,
                                            "input": [{"type": "text", "text": "hi"}]})
        await client.wait_notification("turn/completed")
        requests_before = len(mock.requests)

        config.write_text(good.replace('model = "gpt-5.5"', "model = 5"))
        expected = (f"failed to load configuration: {config}:1:9: "
                    "invalid type: integer `5`, expected a string")
        assert await refused(client, "thread/start", {"cwd": str(workdir)}) == expected
        assert await refused(client, "turn/start", {
            "threadId": thread_id, "input": [{"type": "text", "text": "again"}]}) == expected
        assert await refused(client, "thread/fork", {"threadId": thread_id}) == expected
    finally:
        await client.close()
    client.assert_valid()

    client = await open_client(codex_home, workdir)  # the thread is no longer loaded
    try:
        assert await refused(client, "thread/resume", {"threadId": thread_id}) == expected
        assert await refused(client, "thread/fork", {"threadId": thread_id}) == expected
        assert len(mock.requests) == requests_before  # nothing went to any provider
        # config writes keep working, so a client can repair the file.
        await client.request("config/value/write", {
            "keyPath": "model", "value": "gpt-5.5", "mergeStrategy": "replace"})
        resumed = await client.request("thread/resume", {"threadId": thread_id})
        assert resumed["thread"]["modelProvider"] == "mock"
        await run_hello_turn(client, mock, workdir)
    finally:
        await client.close()
    client.assert_valid()
