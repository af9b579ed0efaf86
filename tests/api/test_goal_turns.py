"""Goals that drive turns, as the reference 0.171 does (probed against the binary): an
active goal's work is a chain of turns whose prompt reaches the model only, each completed
turn is followed by the next while the goal stays active, the model reads and changes the
goal with its goal tools, tokens and real time count against it, and a resuming client
hears about the goal. Turns run against the mock Responses API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient
from tests.support.mock_responses import (
    MockResponses,
    function_call_reply,
    slow_text_reply,
    text_reply,
)
from tests.support.reference import REFERENCE
from tests.support.turns import (
    PLAN_MODE,
    answering_on_it,
    new_thread,
    start,
    thread_with_goal,
)


@pytest.fixture
def mock(mock: MockResponses, codex_home: Path) -> MockResponses:
    """The shared mock as the configured provider, answering "on it" by default."""
    return answering_on_it(mock, codex_home)


def outputs(body: dict[str, Any]) -> list[str]:
    """The tool outputs the model was sent, in order."""
    return [str(item["output"]) for item in body["input"]
            if item.get("type") == "function_call_output"]


def user_texts(body: dict[str, Any]) -> list[str]:
    return [part["text"] for item in body["input"]
            if item.get("type") == "message" and item.get("role") == "user"
            for part in item["content"] if part.get("type") == "input_text"]


def params(client: AppServerClient, method: str) -> list[dict[str, Any]]:
    return [n["params"] for n in client.notifications(method)]


def item_types(client: AppServerClient, turn_id: str) -> list[str]:
    return [n["item"]["type"] for n in params(client, "item/started") if n["turnId"] == turn_id]


async def test_an_active_goal_keeps_working_until_its_budget_is_spent(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    client = await start(spawn, workdir)
    thread_id = await thread_with_goal(client, "write a haiku", 1000)
    # each mock answer costs 290 tokens (1290 total less 1000 cached): 4 turns pass 1000
    turns = [await client.wait_notification("turn/completed") for _ in range(4)]
    assert [t["turn"]["status"] for t in turns] == ["completed"] * 4
    updates = [n for n in params(client, "thread/goal/updated") if n["turnId"]]
    assert [(u["goal"]["tokensUsed"], u["goal"]["status"]) for u in updates] == [
        (290, "active"), (580, "active"), (870, "active"), (1160, "budgetLimited")]
    assert [u["turnId"] for u in updates] == [t["turn"]["id"] for t in turns]
    # no user message: the goal's prompt, with the objective, reaches the model only
    for turn in turns:
        assert item_types(client, turn["turn"]["id"]) == ["agentMessage"]
        assert turn["turn"]["rootTurnId"] == turn["turn"]["id"]
    first = user_texts(mock.requests[0].body)[-1]
    assert "write a haiku" in first and 'source="goal"' in first
    assert "Tokens remaining: 1000" in first
    assert "Tokens remaining: 130" in user_texts(mock.requests[3].body)[-1]

    # budget spent: no fifth goal turn; the user's own turn still runs
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "thanks"}]})
    done = await client.wait_notification("turn/completed")
    assert item_types(client, done["turn"]["id"]) == ["userMessage", "agentMessage"]
    assert len(mock.requests) == 5
    goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
    assert (goal["status"], goal["tokensUsed"]) == ("budgetLimited", 1160)
    # read back from the rollout, the goal turns still show no user message
    stored = (await client.request("thread/read", {"threadId": thread_id,
                                                   "includeTurns": True}))["thread"]["turns"]
    assert [[i["type"] for i in t["items"]] for t in stored] == [["agentMessage"]] * 4 + [
        ["userMessage", "agentMessage"]]


async def test_the_model_creates_reads_and_completes_its_goal(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    mock.push(function_call_reply("get_goal", {}),
              function_call_reply("create_goal", {"objective": "ship it"}),
              function_call_reply("create_goal", {"objective": "another"}),
              text_reply("goal set"),
              # the continuation turn
              function_call_reply("get_goal", {}), text_reply("progress"),
              # the next one completes the goal
              function_call_reply("update_goal", {"status": "complete"}), text_reply("done"))
    client = await start(spawn, workdir)
    thread_id = await new_thread(client)
    tools = {t.get("name") for t in (await _one_turn(client, thread_id, mock))}
    assert {"get_goal", "create_goal", "update_goal"} <= tools

    user_turn = await client.wait_notification("turn/completed")
    second = await client.wait_notification("turn/completed")
    third = await client.wait_notification("turn/completed")
    # the goal's turns continue the user's turn
    assert second["turn"]["rootTurnId"] == third["turn"]["rootTurnId"] == user_turn["turn"]["id"]
    assert item_types(client, second["turn"]["id"]) == ["agentMessage"]

    answers = [outputs(r.body)[-1] for r in mock.requests if outputs(r.body)]
    assert json.loads(answers[0]) == {"goal": None, "remainingTokens": None,
                                      "completionBudgetReport": None}
    created = json.loads(answers[1])["goal"]
    assert (created["objective"], created["status"], created["tokensUsed"]) == (
        "ship it", "active", 0)
    assert "tokenBudget" not in created
    assert answers[2] == ("cannot create a new goal because this thread has an unfinished "
                          "goal; complete the existing goal first")
    read = json.loads(answers[4])["goal"]  # in the continuation: three answers since its creation
    assert (read["objective"], read["tokensUsed"]) == ("ship it", 870)
    finished = json.loads(answers[6])["goal"]
    assert finished["status"] == "complete"

    statuses = [(u["turnId"], u["goal"]["status"])
                for u in params(client, "thread/goal/updated")]
    assert (third["turn"]["id"], "complete") in statuses
    assert statuses[0] == (user_turn["turn"]["id"], "active")
    # complete: no further turn
    goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
    assert goal["status"] == "complete"
    assert len(client.notifications("turn/started")) == 3
    assert len(mock.requests) == 8


async def _one_turn(client: AppServerClient, thread_id: str,
                    mock: MockResponses) -> list[dict[str, Any]]:
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "make a goal"}]})
    first = mock.wait_for_requests(1)[0]
    return list(first.body["tools"])


async def test_goal_time_counts_and_an_interrupt_stops_the_chain(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    mock.push(slow_text_reply("one", "two", "three", interval=0.7),
              slow_text_reply("a", "b", "c", "d", "e", "f", "g", "h", interval=1.0))
    client = await start(spawn, workdir)
    thread_id = await new_thread(client)
    await client.request("thread/goal/set", {"threadId": thread_id, "objective": "think"})
    await client.wait_notification("turn/started")
    progress = await client.wait_notification(
        "thread/goal/updated", where=lambda p: p["turnId"] is not None)
    # the first turn streamed for at least 2.1 s of real time
    assert progress["goal"]["timeUsedSeconds"] >= 2
    await client.wait_notification("turn/completed")
    second = await client.wait_notification("turn/started")
    await client.request("turn/interrupt", {"threadId": thread_id,
                                            "turnId": second["turn"]["id"]})
    stopped = await client.wait_notification("turn/completed")
    assert stopped["turn"]["status"] == "interrupted"
    # interrupted: the goal stays active but no further turn starts on its own
    goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
    assert goal["status"] == "active"
    assert len(client.notifications("turn/started")) == 2


async def test_a_resuming_client_hears_about_the_goal(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    mock.push(function_call_reply("update_goal", {"status": "paused"}), text_reply("paused"))
    client = await start(spawn, workdir)
    thread_id = await new_thread(client)
    await client.request("thread/goal/set", {"threadId": thread_id, "objective": "wait"})
    await client.wait_notification("turn/completed")
    goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
    assert goal["status"] == "paused"
    await client.close()

    client = await start(spawn, workdir)
    answer = await client.request_raw("thread/resume", {"threadId": thread_id})
    assert "result" in answer
    updated = await client.wait_notification("thread/goal/updated")
    assert updated == {"threadId": thread_id, "turnId": None, "goal": goal}
    # the notification follows the answer
    methods = [m.get("method") or m.get("id") for m in client.received]
    assert methods.index(answer["id"]) < methods.index("thread/goal/updated")
    assert await client.request("thread/goal/clear", {"threadId": thread_id}) == {
        "cleared": True}
    await client.close()

    client = await start(spawn, workdir)
    await client.request("thread/resume", {"threadId": thread_id})
    assert await client.wait_notification("thread/goal/cleared") == {"threadId": thread_id}
    assert not client.notifications("thread/goal/updated")



async def test_plan_mode_leaves_the_goal_alone(
    spawn: ServerFactory, workdir: Path, mock: MockResponses
) -> None:
    client = await spawn(cwd=workdir, env={"MOCK_API_KEY": "sk-mock"}, initialize=False)
    await client.initialize(experimental=True)
    thread_id = await new_thread(client)
    await client.request("turn/start", {"threadId": thread_id, "collaborationMode": PLAN_MODE,
                                        "input": [{"type": "text", "text": "plan"}]})
    await client.wait_notification("turn/completed")
    # in plan mode (sticky) an active goal starts no turn, and plan turns do not count
    await client.request("thread/goal/set", {"threadId": thread_id, "objective": "later"})
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "more"}]})
    await client.wait_notification("turn/completed")
    goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
    assert (goal["status"], goal["tokensUsed"]) == ("active", 0)
    assert len(client.notifications("turn/started")) == 2
    assert len(mock.requests) == 2

#: The reference server as the scripted comparisons run it.
REFERENCE_COMMAND = [str(REFERENCE), "app-server", "--disable", "plugins"]


def scripted_client(home: Path, workdir: Path, command: list[str] | None) -> AppServerClient:
    """A spawned pycodex (``command`` None, messages checked against the schema) or the
    reference, against the mock written into ``home``'s config."""
    args = () if command else ("--disable", "plugins")
    return AppServerClient(home, cwd=workdir, env={"MOCK_API_KEY": "k"},
                           validate=command is None, command=command, args=args)


