"""pycodex's own mock of the OpenAI Responses API (and Chat Completions), for tests.

A threaded HTTP/1.1 server on ``127.0.0.1`` that answers each ``POST .../responses`` or
``POST .../chat/completions`` with the next scripted :class:`Reply` (or ``default`` when the
queue is empty, or whatever ``responder(request)`` returns when set). Every request is
recorded (method, path, query, lower-cased headers, JSON body) for assertions.

Usage::

    with MockResponses() as mock:
        mock.push(text_reply("Hello", " world"))
        mock.push(http_error(429, retry_after=0.1), text_reply("ok"))
        base_url = mock.base_url            # "http://127.0.0.1:PORT/v1"
        ...
        assert mock.requests[0].body["model"] == "gpt-5.5"

It works for in-process async tests (it runs in its own threads) and for a spawned
``pycodex app-server`` pointed at ``base_url`` through ``config.toml``.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_USAGE = {
    "input_tokens": 1234,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 56,
    "output_tokens_details": {"reasoning_tokens": 7},
    "total_tokens": 1290,
}

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_mock{next(_ids):06d}"


@dataclass
class Pause:
    """A step in a reply's body: sleep this many seconds before the next event."""

    seconds: float


@dataclass
class Gate:
    """A step in a reply's body: wait until the test sets ``event`` (at most ``timeout``
    seconds) before the next event, so the test decides when the response goes on."""

    event: threading.Event
    timeout: float = 30.0


@dataclass
class Raw:
    """A step in a reply's body: these exact bytes (for malformed/split SSE tests)."""

    data: bytes


Step = dict[str, Any] | Pause | Gate | Raw | str


