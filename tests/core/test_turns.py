"""The turn engine (issue 4) driven through a spawned server against the project's mock
Responses API: notification order and payloads, request shape, errors, retries,
interrupt, steer, compaction and tool-call plumbing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    failed_reply,
    function_call_events,
    function_call_reply,
    http_error,
    message_events,
    metadata_events,
    reasoning_events,
    response_reply,
    slow_text_reply,
    text_reply,
)
from tests.support.turns import run_turn, start_thread, write_config


@pytest.fixture
async def client(codex_home: Path, workdir: Path, mock: MockResponses
                 ) -> AsyncIterator[AppServerClient]:
    write_config(codex_home, mock)
    c = AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "sk-mock"})
    await c.start()
    await c.initialize(name="probe", version="0.0.1")
    yield c
    await c.close()
    c.assert_valid()


def methods_after(client: AppServerClient, start_index: int) -> list[str]:
    out = []
    for message in client.received[start_index:]:
        if "method" in message and "id" not in message:
            out.append(message["method"])
        elif "result" in message and "turn" in message["result"]:
            out.append("<turn/start response>")
    return out


async def test_hello_turn_matches_the_reference_sequence(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("Hello ", "from t", "he moc", "k!"))
    start = len(client.received)
    response, completed = await run_turn(client, thread_id, "hello")
    turn = response["turn"]
    assert turn["status"] == "inProgress" and turn["items"] == [] and turn["error"] is None
    assert turn["startedAt"] is None and turn["itemsView"] == "notLoaded"
    assert methods_after(client, start) == [
        "<turn/start response>",
        "thread/status/changed",
        "turn/started",
        "item/started",
        "item/completed",
        "item/started",
        "item/agentMessage/delta",
        "item/agentMessage/delta",
        "item/agentMessage/delta",
        "item/agentMessage/delta",
        "item/completed",
        "thread/tokenUsage/updated",
        "account/rateLimits/updated",
        "thread/readState/changed",
        "thread/status/changed",
        "turn/completed",
    ]
    notes = [m["params"] for m in client.received[start:] if "method" in m]
    assert notes[0] == {"threadId": thread_id, "status": {"type": "active", "activeFlags": []}}
    user = notes[2]["item"]
    assert user["type"] == "userMessage"
    assert user["content"] == [{"type": "text", "text": "hello", "text_elements": []}]
    agent_done = notes[9]["item"]
    assert agent_done["type"] == "agentMessage" and agent_done["text"] == "Hello from the mock!"
    assert [n["delta"] for n in notes[5:9]] == ["Hello ", "from t", "he moc", "k!"]
    usage = notes[10]["tokenUsage"]
    assert usage["total"]["totalTokens"] == 1290 and usage["last"]["inputTokens"] == 1234
    assert usage["total"]["cachedInputTokens"] == 1000
    assert usage["modelContextWindow"] == 258400
    done_id = completed["turn"]["id"]
    assert notes[12]["readState"]["firstUnread"] == {"type": "turn", "turnId": done_id}
    assert notes[13] == {"threadId": thread_id, "status": {"type": "idle"}}
    done = completed["turn"]
    assert done["status"] == "completed" and done["error"] is None
    assert [i["type"] for i in done["items"]] == ["agentMessage"]
    assert isinstance(done["durationMs"], int) and done["completedAt"] >= done["startedAt"]

    request = mock.requests[-1]
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == "Bearer sk-mock"
    assert request.headers["originator"] == "probe"
    assert request.headers["accept"] == "text/event-stream"
    body = request.body
    for key in ("model", "stream", "input", "tools", "tool_choice", "parallel_tool_calls",
                "reasoning", "store", "include", "prompt_cache_key", "text"):
        assert key in body, key
    assert body["model"] == "gpt-5.5" and body["stream"] is True and body["store"] is False
    assert body["prompt_cache_key"] == thread_id and body["tool_choice"] == "auto"
    roles = [(i.get("type"), i.get("role")) for i in body["input"]]
    assert roles[0] == ("message", "developer")
    assert roles[-1] == ("message", "user")
    texts = [c.get("text", "") for i in body["input"] for c in i.get("content", [])]
    assert any(t.startswith("<environment_context>") for t in texts)
    assert texts[-1] == "hello"
    names = {t.get("name") for t in body["tools"]}
    assert {"exec_command", "write_stdin", "apply_patch", "update_plan"} <= names


async def test_second_turn_resends_the_whole_history(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("first answer"), text_reply("second answer"))
    await run_turn(client, thread_id, "one")
    await run_turn(client, thread_id, "two")
    first, second = mock.requests[-2].body, mock.requests[-1].body
    assert second["input"][: len(first["input"])] == first["input"]
    tail = second["input"][len(first["input"]):]
    assert tail[0]["role"] == "assistant" and tail[0]["content"][0]["text"] == "first answer"
    assert tail[-1]["content"][0]["text"] == "two"


async def test_http_500_fails_the_turn_like_the_reference(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(http_error(500))
    start = len(client.received)
    _, completed = await run_turn(client, thread_id, "MOCK_HTTP_500 please")
    assert methods_after(client, start)[-3:] == ["thread/status/changed", "error",
                                                 "turn/completed"]
    status = client.notifications("thread/status/changed")[-1]["params"]["status"]
    assert status == {"type": "systemError"}
    error = client.notifications("error")[-1]["params"]
    assert error["willRetry"] is False
    assert error["error"]["codexErrorInfo"] == "internalServerError"
    assert error["error"]["message"] == (
        "We\u2019re currently experiencing high demand, which may cause temporary errors.")
    turn = completed["turn"]
    assert turn["status"] == "failed" and turn["error"]["message"] == error["error"]["message"]
    # The thread stays usable.
    mock.push(text_reply("recovered"))
    _, again = await run_turn(client, thread_id, "retry")
    assert again["turn"]["status"] == "completed"


async def test_response_failed_reports_stream_disconnect(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(failed_reply("mock: simulated stream failure"))
    _, completed = await run_turn(client, thread_id, "MOCK_STREAM_FAILED")
    error = completed["turn"]["error"]
    assert error["message"] == ("stream disconnected before completion: "
                                "mock: simulated stream failure")
    assert error["codexErrorInfo"] == "other"


async def test_stream_retry_sends_error_with_will_retry(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    lines = ['model = "gpt-5.5"', 'model_provider = "mock"', 'approval_policy = "never"',
             'sandbox_mode = "danger-full-access"']
    (codex_home / "config.toml").write_text(
        "\n".join(lines) + "\n\n" + mock.provider_toml(stream_max_retries=2))
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "k"}) as c:
        await c.initialize()
        thread_id = await start_thread(c, workdir)
        mock.push(failed_reply("transient"), text_reply("after retry"))
        _, completed = await run_turn(c, thread_id, "hi")
        retry = c.notifications("error")[0]["params"]
        assert retry["willRetry"] is True
        assert retry["error"]["message"] == "Reconnecting... 1/2"
        assert completed["turn"]["status"] == "completed"
        texts = [n["params"]["item"]["text"] for n in c.notifications("item/completed")
                 if n["params"]["item"]["type"] == "agentMessage"]
        assert texts == ["after retry"]
        c.assert_valid()


async def test_interrupt_answers_before_turn_completed_and_closes_the_stream(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply(*["tick "] * 50, interval=0.1))
    response = await client.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "slow"}]})
    turn_id = response["turn"]["id"]
    await client.wait_notification("item/agentMessage/delta")
    rid = client.next_id()
    await client.send({"method": "turn/interrupt", "id": rid,
                       "params": {"threadId": thread_id, "turnId": turn_id}})
    answer = await client.wait_for(lambda m: m.get("id") == rid)
    completed = await client.wait_notification("turn/completed")
    assert answer["result"] == {}
    assert completed["turn"]["status"] == "interrupted"
    index = client.received.index
    done = next(m for m in client.received if m.get("method") == "turn/completed")
    assert index(answer) < index(done)
    await asyncio.sleep(0.5)
    assert mock.requests[-1].closed_by_client
    # A second interrupt with nothing running gets the reference's error.
    second = await client.request_raw("turn/interrupt",
                                      {"threadId": thread_id, "turnId": turn_id})
    assert second["error"] == {"code": -32600, "message": "no active turn to interrupt"}
    # The next request carries the interruption marker.
    mock.push(text_reply("ok"))
    await run_turn(client, thread_id, "next")
    texts = [c.get("text", "") for i in mock.requests[-1].body["input"]
             for c in i.get("content", [])]
    assert any(t.startswith("<turn_aborted>") for t in texts)


async def test_steer_adds_input_to_the_running_turn(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("a", "b", "c", "d", "e", interval=0.5), text_reply("saw the steer"))
    response = await client.request(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
    turn_id = response["turn"]["id"]
    await client.wait_notification("item/agentMessage/delta")
    bad = await client.request_raw("turn/steer", {
        "threadId": thread_id, "expectedTurnId": "other",
        "input": [{"type": "text", "text": "x"}]})
    assert bad["error"] == {
        "code": -32600, "message": f"expected active turn id `other` but found `{turn_id}`",
        "data": {"reason": "expectedTurnMismatch", "expectedTurnId": "other",
                 "activeTurnId": turn_id}}
    steered = await client.request("turn/steer", {
        "threadId": thread_id, "expectedTurnId": turn_id,
        "input": [{"type": "text", "text": "also this"}]})
    assert steered == {"turnId": turn_id}
    completed = await client.wait_notification("turn/completed", timeout=30)
    assert completed["turn"]["status"] == "completed"
    # as the reference 0.171: the answer being streamed is dropped (never completed, not in
    # the history) and the model is asked again with the steered input
    assert len(mock.requests) == 2
    last_input = mock.requests[-1].body["input"]
    assert [(i["role"], i["content"][0]["text"]) for i in last_input[-2:]] == [
        ("user", "go"), ("user", "also this")]
    assert [n["params"]["item"]["text"] for n in client.notifications("item/completed")
            if n["params"]["item"]["type"] == "agentMessage"] == ["saw the steer"]
    assert "".join(n["params"]["delta"] for n in client.notifications(
        "item/agentMessage/delta")).startswith("a")
    after = await client.request_raw("turn/steer", {
        "threadId": thread_id, "expectedTurnId": turn_id,
        "input": [{"type": "text", "text": "late"}]})
    assert after["error"] == {"code": -32600, "message": "no active turn to steer",
                              "data": {"reason": "noActiveTurn"}}


async def test_reasoning_summaries_are_streamed(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(response_reply(reasoning_events([["Think", "ing"]]), message_events(["done"])))
    await run_turn(client, thread_id, "think")
    deltas = client.notifications("item/reasoning/summaryTextDelta")
    assert "".join(d["params"]["delta"] for d in deltas) == "Thinking"
    started = [n["params"] for n in client.notifications("item/started")
               if n["params"]["item"]["type"] == "reasoning"]
    completed = [n["params"] for n in client.notifications("item/completed")
                 if n["params"]["item"]["type"] == "reasoning"]
    # as the reference 0.171: the item carries its start and completion times
    begin = started[0]["startedAtMs"]
    assert [s["item"] for s in started] == [{
        "type": "reasoning", "id": started[0]["item"]["id"], "summary": [], "content": [],
        "startedAtMs": begin, "completedAtMs": None}]
    assert [c["item"] for c in completed] == [{
        **started[0]["item"], "summary": ["Thinking"],
        "completedAtMs": completed[0]["completedAtMs"]}]


async def test_reasoning_parts_and_raw_text_are_streamed(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(response_reply(reasoning_events([["one"], ["two"]], raw_deltas=["ra", "w"]),
                             message_events(["done"])))
    response, _ = await run_turn(client, thread_id, "think")
    turn_id = response["turn"]["id"]
    item_id = next(n["params"]["item"]["id"] for n in client.notifications("item/started")
                   if n["params"]["item"]["type"] == "reasoning")
    where = {"threadId": thread_id, "turnId": turn_id, "itemId": item_id}
    assert [n["params"] for n in client.notifications("item/reasoning/summaryPartAdded")] == [
        {**where, "summaryIndex": 0}, {**where, "summaryIndex": 1}]
    assert [n["params"] for n in client.notifications("item/reasoning/textDelta")] == [
        {**where, "delta": "ra", "contentIndex": 0}, {**where, "delta": "w", "contentIndex": 0}]


async def test_tool_calls_loop_until_the_model_answers(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    plan = {"explanation": "steps", "plan": [{"step": "read", "status": "completed"},
                                             {"step": "write", "status": "in_progress"}]}
    mock.push(function_call_reply("update_plan", plan, call_id="call_plan"),
              function_call_reply("shell", {"command": ["echo", "hi"]}, call_id="call_shell"),
              text_reply("all done"))
    _, completed = await run_turn(client, thread_id, "plan it")
    update = client.notifications("turn/plan/updated")[-1]["params"]
    assert update["explanation"] == "steps"
    assert update["plan"] == [{"step": "read", "status": "completed"},
                              {"step": "write", "status": "inProgress"}]
    outputs = [i for i in mock.requests[-1].body["input"]
               if i.get("type") == "function_call_output"]
    assert [o["output"] for o in outputs] == ["Plan updated", "unsupported call: shell"]
    assert completed["turn"]["status"] == "completed"


async def test_compaction_replaces_history_with_a_summary(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("answer one"), text_reply("SUMMARY OF WORK"), text_reply("after"))
    await run_turn(client, thread_id, "first question")
    assert await client.request("thread/compact/start", {"threadId": thread_id}) == {}
    completed = await client.wait_notification("turn/completed", timeout=30)
    assert completed["turn"]["status"] == "completed"
    compaction = [n["params"]["item"] for n in client.notifications("item/completed")
                  if n["params"]["item"]["type"] == "contextCompaction"]
    assert len(compaction) == 1
    compact_request = mock.requests[-1].body
    assert compact_request["tools"] == []
    await run_turn(client, thread_id, "second question")
    texts = [c.get("text", "") for i in mock.requests[-1].body["input"]
             for c in i.get("content", [])]
    assert any("SUMMARY OF WORK" in t for t in texts)
    assert "answer one" not in texts
    assert "first question" in texts


async def test_a_compaction_turn_shows_only_its_context_compaction_item(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    """As the reference 0.171: the summary request's own message is not announced, and
    the ``contextCompaction`` item carries its start and completion times."""
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("answer one"), text_reply("SUMMARY OF WORK"))
    first, _ = await run_turn(client, thread_id, "first question")
    start = len(client.received)
    assert await client.request("thread/compact/start", {"threadId": thread_id}) == {}
    await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] != first["turn"]["id"], timeout=30)
    methods = [m["method"] for m in client.received[start:] if "method" in m]
    assert [m for m in methods if m.startswith("item/")] == ["item/started", "item/completed"]
    started, completed = [m["params"] for m in client.received[start:]
                          if m.get("method") in ("item/started", "item/completed")]
    assert started["item"] == {"type": "contextCompaction", "id": started["item"]["id"],
                               "startedAtMs": started["startedAtMs"], "completedAtMs": None}
    assert completed["item"] == {**started["item"],
                                 "completedAtMs": completed["completedAtMs"]}
    assert "thread/compacted" not in methods  # 0.171 no longer sends the legacy signal


async def test_a_compaction_turn_cannot_be_steered(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("SUMMARY", "OF", "WORK", interval=0.2))
    assert await client.request("thread/compact/start", {"threadId": thread_id}) == {}
    started = await client.wait_notification("turn/started")
    turn_id = started["turn"]["id"]
    refused = await client.request_raw("turn/steer", {
        "threadId": thread_id, "expectedTurnId": turn_id,
        "input": [{"type": "text", "text": "x"}]})
    assert refused["error"] == {"code": -32600, "message": "cannot steer a compact turn",
                                "data": {"message": "cannot steer a compact turn",
                                         "codexErrorInfo": {
                                             "activeTurnNotSteerable": {"turnKind": "compact"}},
                                         "additionalDetails": None}}
    completed = await client.wait_notification("turn/completed", timeout=30)
    assert completed["turn"]["status"] == "completed"


async def test_unknown_model_warns_after_thread_started(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    result = await client.request("thread/start", {"cwd": str(workdir), "model": "gpt-5-codex"})
    thread_id = result["thread"]["id"]
    warning = await client.wait_notification("warning")
    assert warning == {"threadId": thread_id, "message": (
        "Model metadata for `gpt-5-codex` not found. Defaulting to fallback metadata; "
        "this can degrade performance and cause issues.")}
    order = [m.get("method") for m in client.received if m.get("method")]
    assert order.index("thread/started") < order.index("warning")
    mock.push(text_reply("ok"))
    _, completed = await run_turn(client, thread_id, "hi")
    assert completed["turn"]["status"] == "completed"
    assert mock.requests[-1].body["reasoning"] == {"summary": "auto"}


async def test_automatic_compaction_when_the_context_nears_the_limit(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "never"\n'
        'sandbox_mode = "danger-full-access"\nmodel_auto_compact_token_limit = 1000\n\n'
        + mock.provider_toml())
    async with AppServerClient(codex_home, cwd=workdir, env={"MOCK_API_KEY": "k"}) as c:
        await c.initialize()
        thread_id = await start_thread(c, workdir)
        # usage 1290 > 1000 after the tool call → compact before the follow-up request
        mock.push(function_call_reply("update_plan", {"plan": []}), text_reply("AUTO SUMMARY"),
                  text_reply("finished"))
        _, completed = await run_turn(c, thread_id, "long task")
        assert completed["turn"]["status"] == "completed"
        kinds = [n["params"]["item"]["type"] for n in c.notifications("item/completed")]
        assert "contextCompaction" in kinds
        texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
                 for p in i.get("content", [])]
        assert any("AUTO SUMMARY" in t for t in texts)
        c.assert_valid()


async def test_resume_with_history_replaces_the_model_history(
    codex_home: Path, workdir: Path, mock: MockResponses
) -> None:
    write_config(codex_home, mock)
    env = {"MOCK_API_KEY": "k"}
    async with AppServerClient(codex_home, cwd=workdir, env=env) as first:
        await first.initialize()
        thread_id = await start_thread(first, workdir)
        mock.push(text_reply("original answer"))
        await run_turn(first, thread_id, "original question")
    history = [{"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "injected question"}]},
               {"type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": "injected answer"}]}]
    async with AppServerClient(codex_home, cwd=workdir, env=env) as second:
        await second.initialize(experimental=True)
        empty = await second.request_raw("thread/resume", {"threadId": thread_id,
                                                           "history": []})
        assert empty["error"] == {"code": -32600, "message": "history must not be empty"}
        await second.request("thread/resume", {"threadId": thread_id, "history": history})
        mock.push(text_reply("next"))
        await run_turn(second, thread_id, "follow-up")
        texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
                 for p in i.get("content", [])]
        assert "injected question" in texts and "injected answer" in texts
        assert "original question" not in texts
        assert texts[-1] == "follow-up"
        second.assert_valid()


async def test_agents_md_from_repo_root_down_to_cwd_is_sent(
    client: AppServerClient, workdir: Path, mock: MockResponses, codex_home: Path
) -> None:
    (codex_home / "AGENTS.md").write_text("user-level rule\n")
    (workdir / ".git").mkdir()
    (workdir / "AGENTS.md").write_text("root rule\n")
    sub = workdir / "pkg"
    sub.mkdir()
    (sub / "AGENTS.md").write_text("package rule\n")
    thread_id = await start_thread(client, sub)
    mock.push(text_reply("ok"))
    await run_turn(client, thread_id, "hi")
    texts = [p.get("text", "") for i in mock.requests[-1].body["input"]
             for p in i.get("content", [])]
    docs = [t for t in texts if t.startswith("# AGENTS.md instructions for ")]
    assert len(docs) == 1
    doc = docs[0]
    assert doc.startswith(f"# AGENTS.md instructions for {sub}\n\n<INSTRUCTIONS>\n")
    assert doc.index("user-level rule") < doc.index("root rule") < doc.index("package rule")
    assert "--- project-doc ---" in doc


async def test_local_image_input_becomes_an_input_image(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    import base64

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAghh5BwAAAABJRU5ErkJggg==")
    (workdir / "dot.png").write_bytes(png)
    thread_id = await start_thread(client, workdir)
    mock.push(text_reply("a dot"))
    response = await client.request("turn/start", {"threadId": thread_id, "input": [
        {"type": "text", "text": "what is this?"},
        {"type": "localImage", "path": str(workdir / "dot.png")}]})
    await client.wait_notification("turn/completed",
                                   where=lambda p: p["turn"]["id"] == response["turn"]["id"])
    last = mock.requests[-1].body["input"][-1]
    assert last["role"] == "user"
    assert last["content"][0] == {"type": "input_text", "text": "what is this?"}
    image = last["content"][1]
    assert image["type"] == "input_image"
    assert image["image_url"] == "data:image/png;base64," + base64.b64encode(png).decode()


async def test_a_rerouted_answer_is_announced_once_per_turn(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    """As the reference 0.171: when the ``openai-model`` answer header names another model,
    ``model/rerouted`` then a ``warning`` go out before the answer's items, once a turn."""
    started = await client.request("thread/start", {"cwd": str(workdir)})
    thread_id, model = started["thread"]["id"], started["model"]
    other = {"openai-model": "gpt-fallback-mini"}
    mock.push(response_reply(function_call_events("update_plan", {"plan": []}), headers=other),
              response_reply(message_events(["ok"]), headers=other),
              response_reply(message_events(["same"]), headers={"openai-model": model}))
    start = len(client.received)
    response, _ = await run_turn(client, thread_id, "hi")
    methods = [m["method"] for m in client.received[start:] if "method" in m]
    assert methods.count("model/rerouted") == 1 and methods.count("warning") == 1
    reroute = methods.index("model/rerouted")
    assert methods[reroute + 1] == "warning"
    assert reroute < methods.index("turn/plan/updated")
    assert client.notifications("model/rerouted")[-1]["params"] == {
        "threadId": thread_id, "turnId": response["turn"]["id"], "fromModel": model,
        "toModel": "gpt-fallback-mini", "reason": "highRiskCyberActivity"}
    warning = client.notifications("warning")[-1]["params"]
    assert warning["threadId"] == thread_id and "gpt-fallback-mini" in warning["message"]
    await run_turn(client, thread_id, "again")  # served by the model asked for: no notice
    assert len(client.notifications("model/rerouted")) == 1


