"""The model client against pycodex's mock Responses API: SSE parsing, events, retries,
error texts (as the reference shows them), cancellation, the Chat wire and providers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from typing import Any

import pytest

from pycodex.core import http_stream
from pycodex.core import model_client as mc
from pycodex.core.model_client import (
    Completed,
    Created,
    ModelClient,
    ModelError,
    ModelEvent,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningSummaryPartAdded,
    ReasoningSummaryTextDelta,
    ReasoningTextDelta,
    StreamRetry,
    TokenUsage,
    ToolCallInputDelta,
    decode_responses_event,
    responses_event,
)
from pycodex.core.providers import (
    MissingEnvKeyError,
    ProviderError,
    StaticTokenSource,
    UnknownProviderError,
    provider_token_source,
    resolve_provider,
)
from pycodex.core.sse import SseDecoder, SseEvent
from tests.support.mock_responses import (
    MockResponses,
    Raw,
    Reply,
    chat_text_reply,
    chat_tool_call_reply,
    custom_tool_call_events,
    dropped_reply,
    failed_reply,
    function_call_events,
    http_error,
    incomplete_reply,
    message_events,
    reasoning_events,
    response_reply,
    slow_text_reply,
    stall_reply,
    text_reply,
)
from tests.support.model_client import client_for, provider_for

REQUEST: dict[str, Any] = {
    "model": "gpt-5.5",
    "input": [{"type": "message", "role": "user", "content": [{"type": "input_text",
                                                                "text": "hi"}]}],
    "tools": [],
    "tool_choice": "auto",
}


@pytest.fixture(autouse=True, params=["h11", "httpx"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both transports: h11 (the default) and httpx (chosen when a proxy
    is configured; here the proxy check is forced, so requests still go straight out)."""
    monkeypatch.setattr(http_stream, "proxy_configured", lambda: request.param == "httpx")
    return str(request.param)


async def collect(client: ModelClient, request: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> list[ModelEvent]:
    return [event async for event in client.stream(request or REQUEST, headers)]


async def collect_until_error(
    client: ModelClient, request: dict[str, Any] | None = None
) -> tuple[list[ModelEvent], ModelError]:
    events: list[ModelEvent] = []
    with pytest.raises(ModelError) as info:
        async for event in client.stream(request or REQUEST):
            events.append(event)
    return events, info.value


def no_rate_limits(events: list[ModelEvent]) -> list[ModelEvent]:
    return [e for e in events if not isinstance(e, RateLimits)]


# --------------------------------------------------------------------------- SSE


def test_sse_parses_fields_comments_and_multiline_data() -> None:
    stream = (
        b": keep-alive comment\n"
        b"event: response.created\n"
        b"data: {\"a\":\n"
        b"data: 1}\n"
        b"id: 7\n"
        b"\n"
        b"data:no-space\n\n"
        b"event: ignored-without-data\n\n"
        b"retry: 10\n"
        b"data\n\n"
        b"data: trailing event without blank line is dropped\n"
    )
    decoder = SseDecoder()
    events = decoder.feed(stream) + decoder.close()
    assert events == [
        SseEvent(data='{"a":\n1}', event="response.created", id="7"),
        SseEvent(data="no-space", event="message", id="7"),
        SseEvent(data="", event="message", id="7"),
    ]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_sse_split_at_every_byte(newline: bytes) -> None:
    text = "data: héllo ✓\n\nevent: x\ndata: a\ndata: b\n\n: c\ndata: last\n\n"
    stream = text.encode().replace(b"\n", newline)
    whole = SseDecoder().feed(stream)
    assert [e.data for e in whole] == ["héllo ✓", "a\nb", "last"]
    assert whole[1].event == "x"
    for size in (1, 2, 3, 5):
        decoder = SseDecoder()
        parts: list[SseEvent] = []
        for i in range(0, len(stream), size):
            parts += decoder.feed(stream[i : i + size])
        assert parts == whole, size
        decoder = SseDecoder()
        payloads: list[bytes] = []
        for i in range(0, len(stream), size):
            payloads += decoder.feed_data(stream[i : i + size])
        assert payloads == [e.data.encode() for e in whole], size


def test_sse_bom_is_skipped() -> None:
    assert SseDecoder().feed(b"\xef\xbb\xbfdata: 1\n\n") == [SseEvent(data="1")]
    decoder = SseDecoder()
    payloads = [p for byte in b"\xef\xbb\xbfdata: 1\n\n" for p in decoder.feed_data(bytes([byte]))]
    assert payloads == [b"1"]


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type":"response.output_text.delta","delta":"hi","item_id":"m","output_index":0}',
        b'{"type":"response.output_text.delta","delta":7,"item_id":"m"}',
        b'{"type":"response.output_text.delta"}',
        b'{"type":"response.function_call_arguments.delta","delta":"{","item_id":"c"}',
        b'{"type":"response.created","response":{"id":"r1"}}',
        b'{"type":42}',
    ],
)
def test_typed_delta_decoding_matches_the_generic_one(payload: bytes) -> None:
    assert decode_responses_event(payload) == responses_event(json.loads(payload))


