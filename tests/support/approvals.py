"""Approval helpers: answering server requests, item statuses, a thread that asks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.exec import start_thread
from tests.support.sandbox import skip_unless_sandbox


async def answer(client: AppServerClient, method: str, result: Any = None, *,
                 error: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wait for the server request ``method`` and answer it; returns the request."""
    request = await client.wait_server_request(method)
    reply: dict[str, Any] = {"id": request["id"]}
    if error is not None:
        reply["error"] = error
    else:
        reply["result"] = result
    await client.send(reply)
    return request


async def untrusted_thread(client: AppServerClient, workdir: Path) -> str:
    skip_unless_sandbox()  # approved commands run under workspace-write
    return await start_thread(client, workdir, approval="untrusted", sandbox="workspace-write")


def statuses(client: AppServerClient, start: int) -> list[Any]:
    return [m["params"]["status"] for m in client.received[start:]
            if m.get("method") == "thread/status/changed"]
