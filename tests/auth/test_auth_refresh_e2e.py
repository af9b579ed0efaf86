"""A real HTTP 401 from the model endpoint in external-token mode makes the server ask the
client for fresh tokens (``account/chatgptAuthTokens/refresh``), then retry with them
(issue 2 §4, protocol §7.7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.auth import make_jwt
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, http_error, text_reply


async def _client(codex_home: Path, workdir: Path, mock: MockResponses) -> AppServerClient:
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "openai"\napproval_policy = "never"\n'
        'sandbox_mode = "danger-full-access"\n')
    client = AppServerClient(codex_home, cwd=workdir, env={"OPENAI_BASE_URL": mock.base_url})
    await client.start()
    await client.initialize(experimental=True)
    await client.request("account/login/start", {
        "type": "chatgptAuthTokens", "accessToken": make_jwt(), "chatgptAccountId": "acc-1"})
    return client


async def _start_turn(client: AppServerClient, workdir: Path) -> str:
    thread = await client.request("thread/start", {"cwd": str(workdir)})
    thread_id = str(thread["thread"]["id"])
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hi"}]})
    return thread_id


async def test_401_asks_the_client_and_retries_with_the_new_token(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    fresh = make_jwt(email="fresh@example.com")
    client = await _client(codex_home, workdir, mock)
    refreshes: list[dict[str, Any]] = []

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        refreshes.append(params)
        return {"accessToken": fresh, "chatgptAccountId": "acc-1", "chatgptPlanType": None}

    client.auto_answers["account/chatgptAuthTokens/refresh"] = answer
    mock.push(http_error(401, {"error": {"message": "token expired"}}), text_reply("ok"))
    try:
        await _start_turn(client, workdir)
        completed = await client.wait_notification("turn/completed", timeout=30)
    finally:
        await client.close()
    assert completed["turn"]["status"] == "completed"
    assert refreshes == [{"reason": "unauthorized", "previousAccountId": "acc-1"}]
    assert mock.requests[0].headers["authorization"] == f"Bearer {make_jwt()}"
    assert mock.requests[-1].headers["authorization"] == f"Bearer {fresh}"
    client.assert_valid()


async def test_refresh_error_fails_the_turn_with_the_original_401(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    client = await _client(codex_home, workdir, mock)
    mock.push(http_error(401, {"error": {"message": "token expired"}}))
    try:
        await _start_turn(client, workdir)
        request = await client.wait_server_request("account/chatgptAuthTokens/refresh")
        await client.send({"id": request["id"],
                           "error": {"code": -32000, "message": "user signed out"}})
        completed = await client.wait_notification("turn/completed", timeout=30)
    finally:
        await client.close()
    turn = completed["turn"]
    assert turn["status"] == "failed"
    assert turn["error"]["codexErrorInfo"] in ("unauthorized",
                                               {"httpConnectionFailed": {"httpStatusCode": 401}})
    assert len(mock.requests) == 1
    client.assert_valid()
