"""Accounts and auth (protocol §11, §7.7): login flows, reads, logout, rate limits and the
external-token refresh request, driven over stdio like a real client. The refresher's
timeout/error/cancel texts are exercised in-process below (test_refresher_*); the refresh
driven by a real HTTP 401 is in tests/auth/test_auth_refresh_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pycodex.api.context import ClientRequestError
from tests.conftest import ServerFactory
from tests.support.auth import make_jwt

# -- helpers --------------------------------------------------------------------------------------


class MockBackend:
    """A tiny HTTP server: ``routes[path] = (status, json_body)`` or a list of them (served
    in turn, the last one repeating). Every request is logged."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urlsplit(self.path).path
                backend.log.append(
                    {"method": self.command, "path": path, "headers": dict(self.headers),
                     "body": body}
                )
                route = backend.routes.get(path, (404, {"detail": "not found"}))
                if isinstance(route, list):
                    route = route.pop(0) if len(route) > 1 else route[0]
                status, payload = route
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.log if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backend() -> Iterator[MockBackend]:
    mock = MockBackend()
    yield mock
    mock.close()


def write_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text)


def messages_after(client: Any, response_id: int) -> list[dict[str, Any]]:
    """Everything received after the response with ``response_id`` (in order)."""
    for index, message in enumerate(client.received):
        if message.get("id") == response_id and "method" not in message:
            return client.received[index + 1 :]
    raise AssertionError(f"no response {response_id}")


NO_ACCOUNT = {"account": None, "userId": None, "requiresOpenaiAuth": True,
              "workspaceRouting": None}


# -- API key --------------------------------------------------------------------------------------
async def test_api_key_login_persists_notifies_and_logout_clears(spawn: ServerFactory) -> None:
    client = await spawn()
    assert await client.request("account/read", {}) == NO_ACCOUNT

    rid = client.next_id()
    response = await client.request_raw(
        "account/login/start", {"type": "apiKey", "apiKey": "sk-test-123"}, request_id=rid
    )
    assert response["result"] == {"type": "apiKey"}
    completed = await client.wait_notification("account/login/completed")
    updated = await client.wait_notification("account/updated")
    assert completed == {"loginId": None, "success": True, "error": None,
                         "onboardingEntrypoint": None}
    assert updated == {"authMode": "apikey", "planType": None, "reason": None}
    after = [m["method"] for m in messages_after(client, rid) if "method" in m]
    assert after[:2] == ["account/login/completed", "account/updated"]

    auth_file = client.codex_home / "auth.json"
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    assert json.loads(auth_file.read_text()) == {
        "auth_mode": "apikey",
        "OPENAI_API_KEY": "sk-test-123",
    }
    assert not [p for p in client.codex_home.iterdir() if p.name.startswith(".auth.json")]

    assert await client.request("account/read", {"refreshToken": True}) == {
        "account": {"type": "apiKey"}, "userId": None, "requiresOpenaiAuth": True,
        "workspaceRouting": None,
    }

    rid = client.next_id()
    assert (await client.request_raw("account/logout", request_id=rid))["result"] == {}
    assert await client.wait_notification("account/updated") == {
        "authMode": None, "planType": None, "reason": None}
    assert not auth_file.exists()
    assert await client.request("account/read", {}) == NO_ACCOUNT


async def test_api_key_survives_restart(spawn: ServerFactory, codex_home: Path) -> None:
    first = await spawn()
    await first.request("account/login/start", {"type": "apiKey", "apiKey": "sk-keep"})
    await first.close()
    second = await spawn()
    assert (await second.request("account/read", {}))["account"] == {"type": "apiKey"}


async def test_account_read_requires_params(server: Any) -> None:
    response = await server.request_raw("account/read", omit_params=True)
    assert response["error"] == {"code": -32600,
                                 "message": "Invalid request: missing field `params`"}


# -- external ChatGPT tokens ----------------------------------------------------------------------
async def test_external_tokens_need_experimental_api(server: Any) -> None:
    response = await server.request_raw(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": make_jwt(), "chatgptAccountId": "acc-1"},
    )
    assert response["error"] == {
        "code": -32600,
        "message": "account/login/start.chatgptAuthTokens requires experimentalApi capability",
    }