def test_payloads_that_are_not_objects_are_ignored() -> None:
    assert decode_responses_event(b"[DONE]") is None
    assert decode_responses_event(b"[1, 2]") is None


# --------------------------------------------------------------------------- events


async def test_text_stream_events_headers_and_body(mock: MockResponses) -> None:
    mock.push(text_reply("Hel", "lo"))
    client = ModelClient(
        provider_for(
            mock,
            query_params={"api-version": "2025-01-01"},
            http_headers={"x-static": "s"},
            env_http_headers={"x-from-env": "PYCODEX_TEST_HEADER_VAR"},
        ),
        StaticTokenSource("sk-test"),
    )
    import os

    os.environ["PYCODEX_TEST_HEADER_VAR"] = "from-env"
    try:
        events = await collect(client, headers={"originator": "pytest", "session-id": "t1"})
    finally:
        del os.environ["PYCODEX_TEST_HEADER_VAR"]
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RateLimits", "Created", "OutputItemAdded", "OutputTextDelta", "OutputTextDelta",
        "OutputItemDone", "Completed",
    ]
    deltas = [e.delta for e in events if isinstance(e, OutputTextDelta)]
    assert deltas == ["Hel", "lo"]
    done = next(e for e in events if isinstance(e, OutputItemDone))
    assert done.item["content"][0]["text"] == "Hello"
    completed = events[-1]
    assert isinstance(completed, Completed) and completed.response_id.startswith("resp_")
    assert completed.usage == TokenUsage(1234, 1000, 56, 7, 1290)
    assert completed.usage.to_wire() == {
        "totalTokens": 1290, "inputTokens": 1234, "cachedInputTokens": 1000,
        "outputTokens": 56, "reasoningOutputTokens": 7,
    }
    assert events[0] == RateLimits({
        "limitId": "codex", "limitName": None, "normalModelSlug": None, "primary": None,
        "secondary": None, "credits": None, "individualLimit": None,
        "spendControlReached": None, "planType": None, "rateLimitReachedType": None,
    })

    (request,) = mock.requests
    assert request.path == "/v1/responses"
    assert request.query == {"api-version": "2025-01-01"}
    h = request.headers
    assert h["authorization"] == "Bearer sk-test"
    assert h["accept"] == "text/event-stream"
    assert h["content-type"] == "application/json"
    assert h["originator"] == "pytest" and h["session-id"] == "t1"
    assert h["x-static"] == "s" and h["x-from-env"] == "from-env"
    assert request.body == {**REQUEST, "stream": True}
    assert request.finished.wait(2)


async def test_no_token_means_no_authorization_header(mock: MockResponses) -> None:
    await collect(client_for(mock, token=None))
    assert "authorization" not in mock.requests[0].headers