#: The scripted scenarios run on pycodex, and on the reference when it is installed.
SERVERS = ["pycodex", pytest.param("reference", marks=pytest.mark.skipif(
    not REFERENCE.exists(), reason=f"reference binary not installed at {REFERENCE}"))]


def server_home(server: str, tmp_path: Path) -> tuple[Path, list[str] | None]:
    """A fresh CODEX_HOME for ``server`` and the command that runs it (None: pycodex)."""
    home = tmp_path / f"home-{server}"
    home.mkdir()
    return home, (REFERENCE_COMMAND if server == "reference" else None)



async def goal_thread(client: AppServerClient, budget: int) -> str:
    """Initialize, start a thread and give it a goal with a token ``budget``."""
    await client.initialize(experimental=True)
    return await thread_with_goal(client, "go", budget)

async def _goal_chain(home: Path, workdir: Path, command: list[str] | None) -> dict[str, Any]:
    """A goal with a 1000-token budget run to its end, then a resume by a new client: what
    a client sees of it."""
    from tests.support.turns import write_config

    with MockResponses(default=lambda: text_reply("on it")) as mock:
        write_config(home, mock)
        async with scripted_client(home, workdir, command) as client:
            thread_id = await goal_thread(client, 1000)
            turns = [(await client.wait_notification("turn/completed"))["turn"]
                     for _ in range(4)]
            goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
            seen = {
                "updates": [(u["turnId"] is not None, u["goal"]["status"],
                             u["goal"]["tokensUsed"])
                            for u in params(client, "thread/goal/updated")],
                "items": [item_types(client, t["id"]) for t in turns],
                "roots": [t["rootTurnId"] == t["id"] for t in turns],
                # the thread is marked read once, when the chain stops, at its last turn
                "read": [(r["readState"]["firstUnread"] or {}).get("turnId") == turns[-1]["id"]
                         for r in params(client, "thread/readState/changed")],
                "goal": (goal["status"], goal["tokensUsed"], goal["tokenBudget"]),
            }
        async with scripted_client(home, workdir, command) as client:
            await client.initialize(experimental=True)
            await client.request("thread/resume", {"threadId": thread_id})
            resumed = await client.wait_notification("thread/goal/updated")
            seen["resume"] = (resumed["turnId"], resumed["goal"]["status"])
        seen["requests"] = len(mock.requests)
        return seen


