"""A truncated or non-JSON ``auth.json`` (issue 11 item 6): a clear error naming the file,
no secret in the log, the server keeps answering, and a later login keeps the old file as
``auth.json.unusable`` instead of overwriting it blindly."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.client import wait_for_line

SECRET = "sk-proj-truncated-SECRET-1234"


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"auth_mode": "apikey", "OPENAI_API_KEY": "' + SECRET.encode(),
     "is not valid JSON (Unterminated string starting at: line 1 column 43)"),
    (b"\x00\x01" + SECRET.encode(), "is not valid JSON (Expecting value: line 1 column 1)"),
    (b'["' + SECRET.encode() + b'"]', "is not a JSON object"),
])
async def test_an_unusable_auth_file_is_reported_and_kept(
    spawn: ServerFactory, codex_home: Path, content: bytes, reason: str
) -> None:
    auth = codex_home / "auth.json"
    auth.write_bytes(content)
    client = await spawn()
    account = await client.request("account/read", {})
    assert account["account"] is None
    assert await wait_for_line(client.stderr_lines, f"{auth} {reason}; fix it or log in again")
    assert not any(SECRET in line for line in client.stderr_lines)

    await client.request("account/login/start", {"type": "apiKey", "apiKey": "sk-new"})
    kept = codex_home / "auth.json.unusable"
    assert kept.read_bytes() == content
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(auth.read_text())["OPENAI_API_KEY"] == "sk-new"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    account = await client.request("account/read", {})
    assert account["account"] == {"type": "apiKey"}
