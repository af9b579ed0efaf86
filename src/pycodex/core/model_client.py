"""Streaming client for the Responses API (and Chat Completions providers).

Usage::

    client = ModelClient(provider, token_source)
    async with contextlib.aclosing(client.stream(body, headers=extra_headers)) as events:
        async for event in events:
            ...  # Created, OutputTextDelta, OutputItemDone, Completed, RateLimits, StreamRetry...

The turn engine uses :meth:`ModelClient.stream_batches`: the same events, one list per
network read.

Two retry layers, as in the reference engine:

* HTTP request (before any event): connection errors, 5xx and plain 429s are re-sent up to
  ``provider.request_max_retries`` times with exponential backoff + jitter, honouring
  ``Retry-After``/``retry-after-ms``. A 401 asks ``token_source.on_unauthorized()`` once and
  is re-sent with the new token when it returns True. These retries are silent.
* Sampling request: a retryable failure (stream dropped, idle timeout, generic
  ``response.failed``, 5xx after the request retries...) re-sends the whole request up to
  ``provider.stream_max_retries`` times; each retry first yields :class:`StreamRetry`.

Final failures raise :class:`ModelError`. Cancelling the consuming task (or closing the
generator) closes the HTTP response, so the server sees the connection go away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import time
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from pycodex.core import chat_wire
from pycodex.core.model_events import (
    BufferingFallback,
    Completed,
    Created,
    ModelError,
    ModelEvent,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningSummaryPartAdded,
    ReasoningSummaryTextDelta,
    ReasoningTextDelta,
    ResponseMetadata,
    SafetyBuffering,
    ServedModel,
    StreamRetry,
    TokenUsage,
    ToolCallInputDelta,
)
from pycodex.core.providers import ProviderInfo
from pycodex.core.sse import SseDecoder, SseEvent

if TYPE_CHECKING:
    from pycodex.core.http_stream import StreamResponse, StreamTransport

__all__ = [
    "Completed",
    "Created",
    "ModelClient",
    "ModelError",
    "ModelEvent",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputTextDelta",
    "RateLimits",
    "ReasoningSummaryPartAdded",
    "ReasoningSummaryTextDelta",
    "ReasoningTextDelta",
    "ResponseMetadata",
    "ServedModel",
    "StreamRetry",
    "TokenSource",
    "TokenUsage",
    "ToolCallInputDelta",
    "warm_up",
]

# Texts the reference shows to users (clients match on some of them).
INTERNAL_SERVER_ERROR = (
    "We’re currently experiencing high demand, which may cause temporary errors."
)
SERVER_OVERLOADED = "Selected model is at capacity. Please try a different model."
CONTEXT_WINDOW_EXCEEDED = (
    "Codex ran out of room in the model's context window. Start a new thread or clear "
    "earlier history before retrying."
)
QUOTA_EXCEEDED = "Quota exceeded. Check your plan and billing details."
USAGE_NOT_INCLUDED = (
    "To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus."
)
STREAM_PREFIX = "stream disconnected before completion: "
IDLE_TIMEOUT = STREAM_PREFIX + "idle timeout waiting for SSE"
CLOSED_EARLY = STREAM_PREFIX + "stream closed before response.completed"
BODY_ERROR = STREAM_PREFIX + "Transport error: network error: error decoding response body"
INVALID_IMAGE_MARKER = "The image data you provided does not represent a valid image"

BACKOFF_BASE_S = 0.2
MAX_RETRY_DELAY_S = 300.0
CONNECT_TIMEOUT_S = 30.0

_TRY_AGAIN = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)\b", re.IGNORECASE)
_FAMILY = re.compile(r"^x-([a-z0-9_-]+?)-(primary|secondary)-used-percent$")


class TokenSource(Protocol):
    """Where the bearer token comes from (API key, ChatGPT login...)."""

    async def bearer(self) -> str | None:
        """The token to send, or None for no ``authorization`` header."""

    async def on_unauthorized(self) -> bool:
        """Called after a 401: refresh credentials; True means "retry once"."""


# --------------------------------------------------------------------------- http


logger = logging.getLogger(__name__)

def warm_up(endpoint: str | None = None) -> None:
    """Import the HTTP code and, for an ``https`` endpoint (or none known yet), load the CA
    bundle, so the first turn does not pay for them. Meant for a worker thread; cheap to
    call again (both are cached)."""
    try:
        from pycodex.core import http_stream

        if endpoint is None or endpoint.startswith("https:"):
            http_stream.load_tls_context()
    except Exception:  # warm-up is an optimisation only
        logger.debug("HTTP warm-up failed", exc_info=True)


# --------------------------------------------------------------------------- helpers


def backoff_delay(attempt: int, base: float = BACKOFF_BASE_S) -> float:
    """``base × 2^(attempt-1) × U(0.9, 1.1)`` seconds for retry number ``attempt`` (1-based)."""
    return float(base * (2 ** max(attempt - 1, 0)) * random.uniform(0.9, 1.1))


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked for by ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    import email.utils  # only for HTTP-date values (rare)

    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _delay_from_message(message: str) -> float | None:
    match = _TRY_AGAIN.search(message)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2).lower() == "ms" else value


def _num(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def _window(headers: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    used = _num(headers.get(f"{prefix}-used-percent"))
    minutes = _int(headers.get(f"{prefix}-window-minutes"))
    resets = _int(headers.get(f"{prefix}-reset-at"))
    if not used and not minutes and resets is None:
        return None
    return {
        "usedPercent": round(used or 0.0),
        "windowDurationMins": minutes,
        "resetsAt": resets,
    }


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _model_header(headers: Mapping[str, str], wanted: str) -> str | None:
    """The model a (lower-case) header names, None when absent or blank."""
    for name, value in headers.items():
        if name.lower() == wanted:
            return value.strip() or None
    return None


def served_model(headers: Mapping[str, str]) -> str | None:
    """The ``openai-model`` header: the model that actually answered."""
    return _model_header(headers, "openai-model")


def buffering_fallback(headers: Mapping[str, str]) -> str | None:
    """The ``x-codex-safety-buffering-faster-model`` header: the model a safety buffering
    suggests when it names none."""
    return _model_header(headers, "x-codex-safety-buffering-faster-model")


def parse_rate_limits(headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """``RateLimitSnapshot`` dicts from ``x-<limit>-…`` response headers; the ``codex``
    family is always first (possibly all null)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    families = ["codex"]
    for name in lowered:
        match = _FAMILY.match(name)
        if match and match.group(1) not in families:
            families.append(match.group(1))
    snapshots = []
    for family in families:
        credits = None
        if family == "codex" and "x-codex-credits-has-credits" in lowered:
            credits = {
                "hasCredits": _truthy(lowered.get("x-codex-credits-has-credits")),
                "unlimited": _truthy(lowered.get("x-codex-credits-unlimited")),
                "balance": lowered.get("x-codex-credits-balance") or None,
            }
        snapshots.append(
            {
                "limitId": family,
                "limitName": lowered.get(f"x-{family}-limit-name") or None,
                "normalModelSlug": None,
                "primary": _window(lowered, f"x-{family}-primary"),
                "secondary": _window(lowered, f"x-{family}-secondary"),
                "credits": credits,
                "individualLimit": None,
                "spendControlReached": None,
                "planType": None,
                "rateLimitReachedType": None,
            }
        )
    return snapshots