@dataclass
class Reply:
    """One scripted answer.

    ``events`` are SSE events (dicts, serialized as ``event: <type>`` + ``data: <json>``;
    plain strings are sent as ``data: <string>``), :class:`Pause` or :class:`Raw` steps.
    ``end`` says how the body finishes: ``"eof"`` (clean end of the chunked body),
    ``"eof-close"`` (clean end, then the socket is closed without a ``connection: close``
    header, as an idle keep-alive timeout does), ``"abort"`` (socket closed mid-body),
    ``"stall"`` (hang until the client goes away or ``stall_seconds`` pass). ``body``
    replaces the SSE body for non-streaming answers. ``delay`` is the time before the
    status line is sent. ``event_lines`` adds the
    ``event:`` line (Responses API) — chat replies leave it out.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    events: list[Step] = field(default_factory=list)
    body: bytes | dict[str, Any] | None = None
    end: str = "eof"
    stall_seconds: float = 30.0
    delay: float = 0.0
    event_lines: bool = True
    kind: str = "sse"

    def describe(self) -> str:
        if self.status != 200:
            return str(self.status)
        types = [e.get("type") for e in self.events if isinstance(e, dict)]
        if "response.failed" in types:
            return "response.failed"
        return self.end if self.end != "eof" else "sse"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    reply: str = ""
    t: float = 0.0
    #: the client's source port (the same port twice = a kept-alive connection reused)
    client_port: int = 0
    #: set when the server saw the client close the connection before the reply ended
    closed_by_client: threading.Event = field(default_factory=threading.Event)
    #: set when the handler has finished with this request
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def input(self) -> list[Any]:
        return list((self.body or {}).get("input") or [])


# --------------------------------------------------------------------------- builders


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _created(response_id: str) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id, "status": "in_progress"}}


def _completed(response_id: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {"id": response_id, "status": "completed"}
    if usage is not None:
        response["usage"] = usage
    return {"type": "response.completed", "response": response}


def message_events(text_deltas: Iterable[str], item_id: str | None = None) -> list[Step]:
    """The SSE events of one assistant message streamed as ``text_deltas``."""
    deltas = list(text_deltas)
    item_id = item_id or _next_id("msg")
    text = "".join(deltas)
    events: list[Step] = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**_message_item(item_id, "", "in_progress"), "content": []},
        },
        {
            "type": "response.content_part.added",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    for delta in deltas:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": delta,
            }
        )
    events.append(
        {
            "type": "response.output_text.done",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "text": text,
        }
    )
    done = _message_item(item_id, text)
    events.append({"type": "response.output_item.done", "output_index": 0, "item": done})
    return events


def reasoning_events(
    summary_parts: Iterable[Iterable[str]] = (),
    raw_deltas: Iterable[str] = (),
    item_id: str | None = None,
) -> list[Step]:
    """A reasoning item: summary parts (each a list of deltas) and raw reasoning deltas."""
    item_id = item_id or _next_id("rs")
    parts = [list(p) for p in summary_parts]
    raw = list(raw_deltas)
    events: list[Step] = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "reasoning", "id": item_id, "summary": []},
        }
    ]
    for index, deltas in enumerate(parts):
        events.append(
            {
                "type": "response.reasoning_summary_part.added",
                "item_id": item_id,
                "output_index": 0,
                "summary_index": index,
                "part": {"type": "summary_text", "text": ""},
            }
        )
        for delta in deltas:
            events.append(
                {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": item_id,
                    "output_index": 0,
                    "summary_index": index,
                    "delta": delta,
                }
            )
    for delta in raw:
        events.append(
            {
                "type": "response.reasoning_text.delta",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": delta,
            }
        )
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": "".join(p)} for p in parts],
        "encrypted_content": "gAAAA-mock",
    }
    if raw:
        item["content"] = [{"type": "reasoning_text", "text": "".join(raw)}]
    events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
    return events


def _tool_call_events(kind: str, field: str, delta_type: str, id_prefix: str, name: str,
                      payload: str, call_id: str | None) -> list[Step]:
    """added (``field`` empty) → one ``delta_type`` delta carrying ``payload`` → done."""
    call_id = call_id or _next_id("call")
    item_id = _next_id(id_prefix)
    item = {
        "type": kind,
        "id": item_id,
        "status": "completed",
        "name": name,
        field: payload,
        "call_id": call_id,
    }
    return [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, field: "", "status": "in_progress"},
        },
        {"type": delta_type, "item_id": item_id, "output_index": 0, "delta": payload},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
    ]


def function_call_events(
    name: str, arguments: str | dict[str, Any], call_id: str | None = None
) -> list[Step]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return _tool_call_events("function_call", "arguments",
                             "response.function_call_arguments.delta", "fc", name, args, call_id)


def custom_tool_call_events(name: str, input_text: str, call_id: str | None = None) -> list[Step]:
    return _tool_call_events("custom_tool_call", "input", "response.custom_tool_call_input.delta",
                             "ctc", name, input_text, call_id)


def metadata_events(verifications: Iterable[str] | None = None,
                    safety: dict[str, Any] | None = None) -> list[Step]:
    """A ``response.metadata`` event, as the service sends before the answer's items:
    recommended account ``verifications`` and/or a ``safety_buffering`` object."""
    event: dict[str, Any] = {"type": "response.metadata", "sequence_number": 1, "metadata": {}}
    if verifications is not None:
        event["metadata"]["openai_verification_recommendation"] = list(verifications)
    if safety is not None:
        event["safety_buffering"] = safety
    return [event]


def response_reply(
    *item_events: list[Step],
    response_id: str | None = None,
    usage: dict[str, Any] | None = DEFAULT_USAGE,
    headers: dict[str, str] | None = None,
    pause: float = 0.0,
) -> Reply:
    """A full successful response: created, the given items' events, completed."""
    response_id = response_id or _next_id("resp")
    events: list[Step] = [_created(response_id)]
    for group in item_events:
        for event in group:
            if pause:
                events.append(Pause(pause))
            events.append(event)
    events.append(_completed(response_id, usage))
    return Reply(headers=dict(headers or {}), events=events)


def text_reply(*deltas: str, **kw: Any) -> Reply:
    """An assistant message streamed as ``deltas`` (default "Hello from the mock!")."""
    return response_reply(message_events(deltas or ("Hello", " from", " the", " mock!")), **kw)


def slow_text_reply(*deltas: str, interval: float = 0.2, **kw: Any) -> Reply:
    """Like :func:`text_reply` with ``interval`` seconds between events."""
    return response_reply(message_events(deltas), pause=interval, **kw)


def function_call_reply(
    name: str, arguments: str | dict[str, Any], call_id: str | None = None, **kw: Any
) -> Reply:
    return response_reply(function_call_events(name, arguments, call_id), **kw)


