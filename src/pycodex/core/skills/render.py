"""How skills reach the model: the catalog in the turn context, and the files of skills
the user invoked explicitly (``skill`` inputs of ``turn/start``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.core.skills.model import Skill, SkillLoad

OPEN_TAG = "<skills_instructions>"
CLOSE_TAG = "</skills_instructions>"

_INTRO = (
    "## Skills\n"
    "Skills are folders of local instructions, each described by a `SKILL.md` file. The "
    "list below gives every skill you may use: its name, what it is for, and where its "
    "file is, written as a short path that starts with a root alias from the table of "
    "skill roots. Only the description is shown here; open the file to use a skill."
)

_USAGE = (
    "### Using skills\n"
    "- When to use one: the user names it (as `$name` or in plain words), or the task "
    "clearly fits its description. Use every skill that was named. A skill used in one "
    "turn is not carried into the next unless it is named again.\n"
    "- How: replace the alias with its root folder, open that `SKILL.md` and follow it. "
    "Read only the parts and the referenced files the task needs; resolve relative paths "
    "against the folder of the `SKILL.md`. Prefer running the scripts a skill ships over "
    "rewriting them, and reuse its templates and assets.\n"
    "- Several skills: use the smallest set that covers the task, say in one line which "
    "ones you use and in what order.\n"
    "- Problems: when a skill is missing, cannot be read or does not fit, say so briefly "
    "and carry on with the best other approach."
)


def visible_skills(load: SkillLoad) -> list[Skill]:
    """Enabled skills (error-free by construction) in listing order."""
    return [skill for skill in load.skills if skill.enabled]


def skills_instructions(load: SkillLoad) -> str | None:
    """The ``<skills_instructions>`` block, or ``None`` when no skill is enabled."""
    skills = visible_skills(load)
    if not skills:
        return None
    aliases: dict[Path, str] = {}
    for root in load.roots:
        resolved = _resolved(root)
        if resolved not in aliases and any(s.root == resolved for s in skills):
            aliases[resolved] = f"r{len(aliases)}"
    lines = [OPEN_TAG, _INTRO, "### Skill roots"]
    lines += [f"- `{alias}` = `{root}`" for root, alias in aliases.items()]
    lines.append("### Available skills")
    for skill in skills:
        alias = aliases.get(skill.root)
        if alias is None:
            where = str(skill.path)
        else:
            where = f"{alias}/{skill.path.relative_to(skill.root).as_posix()}"
        lines.append(f"- {skill.name}: {skill.description} (file: {where})")
    lines += [_USAGE, CLOSE_TAG]
    return "\n".join(lines)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def skill_input_items(inputs: list[dict[str, Any]], load: SkillLoad) -> list[dict[str, Any]]:
    """One user message per ``skill`` input naming an enabled skill: its name, path and the
    whole ``SKILL.md``. Unknown or disabled skills are skipped."""
    enabled = {str(skill.path): skill for skill in visible_skills(load)}
    items: list[dict[str, Any]] = []
    for item in inputs:
        if item.get("type") != "skill" or not isinstance(item.get("path"), str):
            continue
        skill = enabled.get(str(_resolved(Path(item["path"]))))
        if skill is None:
            continue
        try:
            contents = skill.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        text = (f"<skill>\n<name>{skill.name}</name>\n<path>{item['path']}</path>\n"
                f"{contents}\n</skill>")
        items.append({"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": text}]})
    return items
