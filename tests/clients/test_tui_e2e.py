"""The real Codex TUI (``codex --remote``, reference 0.171.0) drives pycodex end to end.

pycodex listens on a websocket; a recording relay (``tests/support/ws_relay.py``) sits between
it and the TUI, which runs in a private tmux server. The model is the project's mock. The
terminal is read only for outcomes; what the TUI asked and got is checked on the traffic.
Skipped when the reference package or tmux is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pycodex
from tests.support.mock_responses import (
    MockResponses,
    RecordedRequest,
    Reply,
    function_call_reply,
    text_reply,
)
from tests.support.ws_relay import WsRelay

CODEX = Path.home() / (".cache/refcodex-install/node_modules/@openai/codex-linux-x64/vendor/"
                       "x86_64-unknown-linux-musl/bin/codex")
READY = "Ask Codex to do anything"
#: The compaction summary; it must never show as a chat message.
SUMMARY = "SUMMARY-OF-THE-CONVERSATION"
#: Methods another branch serves, tolerated until merged (none left).
PENDING_ELSEWHERE: set[str] = set()

pytestmark = [
    pytest.mark.skipif(not CODEX.exists(), reason="reference codex 0.171.0 not installed"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _last_user_text(request: RecordedRequest) -> str:
    for item in reversed(request.input):
        if item.get("type") == "message" and item.get("role") == "user":
            return "".join(p.get("text", "") for p in item.get("content", []))
    return ""


def _responder(request: RecordedRequest) -> Reply | None:
    """A command that needs approval when the user asks for it; text otherwise."""
    if not (request.body or {}).get("tools"):
        return text_reply(SUMMARY)  # a compaction request: it is offered no tools
    last = request.input[-1] if request.input else {}
    if last.get("type") == "function_call_output":
        return text_reply("the command ran")
    if "RUN_APPROVAL" in _last_user_text(request):
        return function_call_reply("exec_command", {
            "cmd": "echo approved-run", "sandbox_permissions": "require_escalated",
            "justification": "needs the network"})
    return None


@dataclass
class Tui:
    """One TUI process in a private tmux server."""

    socket_name: str
    session: str

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket_name, *args], capture_output=True,
                              text=True, timeout=10, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", self.session)

    def wait(self, predicate: Callable[[str], bool], what: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise TimeoutError(f"screen never showed {what!r}:\n{text}")
            time.sleep(0.2)

    def wait_text(self, text: str, timeout: float = 15) -> str:
        return self.wait(lambda screen: text in screen, text, timeout)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def submit(self, text: str) -> None:
        """Type ``text`` then Enter, apart, so the composer does not take it as a paste."""
        self.tmux("send-keys", "-t", self.session, "-l", text)
        time.sleep(0.4)
        self.keys("Enter")

    def alive(self) -> bool:
        return self.tmux("display-message", "-p", "-t", self.session,
                         "#{pane_dead}").strip() == "0"


@dataclass
class Rig:
    relay: WsRelay
    mock: MockResponses
    workdir: Path
    start_tui: Callable[..., Tui]
    #: stop the server and start a fresh one on the same port and CODEX_HOME
    restart_server: Callable[[], None]


def _write_config(path: Path, port: int, extra: str = "") -> None:
    path.write_text(
        'model = "gpt-5.5"\nmodel_provider = "stub"\ncheck_for_update_on_startup = false\n'
        + extra + "\n[model_providers.stub]\n"
        f'name = "stub"\nbase_url = "http://127.0.0.1:{port}/v1"\nwire_api = "responses"\n'
        'env_key = "STUB_API_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
        "supports_websockets = false\n")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    server_home, tui_home, workdir, home = (tmp_path / n for n in ("srv", "tui", "work", "home"))
    for path in (server_home, tui_home, workdir, home):
        path.mkdir()
    (workdir / "notes.txt").write_text("a note\n")
    with MockResponses(default=lambda: text_reply("Hello from the mock!")) as mock:
        mock.responder = _responder
        _write_config(server_home / "config.toml", mock.port)
        _write_config(tui_home / "config.toml", mock.port,
                      '\n[tui]\nscreen_reader_detection_done = true\n\n'
                      '[notice.model_migrations]\n"gpt-5.5" = "gpt-6-sol"\n')
        port = _free_port()
        # the server runs the pycodex these tests import, from any cwd
        source = str(Path(pycodex.__file__).resolve().parents[1])
        env = {**os.environ, "CODEX_HOME": str(server_home), "HOME": str(home),
               "STUB_API_KEY": "stub", "PYTHONPATH": os.pathsep.join(
                   p for p in (source, os.environ.get("PYTHONPATH")) if p)}
        servers: list[subprocess.Popen[str]] = []

        def start_server() -> None:
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "pycodex", "app-server", "--listen",
                 f"ws://127.0.0.1:{port}"], cwd=workdir, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            _wait_listening(port, servers[-1])

        def restart_server() -> None:
            _stop(servers[-1])
            start_server()

        socket_name = f"pycodex-tui-{uuid.uuid4().hex[:8]}"
        try:
            start_server()
            with WsRelay(f"ws://127.0.0.1:{port}") as relay:
                count = 0

                def start_tui(*args: str) -> Tui:
                    nonlocal count
                    count += 1
                    tui = Tui(socket_name, f"tui{count}")
                    command = " ".join([f"CODEX_HOME={tui_home}", str(CODEX), "--remote",
                                        relay.url, *args])
                    tui.tmux("new-session", "-d", "-s", tui.session, "-x", "200", "-y", "50",
                             "-c", str(workdir), command)
                    tui.tmux("set-option", "-t", tui.session, "remain-on-exit", "on")
                    return tui

                yield Rig(relay, mock, workdir, start_tui, restart_server)
        finally:
            subprocess.run(["tmux", "-L", socket_name, "kill-server"], capture_output=True,
                           timeout=10, check=False)
            for server in servers:
                _stop(server)


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_listening(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read() if server.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError("server never listened")


def _unknown_methods(relay: WsRelay) -> set[str]:
    return {request["method"] for request in relay.requests()
            if "unknown variant" in json.dumps((relay.answer_to(request) or {}).get("error"))}


def _error_lines(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if line.lstrip().startswith("■")
            and not any(f"{m} failed" in line for m in PENDING_ELSEWHERE)]


def _answered(relay: WsRelay, method: str) -> dict[str, Any]:
    """The answer to the last ``method`` request, once it came."""
    def answer() -> dict[str, Any] | None:
        requests = relay.requests(method)
        return relay.answer_to(requests[-1]) if requests else None
    found: dict[str, Any] = relay.wait_for(answer)
    return found


def test_a_session_start_turn_shell_review_approval_exit_and_resume(rig: Rig) -> None:
    relay = rig.relay
    # a turn; the user message echoes the TUI's clientUserMessageId
    tui, thread = _session_with_a_turn(rig, "hello there")
    start = relay.requests("turn/start")[0]
    echoed = relay.wait_for(lambda: [
        n for n in relay.notifications("item/completed")
        if n["params"]["item"]["type"] == "userMessage"
        and n["params"]["threadId"] == thread["id"]])
    assert echoed[0]["params"]["item"]["clientId"] == start["params"]["clientUserMessageId"]

    # the user's shell command
    tui.submit("!echo hi-from-shell")
    tui.wait_text("You ran echo hi-from-shell")
    assert "error" not in _answered(relay, "thread/shellCommand")

    # /review of the uncommitted changes
    tui.submit("/review")
    tui.wait_text("Review uncommitted changes")
    tui.keys("2")
    time.sleep(0.3)
    tui.keys("Enter")
    tui.wait_text("Code review finished", timeout=20)
    assert "error" not in _answered(relay, "review/start")

    # a command that needs the user's approval
    tui.submit("RUN_APPROVAL please")
    asked = relay.wait_for(lambda: [
        m for m in relay.sent("s2c")
        if m.get("method") == "item/commandExecution/requestApproval"])[0]
    assert asked["params"]["kind"] == "command"
    assert asked["params"]["environmentId"] == "local"
    assert isinstance(asked["params"]["startedAtMs"], int)
    tui.wait_text("Yes, proceed")
    time.sleep(0.5)
    tui.keys("Enter")  # the first option, "Yes, proceed"
    try:
        decision = relay.wait_for(lambda: next(
            (m for m in relay.sent("c2s") if m.get("id") == asked["id"] and "method" not in m),
            None))
    except TimeoutError:
        raise AssertionError(tui.screen()) from None
    assert decision["result"]["decision"] == "accept"
    tui.wait_text("the command ran", timeout=20)

    # /model: the seventh entry of the picker, then the default effort
    changed = _choose_model(tui, relay)
    chosen = changed["model"]
    assert chosen != thread["model"] and changed["serviceTier"] in (None, "default")

    # /permissions: "Ask for approval" is the workspace profile
    tui.submit("/permissions")
    tui.wait_text("Read Only (current)")
    time.sleep(0.3)
    tui.keys("1")
    relay.wait_for(lambda: [
        n for n in relay.notifications("thread/settings/updated")
        if n["params"]["threadSettings"]["activePermissionProfile"] == {
            "id": ":workspace", "extends": None}
        and n["params"]["threadSettings"]["sandboxPolicy"]["type"] == "workspaceWrite"])
    assert "error" not in _answered(relay, "permissionProfile/list")

    # /compact shows as a compaction, not as the summary's text
    tui.submit("/compact")
    tui.wait_text("Context compacted", timeout=20)
    assert "error" not in _answered(relay, "thread/compact/start")

    # an @ mention searches the threads
    tui.tmux("send-keys", "-t", tui.session, "-l", "@hello")
    assert "error" not in _answered(relay, "thread/search")
    tui.keys("Escape")
    time.sleep(0.3)
    tui.keys("C-u")

    screen = tui.screen()
    assert SUMMARY not in screen
    assert _error_lines(screen) == []
    assert _unknown_methods(relay) <= PENDING_ELSEWHERE
    # the hidden title threads never asked the TUI anything
    title_threads = {_answered_id(relay, r) for r in relay.requests("thread/start")
                     if r["params"].get("threadSource") == "thread_title"}
    assert title_threads
    assert not [m for m in relay.sent("s2c") if "id" in m and "method" in m
                and m["params"].get("threadId") in title_threads]

    # exit: unsubscribe, then the reconnect hint
    tui.keys("C-c")
    tui.wait(lambda s: "To reconnect" in s or "resume" in s.split(READY)[-1], "exit", 15)
    relay.wait_for(lambda: [r for r in relay.requests("thread/unsubscribe")
                            if r["params"]["threadId"] == thread["id"]])

    # resume the thread: the history comes back
    again = rig.start_tui("resume", thread["id"])
    again.wait_text(READY, timeout=25)
    again.wait_text("hello there")
    resumed = _answered(relay, "thread/resume")
    # paged history: the TUI opens the thread on its last page
    assert resumed["result"]["thread"]["historyMode"] == "paginated"
    assert resumed["result"]["turnsBackwardsCursor"] and resumed["result"]["itemsBackwardsCursor"]
    assert "error" not in _answered(relay, "thread/items/list")
    assert resumed.get("result", {}).get("thread", {}).get("id") == thread["id"], resumed
    assert resumed["result"]["model"] == chosen  # the /model choice survives the resume
    assert _error_lines(again.screen()) == []
    assert _unknown_methods(relay) <= PENDING_ELSEWHERE


def _session_with_a_turn(rig: Rig, prompt: str) -> tuple[Tui, dict[str, Any]]:
    """A new TUI session and its thread, after one turn on ``prompt``."""
    tui = rig.start_tui()
    tui.wait_text(READY, timeout=25)
    thread: dict[str, Any] = _answered(rig.relay, "thread/start")["result"]["thread"]
    _prompt(tui, rig.relay, prompt)
    tui.wait_text("Hello from the mock!")
    return tui, thread


def _choose_model(tui: Tui, relay: WsRelay) -> dict[str, Any]:
    """``/model``: the seventh entry of the picker, then the default effort; returns the
    thread's settings the server then reports."""
    tui.submit("/model")
    tui.wait_text("Select Model and Effort")
    tui.keys("7")
    tui.wait_text("Select Reasoning Level")
    time.sleep(0.3)
    tui.keys("Enter")
    tui.wait_text("Model changed to")
    changed: dict[str, Any] = relay.wait_for(lambda: [
        n["params"]["threadSettings"] for n in relay.notifications("thread/settings/updated")
        if n["params"]["threadSettings"]["effort"] is not None])[-1]
    return changed