def _usage_limit_message(error: dict[str, Any]) -> str:
    plan = str(error.get("plan_type") or "").lower()
    resets_at = error.get("resets_at")
    when = None
    if isinstance(resets_at, int | float):
        when = time.strftime("%-I:%M %p", time.localtime(resets_at))
    if plan == "plus":
        tail = f" or try again at {when}." if when else " or try again later."
        return (
            "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), "
            "visit https://chatgpt.com/settings/usage to purchase more credits" + tail
        )
    if plan == "free":
        return (
            "You’ve hit your usage limit. Upgrade to Plus to continue using Codex "
            "(https://chatgpt.com/explore/plus)."
        )
    tail = f" Try again at {when}." if when else " Try again later."
    return "You’ve hit your usage limit." + tail


def classify_http_error(
    status: int, body: bytes, headers: Mapping[str, str], url: str
) -> ModelError:
    """The :class:`ModelError` for a non-2xx answer (texts as the reference shows them)."""
    text = body.decode("utf-8", "replace")
    error: dict[str, Any] = {}
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        error = parsed["error"]
    codes = {str(error.get("type") or ""), str(error.get("code") or "")}
    retry_after = parse_retry_after(headers)

    if status == 500:
        return ModelError(INTERNAL_SERVER_ERROR, "internalServerError", status, kind="http",
                          retryable=True, request_retryable=True, retry_after=retry_after)
    if status == 503 and codes & {"server_is_overloaded", "slow_down"}:
        return ModelError(SERVER_OVERLOADED, "serverOverloaded", status,
                          kind="server_overloaded")
    if status == 429:
        if "usage_limit_reached" in codes:
            return ModelError(_usage_limit_message(error), "usageLimitExceeded", status,
                              kind="usage_limit", extra={"error": error})
        if "usage_not_included" in codes:
            return ModelError(USAGE_NOT_INCLUDED, "usageLimitExceeded", status,
                              kind="usage_not_included")
        if "insufficient_quota" in codes:
            return ModelError(QUOTA_EXCEEDED, "usageLimitExceeded", status, kind="quota")
        return ModelError(
            "exceeded retry limit, last status: 429 Too Many Requests",
            {"responseTooManyFailedAttempts": {"httpStatusCode": 429}},
            status, kind="rate_limited", request_retryable=True, retry_after=retry_after,
        )
    if status == 400:
        kind = "invalid_image" if INVALID_IMAGE_MARKER in text else "invalid_request"
        return ModelError(text, "other", status, kind=kind)
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    detail = error.get("message") if isinstance(error.get("message"), str) else text
    server_side = status >= 500
    return ModelError(
        f"unexpected status {status} {reason}".rstrip() + f": {detail}, url: {url}",
        {"httpConnectionFailed": {"httpStatusCode": status}},
        status,
        kind="unauthorized" if status == 401 else "http",
        retryable=server_side,
        request_retryable=server_side,
        retry_after=retry_after,
    )