async def test_reasoning_and_tool_call_events(mock: MockResponses) -> None:
    mock.push(
        response_reply(
            reasoning_events([["Think", "ing"], ["More"]], raw_deltas=["raw"]),
            message_events(["ok"]),
            function_call_events("exec_command", {"cmd": "echo hi"}, call_id="call_1"),
            custom_tool_call_events("apply_patch", "*** Begin Patch\n", call_id="call_2"),
        )
    )
    events = no_rate_limits(await collect(client_for(mock)))
    summary = [(e.summary_index, e.delta) for e in events
               if isinstance(e, ReasoningSummaryTextDelta)]
    assert summary == [(0, "Think"), (0, "ing"), (1, "More")]
    assert [e.summary_index for e in events if isinstance(e, ReasoningSummaryPartAdded)] == [0, 1]
    assert [(e.content_index, e.delta) for e in events
            if isinstance(e, ReasoningTextDelta)] == [(0, "raw")]
    assert [e.kind for e in events if isinstance(e, ToolCallInputDelta)] == ["function", "custom"]
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert [i["type"] for i in done] == ["reasoning", "message", "function_call",
                                         "custom_tool_call"]
    assert done[0]["encrypted_content"] == "gAAAA-mock"
    assert json.loads(done[2]["arguments"]) == {"cmd": "echo hi"}
    assert done[2]["call_id"] == "call_1"
    assert done[3]["input"] == "*** Begin Patch\n" and done[3]["call_id"] == "call_2"
    added = [e.item["type"] for e in events if isinstance(e, OutputItemAdded)]
    assert added == ["reasoning", "message", "function_call", "custom_tool_call"]


async def test_unparseable_and_unknown_events_are_skipped(mock: MockResponses) -> None:
    reply = text_reply("x")
    reply.events.insert(1, Raw(b"data: {not json\n\n"))
    reply.events.insert(1, Raw(b": ping\n\ndata: [1,2]\n\n"))
    reply.events.insert(1, {"type": "response.in_progress", "response": {"id": "r"}})
    mock.push(reply)
    events = no_rate_limits(await collect(client_for(mock)))
    assert [type(e) for e in events] == [Created, OutputItemAdded, OutputTextDelta,
                                         OutputItemDone, Completed]


async def test_rate_limit_headers(mock: MockResponses) -> None:
    mock.push(text_reply("x", headers={
        "x-codex-primary-used-percent": "12.6",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": "1795478400",
        "x-codex-secondary-used-percent": "0",
        "x-codex-credits-has-credits": "true",
        "x-codex-credits-unlimited": "false",
        "x-codex-credits-balance": "12.5",
        "x-foo-primary-used-percent": "50",
        "x-foo-limit-name": "Foo limit",
    }))
    events = await collect(client_for(mock))
    snapshots = [e.snapshot for e in events if isinstance(e, RateLimits)]
    assert snapshots == [
        {
            "limitId": "codex", "limitName": None, "normalModelSlug": None,
            "primary": {"usedPercent": 13, "windowDurationMins": 300, "resetsAt": 1795478400},
            "secondary": None,
            "credits": {"hasCredits": True, "unlimited": False, "balance": "12.5"},
            "individualLimit": None, "spendControlReached": None, "planType": None,
            "rateLimitReachedType": None,
        },
        {
            "limitId": "foo", "limitName": "Foo limit", "normalModelSlug": None,
            "primary": {"usedPercent": 50, "windowDurationMins": None, "resetsAt": None},
            "secondary": None, "credits": None, "individualLimit": None,
            "spendControlReached": None, "planType": None, "rateLimitReachedType": None,
        },
    ]


# --------------------------------------------------------------------------- retries


