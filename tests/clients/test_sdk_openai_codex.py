"""The official Python SDK (``openai-codex`` on PyPI, tested with 0.163.0) drives
``pycodex app-server`` unchanged.

The SDK launches ``<codex_bin> app-server --listen stdio://`` (after any ``--config``
overrides); here ``codex_bin`` is a tiny ``codex`` script that execs ``python -m pycodex``.
It speaks JSON-RPC with string (UUID) request ids, parses every notification into its
generated pydantic models (falling back to ``UnknownNotification`` when a payload does not
validate), and collects a turn's result from ``item/completed``,
``thread/tokenUsage/updated`` and ``turn/completed``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import paths
from tests.support.mock_responses import (
    MockResponses,
    http_error,
    slow_text_reply,
    text_reply,
)

openai_codex = pytest.importorskip(
    "openai_codex", reason="the openai-codex SDK is not installed (pip install openai-codex)")

SRC = paths.ROOT / "src"
DELTAS = ("Hello ", "from t", "he moc", "k!")


@pytest.fixture
def sdk_config(tmp_path: Path, codex_home: Path, workdir: Path, mock: MockResponses) -> Any:
    """A ``CodexConfig`` whose ``codex`` binary is pycodex, pointed at the mock."""
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\n\n' + mock.provider_toml())
    wrapper = tmp_path / "bin" / "codex"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pycodex "$@"\n')
    wrapper.chmod(0o755)
    pythonpath = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    env = {"CODEX_HOME": str(codex_home), "MOCK_API_KEY": "sk-sdk", "PYTHONPATH": pythonpath}
    return openai_codex.CodexConfig(codex_bin=str(wrapper), cwd=str(workdir), env=env)


def _kind(item: Any) -> str:
    return str(getattr(item, "root", item).type)


def test_sdk_runs_a_turn_end_to_end(sdk_config: Any, mock: MockResponses,
                                    workdir: Path) -> None:
    mock.push(text_reply(*DELTAS))
    with openai_codex.Codex(sdk_config) as codex:
        assert codex.metadata.serverInfo.name == "codex_python_sdk"
        assert codex.metadata.platformOs == "linux"
        thread = codex.thread_start()
        result = thread.run("hello")
    assert result.final_response == "Hello from the mock!"
    assert result.status.value == "completed" and result.error is None
    assert [_kind(i) for i in result.items] == ["userMessage", "agentMessage"]
    assert result.usage is not None and result.usage.total.total_tokens == 1290
    assert result.usage.model_context_window == 258400
    assert result.duration_ms is not None and result.completed_at >= result.started_at

    (request,) = mock.requests
    assert request.headers["originator"] == "codex_python_sdk"
    assert request.headers["authorization"] == "Bearer sk-sdk"
    assert request.body["prompt_cache_key"] == thread.id
    assert request.body["input"][-1]["content"] == [{"type": "input_text", "text": "hello"}]
    assert f"<cwd>{workdir}</cwd>" in str(request.body["input"])


def test_sdk_streams_typed_notifications_and_keeps_history(
    sdk_config: Any, mock: MockResponses
) -> None:
    """Every notification of a turn parses into the SDK's models, deltas arrive in order,
    and a second turn on the thread sends the first one's exchange to the model."""
    mock.push(text_reply(*DELTAS), text_reply("Second ", "answer"))
    with openai_codex.Codex(sdk_config) as codex:
        thread = codex.thread_start()
        handle = thread.turn("hello")
        events = list(handle.stream())
        second = thread.run("and again")
        read = thread.read(include_turns=True)
    unknown = [e.method for e in events if isinstance(e.payload, openai_codex.models
                                                      .UnknownNotification)]
    assert unknown == []
    methods = [e.method for e in events]
    assert methods[0] == "turn/started" and methods[-1] == "turn/completed"
    assert [e.payload.delta for e in events if e.method == "item/agentMessage/delta"] == \
        list(DELTAS)
    assert events[-1].payload.turn.id == handle.id
    assert events[-1].payload.turn.status.value == "completed"
    assert second.final_response == "Second answer"

    history = mock.requests[1].body["input"]
    tail = [(i.get("role"), i["content"][0].get("text")) for i in history[-3:]]
    assert tail == [("user", "hello"), ("assistant", "Hello from the mock!"),
                    ("user", "and again")]
    assert [t.id for t in read.thread.turns] == [handle.id, second.id]


def test_sdk_reports_a_failed_turn(sdk_config: Any, mock: MockResponses) -> None:
    """A model error fails the turn; the SDK raises with the turn error's message."""
    mock.push(http_error(500))
    with openai_codex.Codex(sdk_config) as codex:
        thread = codex.thread_start()
        with pytest.raises(RuntimeError) as caught:
            thread.run("MOCK_HTTP_500 please")
    assert str(caught.value) == (
        "We’re currently experiencing high demand, which may cause temporary errors.")
    assert len(mock.requests) == 1  # request_max_retries = 0


async def test_async_sdk_runs_a_turn(sdk_config: Any, mock: MockResponses) -> None:
    mock.push(text_reply(*DELTAS))
    async with openai_codex.AsyncCodex(sdk_config) as codex:
        thread = await codex.thread_start()
        result = await thread.run("hello")
    assert result.final_response == "Hello from the mock!"
    assert [_kind(i) for i in result.items] == ["userMessage", "agentMessage"]


def test_sdk_steers_and_interrupts_turns(sdk_config: Any, mock: MockResponses) -> None:
    """``TurnHandle.steer`` cuts the answer being streamed and asks again with the input;
    ``TurnHandle.interrupt`` ends a turn as ``interrupted``."""
    mock.push(slow_text_reply("one ", "two ", "three", interval=0.3), text_reply("steered"),
              slow_text_reply("never ", "finished", interval=5))
    with openai_codex.Codex(sdk_config) as codex:
        thread = codex.thread_start()
        handle = thread.turn("count")
        stream = handle.stream()
        first = next(e for e in stream if e.method == "item/agentMessage/delta")
        assert first.payload.delta == "one "
        assert handle.steer("also this").turn_id == handle.id
        done = [e for e in stream if e.method == "turn/completed"][-1]
        assert done.payload.turn.status.value == "completed"

        stopped = thread.turn("long one")
        mock.wait_for_requests(3)
        stopped.interrupt()
        result = stopped.run()
    assert result.status.value == "interrupted"
    steered = mock.requests[1].body["input"]
    assert steered[-1]["content"] == [{"type": "input_text", "text": "also this"}]
    # the answer the steer cut is not kept, as the reference 0.171 does
    assert steered[-2]["role"] == "user"
    assert steered[-2]["content"] == [{"type": "input_text", "text": "count"}]