async def test_external_tokens_login_read_and_logout(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    token = make_jwt()
    rid = client.next_id()
    response = await client.request_raw(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": token, "chatgptAccountId": "acc-1"},
        request_id=rid,
    )
    assert response["result"] == {"type": "chatgptAuthTokens"}
    after = [m for m in messages_after(client, rid) if "method" in m]
    if len(after) < 2:
        await client.wait_notification("account/updated")
        after = [m for m in messages_after(client, rid) if "method" in m]
    assert [(m["method"], m["params"]) for m in after[:2]] == [
        ("account/login/completed",
         {"loginId": None, "success": True, "error": None, "onboardingEntrypoint": None}),
        ("account/updated", {"authMode": "chatgptAuthTokens", "planType": "pro",
                             "reason": None}),
    ]
    assert not (client.codex_home / "auth.json").exists()
    assert await client.request("account/read", {"refreshToken": True}) == {
        "account": {"type": "chatgpt", "email": "dev@example.com", "planType": "pro"},
        "userId": "user-9", "requiresOpenaiAuth": True, "workspaceRouting": None,
    }

    refused = await client.request_raw("account/login/start",
                                       {"type": "apiKey", "apiKey": "sk-1"})
    assert refused["error"] == {
        "code": -32600,
        "message": "External auth is active. Use account/login/start (chatgptAuthTokens) to "
        "update it or account/logout to clear it.",
    }
    refused = await client.request_raw("account/login/start", {"type": "chatgpt"})
    assert refused["error"]["message"].startswith("External auth is active.")

    # An explicit plan wins over the token's claim; unknown names map to "unknown".
    for given, expected in (("plus", "plus"), ("weird", "unknown")):
        await client.request(
            "account/login/start",
            {"type": "chatgptAuthTokens", "accessToken": token, "chatgptAccountId": "acc-1",
             "chatgptPlanType": given},
        )
        assert await client.wait_notification(
            "account/updated", where=lambda p, e=expected: p.get("planType") == e  # type: ignore[misc]
        ) == {"authMode": "chatgptAuthTokens", "planType": expected, "reason": None}

    await client.request("account/logout")
    assert await client.wait_notification(
        "account/updated", where=lambda p: p.get("authMode") is None
    ) == {"authMode": None, "planType": None, "reason": None}
    assert await client.request("account/read", {}) == NO_ACCOUNT


async def test_external_tokens_must_be_jwts(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    for token, reason in (("x", "invalid ID token format"), ("a.b.c", "Invalid input length: 1")):
        response = await client.request_raw(
            "account/login/start",
            {"type": "chatgptAuthTokens", "accessToken": token, "chatgptAccountId": "a"},
        )
        assert response["error"] == {"code": -32603,
                                     "message": f"failed to set external auth: {reason}"}
    assert await client.request("account/read", {}) == NO_ACCOUNT


async def test_external_tokens_without_email_cannot_be_read(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    await client.request(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": make_jwt(email=None),
         "chatgptAccountId": "acc-1"},
    )
    response = await client.request_raw("account/read", {})
    assert response["error"] == {
        "code": -32600, "message": "email and plan type are required for chatgpt authentication"}


# -- getAuthStatus (legacy; in the TypeScript bindings only, so no JSON schema to check) ----------
async def test_get_auth_status_legacy(spawn: ServerFactory, codex_home: Path) -> None:
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    response = await client.request_raw("getAuthStatus", omit_params=True)
    assert response["error"] == {"code": -32600,
                                 "message": "Invalid request: missing field `params`"}
    assert await client.request("getAuthStatus", {}) == {
        "authMethod": None, "authToken": None, "requiresOpenaiAuth": True}
    await client.request("account/login/start", {"type": "apiKey", "apiKey": "sk-1"})
    assert await client.request("getAuthStatus", {"includeToken": True}) == {
        "authMethod": "apikey", "authToken": "sk-1", "requiresOpenaiAuth": True}
    await client.request("account/logout")
    token = make_jwt()
    await client.request(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": token, "chatgptAccountId": "acc-1"},
    )
    assert await client.request("getAuthStatus", {"includeToken": True, "refreshToken": True}) == {
        "authMethod": "chatgptAuthTokens", "authToken": token, "requiresOpenaiAuth": True}
    assert await client.request("getAuthStatus", {"includeToken": False}) == {
        "authMethod": "chatgptAuthTokens", "authToken": None, "requiresOpenaiAuth": True}


async def test_get_auth_status_without_openai_provider(
    spawn: ServerFactory, codex_home: Path
) -> None:
    write_config(codex_home, 'model_provider = "m"\n[model_providers.m]\nname = "m"\n'
                 'base_url = "http://x/v1"\nenv_key = "K"\n')
    client = await spawn()
    assert await client.request("getAuthStatus", {"includeToken": True}) == {
        "authMethod": None, "authToken": None, "requiresOpenaiAuth": False}


# -- config: forced login method, workspace, provider ---------------------------------------------
async def test_forced_chatgpt_refuses_api_key(spawn: ServerFactory, codex_home: Path) -> None:
    write_config(codex_home, 'forced_login_method = "chatgpt"\n')
    client = await spawn()
    response = await client.request_raw("account/login/start",
                                        {"type": "apiKey", "apiKey": "sk"})
    assert response["error"] == {
        "code": -32600, "message": "API key login is disabled. Use ChatGPT login instead."}
    assert not (codex_home / "auth.json").exists()


async def test_forced_api_refuses_chatgpt_logins(spawn: ServerFactory, codex_home: Path) -> None:
    write_config(codex_home, 'forced_login_method = "api"\n')
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    expected = {
        "chatgpt": "ChatGPT login is disabled. Use API key login instead.",
        "chatgptDeviceCode": "ChatGPT login is disabled. Use API key login instead.",
    }
    for kind, message in expected.items():
        response = await client.request_raw("account/login/start", {"type": kind})
        assert response["error"] == {"code": -32600, "message": message}
    response = await client.request_raw(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": make_jwt(), "chatgptAccountId": "acc-1"},
    )
    assert response["error"] == {
        "code": -32600,
        "message": "External ChatGPT auth is disabled. Use API key login instead.",
    }
    assert (await client.request("account/login/start",
                                 {"type": "apiKey", "apiKey": "sk"})) == {"type": "apiKey"}


async def test_forced_workspace_refuses_other_external_account(
    spawn: ServerFactory, codex_home: Path
) -> None:
    write_config(codex_home, 'forced_chatgpt_workspace_id = "ws-9"\n')
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    response = await client.request_raw(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": make_jwt(), "chatgptAccountId": "acc-1"},
    )
    assert response["error"] == {
        "code": -32600,
        "message": 'External auth must use one of workspace(s) ["ws-9"], but received "acc-1".',
    }
    assert await client.request(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": make_jwt(account="ws-9"),
         "chatgptAccountId": "ws-9"},
    ) == {"type": "chatgptAuthTokens"}


@pytest.mark.parametrize(
    ("provider", "required"),
    [
        ('model_provider = "m"\n[model_providers.m]\nname = "m"\nbase_url = "http://x/v1"\n'
         'env_key = "MOCK_KEY"\n', False),
        ('model_provider = "m"\n[model_providers.m]\nname = "m"\nbase_url = "http://x/v1"\n'
         "requires_openai_auth = true\n", True),
        ('model_provider = "openai"\n', True),
    ],
)
async def test_requires_openai_auth_follows_provider(
    spawn: ServerFactory, codex_home: Path, provider: str, required: bool
) -> None:
    write_config(codex_home, provider)
    client = await spawn()
    await client.request("account/login/start", {"type": "apiKey", "apiKey": "sk"})
    read = await client.request("account/read", {})
    assert read["requiresOpenaiAuth"] is required
    assert read["account"] == ({"type": "apiKey"} if required else None)


# -- cancel ---------------------------------------------------------------------------------------
async def test_login_cancel_validates_id(server: Any) -> None:
    response = await server.request_raw("account/login/cancel", {"loginId": "nope"})
    assert response["error"] == {"code": -32600, "message": "invalid login id: nope"}
    response = await server.request_raw("account/login/cancel", {})
    assert response["error"] == {"code": -32600,
                                 "message": "Invalid request: missing field `loginId`"}
    assert await server.request(
        "account/login/cancel", {"loginId": "2b2c7c5e-0d2c-4a43-9a77-2d6a3b2e9a11"}
    ) == {"status": "notFound"}


# -- rate limits ----------------------------------------------------------------------------------
USAGE = {
    "plan_type": "plus",
    "rate_limit": {"allowed": True, "limit_reached": False,
                   "primary_window": {"used_percent": 42, "limit_window_seconds": 18000,
                                      "reset_after_seconds": 100, "reset_at": 1700000000},
                   "secondary_window": None},
    "credits": {"has_credits": True, "unlimited": False, "balance": "9.5"},
    "additional_rate_limits": [
        {"limit_name": "Other", "metered_feature": "codex_other",
         "rate_limit": {"allowed": True, "limit_reached": False,
                        "primary_window": {"used_percent": 7, "limit_window_seconds": 59,
                                           "reset_after_seconds": 1, "reset_at": 5}}}
    ],
}


def _snapshot(limit_id: str, name: str | None, primary: dict[str, Any],
              credits: dict[str, Any] | None) -> dict[str, Any]:
    return {"limitId": limit_id, "limitName": name, "normalModelSlug": None,
            "primary": primary, "secondary": None, "credits": credits,
            "individualLimit": None, "spendControlReached": None, "planType": "plus",
            "rateLimitReachedType": None}


async def test_rate_limits_need_chatgpt_auth(server: Any) -> None:
    response = await server.request_raw("account/rateLimits/read", omit_params=True)
    assert response["error"] == {
        "code": -32600, "message": "codex account authentication required to read rate limits"}
    await server.request("account/login/start", {"type": "apiKey", "apiKey": "sk"})
    response = await server.request_raw("account/rateLimits/read", {})
    assert response["error"] == {
        "code": -32600, "message": "chatgpt authentication required to read rate limits"}


async def test_rate_limits_read_from_backend(
    spawn: ServerFactory, codex_home: Path, backend: MockBackend
) -> None:
    write_config(codex_home, f'chatgpt_base_url = "{backend.url}/backend-api/"\n')
    backend.routes["/backend-api/wham/usage"] = [(200, USAGE), (401, {"detail": "nope"})]
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)
    token = make_jwt()
    await client.request(
        "account/login/start",
        {"type": "chatgptAuthTokens", "accessToken": token, "chatgptAccountId": "acc-1"},
    )
    result = await client.request("account/rateLimits/read")
    codex = _snapshot("codex", None,
                      {"usedPercent": 42, "windowDurationMins": 300, "resetsAt": 1700000000},
                      {"hasCredits": True, "unlimited": False, "balance": "9.5"})
    other = _snapshot("codex_other", "Other",
                      {"usedPercent": 7, "windowDurationMins": 1, "resetsAt": 5}, None)
    assert result["rateLimits"] == codex
    assert result["rateLimitsByLimitId"] == {"codex": codex, "codex_other": other}
    sent = backend.requests_to("/backend-api/wham/usage")[0]["headers"]
    assert sent["Authorization"] == f"Bearer {token}"
    assert sent["ChatGPT-Account-Id"] == "acc-1"

    response = await client.request_raw("account/rateLimits/read")
    url = f"{backend.url}/backend-api/wham/usage"
    assert response["error"] == {
        "code": -32603,
        "message": f"failed to fetch codex rate limits: GET {url} failed: 401 Unauthorized; "
        'content-type=application/json; body={"detail": "nope"}',
    }


