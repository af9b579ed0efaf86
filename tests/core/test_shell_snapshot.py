"""Shell snapshots: a thread runs its login profile once, later ``exec_command`` login shells
load the captured state instead (``core/shell_snapshot.py``).

End to end through a spawned server (HOME points at a temp dir with its own profile), plus
direct checks of the capture/restore for bash, sh and zsh."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.core.shell_snapshot import ShellKind, build_snapshot, shell_kind, wrap_argv
from pycodex.core.tools.command_actions import shell_join
from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply
from tests.support.sandbox import skip_unless_sandbox
from tests.support.turns import write_config

SECRET = "s3cr3t-value-never-logged"
TRICKY = "it's \"quoted\" $HOME `x` \\ \n second line *"
_TRICKY_QUOTED = "'" + TRICKY.replace("'", "'\"'\"'") + "'"

PROFILE = f"""\
echo profile >> "$HOME/profile-runs"
export PYCODEX_SNAPSHOT_PROBE=42
export PYCODEX_SNAPSHOT_SECRET={SECRET}
export PYCODEX_TRICKY={_TRICKY_QUOTED}
unset PYCODEX_DROP_ME
readonly PYCODEX_READONLY=1
export PYCODEX_READONLY
probe_fn() {{ echo "fn:$1"; }}
if [ -n "$BASH_VERSION$ZSH_VERSION" ]; then set -o pipefail; fi
"""


@pytest.fixture(name="home")
def home_fixture(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bash_profile").write_text(PROFILE)
    return home


async def _open(codex_home: Path, workdir: Path, mock: MockResponses, home: Path
                ) -> AppServerClient:
    write_config(codex_home, mock)
    client = AppServerClient(codex_home, cwd=workdir, env={
        "MOCK_API_KEY": "sk-mock", "SHELL": "/bin/bash", "HOME": str(home),
        "PYCODEX_DROP_ME": "server-value", "PYCODEX_LOG": "debug"})
    await client.start()
    await client.initialize(name="probe", version="0.0.1")
    return client


@pytest.fixture(name="client")
async def client_fixture(codex_home: Path, workdir: Path, mock: MockResponses, home: Path
                         ) -> AsyncIterator[AppServerClient]:
    client = await _open(codex_home, workdir, mock, home)
    yield client
    await client.close()
    client.assert_valid()


async def _thread(client: AppServerClient, workdir: Path, sandbox: str = "danger-full-access"
                  ) -> str:
    result = await client.request("thread/start", {
        "cwd": str(workdir), "approvalPolicy": "never", "sandbox": sandbox})
    return str(result["thread"]["id"])


async def _exec_turn(client: AppServerClient, mock: MockResponses, thread_id: str, cmd: str,
                     call_id: str, **args: Any) -> dict[str, Any]:
    """Run one turn whose model calls ``exec_command``; the completed item."""
    mock.push(function_call_reply("exec_command", {"cmd": cmd, **args}, call_id=call_id),
              text_reply("done"))
    answer = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
    turn_id = answer["turn"]["id"]
    done = await client.wait_notification(
        "turn/completed", where=lambda p: p["turn"]["id"] == turn_id, timeout=30)
    assert done["turn"]["status"] == "completed", done
    for note in client.notifications("item/completed"):
        item: dict[str, Any] = note["params"]["item"]
        if item["id"] == call_id:
            return item
    raise AssertionError(f"no completed item {call_id}")


async def _wait_for(path: Path, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not path.exists():
        assert asyncio.get_running_loop().time() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.05)


def _runs(home: Path) -> int:
    runs = home / "profile-runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


PROBE_CMD = ('echo "probe=$PYCODEX_SNAPSHOT_PROBE"; probe_fn x; '
             'echo "drop=${PYCODEX_DROP_ME-unset}"; echo "line=$LINENO"; '
             'shopt -qo pipefail && echo pipefail=on; echo "bash_env=${BASH_ENV-unset}"; '
             'printf "%s" "$PYCODEX_TRICKY" > tricky.txt')
PROBE_OUT = ("probe=42\nfn:x\ndrop=unset\nline=1\npipefail=on\nbash_env=unset\n")


async def test_later_login_commands_use_the_snapshot_instead_of_the_profile(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses, home: Path
) -> None:
    thread_id = await _thread(client, workdir)
    snapshot = codex_home / "shell_snapshots" / f"{thread_id}.sh"

    # The first login command starts the snapshot and waits for it (about one login shell).
    first = await _exec_turn(client, mock, thread_id, PROBE_CMD, "call_1")
    assert first["command"] == shell_join(["/bin/bash", "-lc", PROBE_CMD])
    assert first["aggregatedOutput"] == PROBE_OUT
    assert snapshot.exists()
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert not [p for p in snapshot.parent.iterdir() if p.name != snapshot.name]
    text = snapshot.read_text()
    assert "PYCODEX_READONLY" not in text  # read-only variables are skipped
    assert "\nexport PWD=" not in text and "\nexport SHLVL=" not in text
    runs = _runs(home)
    assert runs == 1  # only the capture ran the profile

    (workdir / "tricky.txt").unlink()
    second = await _exec_turn(client, mock, thread_id, PROBE_CMD, "call_2")
    third = await _exec_turn(client, mock, thread_id, "echo $PYCODEX_SNAPSHOT_PROBE", "call_3")
    assert _runs(home) == runs  # the profile did not run again
    assert second["command"] == first["command"]
    assert second["aggregatedOutput"] == PROBE_OUT
    assert (workdir / "tricky.txt").read_text() == TRICKY
    assert (third["command"], third["aggregatedOutput"], third["exitCode"]) == (
        "/bin/bash -lc 'echo $PYCODEX_SNAPSHOT_PROBE'", "42\n", 0)

    # `login: false` stays a plain `-c` shell without the profile's state.
    plain = await _exec_turn(client, mock, thread_id, "echo ${PYCODEX_SNAPSHOT_PROBE-none}",
                             "call_4", login=False)
    assert (plain["command"], plain["aggregatedOutput"]) == (
        "/bin/bash -c 'echo ${PYCODEX_SNAPSHOT_PROBE-none}'", "none\n")
    assert _runs(home) == runs

    await client.close()
    assert not snapshot.exists()  # removed when the session shuts down
    assert not any(SECRET in line for line in client.stderr_lines)
    assert any("shell snapshot" in line for line in client.stderr_lines)


async def test_sandboxed_commands_read_the_snapshot(
    client: AppServerClient, codex_home: Path, workdir: Path, mock: MockResponses, home: Path
) -> None:
    skip_unless_sandbox()
    thread_id = await _thread(client, workdir, sandbox="read-only")
    cmd = 'echo "probe=$PYCODEX_SNAPSHOT_PROBE"; probe_fn sandboxed'
    await _exec_turn(client, mock, thread_id, cmd, "call_1")
    await _wait_for(codex_home / "shell_snapshots" / f"{thread_id}.sh")
    runs = _runs(home)
    item = await _exec_turn(client, mock, thread_id, cmd, "call_2")
    assert (item["aggregatedOutput"], item["exitCode"]) == ("probe=42\nfn:sandboxed\n", 0)
    assert _runs(home) == runs


async def test_a_profile_that_breaks_the_capture_falls_back_to_login_shells(
    codex_home: Path, workdir: Path, mock: MockResponses, home: Path
) -> None:
    # The capture script is recognisable by its marker variable; this profile refuses it.
    (home / ".bash_profile").write_text(
        'case "$BASH_EXECUTION_STRING" in *__pc_m=*) exit 7;; esac\n' + PROFILE)
    client = await _open(codex_home, workdir, mock, home)
    try:
        thread_id = await _thread(client, workdir)
        await _exec_turn(client, mock, thread_id, "true", "call_1")
        for _ in range(100):
            if any("shell snapshot" in line for line in client.stderr_lines):
                break
            await asyncio.sleep(0.05)
        assert any("not available" in line and "status 7" in line
                   for line in client.stderr_lines)
        before = _runs(home)
        item = await _exec_turn(client, mock, thread_id, "echo $PYCODEX_SNAPSHOT_PROBE",
                                "call_2")
        assert item["aggregatedOutput"] == "42\n"
        assert _runs(home) == before + 1  # a real login shell again
        assert not (codex_home / "shell_snapshots" / f"{thread_id}.sh").exists()
    finally:
        await client.close()
    client.assert_valid()


# -- the capture itself, per shell ----------------------------------------------------------
SHELLS: list[tuple[str, str | None]] = [
    ("bash", "/bin/bash"), ("sh", shutil.which("dash") or "/bin/sh"),
    ("zsh", shutil.which("zsh"))]


@pytest.mark.parametrize(("kind", "shell"), SHELLS, ids=[k for k, _ in SHELLS])
async def test_capture_round_trips_exports_unsets_and_functions(
    kind: ShellKind, shell: str | None, tmp_path: Path
) -> None:
    if shell is None or not os.path.exists(shell):
        pytest.skip(f"{kind} is not installed")
    assert shell_kind(shell) == kind
    home = tmp_path / "home"
    home.mkdir()
    for name in (".bash_profile", ".profile", ".zprofile"):
        (home / name).write_text(PROFILE)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "PYCODEX_DROP_ME": "server-value", "PYCODEX_KEEP": "kept"}
    path = tmp_path / "snap" / "thread.sh"
    await build_snapshot(shell, kind, path, cwd=tmp_path, env=env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _runs(home) == 1

    cmd = ('echo "$PYCODEX_SNAPSHOT_PROBE ${PYCODEX_DROP_ME-unset} $PYCODEX_KEEP"; '
           'printf "%s" "$PYCODEX_TRICKY"')
    if kind != "sh":  # dash cannot list function definitions
        cmd += "; probe_fn y"
    argv, extra = wrap_argv(kind, shell, cmd, path)
    assert argv[:2] == [shell, "-c"]
    done = subprocess.run(argv, env={**env, **extra}, cwd=tmp_path, capture_output=True,
                          check=False)
    expected = f"42 unset kept\n{TRICKY}" + ("fn:y\n" if kind != "sh" else "")
    assert (done.returncode, done.stdout.decode(), done.stderr.decode()) == (0, expected, "")
    assert _runs(home) == 1


# -- the per-thread object, in process ---------------------------------------------------------
async def test_commands_do_not_wait_for_a_slow_build_and_close_stops_it_gently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pycodex.core.shell_snapshot import ShellSnapshot

    home = tmp_path / "home"
    home.mkdir()
    lock = home / "lock"
    # Like `pyenv rehash`: a lock file that only the exit trap removes.
    (home / ".bash_profile").write_text(
        f"echo held > {lock}; trap 'rm -f {lock}' EXIT; sleep 30\n")
    monkeypatch.setenv("HOME", str(home))
    snap = ShellSnapshot("/bin/bash", "bash", tmp_path / "codex", "thread-1", tmp_path)
    argv = ["/bin/bash", "-lc", "echo hi"]
    assert snap.covers(argv) and not snap.covers(["/bin/bash", "-c", "echo hi"])
    snap.start()
    assert snap.building
    assert await snap.wait(0.3) is False
    assert snap.launch(argv) is None  # not ready: the caller runs the plain login shell
    assert lock.exists()
    await snap.close()
    assert not snap.building
    assert not lock.exists()  # SIGTERM let the profile's exit trap run
    assert not (tmp_path / "codex" / "shell_snapshots" / "thread-1.sh").exists()


async def test_a_vanished_snapshot_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    from pycodex.core.shell_snapshot import ShellSnapshot

    home = tmp_path / "home"
    home.mkdir()
    (home / ".bash_profile").write_text(PROFILE)
    monkeypatch.setenv("HOME", str(home))
    snap = ShellSnapshot("/bin/bash", "bash", tmp_path / "codex", "thread-2", tmp_path)
    snap.start()
    assert await snap.wait(10)
    argv = ["/bin/bash", "-lc", "echo $PYCODEX_SNAPSHOT_PROBE"]
    launch = snap.launch(argv)
    assert launch is not None
    assert launch.argv == ["/bin/bash", "-c", "echo $PYCODEX_SNAPSHOT_PROBE"]
    assert launch.env == {"BASH_ENV": str(snap.path)}
    snap.path.unlink()
    assert snap.launch(argv) is None and snap.building
    assert await snap.wait(10) and snap.launch(argv) is not None
    assert _runs(home) == 2
    await snap.close()
    assert not snap.path.exists()
