"""apply_patch writes stay where a sandboxed command could write (issue 11 item 3).

A symlink inside the workspace must not carry a patch outside the writable roots or into
a protected folder; the model gets the reference's words (`Failed to write file <path>`,
observed on codex-cli 0.171.0 under workspace-write), and under ``on-request`` the user is
asked to retry without the sandbox first, as the reference does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.approvals import answer
from tests.support.client import AppServerClient
from tests.support.exec import (
    exec_call,
    items,
    open_client,
    run_turn,
    start_thread,
    tool_output,
    without_wall_time,
)
from tests.support.mock_responses import MockResponses, custom_tool_call_reply, text_reply

# /tmp and $TMPDIR are writable roots by default; the tests' directories live there.
CONFINED = "{ exclude_slash_tmp = true, exclude_tmpdir_env_var = true }"


def add_file(path: str, text: str = "pwned") -> str:
    return f"*** Begin Patch\n*** Add File: {path}\n+{text}\n*** End Patch\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("keep me\n")
    return directory


@pytest.fixture(name="client")
async def client_fixture(codex_home: Path, workdir: Path, mock: MockResponses, outside: Path
                         ) -> AsyncIterator[AppServerClient]:
    (workdir / "link").symlink_to(outside)
    (workdir / "notes.txt").symlink_to(outside / "secret.txt")
    (workdir / ".git").mkdir()
    (workdir / "meta").symlink_to(workdir / ".git")
    c = await open_client(codex_home, workdir, mock, sandbox_workspace_write=CONFINED)
    yield c
    await c.close()
    c.assert_valid()


async def patch_turn(client: AppServerClient, mock: MockResponses, thread_id: str,
                     patch: str, call_id: str) -> str:
    mock.push(custom_tool_call_reply("apply_patch", patch, call_id=call_id), text_reply("ok"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    return str(without_wall_time(tool_output(mock, call_id)))


def failed(path: Path, verb: str = "write") -> str:
    return f"Exit code: 1\nWall time: X seconds\nOutput:\nFailed to {verb} file {path}\n"


async def test_symlinks_do_not_carry_patches_out_of_the_sandbox(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path
) -> None:
    thread_id = await start_thread(client, workdir, sandbox="workspace-write")
    cases = [
        ("call_dir", add_file("link/evil.txt"), failed(workdir / "link/evil.txt")),
        ("call_deep", add_file("link/new/evil.txt"), failed(workdir / "link/new/evil.txt")),
        ("call_file", "*** Begin Patch\n*** Update File: notes.txt\n@@\n-keep me\n+pwned\n"
         "*** End Patch\n", failed(workdir / "notes.txt")),
        ("call_git", add_file("meta/hooks/pre-commit"), failed(workdir / "meta/hooks/pre-commit")),
        ("call_move", "*** Begin Patch\n*** Update File: ok.txt\n*** Move to: link/moved.txt\n"
         "@@\n-a\n+b\n*** End Patch\n", failed(workdir / "link/moved.txt")),
    ]
    (workdir / "ok.txt").write_text("a\n")
    for call_id, patch, expected in cases:
        assert await patch_turn(client, mock, thread_id, patch, call_id) == expected
        done = items(client, "item/completed", call_id)
        assert [i["status"] for i in done] == ["failed"]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "keep me\n"
    assert list((workdir / ".git").iterdir()) == []
    assert (workdir / "ok.txt").read_text() == "a\n"
    # Writes that stay inside still work, without any platform sandbox.
    output = await patch_turn(client, mock, thread_id, add_file("src/fine.txt", "ok"), "call_ok")
    assert output.endswith("Success. Updated the following files:\nA src/fine.txt\n")
    assert (workdir / "src/fine.txt").read_text() == "ok\n"


async def test_the_shell_form_is_confined_too(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path
) -> None:
    thread_id = await start_thread(client, workdir, sandbox="workspace-write")
    cmd = f"apply_patch <<'EOF'\n{add_file('link/evil.txt')}EOF\n"
    mock.push(exec_call(cmd, "call_shell"), text_reply("ok"))
    turn = await run_turn(client, thread_id)
    assert turn["status"] == "completed"
    assert without_wall_time(tool_output(mock, "call_shell")) == failed(
        workdir / "link/evil.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_deleting_a_symlink_removes_the_link_not_the_target(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path
) -> None:
    thread_id = await start_thread(client, workdir, sandbox="workspace-write")
    patch = "*** Begin Patch\n*** Delete File: notes.txt\n*** End Patch\n"
    output = await patch_turn(client, mock, thread_id, patch, "call_del")
    assert output.endswith("Success. Updated the following files:\nD notes.txt\n")
    assert not (workdir / "notes.txt").is_symlink()
    assert (outside / "secret.txt").read_text() == "keep me\n"


@pytest.mark.parametrize(("decision", "status"), [("decline", "declined"), ("accept", "failed")])
async def test_on_request_asks_to_retry_without_sandbox_and_still_refuses(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path,
    decision: str, status: str
) -> None:
    thread_id = await start_thread(client, workdir, approval="on-request",
                                   sandbox="workspace-write")
    mock.push(custom_tool_call_reply("apply_patch", add_file("link/evil.txt"), call_id="c1"),
              text_reply("ok"))
    task = asyncio.ensure_future(run_turn(client, thread_id))
    request = await answer(client, "item/fileChange/requestApproval", {"decision": decision})
    assert request["params"]["reason"] == "command failed; retry without sandbox?"
    assert request["params"]["grantRoot"] is None
    await task
    assert [i["status"] for i in items(client, "item/completed", "c1")] == [status]
    output = tool_output(mock, "c1")
    if decision == "decline":
        assert output == "patch rejected by user"
    else:
        assert without_wall_time(output) == failed(workdir / "link/evil.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_an_approved_patch_outside_the_project_is_written(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path
) -> None:
    thread_id = await start_thread(client, workdir, approval="on-request",
                                   sandbox="workspace-write")
    mock.push(custom_tool_call_reply("apply_patch", add_file("../outside/direct.txt", "ok"),
                                     call_id="c2"), text_reply("ok"))
    task = asyncio.ensure_future(run_turn(client, thread_id))
    request = await answer(client, "item/fileChange/requestApproval", {"decision": "accept"})
    assert request["params"]["reason"] is None
    await task
    assert (outside / "direct.txt").read_text() == "ok\n"


async def test_full_access_refuses_nothing(
    client: AppServerClient, workdir: Path, mock: MockResponses, outside: Path
) -> None:
    thread_id = await start_thread(client, workdir, sandbox="danger-full-access")
    output = await patch_turn(client, mock, thread_id, add_file("link/evil.txt", "ok"), "c3")
    assert output.endswith("A link/evil.txt\n")
    assert (outside / "evil.txt").read_text() == "ok\n"