def custom_tool_call_reply(
    name: str, input_text: str, call_id: str | None = None, **kw: Any
) -> Reply:
    return response_reply(custom_tool_call_events(name, input_text, call_id), **kw)


def http_error(
    status: int,
    body: dict[str, Any] | bytes | None = None,
    retry_after: float | str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A non-streaming error answer (JSON body by default)."""
    hdrs = dict(headers or {})
    if retry_after is not None:
        hdrs["retry-after"] = str(retry_after)
    if body is None:
        body = {"error": {"message": f"mock: simulated HTTP {status}", "type": "server_error"}}
    return Reply(status=status, headers=hdrs, body=body)


def failed_reply(
    message: str = "mock: simulated stream failure", code: str | None = "server_error"
) -> Reply:
    """``response.created`` then ``response.failed`` with ``{code, message}``."""
    response_id = _next_id("resp")
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["code"] = code
    return Reply(
        events=[
            _created(response_id),
            {"type": "response.failed", "response": {"id": response_id, "status": "failed",
                                                     "error": error}},
        ]
    )


def incomplete_reply(reason: str = "max_output_tokens") -> Reply:
    response_id = _next_id("resp")
    return Reply(
        events=[
            _created(response_id),
            {
                "type": "response.incomplete",
                "response": {"id": response_id, "status": "incomplete",
                             "incomplete_details": {"reason": reason}},
            },
        ]
    )


def stall_reply(*deltas: str, seconds: float = 30.0) -> Reply:
    """Starts a message, sends ``deltas``, then goes silent (idle-timeout tests)."""
    response_id = _next_id("resp")
    events = [_created(response_id), *message_events(deltas)[: 2 + len(deltas)]]
    return Reply(events=events, end="stall", stall_seconds=seconds)


def dropped_reply(*deltas: str, abort: bool = False) -> Reply:
    """Starts a message and ends the body without ``response.completed``."""
    response_id = _next_id("resp")
    events = [_created(response_id), *message_events(deltas)[: 2 + len(deltas)]]
    return Reply(events=events, end="abort" if abort else "eof")


# --- Chat Completions -------------------------------------------------------------


def _chat_chunk(chat_id: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": chat_id,
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mock-chat",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def chat_text_reply(
    *deltas: str,
    reasoning: Iterable[str] = (),
    usage: dict[str, Any] | None = None,
    done: bool = True,
) -> Reply:
    """A Chat Completions stream of ``deltas`` (optionally preceded by reasoning deltas)."""
    chat_id = _next_id("chatcmpl")
    events: list[Step] = [_chat_chunk(chat_id, {"role": "assistant", "content": ""})]
    for r in reasoning:
        events.append(_chat_chunk(chat_id, {"reasoning_content": r}))
    for d in deltas:
        events.append(_chat_chunk(chat_id, {"content": d}))
    events.append(_chat_chunk(chat_id, {}, "stop"))
    if usage is not None:
        events.append({"id": chat_id, "object": "chat.completion.chunk", "choices": [],
                       "usage": usage})
    if done:
        events.append("[DONE]")
    return Reply(events=events, event_lines=False)


def chat_tool_call_reply(
    name: str, arguments: str | dict[str, Any], call_id: str | None = None, pieces: int = 3
) -> Reply:
    """A Chat Completions stream with one tool call whose arguments arrive in pieces."""
    chat_id = _next_id("chatcmpl")
    call_id = call_id or _next_id("call")
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    size = max(1, -(-len(args) // pieces))
    chunks = [args[i : i + size] for i in range(0, len(args), size)] or [""]
    events: list[Step] = [
        _chat_chunk(
            chat_id,
            {
                "role": "assistant",
                "tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                "function": {"name": name, "arguments": ""}}],
            },
        )
    ]
    for piece in chunks:
        events.append(
            _chat_chunk(chat_id, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        )
    events.append(_chat_chunk(chat_id, {}, "tool_calls"))
    events.append("[DONE]")
    return Reply(events=events, event_lines=False)


# --------------------------------------------------------------------------- server


class MockResponses:
    """The server. Start with ``start()`` (or use as a context manager), stop with
    ``close()``."""

    def __init__(self, default: Callable[[], Reply] | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.replies: deque[Reply] = deque()
        self.default: Callable[[], Reply] = default or text_reply
        self.responder: Callable[[RecordedRequest], Reply | None] | None = None
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle
    def start(self) -> MockResponses:
        mock = self

        class Handler(_Handler):
            owner = mock

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MockResponses:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    def provider_toml(self, provider_id: str = "mock", **keys: Any) -> str:
        """A ``[model_providers.<id>]`` table pointing at this mock (for config.toml)."""
        values: dict[str, Any] = {
            "name": provider_id,
            "base_url": self.base_url,
            "wire_api": "responses",
            "env_key": "MOCK_API_KEY",
            "request_max_retries": 0,
            "stream_max_retries": 0,
            "stream_idle_timeout_ms": 20000,
        }
        values.update(keys)
        lines = [f"[model_providers.{provider_id}]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
        return "\n".join(lines) + "\n"

    # -- scripting
    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def _take(self, request: RecordedRequest) -> Reply:
        if self.responder is not None:
            reply = self.responder(request)
            if reply is not None:
                return reply
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return self.default()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {count} requests, got {len(self.requests)}")
                self._lock.wait(left)
            return list(self.requests)


class _Handler(BaseHTTPRequestHandler):
    owner: MockResponses
    protocol_version = "HTTP/1.1"
    #: TCP_NODELAY, as production servers stream: each SSE chunk leaves at once (with Nagle,
    #: a small write after an unacknowledged one waits for the peer's delayed ACK, ~40 ms)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._send_json(404, {"error": {"message": f"mock: no GET {self.path}",
                                        "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        split = urlsplit(self.path)
        request = RecordedRequest(
            method="POST",
            path=split.path,
            query=dict(parse_qsl(split.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            t=time.monotonic(),
            client_port=int(self.client_address[1]),
        )
        if not (split.path.endswith("/responses") or split.path.endswith("/chat/completions")):
            request.reply = "404"
            self.owner._record(request)
            self._send_json(404, {"error": {"message": f"mock: no POST {split.path}",
                                            "type": "not_found"}})
            request.finished.set()
            return
        reply = self.owner._take(request)
        request.reply = reply.describe()
        self.owner._record(request)
        try:
            self._serve(reply, request)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            request.closed_by_client.set()
            self.close_connection = True
        finally:
            request.finished.set()

    # -- writing
    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def _serve(self, reply: Reply, request: RecordedRequest) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        if reply.body is not None or reply.status != 200:
            body = reply.body if reply.body is not None else b""
            self._send_json(reply.status, body, reply.headers)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()
        for step in reply.events:
            if isinstance(step, Gate):
                step.event.wait(step.timeout)
                continue
            if isinstance(step, Pause):
                if self._wait_closed(step.seconds):
                    request.closed_by_client.set()
                    self.close_connection = True
                    return
                continue
            if isinstance(step, Raw):
                self._chunk(step.data)
                continue
            if isinstance(step, str):
                self._chunk(f"data: {step}\n\n".encode())
                continue
            data = json.dumps(step)
            if reply.event_lines and "type" in step:
                self._chunk(f"event: {step['type']}\ndata: {data}\n\n".encode())
            else:
                self._chunk(f"data: {data}\n\n".encode())
        if reply.end == "stall":
            if self._wait_closed(reply.stall_seconds):
                request.closed_by_client.set()
            self.close_connection = True
            return
        if reply.end == "abort":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        if reply.end == "eof-close":
            self.close_connection = True

    def _wait_closed(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as the client closes the connection."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while not self.owner._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([sock], [], [], min(left, 0.02))
            if readable:
                try:
                    peek = sock.recv(1, socket.MSG_PEEK)
                except OSError:
                    return True
                if not peek:
                    return True
        return False


__all__ = [
    "DEFAULT_USAGE",
    "MockResponses",
    "Pause",
    "Raw",
    "RecordedRequest",
    "Reply",
    "chat_text_reply",
    "chat_tool_call_reply",
    "custom_tool_call_events",
    "custom_tool_call_reply",
    "dropped_reply",
    "failed_reply",
    "function_call_events",
    "function_call_reply",
    "http_error",
    "incomplete_reply",
    "message_events",
    "reasoning_events",
    "response_reply",
    "slow_text_reply",
    "stall_reply",
    "text_reply",
]