def _prompt(tui: Tui, relay: WsRelay, text: str) -> None:
    """Submit a prompt and see its ``turn/start`` go out; an Enter the TUI dropped (right
    after start-up it sometimes takes the keys as a paste) is pressed again."""
    before = len(relay.requests("turn/start"))
    tui.submit(text)
    for _ in range(3):
        try:
            relay.wait_for(lambda: relay.requests("turn/start")[before:], timeout=5)
            return
        except TimeoutError:
            tui.keys("Enter")
    raise AssertionError(f"the prompt never started a turn:\n{tui.screen()}")


def _answered_id(relay: WsRelay, request: dict[str, Any]) -> str | None:
    answer = relay.answer_to(request)
    return None if answer is None or "result" not in answer else str(
        answer["result"]["thread"]["id"])


def test_model_choice_survives_a_server_restart_and_the_picker_resumes(rig: Rig) -> None:
    relay = rig.relay
    tui, thread = _session_with_a_turn(rig, "remember the picker")

    # /model, then no turn: the choice is recorded at once
    changed = _choose_model(tui, relay)
    tui.keys("C-c")
    relay.wait_for(lambda: [r for r in relay.requests("thread/unsubscribe")
                            if r["params"]["threadId"] == thread["id"]])

    rig.restart_server()
    picker = rig.start_tui("resume")
    picker.wait_text("remember the picker", timeout=25)
    listed = _answered(relay, "thread/list")["result"]["data"]
    assert thread["id"] in [t["id"] for t in listed]
    time.sleep(0.3)
    picker.keys("Enter")  # the newest thread, ours
    picker.wait_text(READY, timeout=25)
    resumed = _answered(relay, "thread/resume")["result"]
    assert resumed["thread"]["id"] == thread["id"]
    assert (resumed["model"], resumed["reasoningEffort"]) == (changed["model"],
                                                              changed["effort"])
    assert resumed["thread"]["historyMode"] == "paginated"
    assert resumed["turnsBackwardsCursor"] and resumed["itemsBackwardsCursor"]
    picker.wait_text("remember the picker")
    assert _error_lines(picker.screen()) == []
    assert _unknown_methods(relay) <= PENDING_ELSEWHERE
