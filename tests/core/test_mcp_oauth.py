"""``mcpServer/oauth/login`` and ``mcpServer/oauthLogin/completed`` (extensions.md §1.12)
against a real OAuth-protected MCP streamable-HTTP server built on the ``mcp`` SDK
(``tests/support/oauth_mcp_server.py``, authorization server included); the test plays the
browser with httpx. Tokens land in ``$CODEX_HOME/.credentials.json`` as the reference stores
them, are used (and refreshed) when the server starts, and never reach the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pycodex.auth.mcp_credentials import store_key
from pycodex.core.mcp.oauth import callback_id
from tests.support.client import AppServerClient, ServerError
from tests.support.exec import start_thread
from tests.support.mcp import CLOCK, add_servers, free_port, serving, settled
from tests.support.mock_responses import MockResponses
from tests.support.paths import ROOT
from tests.support.reference import REFERENCE, pycodex_client, reference_client
from tests.support.turns import write_config


@contextlib.asynccontextmanager
async def oauth_server(*args: str) -> AsyncIterator[str]:
    """The test server on a free loopback port; yields its MCP endpoint URL."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.oauth_mcp_server", str(port), *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() == b"ready", "the OAuth test server did not start"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        await proc.wait()


def table(name: str, url: str) -> str:
    return f'\n[mcp_servers.{name}]\nurl = "{url}"\n'


async def stats(url: str) -> dict[str, int]:
    async with httpx.AsyncClient() as http:
        result: dict[str, int] = (await http.get(url.replace("/mcp", "/stats"))).json()
        return result


async def browse(authorization_url: str) -> httpx.Response:
    """What a browser does with the URL: follow the redirects to the loopback callback."""
    async with httpx.AsyncClient(follow_redirects=True) as http:
        return await http.get(authorization_url)


async def completed(client: AppServerClient, login_id: str) -> dict[str, Any]:
    return await client.wait_notification(
        "mcpServer/oauthLogin/completed", timeout=30,
        where=lambda p: p.get("loginId") == login_id)


async def login(client: AppServerClient, name: str, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await client.request("mcpServer/oauth/login",
                                                  {"name": name, **params}, timeout=60)
    return answer


def credentials(codex_home: Path) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads((codex_home / ".credentials.json").read_text())
    return stored


@pytest.fixture
async def protected() -> AsyncIterator[str]:
    async with oauth_server() as url:
        yield url


async def test_login_stores_tokens_that_the_server_is_then_started_with(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str
) -> None:
    async with serving(codex_home, workdir, mock, table("docs", protected)) as client:
        before = (await client.request("mcpServerStatus/list", {}, timeout=60))["data"][0]
        assert (before["authStatus"], before["tools"]) == ("notLoggedIn", {})
        assert before["toolsError"] == \
            "MCP startup failed: handshaking with MCP server failed: Auth required"

        answer = await login(client, "docs", scopes=["read", "write"])
        url = urlsplit(answer["authorizationUrl"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == protected.replace("/mcp", "/authorize")
        redirect = urlsplit(query["redirect_uri"])
        assert (redirect.hostname, redirect.path) == (
            "127.0.0.1", f"/callback/{callback_id(protected)}")
        assert (query["response_type"], query["code_challenge_method"], query["scope"]) == (
            "code", "S256", "read write")
        assert uuid.UUID(answer["loginId"]).version == 7  # time-ordered, as the reference

        page = await browse(answer["authorizationUrl"])
        assert page.status_code == 200
        done = await completed(client, answer["loginId"])
        assert done == {"name": "docs", "success": True, "loginId": answer["loginId"],
                        "threadId": None}

        path = codex_home / ".credentials.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        entry = credentials(codex_home)[store_key("docs", protected)]
        assert (entry["server_name"], entry["server_url"], entry["scopes"]) == (
            "docs", protected, ["read", "write"])
        assert entry["issuer"] == protected.removesuffix("/mcp")
        assert entry["client_id"] and entry["access_token"] and entry["refresh_token"]
        assert entry["expires_at"] > 0

        after = (await client.request("mcpServerStatus/list", {}, timeout=60))["data"][0]
        assert (after["authStatus"], list(after["tools"])) == ("oAuth", ["whoami"])
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "docs"))["status"] == "ready"
        result = await client.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "docs", "tool": "whoami"})
        assert result["content"] == [{"type": "text", "text": "an authorized client"}]
    logged = "\n".join(client.stderr_lines)
    assert entry["access_token"] not in logged and entry["refresh_token"] not in logged
    assert await stats(protected) == {"issued": 1, "refreshed": 0}