async def test_429_retry_after_is_honoured(mock: MockResponses) -> None:
    mock.push(http_error(429, retry_after=0.3), http_error(429, retry_after="0.3"),
              text_reply("ok"))
    start = time.monotonic()
    events = await collect(client_for(mock, request_max_retries=2))
    elapsed = time.monotonic() - start
    assert isinstance(events[-1], Completed)
    assert not any(isinstance(e, StreamRetry) for e in events)  # request retries are silent
    assert [r.reply for r in mock.requests] == ["429", "429", "sse"]
    assert 0.55 <= elapsed < 5
    gaps = [b.t - a.t for a, b in zip(mock.requests, mock.requests[1:], strict=False)]
    assert all(g >= 0.28 for g in gaps), gaps


async def test_retry_after_ms_header(mock: MockResponses) -> None:
    mock.push(http_error(503, headers={"retry-after-ms": "250"}), text_reply("ok"))
    start = time.monotonic()
    await collect(client_for(mock, request_max_retries=1))
    assert 0.24 <= time.monotonic() - start < 5
    assert len(mock.requests) == 2


async def test_429_exhausted(mock: MockResponses) -> None:
    mock.push(*(http_error(429, {"error": {"message": "slow down", "type": "rate_limit_exceeded",
                                           "code": "rate_limit_exceeded"}}) for _ in range(3)))
    _, err = await collect_until_error(client_for(mock, request_max_retries=2,
                                                  stream_max_retries=3))
    assert err.message == "exceeded retry limit, last status: 429 Too Many Requests"
    assert err.codex_error_info == {"responseTooManyFailedAttempts": {"httpStatusCode": 429}}
    assert err.http_status == 429
    assert len(mock.requests) == 3  # not retried at the stream level


async def test_500_after_request_retries_has_reference_text(mock: MockResponses) -> None:
    mock.push(http_error(500), http_error(500), text_reply("never"))
    events, err = await collect_until_error(client_for(mock, request_max_retries=1))
    assert events == []
    assert err.message == (
        "We\u2019re currently experiencing high demand, which may cause temporary errors."
    )
    assert err.codex_error_info == "internalServerError"
    assert err.http_status == 500
    assert err.to_turn_error() == {"message": err.message,
                                   "codexErrorInfo": "internalServerError",
                                   "additionalDetails": None}
    assert len(mock.requests) == 2


async def test_500_is_retried_at_stream_level_with_retry_event(mock: MockResponses) -> None:
    mock.push(http_error(500), text_reply("ok"))
    events = await collect(client_for(mock, stream_max_retries=1))
    retries = [e for e in events if isinstance(e, StreamRetry)]
    assert len(retries) == 1
    assert retries[0].to_turn_error() == {
        "message": "Reconnecting... 1/1",
        "codexErrorInfo": {"responseStreamDisconnected": {"httpStatusCode": None}},
        "additionalDetails": mc.INTERNAL_SERVER_ERROR,
    }
    assert isinstance(events[-1], Completed)
    assert len(mock.requests) == 2


@pytest.mark.parametrize(
    ("reply", "message", "info"),
    [
        (failed_reply(), "stream disconnected before completion: mock: simulated stream failure",
         "other"),
        (failed_reply("weird", None), "stream disconnected before completion: weird", "other"),
        (failed_reply("too long", "context_length_exceeded"),
         "Codex ran out of room in the model's context window. Start a new thread or clear "
         "earlier history before retrying.", "contextWindowExceeded"),
        (failed_reply("quota", "insufficient_quota"),
         "Quota exceeded. Check your plan and billing details.", "usageLimitExceeded"),
        (incomplete_reply(), "Incomplete response returned, reason: max_output_tokens", "other"),
        (dropped_reply("Hel"),
         "stream disconnected before completion: stream closed before response.completed",
         "other"),
        (dropped_reply("Hel", abort=True),
         "stream disconnected before completion: Transport error: network error: error "
         "decoding response body", "other"),
        (http_error(400, {"error": {"message": "bad thing", "type": "invalid_request_error"}}),
         '{"error": {"message": "bad thing", "type": "invalid_request_error"}}', "other"),
        (http_error(503, {"error": {"message": "x", "code": "server_is_overloaded"}}),
         "Selected model is at capacity. Please try a different model.", "serverOverloaded"),
        (http_error(429, {"error": {"type": "usage_limit_reached", "plan_type": "plus"}}),
         "You\u2019ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), "
         "visit https://chatgpt.com/settings/usage to purchase more credits or try again later.",
         "usageLimitExceeded"),
    ],
)
async def test_final_errors_match_reference(
    mock: MockResponses, reply: Reply, message: str, info: Any
) -> None:
    mock.push(reply)
    _, err = await collect_until_error(client_for(mock))
    assert err.message == message
    assert err.codex_error_info == info


