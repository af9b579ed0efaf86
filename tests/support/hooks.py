"""Hooks: the hook script's start, ``hooks.json`` handler groups, trusting every hook, the
runs a client heard of, and one session's results against the reference and pycodex."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient
from tests.support.mock_responses import MockResponses
from tests.support.reference import REFERENCE
from tests.support.turns import write_config

#: the start of a hook script: read stdin, append it to LOG/<event>.jsonl
LOG_STDIN = """\
import json, os, sys, time
data = json.loads(sys.stdin.read())
event = data["hook_event_name"]
with open(os.path.join(LOG, event + ".jsonl"), "a") as fh:
    fh.write(json.dumps(data) + "\\n")
"""


def handler_groups(command: str, events: dict[str, str | None], **handler: Any
                   ) -> dict[str, Any]:
    """``{"hooks": {Event: [{matcher?, hooks: [{type, command}]}]}}``."""
    hooks: dict[str, Any] = {}
    for event, matcher in events.items():
        group: dict[str, Any] = {"hooks": [{"type": "command", "command": command, **handler}]}
        if matcher is not None:
            group["matcher"] = matcher
        hooks[event] = [group]
    return {"hooks": hooks}


async def trust_all(client: AppServerClient, cwd: Path) -> list[dict[str, Any]]:
    listed = await client.request("hooks/list", {"cwds": [str(cwd)]})
    hooks: list[dict[str, Any]] = listed["data"][0]["hooks"]
    for hook in hooks:
        await client.request("config/value/write", {
            "keyPath": f'hooks.state."{hook["key"]}".trusted_hash',
            "value": hook["currentHash"], "mergeStrategy": "replace"})
    return hooks


def runs(client: AppServerClient, method: str) -> list[dict[str, Any]]:
    return [n["params"]["run"] for n in client.notifications(method)]


def relative(value: Any, root: Path) -> Any:
    return json.loads(json.dumps(value).replace(str(root), "<root>"))


def hook_tree(root: Path, script: Path, events: tuple[str, ...] | list[str]
              ) -> tuple[Path, Path, Path]:
    """A CODEX_HOME whose hooks.json runs ``script`` for ``events``, a git repo and a log
    folder under ``root`` (a ``side_by_side`` setup)."""
    home, repo, log = root / "codex-home", root / "repo", root / "log"
    for path in (home, repo, log, root / "user-home"):
        path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (home / "hooks.json").write_text(json.dumps(handler_groups(
        f"{sys.executable} {script}", dict.fromkeys(events))))
    return home, repo, log


Session = Callable[[AppServerClient, MockResponses, Path, Path, Path],
                   Awaitable[dict[str, Any]]]


async def side_by_side(tmp_path: Path, script_text: str,
                       setup: Callable[[Path, Path], tuple[Path, Path, Path]],
                       session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """``session``'s results against the reference, then against pycodex, each in its own
    tree (``setup(root, hook script)`` → home, repo, hook log folder) and mock model."""
    results = []
    script = tmp_path / "hook.py"
    script.write_text(script_text)
    for name, command in (("ref", [str(REFERENCE), "app-server", "--disable", "plugins"]),
                          ("ours", None)):
        root = tmp_path / name
        home, repo, log = setup(root, script)
        with MockResponses() as mock:
            write_config(home, mock)
            client = AppServerClient(home, cwd=repo, command=command, validate=name == "ours",
                                     env={"MOCK_API_KEY": "k", "HOME": str(root / "user-home"),
                                          "SHELL": "/bin/bash", "HOOK_LOG": str(log)})
            await client.start()
            try:
                results.append(await session(client, mock, root, repo, log))
            finally:
                await client.close()
    return results[0], results[1]