@pytest.mark.parametrize("split", [False, True], ids=["same-origin", "split-origin"])
async def test_an_expired_token_is_refreshed_when_the_server_starts(
    codex_home: Path, workdir: Path, mock: MockResponses, split: bool
) -> None:
    """Also with the authorization server on another origin than the MCP endpoint (which
    then has no ``/token``): the refresh goes to the discovered token endpoint."""
    mode = ("split", str(free_port())) if split else ()
    async with oauth_server("2", *mode) as url, \
            serving(codex_home, workdir, mock, table("docs", url)) as client:
        answer = await login(client, "docs")
        assert (urlsplit(answer["authorizationUrl"]).netloc != urlsplit(url).netloc) == split
        await browse(answer["authorizationUrl"])
        assert (await completed(client, answer["loginId"]))["success"] is True
        first = credentials(codex_home)[store_key("docs", url)]
        await asyncio.sleep(2.5)  # the access token lives two seconds
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "docs"))["status"] == "ready"
        refreshed = credentials(codex_home)[store_key("docs", url)]
        assert refreshed["access_token"] != first["access_token"]
        assert refreshed["client_id"] == first["client_id"]
        assert await stats(url) == {"issued": 1, "refreshed": 1}
        await asyncio.sleep(2.5)  # expired again: two threads start at once, one refresh
        threads = await asyncio.gather(start_thread(client, workdir),
                                       start_thread(client, workdir))
        for other in threads:
            assert (await settled(client, other, "docs"))["status"] == "ready"
        assert await stats(url) == {"issued": 1, "refreshed": 2}


async def test_login_errors(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str
) -> None:
    async with oauth_server("3600", "open") as open_url, serving(
            codex_home, workdir, mock, CLOCK, table("docs", protected),
            table("plain", open_url)) as client:
        for name, code, message in (
            ("nope", -32600, "No MCP server named 'nope' found."),
            ("clock", -32600, "OAuth login is only supported for streamable HTTP servers."),
            ("plain", -32603, "failed to login to MCP server 'plain': the server did not ask "
                              "for OAuth authorization"),
        ):
            with pytest.raises(ServerError) as refused:
                await login(client, name)
            assert (refused.value.code, refused.value.message) == (code, message), name

        # the provider refuses: the callback carries the error
        denied = await login(client, "docs", threadId="t-1")
        redirect = parse_qs(urlsplit(denied["authorizationUrl"]).query)["redirect_uri"][0]
        async with httpx.AsyncClient() as http:
            wrong = await http.get(redirect.rsplit("/", 1)[0] + "/other?code=x&state=y")
            assert wrong.status_code == 400  # not the callback path: still waiting
            page = await http.get(redirect, params={
                "error": "access_denied", "error_description": "user said no"})
        assert page.status_code == 400
        assert await completed(client, denied["loginId"]) == {
            "name": "docs", "success": False, "loginId": denied["loginId"],
            "threadId": "t-1", "error": "OAuth provider returned `access_denied`: user said no"}

        # nobody comes back
        abandoned = await login(client, "docs", timeoutSecs=1)
        assert await completed(client, abandoned["loginId"]) == {
            "name": "docs", "success": False, "loginId": abandoned["loginId"],
            "threadId": None, "error": "timed out waiting for OAuth callback"}
    assert not (codex_home / ".credentials.json").exists()


# -- against the reference ----------------------------------------------------------------------
@pytest.mark.skipif(not REFERENCE.exists(),
                    reason=f"reference binary not installed at {REFERENCE}")
async def test_tokens_stored_by_either_side_serve_the_other(
    ref_dirs: tuple[Path, Path], mock: MockResponses, protected: str
) -> None:
    """One CODEX_HOME: the reference's stored tokens start the server in pycodex and the
    other way round; login errors are answered alike."""
    home, work = ref_dirs
    write_config(home, mock, mcp_oauth_credentials_store='"file"')
    add_servers(home, CLOCK, table("docs", protected))
    errors: list[list[tuple[Any, Any]]] = []
    for first, second in ((reference_client, pycodex_client),
                          (pycodex_client, reference_client)):
        (home / ".credentials.json").unlink(missing_ok=True)
        async with first(home, work) as client:
            await client.initialize(name="probe", version="0.0.1")
            answer = await login(client, "docs")
            assert (await browse(answer["authorizationUrl"])).status_code == 200
            assert (await completed(client, answer["loginId"]))["success"] is True
            refused = []
            for name in ("nope", "clock"):
                with pytest.raises(ServerError) as exc:
                    await login(client, name)
                refused.append((exc.value.code, exc.value.message))
            errors.append(refused)
        async with second(home, work) as client:
            await client.initialize(name="probe", version="0.0.1")
            listed = await client.request("mcpServerStatus/list", {}, timeout=60)
            docs = next(s for s in listed["data"] if s["name"] == "docs")
            assert (docs["authStatus"], list(docs["tools"]), docs["toolsError"]) == (
                "oAuth", ["whoami"], None), first
    assert errors[0] == errors[1]
    assert (await stats(protected))["issued"] == 2