@pytest.mark.parametrize(("status", "body", "detail", "phrase"), [
    (502, b"bad gateway", "bad gateway", "Bad Gateway"),
    (404, {"error": {"message": "nope"}}, "nope", "Not Found"),
])
async def test_unexpected_status_text(
    mock: MockResponses, status: int, body: Any, detail: str, phrase: str
) -> None:
    mock.push(http_error(status, body))
    _, err = await collect_until_error(client_for(mock))
    assert err.message == (
        f"unexpected status {status} {phrase}: {detail}, url: {mock.base_url}/responses"
    )
    assert err.codex_error_info == {"httpConnectionFailed": {"httpStatusCode": status}}


async def test_response_failed_is_retried_then_succeeds(mock: MockResponses) -> None:
    mock.push(failed_reply("boom"), text_reply("ok"))
    events = await collect(client_for(mock, stream_max_retries=2))
    (retry,) = [e for e in events if isinstance(e, StreamRetry)]
    assert (retry.attempt, retry.max_retries) == (1, 2)
    assert retry.message == "Reconnecting... 1/2"
    assert retry.error.message == "stream disconnected before completion: boom"
    assert isinstance(events[-1], Completed)


async def test_rate_limit_failure_uses_server_delay(mock: MockResponses) -> None:
    mock.push(failed_reply("Rate limit reached. Please try again in 300ms.",
                           "rate_limit_exceeded"), text_reply("ok"))
    start = time.monotonic()
    events = await collect(client_for(mock, stream_max_retries=1))
    (retry,) = [e for e in events if isinstance(e, StreamRetry)]
    assert retry.delay == pytest.approx(0.3)
    assert time.monotonic() - start >= 0.29


async def test_context_window_error_is_not_retried(mock: MockResponses) -> None:
    mock.push(failed_reply("too long", "context_length_exceeded"), text_reply("never"))
    _, err = await collect_until_error(client_for(mock, stream_max_retries=3))
    assert err.kind == "context_window"
    assert len(mock.requests) == 1


async def test_idle_timeout_retries_the_stream_then_fails(mock: MockResponses) -> None:
    mock.push(stall_reply("Hel"), stall_reply("Hel"))
    start = time.monotonic()
    events, err = await collect_until_error(
        client_for(mock, stream_idle_timeout_ms=300, stream_max_retries=1)
    )
    elapsed = time.monotonic() - start
    assert err.message == "stream disconnected before completion: idle timeout waiting for SSE"
    assert err.codex_error_info == "other" and err.retryable
    retries = [e for e in events if isinstance(e, StreamRetry)]
    assert [r.message for r in retries] == ["Reconnecting... 1/1"]
    assert retries[0].error.message == err.message
    kinds = [type(e).__name__ for e in no_rate_limits(events)]
    assert kinds == ["Created", "OutputItemAdded", "OutputTextDelta", "StreamRetry",
                     "Created", "OutputItemAdded", "OutputTextDelta"]
    assert len(mock.requests) == 2
    assert 0.55 <= elapsed < 5
    # both stalled connections were closed by the client
    assert all(r.closed_by_client.wait(2) for r in mock.requests)


