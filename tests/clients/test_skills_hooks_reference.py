"""Skills and hooks side by side with the reference binary (codex 0.171): the same SKILL.md
trees, hooks.json and requests against both servers, comparing answers, errors, hook runs,
what the hook received and what reached the model. Skipped when the binary is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.client import AppServerClient, ServerError
from tests.support.hooks import relative, side_by_side
from tests.support.mock_responses import MockResponses, function_call_reply, text_reply
from tests.support.reference import needs_reference

pytestmark = needs_reference

HOOK = """\
import json, os, sys
data = json.loads(sys.stdin.read())
event = data["hook_event_name"]
with open(os.path.join(os.environ["HOOK_LOG"], event + ".json"), "w") as fh:
    json.dump(sorted(data), fh)
if event == "UserPromptSubmit":
    print(json.dumps({"hookSpecificOutput": {"hookEventName": event,
                                             "additionalContext": "CTX"}}))
if event == "PreToolUse":
    sys.stderr.write("no shell today")
    sys.exit(2)
"""


def setup_tree(root: Path, script: Path) -> tuple[Path, Path, Path]:
    """A CODEX_HOME, a git repo with skills (good and broken) and hooks running
    ``script`` (shared by both servers, so that the hooks' hashes can be compared)."""
    home, repo, log = root / "codex-home", root / "repo", root / "log"
    for path in (home, repo / "a", log, root / "user-home"):
        path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    skills = {
        repo / ".agents/skills/rel": "---\nname: release-notes\ndescription: Notes.\n"
                                     "metadata:\n  short-description: Short\n---\nbody\n",
        repo / ".codex/skills/nodesc": "---\nname: nodesc\n---\nbody\n",
        repo / "a/.agents/skills/nofm": "just text\n",
        repo / "a/.agents/skills/noname": "---\ndescription: no name\n---\n",
        home / "skills/mine": "---\nname: mine\ndescription: user skill\n---\n",
    }
    for folder, text in skills.items():
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(text)
    command = f"{sys.executable} {script}"
    groups = {e: [{"hooks": [{"type": "command", "command": command}]}]
              for e in ("UserPromptSubmit", "Stop")}
    groups["PreToolUse"] = [{"matcher": "Bash",
                             "hooks": [{"type": "command", "command": command}]}]
    (home / "hooks.json").write_text(json.dumps({"hooks": groups}))
    return home, repo, log


async def session(client: AppServerClient, mock: MockResponses, root: Path, repo: Path,
                  log: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    await client.initialize()
    listed = await client.request("skills/list", {"cwds": [str(repo / "a")]})
    entry = listed["data"][0]
    out["skills"] = [s for s in entry["skills"] if s["scope"] != "system"]
    out["skill_errors"] = sorted(entry["errors"], key=lambda e: e["path"])
    out["system_scoped"] = sorted({s["scope"] for s in entry["skills"]
                                   if "/.system/" in s["path"]})
    for bad in ({"enabled": False}, {"enabled": False, "name": "x", "path": str(repo)}):
        try:
            await client.request("skills/config/write", bad)
        except ServerError as exc:
            out.setdefault("write_errors", []).append((exc.code, exc.message))
    out["write"] = await client.request("skills/config/write",
                                        {"name": "mine", "enabled": False})
    hooks = (await client.request("hooks/list", {"cwds": [str(repo)]}))["data"][0]
    out["hooks"] = hooks["hooks"]
    out["hook_warnings"] = hooks["warnings"]
    for hook in hooks["hooks"]:
        await client.request("config/value/write", {
            "keyPath": f'hooks.state."{hook["key"]}".trusted_hash',
            "value": hook["currentHash"], "mergeStrategy": "replace"})
    trusted = (await client.request("hooks/list", {"cwds": [str(repo)]}))["data"][0]
    out["trust"] = [h["trustStatus"] for h in trusted["hooks"]]
    thread = await client.request("thread/start", {"cwd": str(repo)})
    thread_id = thread["thread"]["id"]
    mock.push(function_call_reply("exec_command", {"cmd": "touch ran.txt"}, call_id="c1"),
              text_reply("done"))
    await client.request("turn/start", {"threadId": thread_id,
                                        "input": [{"type": "text", "text": "hello"}]})
    await client.wait_notification("turn/completed", timeout=60)
    out["runs"] = [(n["method"], n["params"]["run"]["id"], n["params"]["run"]["status"],
                    n["params"]["run"]["entries"])
                   for n in client.notifications() if n["method"].startswith("hook/")]
    out["ran"] = (repo / "ran.txt").exists()
    last = mock.requests[-1].body["input"]
    out["tool_output"] = next(i["output"] for i in last if i.get("type") ==
                              "function_call_output")
    out["after_user"] = [(i.get("role"), i["content"][0]["text"]) for i in last
                         if i.get("type") == "message"][-2:]
    out["stdin_keys"] = {p.name: json.loads(p.read_text()) for p in log.iterdir()}
    return relative(out, root)


async def test_same_answers_runs_and_model_input_as_the_reference(tmp_path: Path) -> None:
    reference, ours = await side_by_side(tmp_path, HOOK, setup_tree, session)
    assert len(reference["skills"]) == 3 and len(reference["skill_errors"]) == 2
    assert [status for _, _, status, _ in reference["runs"]] == [
        "running", "completed", "running", "blocked", "running", "completed"]
    assert reference["ran"] is False and reference["trust"] == ["trusted"] * 3
    for key in reference:
        assert ours[key] == reference[key], key