async def test_callback_port_and_url_from_config(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str
) -> None:
    """``mcp_oauth_callback_port`` is where the listener binds, ``mcp_oauth_callback_url``
    the redirect URI sent (with the callback id appended), as the reference reads them."""
    port = free_port()
    async with serving(codex_home, workdir, mock, table("docs", protected),
                       mcp_oauth_callback_port=str(port),
                       mcp_oauth_callback_url=f'"http://localhost:{port}/oauth/cb"') as client:
        answer = await login(client, "docs")
        redirect = parse_qs(urlsplit(answer["authorizationUrl"]).query)["redirect_uri"][0]
        assert redirect == f"http://localhost:{port}/oauth/cb/{callback_id(protected)}"
        assert (await browse(answer["authorizationUrl"])).status_code == 200
        assert (await completed(client, answer["loginId"]))["success"] is True
    assert store_key("docs", protected) in credentials(codex_home)


@pytest.mark.parametrize(("setting", "error"), [
    ({"mcp_oauth_callback_port": "0"},
     "invalid MCP OAuth callback port `0`: port must be between 1 and 65535"),
    ({"mcp_oauth_callback_port": "BUSY"}, "Address in use (os error 98)"),
    ({"mcp_oauth_callback_url": '"not a url"'}, "invalid MCP OAuth callback URL `not a url`"),
])
async def test_bad_callback_settings_refuse_the_login(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str,
    setting: dict[str, str], error: str
) -> None:
    """The reference's texts (probed on 0.171): a zero port, a port in use, a URL that
    does not parse."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        settings = {k: str(busy.getsockname()[1]) if v == "BUSY" else v
                    for k, v in setting.items()}
        async with serving(codex_home, workdir, mock, table("docs", protected),
                           **settings) as client:
            with pytest.raises(ServerError) as refused:
                await login(client, "docs")
    assert (refused.value.code, refused.value.message) == (
        -32603, f"failed to login to MCP server 'docs': {error}")


async def test_a_login_restarts_the_servers_of_loaded_threads(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str
) -> None:
    """As the reference: a thread whose server failed for lack of a login gets it
    started again (starting → ready) once the login completed."""
    async with serving(codex_home, workdir, mock, table("docs", protected)) as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "docs"))["error"] == \
            "The docs MCP server is not logged in. Run `codex mcp login docs`."
        seen = len(client.notifications("mcpServer/startupStatus/updated"))
        answer = await login(client, "docs")
        await browse(answer["authorizationUrl"])
        assert (await completed(client, answer["loginId"]))["success"] is True
        await client.wait_notification(
            "mcpServer/startupStatus/updated", timeout=30,
            where=lambda p: p["status"] == "ready")
        statuses = [(n["params"]["threadId"], n["params"]["status"])
                    for n in client.notifications("mcpServer/startupStatus/updated")[seen:]]
        assert statuses == [(thread_id, "starting"), (thread_id, "ready")]
        result = await client.request("mcpServer/tool/call", {
            "threadId": thread_id, "server": "docs", "tool": "whoami"})
        assert result["content"] == [{"type": "text", "text": "an authorized client"}]


async def test_keyring_store_without_a_keyring(
    codex_home: Path, workdir: Path, mock: MockResponses, protected: str
) -> None:
    """``mcp_oauth_credentials_store = "keyring"`` on a machine without a keyring service:
    the login fails to store the tokens with the reference's error, nothing is written,
    and tokens in the file are not used."""
    async with serving(codex_home, workdir, mock, table("docs", protected)) as client:
        answer = await login(client, "docs")  # file store ("auto"): tokens in the file
        await browse(answer["authorizationUrl"])
        assert (await completed(client, answer["loginId"]))["success"] is True
    stored = credentials(codex_home)
    async with serving(codex_home, workdir, mock, table("docs", protected),
                       mcp_oauth_credentials_store='"keyring"') as client:
        thread_id = await start_thread(client, workdir)
        assert (await settled(client, thread_id, "docs"))["error"] == \
            "The docs MCP server is not logged in. Run `codex mcp login docs`."
        listed = (await client.request("mcpServerStatus/list", {"threadId": thread_id}))["data"]
        assert listed[0]["authStatus"] == "unknown"  # as the reference: no keyring to ask
        answer = await login(client, "docs")
        assert (await browse(answer["authorizationUrl"])).status_code == 200
        assert await completed(client, answer["loginId"]) == {
            "name": "docs", "success": False, "loginId": answer["loginId"], "threadId": None,
            "error": "failed to write OAuth tokens to keyring"}
    assert credentials(codex_home) == stored