def _failed_error(response: dict[str, Any]) -> ModelError:
    error = response.get("error")
    if not isinstance(error, dict):
        return ModelError(STREAM_PREFIX + "response.failed event received", "other",
                          kind="stream", retryable=True)
    code = str(error.get("code") or "")
    message = str(error.get("message") or "")
    if code == "context_length_exceeded":
        return ModelError(CONTEXT_WINDOW_EXCEEDED, "contextWindowExceeded", kind="context_window")
    if code == "insufficient_quota":
        return ModelError(QUOTA_EXCEEDED, "usageLimitExceeded", kind="quota")
    if code == "usage_not_included":
        return ModelError(USAGE_NOT_INCLUDED, "usageLimitExceeded", kind="usage_not_included")
    if code in ("server_is_overloaded", "slow_down"):
        return ModelError(SERVER_OVERLOADED, "serverOverloaded", kind="server_overloaded")
    if code == "invalid_prompt":
        return ModelError(message or "invalid prompt", "other", kind="invalid_request")
    delay = _delay_from_message(message) if code == "rate_limit_exceeded" else None
    return ModelError(STREAM_PREFIX + message, "other", kind="stream", retryable=True,
                      retry_after=delay)


def responses_event(data: dict[str, Any]) -> ModelEvent | None:
    """One Responses SSE payload → an event (None = ignored). Raises :class:`ModelError`
    for ``response.failed`` / ``response.incomplete``."""
    kind = data.get("type")
    if kind == "response.output_text.delta":
        return OutputTextDelta(str(data.get("delta", "")), data.get("item_id"),
                               data.get("output_index"), data.get("content_index"))
    if kind == "response.output_item.done" and isinstance(data.get("item"), dict):
        return OutputItemDone(data["item"])
    if kind == "response.output_item.added" and isinstance(data.get("item"), dict):
        return OutputItemAdded(data["item"])
    if kind == "response.reasoning_summary_text.delta" and "summary_index" in data:
        return ReasoningSummaryTextDelta(str(data.get("delta", "")), int(data["summary_index"]),
                                         data.get("item_id"))
    if kind == "response.reasoning_summary_part.added" and "summary_index" in data:
        return ReasoningSummaryPartAdded(int(data["summary_index"]), data.get("item_id"))
    if kind == "response.reasoning_text.delta" and "content_index" in data:
        return ReasoningTextDelta(str(data.get("delta", "")), int(data["content_index"]),
                                  data.get("item_id"))
    if kind == "response.function_call_arguments.delta":
        return ToolCallInputDelta(str(data.get("delta", "")), "function", data.get("item_id"))
    if kind == "response.custom_tool_call_input.delta":
        return ToolCallInputDelta(str(data.get("delta", "")), "custom", data.get("item_id"))
    raw = data.get("response")
    response: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "response.created":
        return Created(response.get("id"))
    if kind == "response.completed":
        usage = response.get("usage")
        end_turn = response.get("end_turn")
        return Completed(
            str(response.get("id") or ""),
            TokenUsage.from_responses(usage) if isinstance(usage, dict) else None,
            end_turn if isinstance(end_turn, bool) else None,
        )
    if kind == "response.failed":
        raise _failed_error(response)
    if kind == "response.incomplete":
        details = response.get("incomplete_details") or {}
        reason = details.get("reason") if isinstance(details, dict) else None
        raise ModelError(f"Incomplete response returned, reason: {reason or 'unknown'}",
                         "other", kind="incomplete")
    return _response_metadata(data, response)


