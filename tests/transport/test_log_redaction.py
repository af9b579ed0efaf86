"""No secret in any log: websocket tokens (query or header), API keys (environment or
``auth.json``), ChatGPT tokens and provider ``http_headers`` / ``env_http_headers`` /
``query_params`` values never reach stderr, at debug level, in text or JSON log format."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.client import AppServerClient, server_env
from tests.support.mock_responses import MockResponses
from tests.support.ws import TIMEOUT, running

FORMATS = ["text", "json"]

SECRETS = {
    "header": "hdr-value-secret-1",
    "env_header": "env-header-secret-2",
    "env_key": "sk-env-key-secret-3",
    "auth_json": "sk-auth-json-secret-4",
    "query": "query-secret-5",
}


def log_env(fmt: str) -> dict[str, str]:
    env = {"PYCODEX_LOG": "debug"}
    if fmt == "json":
        env["LOG_FORMAT"] = "json"
    return env


def assert_clean(stderr: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in stderr, f"{secret!r} leaked:\n{stderr[-3000:]}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_from_every_source_are_redacted_where_logs_are_formatted(
    fmt: str, tmp_path: Path
) -> None:
    """The real loaders register each secret; a log line that carries them all (as a
    debug dump would) comes out redacted."""
    (tmp_path / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": SECRETS["auth_json"]}))
    script = textwrap.dedent(f"""
        import logging, os
        from pathlib import Path
        from pycodex.logs import setup_logging
        from pycodex.core.providers import provider_from_table, read_auth_json_api_key
        setup_logging()
        provider = provider_from_table("p", {{
            "name": "p", "base_url": "http://127.0.0.1:1/v1", "env_key": "P_KEY",
            "http_headers": {{"X-Custom": "{SECRETS['header']}"}},
            "env_http_headers": {{"X-Env": "P_HEADER"}},
            "query_params": {{"api-key": "{SECRETS['query']}"}}}})
        headers = provider.extra_headers()
        key = provider.api_key()
        stored = read_auth_json_api_key(Path({str(tmp_path)!r}))
        log = logging.getLogger("probe")
        log.debug("request headers %s key=%s stored=%s url=%s", headers, key, stored,
                  provider.url("responses"))
        log.info("sending %s", {{"Authorization": "Bearer unregistered-bearer-6"}})
        try:
            raise RuntimeError(f"failed with {{key}}")
        except RuntimeError:
            log.exception("boom")
    """)
    env = server_env(tmp_path, {**log_env(fmt), "P_KEY": SECRETS["env_key"],
                                "P_HEADER": SECRETS["env_header"]})
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    assert_clean(done.stderr, *SECRETS.values(), "unregistered-bearer-6")
    lines = done.stderr.strip().splitlines()
    if fmt == "json":
        events = [json.loads(line) for line in lines]
        assert [e["level"] for e in events] == ["DEBUG", "INFO", "ERROR"]
        assert "<redacted>" in events[2]["exception"]
    assert "X-Custom" in done.stderr and done.stderr.count("<redacted>") >= 7


@pytest.mark.parametrize("fmt", FORMATS)
async def test_websocket_tokens_in_the_query_or_header_are_not_logged(
    fmt: str, tmp_path: Path
) -> None:
    token = "capability-token-secret-7"
    (tmp_path / "token.txt").write_text(token + "\n")
    with running(tmp_path, "--ws-auth", "capability-token", "--ws-token-file",
                 str(tmp_path / "token.txt"), env=log_env(fmt)) as server:
        ws = await connect(f"{server.url}/?token={token}&access_token=query-only-secret-8",
                           additional_headers={"Authorization": f"Bearer {token}"},
                           proxy=None, open_timeout=TIMEOUT)
        await ws.close()
        with pytest.raises(InvalidStatus):
            await connect(f"{server.url}/?token=wrong-query-secret-9", proxy=None,
                          additional_headers={"Authorization": "Bearer wrong-header-secret-10"},
                          open_timeout=TIMEOUT)
        await asyncio.sleep(0.3)  # let the debug dump of the last request reach stderr
        stderr = server.stderr
    assert "GET /?token=<redacted>&access_token=<redacted>" in stderr  # the dump is there
    assert_clean(stderr, token, "query-only-secret-8", "wrong-query-secret-9",
                 "wrong-header-secret-10")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_turn_at_debug_level_logs_no_provider_secret(
    fmt: str, tmp_path: Path, mock: MockResponses
) -> None:
    (tmp_path / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "never"\n'
        'sandbox_mode = "danger-full-access"\n\n' + mock.provider_toml()
        + f'http_headers = {{ "X-Custom" = "{SECRETS["header"]}" }}\n'
        + 'env_http_headers = { "X-Env" = "MY_HEADER" }\n')
    client = AppServerClient(tmp_path, cwd=tmp_path, env={
        **log_env(fmt), "MOCK_API_KEY": SECRETS["env_key"], "MY_HEADER": SECRETS["env_header"]})
    await client.start()
    try:
        await client.initialize(name="probe", version="1")
        thread = await client.request("thread/start", {"cwd": str(tmp_path)})
        await client.request("turn/start", {"threadId": thread["thread"]["id"],
                                            "input": [{"type": "text", "text": "hi"}]})
        await client.wait_notification("turn/completed", timeout=30)
    finally:
        await client.close()
    sent = mock.requests[-1].headers
    assert sent["x-custom"] == SECRETS["header"] and sent["x-env"] == SECRETS["env_header"]
    assert_clean("\n".join(client.stderr_lines), SECRETS["header"], SECRETS["env_header"],
                 SECRETS["env_key"])
    client.assert_valid()
