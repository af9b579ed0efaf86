"""The Linux sandbox: bubblewrap argv, and escape attempts run through ``command/exec``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.core import sandbox
from pycodex.core.sandbox import SandboxPolicy
from tests.conftest import ServerFactory
from tests.support.client import AppServerClient

_PROBLEM = sandbox.bwrap_problem() if "PYCODEX_BWRAP" not in os.environ else "override set"
needs_bwrap = pytest.mark.skipif(
    _PROBLEM is not None, reason=f"bubblewrap cannot sandbox here: {_PROBLEM}"
)

#: workspace-write limited to the server cwd and explicit roots (pytest's tmp is in /tmp).
STRICT_WS = {"type": "workspaceWrite", "excludeSlashTmp": True, "excludeTmpdirEnvVar": True}


# -- argv construction ------------------------------------------------------------------------
def test_read_only_binds_nothing_writable(tmp_path: Path) -> None:
    args = sandbox.bwrap_args(SandboxPolicy("read-only"), tmp_path, tmp_path, env={})
    assert args[:7] == [
        "--new-session",
        "--die-with-parent",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
    ]
    assert "--bind" not in args
    assert "--unshare-net" in args
    assert args[-2:] == ["--chdir", str(tmp_path)]


def test_workspace_write_binds_roots_and_protects_metadata(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    (work / ".codex").mkdir()
    extra = tmp_path / "extra"
    extra.mkdir()
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    policy = SandboxPolicy("workspace-write", writable_roots=(str(extra),), network_access=True)
    args = sandbox.bwrap_args(policy, work, work, env={"TMPDIR": str(tmpdir)})
    pairs = [(args[i], args[i + 1]) for i in range(len(args) - 1) if args[i].startswith("--")]
    binds = [value for flag, value in pairs if flag == "--bind"]
    assert binds == [str(work), str(extra), "/tmp", str(tmpdir)]
    ro = [value for flag, value in pairs if flag == "--ro-bind"]
    assert ro[0] == "/"
    assert [p for p in ro if p.startswith(str(tmp_path))] == [
        str(work / ".git"),
        str(work / ".codex"),
    ]
    # Protected paths are re-bound after every writable bind.
    assert args.index(str(work / ".git")) > args.index(str(tmpdir))
    assert "--unshare-net" not in args


def test_excluded_tmp_dirs_are_not_writable(tmp_path: Path) -> None:
    policy = SandboxPolicy("workspace-write", exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    roots = sandbox.writable_roots(policy, tmp_path, env={"TMPDIR": "/var/tmp"})
    assert roots == [str(tmp_path)]


def test_gitdir_file_target_is_protected(tmp_path: Path) -> None:
    work = tmp_path / "work"
    real = work / "real-gitdir"
    real.mkdir(parents=True)
    (work / ".git").write_text("gitdir: real-gitdir\n")
    assert sandbox.protected_paths(str(work)) == [str(work / ".git"), str(real)]


def test_full_access_and_external_sandbox_are_not_wrapped(tmp_path: Path) -> None:
    for policy in (SandboxPolicy("danger-full-access"), SandboxPolicy("external-sandbox")):
        assert sandbox.wrap_command(["true"], policy, tmp_path, tmp_path) == ["true"]


def test_policy_wire_and_config_conversions() -> None:
    wire = {
        "type": "workspaceWrite",
        "writableRoots": ["/a"],
        "networkAccess": True,
        "excludeTmpdirEnvVar": False,
        "excludeSlashTmp": True,
    }
    assert SandboxPolicy.from_wire(wire).to_wire() == wire
    config = {
        "sandbox_mode": "workspace-write",
        "sandbox_workspace_write": {"writable_roots": ["/a"], "network_access": True},
    }
    assert SandboxPolicy.from_config(config) == SandboxPolicy(
        "workspace-write", writable_roots=("/a",), network_access=True
    )
    assert SandboxPolicy.from_config({}).to_wire() == {"type": "readOnly", "networkAccess": False}


def test_missing_bwrap_refuses_and_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYCODEX_BWRAP", "")
    with pytest.raises(sandbox.SandboxUnavailable, match="not found on PATH"):
        sandbox.wrap_command(["true"], SandboxPolicy("read-only"), tmp_path, tmp_path)
    warning = sandbox.sandbox_startup_warning("workspace-write")
    assert warning is not None
    assert warning["summary"].startswith("Codex could not find bubblewrap on PATH.")
    assert warning["details"] is None
    assert sandbox.sandbox_startup_warning("danger-full-access") is None


@needs_bwrap
def test_no_warning_when_bwrap_works() -> None:
    assert sandbox.sandbox_startup_warning("workspace-write") is None


# -- escapes through command/exec -------------------------------------------------------------
@pytest.fixture
def layout(workdir: Path, tmp_path: Path) -> Iterator[dict[str, Path]]:
    (workdir / ".git").mkdir()
    (workdir / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (workdir / "escape").symlink_to(outside)
    yield {"work": workdir, "outside": outside}


@pytest.fixture
async def client(spawn: ServerFactory, workdir: Path) -> AsyncIterator[AppServerClient]:
    yield await spawn(cwd=workdir)


async def run_sh(client: AppServerClient, script: str, policy: dict[str, Any]) -> dict[str, Any]:
    response = await client.request_raw(
        "command/exec", {"command": ["sh", "-c", script], "sandboxPolicy": policy}
    )
    assert "result" in response, response
    return response["result"]  # type: ignore[no-any-return]


@needs_bwrap
async def test_workspace_write_allows_the_workspace_only(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    work, outside = layout["work"], layout["outside"]
    result = await run_sh(client, "echo ok > inside.txt", STRICT_WS)
    assert result["exitCode"] == 0, result
    assert (work / "inside.txt").read_text() == "ok\n"

    attempts = {
        "outside": f"echo x > {outside}/direct.txt",
        "git": "echo x > .git/HEAD",
        "git-new": "echo x > .git/hooks-new",
        "symlink": "echo x > escape/via-link.txt",
        "home": f"echo x > {Path.home()}/pycodex-sandbox-escape.txt",
    }
    for name, script in attempts.items():
        result = await run_sh(client, script, STRICT_WS)
        assert result["exitCode"] != 0, (name, result)
        assert "Read-only file system" in result["stderr"], (name, result)
    assert list(outside.iterdir()) == []
    assert (work / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (work / ".git" / "hooks-new").exists()
    assert not (Path.home() / "pycodex-sandbox-escape.txt").exists()


@needs_bwrap
async def test_workspace_write_extra_roots_and_tmp(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    outside = layout["outside"]
    policy = {**STRICT_WS, "writableRoots": [str(outside)]}
    result = await run_sh(client, f"echo x > {outside}/allowed.txt", policy)
    assert result["exitCode"] == 0, result
    assert (outside / "allowed.txt").exists()
    # /tmp is writable by default and not when excluded.
    name = f"/tmp/pycodex-sandbox-{os.getpid()}"
    try:
        result = await run_sh(client, f"echo x > {name}", {"type": "workspaceWrite"})
        assert result["exitCode"] == 0, result
        result = await run_sh(client, f"echo x > {name}-2", STRICT_WS)
        assert result["exitCode"] != 0
        assert not os.path.exists(f"{name}-2")
    finally:
        for path in (name, f"{name}-2"):
            if os.path.exists(path):
                os.unlink(path)


@needs_bwrap
async def test_read_only_blocks_every_write(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    work = layout["work"]
    for script in ("echo x > inside.txt", "echo x > /tmp/pycodex-ro-probe", "mkdir newdir"):
        result = await run_sh(client, script, {"type": "readOnly"})
        assert result["exitCode"] != 0, (script, result)
        assert "Read-only file system" in result["stderr"]
    assert not (work / "inside.txt").exists()
    assert not (work / "newdir").exists()
    assert not os.path.exists("/tmp/pycodex-ro-probe")
    # Reading still works.
    result = await run_sh(client, "cat .git/HEAD", {"type": "readOnly"})
    assert result["stdout"] == "ref: refs/heads/main\n"


@needs_bwrap
async def test_network_is_blocked_unless_enabled(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    probe = (
        "import socket,sys\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "print('connected')"
    )
    try:
        async with server:
            for policy, expected in (
                ({"type": "workspaceWrite"}, False),
                ({"type": "readOnly"}, False),
                ({"type": "workspaceWrite", "networkAccess": True}, True),
                ({"type": "dangerFullAccess"}, True),
            ):
                response = await client.request_raw(
                    "command/exec",
                    {"command": ["python3", "-c", probe], "sandboxPolicy": policy},
                )
                result = response["result"]
                assert (result["stdout"] == "connected\n") is expected, (policy, result)
    finally:
        server.close()


@needs_bwrap
async def test_sandbox_marks_the_environment(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    script = 'echo "${CODEX_SANDBOX_NETWORK_DISABLED-unset}"'
    assert (await run_sh(client, script, {"type": "readOnly"}))["stdout"] == "1\n"
    assert (await run_sh(client, script, {"type": "dangerFullAccess"}))["stdout"] == "unset\n"


async def test_danger_full_access_can_write_anywhere(
    client: AppServerClient, layout: dict[str, Path]
) -> None:
    outside = layout["outside"]
    result = await run_sh(client, f"echo x > {outside}/free.txt", {"type": "dangerFullAccess"})
    assert result["exitCode"] == 0
    assert (outside / "free.txt").read_text() == "x\n"


async def test_default_policy_comes_from_config(
    spawn: ServerFactory, codex_home: Path, layout: dict[str, Path]
) -> None:
    outside = layout["outside"]
    (codex_home / "config.toml").write_text('sandbox_mode = "danger-full-access"\n')
    client = await spawn(cwd=layout["work"])
    response = await client.request_raw(
        "command/exec", {"command": ["sh", "-c", f"echo x > {outside}/cfg.txt"]}
    )
    assert response["result"]["exitCode"] == 0
    assert (outside / "cfg.txt").exists()


async def test_missing_bwrap_refuses_sandboxed_exec(
    spawn: ServerFactory, layout: dict[str, Path]
) -> None:
    client = await spawn(cwd=layout["work"], env={"PYCODEX_BWRAP": ""})
    response = await client.request_raw(
        "command/exec", {"command": ["true"], "sandboxPolicy": {"type": "readOnly"}}
    )
    assert response["error"] == {
        "code": -32603,
        "message": "exec failed: sandbox unavailable: bubblewrap (bwrap) was not found on PATH",
    }
    response = await client.request_raw(
        "command/exec", {"command": ["true"], "sandboxPolicy": {"type": "dangerFullAccess"}}
    )
    assert response["result"]["exitCode"] == 0


async def test_relative_writable_root_is_refused(client: AppServerClient) -> None:
    response = await client.request_raw(
        "command/exec",
        {"command": ["true"], "sandboxPolicy": {"type": "workspaceWrite", "writableRoots": ["x"]}},
    )
    assert response["error"]["code"] == -32600
    assert response["error"]["message"].startswith(
        "Invalid request: AbsolutePathBuf deserialized without a base path"
    )