async def test_response_metadata_announces_verification_once_and_every_buffering(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    """As the reference 0.171: a ``response.metadata`` event recommending account
    verifications gives one ``model/verification`` a turn (known kinds, deduplicated, no
    warning, no reroute); each well-formed ``safety_buffering`` object, on any event, gives a
    ``model/safetyBuffering/updated`` for the turn's model, suggesting its ``retry_model``
    or else the answer's faster-model header; a malformed one is ignored."""
    thread_id = await start_thread(client, workdir)
    cyber = ["trusted_access_for_cyber", "trusted_access_for_cyber", "unknown_kind"]
    cases = {"use_cases": ["cyber"], "reasons": ["user_risk"]}
    mock.push(
        response_reply(metadata_events(cyber, {**cases, "retry_model": "gpt-fast"}),
                       function_call_events("update_plan", {"plan": []})),
        response_reply(metadata_events(cyber),
                       [{"type": "response.output_text.done", "safety_buffering": cases}],
                       metadata_events(safety={"use_cases": ["cyber"]}),  # no reasons
                       metadata_events(safety={**cases, "retry_model": 5}),
                       message_events(["ok"]),
                       headers={"x-codex-safety-buffering-faster-model": "gpt-header"}),
        response_reply(metadata_events(["unknown_kind"]), message_events(["plain"])))
    start = len(client.received)
    response, _ = await run_turn(client, thread_id, "hi")
    turn_id, model = response["turn"]["id"], "gpt-5.5"
    methods = [m["method"] for m in client.received[start:] if "method" in m]
    assert "warning" not in methods and "model/rerouted" not in methods
    assert methods.index("model/verification") < methods.index("turn/plan/updated")
    assert [n["params"] for n in client.notifications("model/verification")] == [
        {"threadId": thread_id, "turnId": turn_id, "verifications": ["trustedAccessForCyber"]}]
    common = {"threadId": thread_id, "turnId": turn_id, "model": model,
              "useCases": ["cyber"], "reasons": ["user_risk"], "showBufferingUi": True}
    assert [n["params"] for n in client.notifications("model/safetyBuffering/updated")] == [
        {**common, "fasterModel": "gpt-fast"}, {**common, "fasterModel": "gpt-header"}]
    await run_turn(client, thread_id, "again")  # only an unknown kind: nothing to announce
    assert len(client.notifications("model/verification")) == 1
    assert len(client.notifications("model/safetyBuffering/updated")) == 2


REMOTE_IMAGE = {"code": -32600,
                "message": "remote image URLs are not supported; use an inline data URL instead"}


async def test_remote_image_urls_are_refused_and_inline_ones_accepted(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    """As the reference 0.171: http(s) image URLs (any case) are refused by turn/start and
    turn/steer; other URLs (data:, ...) go to the model as they are."""
    thread_id = await start_thread(client, workdir)
    for url in ("https://example.com/a.png", "HTTP://example.com/a.png"):
        refused = await client.request_raw("turn/start", {"threadId": thread_id, "input": [
            {"type": "image", "url": url}]})
        assert refused["error"] == REMOTE_IMAGE
    assert mock.requests == []
    inline = "data:image/png;base64,iVBORw0KGgo="
    mock.push(slow_text_reply("a", "b", interval=0.3))
    response = await client.request("turn/start", {"threadId": thread_id, "input": [
        {"type": "image", "url": inline}]})
    steer = await client.request_raw("turn/steer", {
        "threadId": thread_id, "expectedTurnId": response["turn"]["id"],
        "input": [{"type": "image", "url": "https://example.com/b.png"}]})
    assert steer["error"] == REMOTE_IMAGE
    await client.wait_notification("turn/completed",
                                   where=lambda p: p["turn"]["id"] == response["turn"]["id"])
    sent = mock.requests[-1].body["input"][-1]["content"]
    assert sent == [{"type": "input_image", "image_url": inline}]


async def test_turn_start_on_a_busy_thread_joins_the_running_turn(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("a", "b", "c", interval=0.2), text_reply("both seen"))
    first = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "first"}]})
    await client.wait_notification("turn/started")
    second = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "second"}]})
    assert second["turn"]["id"] == first["turn"]["id"]
    done = await client.wait_notification("turn/completed", timeout=30)
    assert done["turn"]["status"] == "completed"
    assert len(client.notifications("turn/started")) == 1
    assert mock.requests[-1].body["input"][-1]["content"][0]["text"] == "second"