async def test_dropped_stream_is_retried(mock: MockResponses) -> None:
    mock.push(dropped_reply("a", abort=True), text_reply("ok"))
    events = await collect(client_for(mock, stream_max_retries=1))
    assert isinstance(events[-1], Completed)
    (retry,) = [e for e in events if isinstance(e, StreamRetry)]
    assert "error decoding response body" in retry.error.message


async def test_connection_refused(mock: MockResponses) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = client_for(mock, base_url=f"http://127.0.0.1:{port}/v1", request_max_retries=1,
                        stream_max_retries=1)
    events, err = await collect_until_error(client)
    assert err.message == "Connection failed: error sending request"
    assert err.codex_error_info == {"httpConnectionFailed": {"httpStatusCode": None}}
    assert [type(e) for e in events] == [StreamRetry]


# --------------------------------------------------------------------------- auth


class RefreshingTokens:
    def __init__(self, refresh_ok: bool = True) -> None:
        self.token = "old"
        self.refresh_ok = refresh_ok
        self.refreshes = 0

    async def bearer(self) -> str | None:
        return self.token

    async def on_unauthorized(self) -> bool:
        self.refreshes += 1
        if self.refresh_ok:
            self.token = "new"
        return self.refresh_ok


async def test_401_refreshes_token_and_retries_once(mock: MockResponses) -> None:
    mock.push(http_error(401), text_reply("ok"))
    tokens = RefreshingTokens()
    client = ModelClient(provider_for(mock), tokens)
    events = await collect(client)
    assert isinstance(events[-1], Completed)
    assert tokens.refreshes == 1
    assert [r.headers["authorization"] for r in mock.requests] == ["Bearer old", "Bearer new"]


async def test_401_twice_or_without_refresh_fails(mock: MockResponses) -> None:
    body = {"error": {"message": "bad key", "type": "invalid_request_error"}}
    mock.push(http_error(401, body), http_error(401, body))
    tokens = RefreshingTokens()
    _, err = await collect_until_error(ModelClient(provider_for(mock), tokens))
    assert tokens.refreshes == 1 and len(mock.requests) == 2
    assert err.message == (
        f"unexpected status 401 Unauthorized: bad key, url: {mock.base_url}/responses"
    )
    assert err.codex_error_info == {"httpConnectionFailed": {"httpStatusCode": 401}}
    assert err.kind == "unauthorized"

    mock.push(http_error(401, body))
    no_refresh = RefreshingTokens(refresh_ok=False)
    _, err = await collect_until_error(ModelClient(provider_for(mock), no_refresh))
    assert no_refresh.refreshes == 1 and len(mock.requests) == 3


# --------------------------------------------------------------------------- cancellation


async def test_cancelling_the_consumer_closes_the_stream(mock: MockResponses) -> None:
    mock.push(slow_text_reply(*[f"d{i}" for i in range(50)], interval=0.2))
    client = client_for(mock)
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for event in client.stream(REQUEST):
            if isinstance(event, OutputTextDelta):
                first_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_delta.wait(), 5)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    request = mock.requests[0]
    closed = await asyncio.to_thread(request.closed_by_client.wait, 3)
    assert closed
    assert time.monotonic() - start < 1.5
    assert request.finished.wait(2)


async def test_closing_the_generator_closes_the_stream(mock: MockResponses) -> None:
    mock.push(slow_text_reply(*[f"d{i}" for i in range(50)], interval=0.2))
    async with contextlib.aclosing(client_for(mock).stream(REQUEST)) as events:
        async for event in events:
            if isinstance(event, OutputTextDelta):
                break
    assert await asyncio.to_thread(mock.requests[0].closed_by_client.wait, 3)


# --------------------------------------------------------------------------- chat wire