# -- managed ChatGPT auth -------------------------------------------------------------------------
def _write_chatgpt_auth(home: Path, id_token: str, refresh: str = "rt-1") -> None:
    (home / "auth.json").write_text(json.dumps({
        "auth_mode": "chatgpt", "OPENAI_API_KEY": None,
        "tokens": {"id_token": id_token, "access_token": "at-1", "refresh_token": refresh,
                   "account_id": "acc-1"},
        "last_refresh": "2025-01-01T00:00:00Z",
    }))
    os.chmod(home / "auth.json", 0o600)


async def test_managed_tokens_are_read_and_refreshed_on_request(
    spawn: ServerFactory, codex_home: Path, backend: MockBackend
) -> None:
    _write_chatgpt_auth(codex_home, make_jwt(plan="team"))
    new_id = make_jwt(email="new@example.com", plan="business")
    backend.routes["/oauth/token"] = (200, {"id_token": new_id, "access_token": "at-2",
                                            "refresh_token": "rt-2"})
    client = await spawn(env={"CODEX_REFRESH_TOKEN_URL_OVERRIDE": f"{backend.url}/oauth/token"})
    assert await client.request("account/read", {}) == {
        "account": {"type": "chatgpt", "email": "dev@example.com", "planType": "team"},
        "userId": "user-9", "requiresOpenaiAuth": True, "workspaceRouting": None,
    }
    assert backend.requests_to("/oauth/token") == []
    read = await client.request("account/read", {"refreshToken": True})
    assert read["account"] == {"type": "chatgpt", "email": "new@example.com",
                               "planType": "business"}
    grant = json.loads(backend.requests_to("/oauth/token")[0]["body"])
    assert grant["grant_type"] == "refresh_token" and grant["refresh_token"] == "rt-1"
    stored = json.loads((codex_home / "auth.json").read_text())
    assert stored["tokens"]["access_token"] == "at-2"
    assert stored["tokens"]["refresh_token"] == "rt-2"
    assert stat.S_IMODE((codex_home / "auth.json").stat().st_mode) == 0o600

    # A failing refresh is only logged; the read still answers.
    backend.routes["/oauth/token"] = (500, {"error": "boom"})
    assert (await client.request("account/read", {"refreshToken": True}))["account"][
        "email"] == "new@example.com"