def _safety_buffering(data: dict[str, Any], response: dict[str, Any]) -> SafetyBuffering | None:
    """The event's ``safety_buffering`` (else its ``response``'s), when well formed."""
    raw = data.get("safety_buffering", response.get("safety_buffering"))
    if not isinstance(raw, dict):
        return None
    try:
        return msgspec.convert(raw, SafetyBuffering)
    except msgspec.ValidationError:
        return None


def _response_metadata(data: dict[str, Any], response: dict[str, Any]) -> ResponseMetadata | None:
    """``response.metadata`` (or any event carrying ``safety_buffering``): the verifications
    its ``metadata`` recommends and its safety buffering (None when it has neither)."""
    raw = data.get("metadata") if data.get("type") == "response.metadata" else None
    metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
    recommended = metadata.get("openai_verification_recommendation")
    names = recommended if isinstance(recommended, list) else []
    verifications = tuple(dict.fromkeys(n for n in names if isinstance(n, str)))
    safety = _safety_buffering(data, response)
    if not verifications and safety is None:
        return None
    return ResponseMetadata(verifications, safety)


#: A text delta's payload decoded straight into its event (any other ``type`` fails).
_TEXT_DELTA_DECODER = msgspec.json.Decoder(OutputTextDelta)
_JSON_DECODER = msgspec.json.Decoder()


def decode_responses_event(payload: bytes) -> ModelEvent | None:
    """One Responses SSE data payload (JSON bytes) → an event, as :func:`responses_event`.

    Text deltas, most of a stream, are decoded straight into their fields; anything else
    (or a delta with unexpected field types) goes through the generic decoding. A payload
    that is not a JSON object is ignored.
    """
    try:
        return _TEXT_DELTA_DECODER.decode(payload)
    except msgspec.DecodeError:
        pass
    try:
        data = _JSON_DECODER.decode(payload)
    except msgspec.DecodeError:
        return None
    return responses_event(data) if isinstance(data, dict) else None


def _responses_batch(payloads: list[bytes]) -> tuple[list[ModelEvent], ModelError | None]:
    """The events of one read's payloads, up to ``Completed`` or the first failure (the
    events before a failure still reach the turn, then the failure is raised)."""
    batch: list[ModelEvent] = []
    for payload in payloads:
        try:
            parsed = decode_responses_event(payload)
        except ModelError as err:
            return batch, err
        if parsed is not None:
            batch.append(parsed)
            if isinstance(parsed, Completed):
                break
    return batch, None


def _chat_batch(state: chat_wire.ChatStream,
                events: list[SseEvent]) -> tuple[list[ModelEvent], ModelError | None]:
    """:func:`_responses_batch` for a Chat Completions stream (up to ``[DONE]``)."""
    batch: list[ModelEvent] = []
    for sse in events:
        try:
            batch += state.feed_data(sse.data)
        except ModelError as err:
            return batch, err
        if state.done:
            break
    return batch, None


# --------------------------------------------------------------------------- client


