"""A model stream handled a network read at a time: the SSE decoder's fast path for plain
events, the model client's event lists, and a turn whose whole answer arrives in one read
(notifications in order, opt-outs honoured), and websocket frames written in batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycodex.core.model_client import (
    Completed,
    Created,
    ModelError,
    ModelEvent,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
)
from pycodex.core.sse import SseDecoder
from pycodex.transport.websocket import BINARY_FRAME, TEXT_FRAME, data_frames
from tests.conftest import ServerFactory
from tests.support.mock_responses import (
    MockResponses,
    Raw,
    Reply,
    message_events,
    response_reply,
)
from tests.support.model_client import client_for
from tests.support.turns import run_turn, start_thread, write_config

#: Plain events around every shape the line-by-line path handles.
MIXED = (
    b"event: response.output_text.delta\ndata: {\"delta\":\"a\"}\n\n"
    b"data: {\"delta\":\"b\"}\n\n"
    b": keep-alive\n\n"
    b"event: x\ndata: first line\ndata: second line\nid: 7\n\n"
    b"data:no-space\n\n"
    b"event: response.output_text.delta\ndata: {\"delta\":\"\xc3\xa9\"}\n\n"
    b"data\n\n"
    b"\n\n\nevent: y\ndata: after blank lines\n\n"
    b"event: response.output_text.delta\ndata: {\"delta\":\"c\"}\n\n"
    b"data: trailing event without blank line is dropped\n"
)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_feed_data_gives_the_payloads_feed_gives_at_every_split(newline: bytes) -> None:
    stream = MIXED.replace(b"\n", newline)
    expected = [event.data.encode() for event in SseDecoder().feed(stream)]
    assert expected[:3] == [b'{"delta":"a"}', b'{"delta":"b"}', b"first line\nsecond line"]
    assert len(expected) == 8
    for size in (1, 2, 3, 7, 64, len(stream)):
        decoder = SseDecoder()
        payloads: list[bytes] = []
        for at in range(0, len(stream), size):
            payloads += decoder.feed_data(stream[at:at + size])
        assert payloads == expected, size


def sse(events: list[Any]) -> bytes:
    """The events as the mock would send them, as one block of bytes (one write)."""
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()
                    for e in events if isinstance(e, dict))


def one_read(*deltas: str) -> Reply:
    """A whole answer streaming ``deltas``, sent in one write."""
    return Reply(events=[Raw(sse(response_reply(message_events(deltas)).events))])


REQUEST: dict[str, Any] = {"model": "gpt-5.5", "input": [], "tools": []}


async def test_the_events_of_one_read_come_as_one_list(mock: MockResponses) -> None:
    mock.push(one_read("one", " two", " three"))
    batches = [batch async for batch in client_for(mock).stream_batches(REQUEST)]
    assert all(batches)
    events = [event for batch in batches for event in batch]
    assert [type(e) for e in events if not isinstance(e, OutputTextDelta)] == [
        RateLimits, Created, OutputItemAdded, OutputItemDone, Completed]
    deltas = [e.delta for e in events if isinstance(e, OutputTextDelta)]
    assert deltas == ["one", " two", " three"]
    assert len(batches) < len(events)  # sent in one write, handled in (far) fewer steps


async def test_events_read_with_a_failure_reach_the_turn_before_it(
    mock: MockResponses
) -> None:
    steps = message_events(["kept", " too"])
    failed = {"type": "response.failed", "response": {
        "id": "resp_x", "status": "failed",
        "error": {"code": "invalid_prompt", "message": "mock: refused"}}}
    body = [e for e in steps if isinstance(e, dict) and "delta" in e["type"]]
    mock.push(Reply(events=[Raw(sse([steps[0], steps[1], *body, failed]))]))
    seen: list[ModelEvent] = []
    with pytest.raises(ModelError) as info:
        async for event in client_for(mock).stream(REQUEST):
            seen.append(event)
    assert str(info.value) == "mock: refused"
    assert [e.delta for e in seen if isinstance(e, OutputTextDelta)] == ["kept", " too"]


async def test_an_answer_in_one_read_is_announced_in_order(
    spawn: ServerFactory, codex_home: Path, workdir: Path, mock: MockResponses,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCK_API_KEY", "sk-mock")
    write_config(codex_home, mock)
    words = [f"w{i} " for i in range(300)]
    mock.push(one_read(*words), one_read("quiet"))
    client = await spawn()
    thread_id = await start_thread(client, workdir)
    start = len(client.received)
    await run_turn(client, thread_id, "hi")
    shown = [(m["method"], m["params"]) for m in client.received[start:]
             if "method" in m and m["method"].startswith("item/")]
    kinds = [(method, params.get("item", {}).get("type")) for method, params in shown]
    agent = [i for i, kind in enumerate(kinds) if kind[1] == "agentMessage"]
    started, completed = agent[0], agent[-1]
    assert kinds[started][0] == "item/started" and kinds[completed][0] == "item/completed"
    between = [params["delta"] for method, params in shown[started + 1:completed]]
    assert between == words
    assert shown[completed][1]["item"]["text"] == "".join(words)

    quiet = await spawn(initialize=False)
    await quiet.initialize(opt_out=["item/agentMessage/delta"])
    thread_id = await start_thread(quiet, workdir)
    _, done = await run_turn(quiet, thread_id, "hi")
    assert done["turn"]["status"] == "completed"
    assert quiet.notifications("item/agentMessage/delta") == []
    assert [n["params"]["item"]["text"] for n in quiet.notifications("item/completed")
            if n["params"]["item"]["type"] == "agentMessage"] == ["quiet"]


@pytest.mark.parametrize("first", [TEXT_FRAME, BINARY_FRAME])
def test_batched_websocket_frames_parse_back_to_the_messages(first: int) -> None:
    from websockets.frames import Opcode
    from websockets.protocol import Protocol, Side, State

    messages = [b"", b"x" * 125, "é".encode() * 63, b"y" * 126, b"z" * 65535, b"w" * 65536]
    reader = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    reader.receive_data(data_frames(first, messages))
    frames = reader.events_received()
    assert [bytes(frame.data) for frame in frames] == messages
    opcode = Opcode.TEXT if first == TEXT_FRAME else Opcode.BINARY
    assert all(frame.fin and frame.opcode is opcode for frame in frames)
    assert reader.data_to_send() == []  # nothing malformed to complain about
