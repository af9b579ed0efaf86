"""``command/exec`` and its follow-ups, driven over stdio (issue 5 item 5)."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support.client import AppServerClient

FULL = {"type": "dangerFullAccess"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


async def exec_(client: AppServerClient, **params: Any) -> dict[str, Any]:
    params.setdefault("sandboxPolicy", FULL)
    return await client.request_raw("command/exec", params)


async def start(client: AppServerClient, **params: Any) -> int:
    """Send a command/exec without waiting; returns its request id."""
    params.setdefault("sandboxPolicy", FULL)
    rid = client.next_id()
    await client.send({"method": "command/exec", "id": rid, "params": params})
    return rid


async def answer(client: AppServerClient, rid: int, timeout: float = 15) -> dict[str, Any]:
    return await client.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout)


def deltas(client: AppServerClient, process_id: str, stream: str = "stdout") -> str:
    return "".join(
        unb64(m["params"]["deltaBase64"])
        for m in client.notifications("command/exec/outputDelta")
        if m["params"]["processId"] == process_id and m["params"]["stream"] == stream
    )


# -- buffered ---------------------------------------------------------------------------------
async def test_buffered_exec_returns_exit_code_and_both_streams(server: AppServerClient) -> None:
    response = await exec_(server, command=["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert response["result"] == {"exitCode": 3, "stdout": "out\n", "stderr": "err\n"}


async def test_cwd_and_env_overrides(spawn: ServerFactory, workdir: Path) -> None:
    client = await spawn(cwd=workdir, env={"PYCODEX_DROP_ME": "x", "KEEP_ME": "k"})
    (workdir / "sub").mkdir()
    response = await exec_(
        client,
        command=["sh", "-c", 'pwd; echo "${PYCODEX_DROP_ME-unset} $KEEP_ME $ADDED"'],
        cwd="sub",
        env={"PYCODEX_DROP_ME": None, "ADDED": "a"},
    )
    assert response["result"]["stdout"] == f"{workdir / 'sub'}\nunset k a\n"


async def test_output_cap_truncates_each_stream(server: AppServerClient) -> None:
    response = await exec_(
        server,
        command=["sh", "-c", "printf 0123456789; printf abcdefghij >&2"],
        outputBytesCap=4,
    )
    assert response["result"] == {"exitCode": 0, "stdout": "0123", "stderr": "abcd"}


async def test_disable_output_cap_keeps_everything(server: AppServerClient) -> None:
    response = await exec_(
        server,
        command=["python3", "-c", "print('x' * 2_000_000, end='')"],
        disableOutputCap=True,
    )
    assert len(response["result"]["stdout"]) == 2_000_000


async def test_default_output_cap_is_one_mebibyte(server: AppServerClient) -> None:
    response = await exec_(server, command=["python3", "-c", "print('x' * 2_000_000, end='')"])
    assert len(response["result"]["stdout"]) == 1024 * 1024


async def test_timeout_kills_and_reports_124(server: AppServerClient) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await exec_(server, command=["sleep", "10"], timeoutMs=300)
    assert response["result"] == {"exitCode": 124, "stdout": "", "stderr": ""}
    assert loop.time() - started < 5


async def test_signal_death_reports_128_plus_signal(server: AppServerClient) -> None:
    response = await exec_(server, command=["sh", "-c", "kill -TERM $$"])
    assert response["result"]["exitCode"] == 143


async def test_missing_program_and_cwd_fail_to_spawn(server: AppServerClient) -> None:
    message = "failed to spawn command: No such file or directory (os error 2)"
    for params in (
        {"command": ["definitely-not-a-program-xyz"]},
        {"command": ["pwd"], "cwd": "/definitely/not/here"},
    ):
        response = await exec_(server, **params)
        assert response["error"] == {"code": -32603, "message": message}


# -- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"command": []}, -32600, "command must not be empty"),
        (
            {"command": ["true"], "tty": True},
            -32600,
            "command/exec tty or streaming requires a client-supplied processId",
        ),
        (
            {"command": ["true"], "streamStdoutStderr": True},
            -32600,
            "command/exec tty or streaming requires a client-supplied processId",
        ),
        (
            {"command": ["true"], "processId": "p", "size": {"rows": 1, "cols": 1}},
            -32602,
            "command/exec size requires tty: true",
        ),
        (
            {"command": ["true"], "outputBytesCap": 5, "disableOutputCap": True},
            -32602,
            "command/exec cannot set both outputBytesCap and disableOutputCap",
        ),
        (
            {"command": ["true"], "timeoutMs": 5, "disableTimeout": True},
            -32602,
            "command/exec cannot set both timeoutMs and disableTimeout",
        ),
        (
            {"command": ["true"], "timeoutMs": -5},
            -32602,
            "command/exec timeoutMs must be non-negative, got -5",
        ),
        (
            {"command": ["true"], "tty": True, "processId": "z", "size": {"rows": 0, "cols": 5}},
            -32602,
            "command/exec size rows and cols must be greater than 0",
        ),
    ],
)
async def test_invalid_combinations_are_refused(
    server: AppServerClient, params: dict[str, Any], code: int, message: str
) -> None:
    response = await exec_(server, **params)
    assert response["error"] == {"code": code, "message": message}


async def test_unknown_process_ids_are_refused(server: AppServerClient) -> None:
    expected = {"code": -32600, "message": 'no active command/exec for process id "zz"'}
    for method, params in (
        ("command/exec/write", {"processId": "zz", "deltaBase64": "aGk="}),
        ("command/exec/resize", {"processId": "zz", "size": {"rows": 2, "cols": 2}}),
        ("command/exec/terminate", {"processId": "zz"}),
    ):
        assert (await server.request_raw(method, params))["error"] == expected


async def test_write_requires_data_or_close_and_valid_base64(server: AppServerClient) -> None:
    response = await server.request_raw("command/exec/write", {"processId": "zz"})
    assert response["error"] == {
        "code": -32602,
        "message": "command/exec/write requires deltaBase64 or closeStdin",
    }
    response = await server.request_raw(
        "command/exec/write", {"processId": "zz", "deltaBase64": "!!"}
    )
    assert response["error"] == {
        "code": -32602,
        "message": "invalid deltaBase64: Invalid symbol 33, offset 0.",
    }


# -- process ids, streaming, stdin, PTY -----------------------------------------------------
async def test_duplicate_process_id_and_wrong_state_errors(server: AppServerClient) -> None:
    rid = await start(server, command=["sleep", "30"], processId="d")
    await asyncio.sleep(0.2)
    response = await exec_(server, command=["true"], processId="d")
    assert response["error"] == {
        "code": -32600,
        "message": 'duplicate active command/exec process id: "d"',
    }
    response = await server.request_raw(
        "command/exec/write", {"processId": "d", "deltaBase64": "aGk="}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "stdin streaming is not enabled for this command/exec",
    }
    response = await server.request_raw(
        "command/exec/resize", {"processId": "d", "size": {"rows": 4, "cols": 4}}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "failed to resize PTY: process is not attached to a PTY",
    }
    assert await server.request("command/exec/terminate", {"processId": "d"}) == {}
    assert (await answer(server, rid))["result"] == {"exitCode": 137, "stdout": "", "stderr": ""}
    # The id is free again once the command has finished.
    assert (await exec_(server, command=["true"], processId="d"))["result"]["exitCode"] == 0


async def test_terminate_kills_the_whole_process_group(
    server: AppServerClient, tmp_path: Path
) -> None:
    marker = tmp_path / "grandchild-survived"
    script = f"(sleep 1; touch {marker}) & sleep 30"
    rid = await start(server, command=["sh", "-c", script], processId="g")
    await asyncio.sleep(0.3)
    await server.request("command/exec/terminate", {"processId": "g"})
    assert (await answer(server, rid))["result"]["exitCode"] == 137
    await asyncio.sleep(1.3)
    assert not marker.exists()


async def test_streaming_sends_deltas_before_the_answer(server: AppServerClient) -> None:
    rid = await start(
        server,
        command=["sh", "-c", "echo one; sleep 0.2; echo two >&2"],
        processId="s",
        streamStdoutStderr=True,
    )
    response = await answer(server, rid)
    assert response["result"] == {"exitCode": 0, "stdout": "", "stderr": ""}
    index = server.received.index(response)
    before = [m for m in server.received[:index] if m.get("method") == "command/exec/outputDelta"]
    assert {m["params"]["stream"] for m in before} == {"stdout", "stderr"}
    assert deltas(server, "s") == "one\n"
    assert deltas(server, "s", "stderr") == "two\n"
    assert all(m["params"]["capReached"] is False for m in before)


async def test_streaming_cap_marks_the_last_chunk(server: AppServerClient) -> None:
    rid = await start(
        server,
        command=["sh", "-c", "printf 0123456789; sleep 0.2; printf abcdefghij"],
        processId="c",
        streamStdoutStderr=True,
        outputBytesCap=4,
    )
    assert (await answer(server, rid))["result"]["exitCode"] == 0
    chunks = [m["params"] for m in server.notifications("command/exec/outputDelta")]
    assert chunks == [
        {"processId": "c", "stream": "stdout", "deltaBase64": b64("0123"), "capReached": True}
    ]


async def test_stdin_streaming_write_and_close(server: AppServerClient) -> None:
    rid = await start(server, command=["cat"], processId="in", streamStdin=True)
    await asyncio.sleep(0.1)
    assert (
        await server.request(
            "command/exec/write", {"processId": "in", "deltaBase64": b64("hello\n")}
        )
        == {}
    )
    assert await server.request("command/exec/write", {"processId": "in", "closeStdin": True}) == {}
    assert (await answer(server, rid))["result"] == {
        "exitCode": 0,
        "stdout": "hello\n",
        "stderr": "",
    }


async def test_tty_mode_size_resize_and_input(server: AppServerClient) -> None:
    rid = await start(
        server,
        command=["sh", "-c", "stty size; read x; stty size; echo got $x"],
        processId="t",
        tty=True,
        size={"rows": 30, "cols": 100},
    )
    await server.wait_notification("command/exec/outputDelta")
    assert (
        await server.request(
            "command/exec/resize", {"processId": "t", "size": {"rows": 40, "cols": 120}}
        )
        == {}
    )
    await server.request("command/exec/write", {"processId": "t", "deltaBase64": b64("hi\n")})
    response = await answer(server, rid)
    assert response["result"] == {"exitCode": 0, "stdout": "", "stderr": ""}
    text = deltas(server, "t").replace("\r\n", "\n")
    assert text == "30 100\nhi\n40 120\ngot hi\n"


async def test_deltas_go_only_to_the_calling_connection(spawn: ServerFactory) -> None:
    # Two stdio servers cannot share a process, so check the routing list instead: no
    # delta may be broadcast. A second request on the same connection sees none of them.
    client = await spawn()
    rid = await start(client, command=["echo", "hi"], processId="one", streamStdoutStderr=True)
    await answer(client, rid)
    assert deltas(client, "one") == "hi\n"


async def test_closing_the_connection_kills_its_processes(
    spawn: ServerFactory, tmp_path: Path
) -> None:
    client = await spawn()
    pid_file = tmp_path / "pid"
    await start(client, command=["sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"], processId="x")
    for _ in range(50):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    await client.close()
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the command outlived its connection")
