"""The small HTTP pieces of a loopback OAuth callback listener (ChatGPT sign-in, MCP server
OAuth): read one request's target, answer it and close."""

from __future__ import annotations

import asyncio
from urllib.parse import SplitResult, urlsplit

__all__ = ["read_target", "respond"]


async def read_target(reader: asyncio.StreamReader, timeout: float = 30) -> SplitResult:
    """The request target of the next request on ``reader`` (its head is consumed)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    return urlsplit(head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1"))


def respond(writer: asyncio.StreamWriter, status: int, body: bytes,
            ctype: str = "text/plain") -> None:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "OK")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