GOAL_CHAIN = {
    "updates": [(False, "active", 0), (True, "active", 290), (True, "active", 580),
                (True, "active", 870), (True, "budgetLimited", 1160)],
    "items": [["agentMessage"]] * 4,
    "roots": [True] * 4,
    "read": [True],
    "goal": ("budgetLimited", 1160, 1000),
    "resume": (None, "budgetLimited"),
    "requests": 4,
}


async def _interrupted_then_resumed(home: Path, workdir: Path,
                                    command: list[str] | None) -> dict[str, Any]:
    """A goal turn interrupted, the server restarted, the thread resumed: the goal's turns
    start again on their own (budget 500: two turns)."""
    from tests.support.turns import write_config

    with MockResponses(default=lambda: text_reply("on it")) as mock:
        mock.push(slow_text_reply(*"abcdefghij", interval=0.5))
        write_config(home, mock)
        async with scripted_client(home, workdir, command) as client:
            thread_id = await goal_thread(client, 500)
            started = await client.wait_notification("turn/started")
            await client.wait_notification("item/agentMessage/delta")
            await client.request("turn/interrupt", {"threadId": thread_id,
                                                    "turnId": started["turn"]["id"]})
            stopped = await client.wait_notification("turn/completed")
            after = await client.wait_notification(
                "thread/goal/updated", where=lambda p: p["turnId"] is not None)
            seen: dict[str, Any] = {
                "interrupted": (stopped["turn"]["status"], after["turnId"] == started["turn"]["id"],
                                after["goal"]["status"], after["goal"]["tokensUsed"]),
                "turns before restart": len(client.notifications("turn/started"))}
        async with scripted_client(home, workdir, command) as client:
            await client.initialize(experimental=True)
            await client.request("thread/resume", {"threadId": thread_id})
            turns = [(await client.wait_notification("turn/completed"))["turn"]
                     for _ in range(2)]
            goal = (await client.request("thread/goal/get", {"threadId": thread_id}))["goal"]
            seen["after resume"] = (
                [item_types(client, t["id"]) for t in turns],
                [(u["turnId"] is not None, u["goal"]["status"], u["goal"]["tokensUsed"])
                 for u in params(client, "thread/goal/updated")],
                goal["status"])
        return seen


