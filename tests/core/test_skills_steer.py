"""A ``skill`` input sent with ``turn/steer`` reaches the model as on ``turn/start``: the
user's text, then the skill's ``SKILL.md`` as its own message (extensions.md, skills)."""

from __future__ import annotations

from pathlib import Path

from tests.support.client import AppServerClient
from tests.support.exec import start_thread
from tests.support.mock_responses import MockResponses, slow_text_reply, text_reply
from tests.support.skills import skill_md, write_skill


async def test_steered_skill_is_injected_after_the_steered_text(
    client: AppServerClient, workdir: Path, mock: MockResponses
) -> None:
    skill = write_skill(workdir / ".agents/skills", "rel", skill_md("release-notes", "Notes."))
    write_skill(workdir / ".agents/skills", "off", skill_md("switched-off", "Off."))
    await client.request("skills/config/write", {"name": "switched-off", "enabled": False})
    thread_id = await start_thread(client, workdir)
    mock.push(slow_text_reply("a", "b", "c", "d", interval=0.3), text_reply("saw it"))
    response = await client.request("turn/start", {
        "threadId": thread_id, "input": [{"type": "text", "text": "go"}]})
    turn_id = response["turn"]["id"]
    await client.wait_notification("item/agentMessage/delta")
    await client.request("turn/steer", {
        "threadId": thread_id, "expectedTurnId": turn_id, "input": [
            {"type": "text", "text": "use $release-notes"},
            {"type": "skill", "name": "release-notes", "path": str(skill)},
            {"type": "skill", "name": "switched-off",
             "path": str(workdir / ".agents/skills/off/SKILL.md")}]})
    done = await client.wait_notification("turn/completed", timeout=30)
    assert done["turn"]["status"] == "completed"
    assert len(mock.requests) == 2
    texts = [(i["role"], i["content"][0]["text"]) for i in mock.requests[1].body["input"]
             if i.get("type") == "message"]
    assert texts[-2:] == [
        ("user", "use $release-notes"),
        ("user", f"<skill>\n<name>release-notes</name>\n<path>{skill}</path>\n"
                 f"{skill.read_text()}\n</skill>")]  # the disabled skill is left out