CHAT_REQUEST: dict[str, Any] = {
    "model": "llama",
    "instructions": "be brief",
    "input": [
        {"type": "message", "role": "developer",
         "content": [{"type": "input_text", "text": "dev rules"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "message", "role": "assistant",
         "content": [{"type": "output_text", "text": "hello"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "function_call", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}",
         "call_id": "c1"},
        {"type": "custom_tool_call", "name": "apply_patch", "input": "PATCH", "call_id": "c2"},
        {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "done"},
    ],
    "tools": [
        {"type": "function", "name": "exec_command", "description": "run",
         "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
         "strict": False},
        {"type": "custom", "name": "apply_patch", "description": "patch",
         "format": {"type": "grammar"}},
        {"type": "web_search"},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "reasoning": {"effort": "low"},
}


async def test_chat_wire_request_translation_and_text(mock: MockResponses) -> None:
    mock.push(chat_text_reply("Hel", "lo", reasoning=["hmm"], usage={
        "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
    }))
    client = client_for(mock, wire_api="chat")
    events = await collect(client, CHAT_REQUEST)
    (request,) = mock.requests
    assert request.path == "/v1/chat/completions"
    body = request.body
    assert body["stream"] is True and body["model"] == "llama"
    assert body["reasoning_effort"] == "low"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "system", "content": "dev rules"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}},
            {"id": "c2", "type": "function",
             "function": {"name": "apply_patch", "arguments": "{\"input\": \"PATCH\"}"}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
        {"role": "tool", "tool_call_id": "c2", "content": "done"},
    ]
    assert [t["function"]["name"] for t in body["tools"]] == ["exec_command", "apply_patch"]
    assert body["tools"][1]["function"]["parameters"]["required"] == ["input"]

    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Created", "OutputItemAdded", "ReasoningTextDelta", "OutputItemAdded",
                     "OutputTextDelta", "OutputTextDelta", "OutputItemDone", "OutputItemDone",
                     "Completed"]
    message = events[-2]
    assert isinstance(message, OutputItemDone)
    assert message.item["type"] == "message" and message.item["content"][0]["text"] == "Hello"
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert completed.usage == TokenUsage(10, 4, 5, 0, 15)


async def test_chat_wire_tool_calls(mock: MockResponses) -> None:
    mock.push(chat_tool_call_reply("exec_command", {"cmd": "echo hi"}, call_id="call_9"),
              chat_tool_call_reply("apply_patch", {"input": "*** Begin Patch"}, call_id="c3"))
    client = client_for(mock, wire_api="chat")
    events = await collect(client, CHAT_REQUEST)
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert done == [{"type": "function_call", "name": "exec_command",
                     "arguments": "{\"cmd\": \"echo hi\"}", "call_id": "call_9",
                     "status": "completed"}]
    events = await collect(client, CHAT_REQUEST)
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert done == [{"type": "custom_tool_call", "name": "apply_patch",
                     "input": "*** Begin Patch", "call_id": "c3", "status": "completed"}]


async def test_chat_wire_truncated_stream_is_an_error(mock: MockResponses) -> None:
    reply = chat_text_reply("partial", done=False)
    reply.events = reply.events[:2]  # no finish_reason, no [DONE]
    mock.push(reply)
    _, err = await collect_until_error(client_for(mock, wire_api="chat"))
    assert err.message == mc.CLOSED_EARLY


# --------------------------------------------------------------------------- providers


def test_builtin_providers() -> None:
    openai = resolve_provider({}, None, env={})
    assert (openai.id, openai.base_url, openai.wire_api) == (
        "openai", "https://api.openai.com/v1", "responses")
    assert openai.endpoint == "https://api.openai.com/v1/responses"
    assert openai.requires_openai_auth and openai.http_headers["version"] == "0.171.0"
    assert openai.extra_headers({"OPENAI_ORGANIZATION": "org-1", "OPENAI_PROJECT": ""}) == {
        "version": "0.171.0", "OpenAI-Organization": "org-1"}
    assert resolve_provider({}, None, env={"OPENAI_BASE_URL": "http://x/v1"}).base_url == (
        "http://x/v1")
    assert resolve_provider({}, "ollama", env={}).base_url == "http://localhost:11434/v1"
    assert resolve_provider({}, "lmstudio", env={}).base_url == "http://localhost:1234/v1"
    assert resolve_provider({}, "oss", env={"CODEX_OSS_PORT": "9999"}).base_url == (
        "http://localhost:9999/v1")
    assert resolve_provider({}, "ollama", env={"CODEX_OSS_BASE_URL": "http://h:1/v1"}).base_url \
        == "http://h:1/v1"
    ollama = resolve_provider({}, "ollama", env={})
    assert ollama.api_key({}) is None  # no auth needed


def test_configured_provider_table() -> None:
    config = {
        "model_provider": "azure",
        "model_providers": {
            "azure": {
                "name": "Azure",
                "base_url": "https://x.openai.azure.com/openai",
                "env_key": "AZ_KEY",
                "wire_api": "chat",
                "query_params": {"api-version": "2025-04-01-preview"},
                "http_headers": {"x-a": "1"},
                "env_http_headers": {"x-b": "B_VAR"},
                "request_max_retries": 1000,
                "stream_max_retries": 2,
                "stream_idle_timeout_ms": 5000,
            },
            "openai": {"base_url": "http://evil/v1"},  # built-in ids cannot be replaced
        },
    }
    azure = resolve_provider(config, None, env={})
    assert azure.id == "azure" and azure.name == "Azure" and azure.wire_api == "chat"
    assert azure.endpoint == (
        "https://x.openai.azure.com/openai/chat/completions?api-version=2025-04-01-preview")
    assert azure.is_azure
    assert (azure.request_max_retries, azure.stream_max_retries,
            azure.stream_idle_timeout_ms) == (100, 2, 5000)
    assert azure.extra_headers({"B_VAR": "b"}) == {"x-a": "1", "x-b": "b"}
    assert azure.api_key({"AZ_KEY": "k"}) == "k"
    with pytest.raises(MissingEnvKeyError) as info:
        azure.api_key({})
    assert str(info.value) == "Missing environment variable: `AZ_KEY`."
    assert resolve_provider(config, "openai", env={}).base_url == "https://api.openai.com/v1"

    minimal = resolve_provider({"model_providers": {"m": {"base_url": "http://m/v1"}}}, "m")
    assert (minimal.name, minimal.request_max_retries, minimal.stream_max_retries,
            minimal.stream_idle_timeout_ms, minimal.wire_api) == ("m", 4, 5, 300_000, "responses")


def test_provider_errors() -> None:
    with pytest.raises(UnknownProviderError) as info:
        resolve_provider({"model_providers": {"a": {}}}, "nope")
    assert str(info.value) == "Model provider `nope` not found"
    with pytest.raises(ProviderError, match="wire_api"):
        resolve_provider({"model_providers": {"a": {"wire_api": "grpc"}}}, "a")
    with pytest.raises(ProviderError, match="request_max_retries"):
        resolve_provider({"model_providers": {"a": {"request_max_retries": -1}}}, "a")
    with pytest.raises(ProviderError, match="http_headers"):
        resolve_provider({"model_providers": {"a": {"http_headers": {"x": 1}}}}, "a")


async def test_provider_token_source(tmp_path: Any) -> None:
    openai = resolve_provider({}, "openai", env={})
    assert await provider_token_source(openai, tmp_path, env={}).bearer() is None
    (tmp_path / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-auth"}))
    assert await provider_token_source(openai, tmp_path, env={}).bearer() == "sk-auth"
    assert await provider_token_source(openai, tmp_path, env={"OPENAI_API_KEY": "sk-env"}
                                       ).bearer() == "sk-env"
    custom = resolve_provider(
        {"model_providers": {"c": {"experimental_bearer_token": "tok"}}}, "c")
    source = provider_token_source(custom, tmp_path, env={})
    assert await source.bearer() == "tok"
    assert await source.on_unauthorized() is False