# -- browser login --------------------------------------------------------------------------------
def _login_env(backend: MockBackend) -> dict[str, str]:
    return {"PYCODEX_LOGIN_ISSUER": backend.url, "PYCODEX_LOGIN_PORT": "0"}


async def test_browser_login_completes_through_callback(
    spawn: ServerFactory, codex_home: Path, backend: MockBackend
) -> None:
    id_token = make_jwt(plan="plus")
    backend.routes["/oauth/token"] = (200, {"id_token": id_token, "access_token": "at",
                                            "refresh_token": "rt"})
    client = await spawn(env=_login_env(backend))
    result = await client.request("account/login/start", {"type": "chatgpt"})
    assert result["type"] == "chatgpt"
    url = urlsplit(result["authUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{backend.url}/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == "app_EMoamEEZ73f0CkXaXp7hrann"
    assert query["code_challenge_method"] == "S256"
    assert query["originator"] == "pytest"
    redirect = query["redirect_uri"]
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/auth/callback")

    async with httpx.AsyncClient(trust_env=False) as http:
        bad = await http.get(redirect, params={"code": "c", "state": "wrong"})
        assert (bad.status_code, bad.text) == (400, "State mismatch")
        good = await http.get(redirect, params={"code": "the-code", "state": query["state"]})
        assert good.status_code == 200

    completed = await client.wait_notification("account/login/completed")
    assert completed == {"loginId": result["loginId"], "success": True, "error": None,
                         "onboardingEntrypoint": None}
    assert await client.wait_notification("account/updated") == {
        "authMode": "chatgpt", "planType": "plus", "reason": None}
    exchange = parse_qs(backend.requests_to("/oauth/token")[0]["body"])
    assert exchange["code"] == ["the-code"] and exchange["redirect_uri"] == [redirect]
    stored = json.loads((codex_home / "auth.json").read_text())
    assert stored["auth_mode"] == "chatgpt"
    assert stored["tokens"]["id_token"] == id_token
    assert stored["tokens"]["account_id"] == "acc-1"
    assert stat.S_IMODE((codex_home / "auth.json").stat().st_mode) == 0o600
    assert (await client.request("account/read", {}))["account"] == {
        "type": "chatgpt", "email": "dev@example.com", "planType": "plus"}


async def test_browser_login_cancel_and_replace(
    spawn: ServerFactory, backend: MockBackend
) -> None:
    client = await spawn(env=_login_env(backend))
    first = await client.request("account/login/start", {"type": "chatgpt"})
    second = await client.request("account/login/start", {"type": "chatgpt"})
    replaced = await client.wait_notification("account/login/completed")
    assert replaced == {"loginId": first["loginId"], "success": False,
                        "error": "Login server error: Login cancelled",
                        "onboardingEntrypoint": None}
    assert await client.request(
        "account/login/cancel", {"loginId": first["loginId"]}) == {"status": "notFound"}
    assert await client.request(
        "account/login/cancel", {"loginId": second["loginId"]}) == {"status": "canceled"}
    assert await client.wait_notification("account/login/completed") == {
        "loginId": second["loginId"], "success": False,
        "error": "Login server error: Login was not completed", "onboardingEntrypoint": None}
    assert client.notifications("account/updated") == []


# -- device code ----------------------------------------------------------------------------------
async def test_device_code_login(
    spawn: ServerFactory, codex_home: Path, backend: MockBackend
) -> None:
    backend.routes["/api/accounts/deviceauth/usercode"] = (
        200, {"device_auth_id": "dev-1", "user_code": "ABCD-EFGH", "interval": "0"})
    backend.routes["/api/accounts/deviceauth/token"] = [
        (403, {"error": "pending"}),
        (200, {"authorization_code": "code-7", "code_challenge": "ch",
               "code_verifier": "ver"}),
    ]
    backend.routes["/oauth/token"] = (200, {"id_token": make_jwt(plan="pro"),
                                            "access_token": "at", "refresh_token": "rt"})
    client = await spawn(env=_login_env(backend))
    result = await client.request("account/login/start", {"type": "chatgptDeviceCode"})
    assert result == {"type": "chatgptDeviceCode", "loginId": result["loginId"],
                      "verificationUrl": f"{backend.url}/codex/device",
                      "userCode": "ABCD-EFGH"}
    assert await client.wait_notification("account/login/completed") == {
        "loginId": result["loginId"], "success": True, "error": None,
        "onboardingEntrypoint": None}
    assert await client.wait_notification("account/updated") == {
        "authMode": "chatgpt", "planType": "pro", "reason": None}
    exchange = parse_qs(backend.requests_to("/oauth/token")[0]["body"])
    assert exchange["code_verifier"] == ["ver"]
    assert exchange["redirect_uri"] == [f"{backend.url}/deviceauth/callback"]
    assert len(backend.requests_to("/api/accounts/deviceauth/token")) == 2
    assert json.loads((codex_home / "auth.json").read_text())["auth_mode"] == "chatgpt"


async def test_device_code_unreachable_issuer(spawn: ServerFactory, backend: MockBackend) -> None:
    backend.close()
    client = await spawn(env=_login_env(backend))
    response = await client.request_raw("account/login/start", {"type": "chatgptDeviceCode"})
    assert response["error"] == {
        "code": -32603,
        "message": "failed to request device code: error sending request for url "
        f"({backend.url}/api/accounts/deviceauth/usercode)",
    }


# -- the external-token refresher (in process) ----------------------------------------------------
class FakeOutgoing:
    """Stands in for the server's sender: answers ``request`` from a script."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.requests: list[tuple[int, str, Any, float | None]] = []
        self.ids = [3, 7]

    def notify(self, method: str, params: Any, to: Any = None) -> None:
        pass

    async def notify_async(self, method: str, params: Any, to: Any = None) -> None:
        pass

    async def request(self, connection_id: int, method: str, params: Any, *,
                      timeout: float | None = None, thread_id: str | None = None) -> Any:
        import msgspec

        self.requests.append((connection_id, method, msgspec.to_builtins(params), timeout))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        if self.outcome == "hang":
            assert timeout is not None
            await asyncio.sleep(timeout)
            raise ClientRequestError("timeout", f"request timed out after {timeout:g}s")
        return self.outcome

    def cancel_thread_requests(self, thread_id: str, data: Any) -> list[int]:
        return []

    def connection_ids(self) -> list[int]:
        return self.ids


def _app(tmp_path: Path, outgoing: FakeOutgoing) -> Any:
    from pycodex.api.context import AppState, ServerOptions

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return AppState(ServerOptions(codex_home=home), outgoing)  # type: ignore[arg-type]


def _external_manager(app: Any, connection: int | None = None) -> Any:
    from pycodex.api.account import account_service, auth_manager
    from pycodex.auth import ExternalTokens

    manager = auth_manager(app)
    manager.set_external(ExternalTokens(make_jwt(), "acc-1", None))
    app.get(account_service).external_connection = connection
    app.get(account_service).refresh_timeout = 0.05
    return manager


async def test_refresher_success_replaces_tokens(tmp_path: Path) -> None:
    fresh = make_jwt(email="fresh@example.com", plan="plus", account="acc-2")
    outgoing = FakeOutgoing({"accessToken": fresh, "chatgptAccountId": "acc-2",
                             "chatgptPlanType": None})
    app = _app(tmp_path, outgoing)
    manager = _external_manager(app, connection=7)
    assert await manager.bearer() == make_jwt()
    assert await manager.on_unauthorized() is True
    assert outgoing.requests == [
        (7, "account/chatgptAuthTokens/refresh",
         {"reason": "unauthorized", "previousAccountId": "acc-1"}, 0.05)
    ]
    assert await manager.bearer() == fresh
    assert manager.chatgpt_account_id() == "acc-2"
    assert manager.plan_type() == "plus"


async def test_refresher_falls_back_to_first_connection(tmp_path: Path) -> None:
    outgoing = FakeOutgoing({"accessToken": make_jwt(), "chatgptAccountId": "acc-1"})
    manager = _external_manager(_app(tmp_path, outgoing), connection=99)
    assert await manager.on_unauthorized() is True
    assert outgoing.requests[0][0] == 3


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ("hang", "auth refresh request timed out after 0.05s"),
        (ClientRequestError("error", "host said no", -32000),
         "auth refresh request failed: code=-32000 message=host said no"),
        (ClientRequestError("canceled", "connection closed"),
         "auth refresh request canceled: channel closed"),
        ({"accessToken": "not-a-jwt", "chatgptAccountId": "acc-1"}, "invalid ID token format"),
        ({"chatgptAccountId": "acc-1"}, "missing field `accessToken`"),
    ],
)
async def test_refresher_failures_use_reference_texts(
    tmp_path: Path, outcome: Any, message: str
) -> None:
    from pycodex.auth import AuthRefreshError

    token = make_jwt()
    manager = _external_manager(_app(tmp_path, FakeOutgoing(outcome)), connection=3)
    with pytest.raises(AuthRefreshError) as info:
        await manager.on_unauthorized()
    assert info.value.message == message
    assert await manager.bearer() == token  # the old tokens stay in place


async def test_default_refresh_timeout_is_ten_seconds(tmp_path: Path) -> None:
    from pycodex.api.account import account_service

    app = _app(tmp_path, FakeOutgoing({}))
    assert app.get(account_service).refresh_timeout == 10.0


async def test_api_key_is_not_refreshable(tmp_path: Path) -> None:
    from pycodex.api.account import auth_manager

    outgoing = FakeOutgoing({})
    manager = auth_manager(_app(tmp_path, outgoing))
    assert await manager.bearer() is None
    assert await manager.on_unauthorized() is False
    manager.login_api_key("sk-abc")
    assert await manager.bearer() == "sk-abc"
    assert await manager.on_unauthorized() is False
    assert outgoing.requests == []