RESUMED_CHAIN = {
    "interrupted": ("interrupted", True, "active", 0),
    "turns before restart": 1,
    "after resume": ([["agentMessage"], ["agentMessage"]],
                     [(False, "active", 0), (True, "active", 290), (True, "budgetLimited", 580)],
                     "budgetLimited"),
}


async def _failed_goal_turns(home: Path, workdir: Path,
                             command: list[str] | None) -> list[list[tuple[str, str | None]]]:
    """A goal turn that fails (HTTP 400), another that hits the usage limit: what the
    client hears, in order (the goal's new status comes before the turn's error)."""
    from tests.support.mock_responses import http_error
    from tests.support.turns import write_config

    usage_limit = {"error": {"type": "usage_limit_reached", "message": "limit"}}
    with MockResponses(default=lambda: text_reply("on it")) as mock:
        write_config(home, mock)
        seen = []
        async with scripted_client(home, workdir, command) as client:
            await client.initialize(experimental=True)
            for reply in (http_error(400), http_error(429, body=usage_limit)):
                mock.push(reply)
                thread_id = await new_thread(client)
                start = len(client.received)
                await client.request("thread/goal/set", {"threadId": thread_id,
                                                         "objective": "go"})
                await client.wait_notification("turn/completed",
                                               where=lambda p, t=thread_id: p["threadId"] == t)
                seen.append([
                    (m["method"], m["params"]["goal"]["status"] if "goal" in m["params"]
                     else m["params"]["error"]["codexErrorInfo"])
                    for m in client.received[start:]
                    if m.get("method") in ("thread/goal/updated", "error")])
        return seen


FAILED_GOAL_TURNS = [
    [("thread/goal/updated", "active"), ("thread/goal/updated", "blocked"), ("error", "other")],
    [("thread/goal/updated", "active"), ("thread/goal/updated", "usageLimited"),
     ("error", "usageLimitExceeded")],
]


async def _ephemeral(home: Path, workdir: Path, command: list[str] | None) -> list[Any]:
    """The goal methods on an ephemeral thread: refused, and no turn starts."""
    from tests.support.turns import write_config

    with MockResponses(default=lambda: text_reply("on it")) as mock:
        write_config(home, mock)
        async with scripted_client(home, workdir, command) as client:
            await client.initialize(experimental=True)
            thread_id = (await client.request("thread/start", {"ephemeral": True}))["thread"]["id"]
            answers: list[Any] = []
            for method, extra in (("thread/goal/get", {}), ("thread/goal/set", {"objective": "x"}),
                                  ("thread/goal/clear", {})):
                answer = await client.request_raw(method, {"threadId": thread_id, **extra})
                error = answer["error"]
                answers.append((error["code"], error["message"].replace(thread_id, "<id>")))
            answers.append(len(client.notifications("turn/started")) + len(mock.requests))
        return answers


EPHEMERAL = [(-32600, "ephemeral thread does not support goals: <id>")] * 3 + [0]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(("scenario", "expected"), [
    (_goal_chain, GOAL_CHAIN), (_interrupted_then_resumed, RESUMED_CHAIN),
    (_failed_goal_turns, FAILED_GOAL_TURNS), (_ephemeral, EPHEMERAL)],
    ids=["chain", "resumed", "failed", "ephemeral"])
async def test_goal_scenarios(server: str, scenario: Any, expected: Any, tmp_path: Path,
                              workdir: Path) -> None:
    """Each scenario gives what the reference gives (run on it too when installed)."""
    home, command = server_home(server, tmp_path)
    assert await scenario(home, workdir, command) == expected