class ModelClient:
    """Streams one provider's model answers. Cheap to create; the HTTP pool is shared."""

    def __init__(
        self,
        provider: ProviderInfo,
        token_source: TokenSource,
        *,
        transport: StreamTransport | None = None,
        backoff_base: float = BACKOFF_BASE_S,
    ) -> None:
        self.provider = provider
        self.token_source = token_source
        self._transport = transport
        self.backoff_base = backoff_base

    def _transport_for_request(self) -> StreamTransport:
        if self._transport is not None:
            return self._transport
        from pycodex.core.http_stream import default_transport

        return default_transport()

    def _delay(self, attempt: int, err: ModelError) -> float:
        if err.retry_after is not None:
            return min(err.retry_after, MAX_RETRY_DELAY_S)
        return backoff_delay(attempt, self.backoff_base)

    async def stream(
        self, request: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> AsyncGenerator[ModelEvent, None]:
        """Send ``request`` (a Responses API body) and yield its events.

        ``headers`` are added to every HTTP request (``originator``, ``session-id``...).
        Ends after :class:`Completed`; raises :class:`ModelError` on a final failure.
        """
        async with contextlib.aclosing(self.stream_batches(request, headers)) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    async def stream_batches(
        self, request: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> AsyncGenerator[list[ModelEvent], None]:
        """:meth:`stream`'s events, in lists: the events decoded from one network read
        come together (a fast stream's hundreds of deltas cost one step of the
        generator, not one each). Never yields an empty list."""
        max_retries = self.provider.stream_max_retries
        attempt = 0
        while True:
            failure: ModelError | None = None
            try:
                async with contextlib.aclosing(self._attempt(request, headers)) as batches:
                    async for batch in batches:
                        yield batch
                return
            except ModelError as err:
                if not err.retryable or attempt >= max_retries:
                    raise
                failure = err
            attempt += 1
            delay = self._delay(attempt, failure)
            yield [StreamRetry(attempt, max_retries, delay, failure)]
            await asyncio.sleep(delay)

    async def _attempt(
        self, request: dict[str, Any], headers: Mapping[str, str] | None
    ) -> AsyncGenerator[list[ModelEvent], None]:
        from pycodex.core.http_stream import HttpTimeout, HttpTransportError, release_later

        chat = self.provider.wire_api == "chat"
        if chat:
            body, custom_tools = chat_wire.to_chat_request(request)
        else:
            body, custom_tools = {**request, "stream": True}, set()
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        response = await self._send(payload, headers)
        released = False
        try:
            if not chat:
                head: list[ModelEvent] = [
                    RateLimits(snapshot) for snapshot in parse_rate_limits(response.headers)]
                served = served_model(response.headers)
                if served:
                    head.append(ServedModel(served))
                fallback = buffering_fallback(response.headers)
                if fallback:
                    head.append(BufferingFallback(fallback))
                if head:
                    yield head
            decoder = SseDecoder()
            chat_state = chat_wire.ChatStream(custom_tools) if chat else None
            try:
                chunks = response.aiter_raw()
                async for chunk in chunks:
                    if chat_state is not None:
                        batch, failure = _chat_batch(chat_state, decoder.feed(chunk))
                    else:
                        batch, failure = _responses_batch(decoder.feed_data(chunk))
                        if batch and isinstance(batch[-1], Completed):
                            # The rest of the body is read in the background, so that the
                            # connection is reused without waiting for its last bytes.
                            release_later(response, chunks)
                            released = True
                            yield batch
                            return
                    if batch:
                        yield batch
                    if failure is not None:
                        raise failure
                    if chat_state is not None and chat_state.done:
                        break
            except HttpTimeout:
                raise ModelError(IDLE_TIMEOUT, "other", kind="stream", retryable=True) from None
            except HttpTransportError:
                raise ModelError(BODY_ERROR, "other", kind="stream", retryable=True) from None
            if chat_state is not None:
                release_later(response, chunks)
                released = True
                tail = chat_state.finish()
                if tail:
                    yield tail
                return
            raise ModelError(CLOSED_EARLY, "other", kind="stream", retryable=True)
        finally:
            if not released:
                await response.aclose()

    async def _send(self, payload: bytes, extra: Mapping[str, str] | None) -> StreamResponse:
        """POST with the request-level retry loop; returns an open 2xx streaming response."""
        from pycodex.core.http_stream import HttpTransportError

        provider = self.provider
        url = provider.endpoint
        idle = provider.stream_idle_timeout_ms / 1000
        connect_timeout = min(CONNECT_TIMEOUT_S, idle)
        refreshed = False
        attempt = 0
        while True:
            token = await self.token_source.bearer()
            headers = {
                "accept": "text/event-stream",
                "content-type": "application/json",
                **provider.extra_headers(),
                **(extra or {}),
            }
            if token:
                headers["authorization"] = f"Bearer {token}"
            try:
                response = await self._transport_for_request().post(
                    url, headers, payload, connect_timeout=connect_timeout, read_timeout=idle)
            except HttpTransportError as exc:
                err = ModelError("Connection failed: error sending request",
                                 {"httpConnectionFailed": {"httpStatusCode": None}},
                                 kind="connection", retryable=True, request_retryable=True,
                                 extra={"cause": repr(exc)})
            else:
                if 200 <= response.status_code < 300:
                    return response
                try:
                    body = await response.aread()
                except HttpTransportError:
                    body = b""
                finally:
                    await response.aclose()
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    try:
                        renewed = await self.token_source.on_unauthorized()
                    except Exception as exc:  # a failed refresh surfaces as the 401 itself
                        logger.warning("credential refresh after 401 failed: %s", exc)
                        renewed = False
                    if renewed:
                        continue
                err = classify_http_error(response.status_code, body, response.headers, url)
            if not err.request_retryable or attempt >= provider.request_max_retries:
                raise err
            attempt += 1
            await asyncio.sleep(self._delay(attempt, err))
