"""Skills on disk: a ``SKILL.md`` and its front matter."""

from __future__ import annotations

from pathlib import Path


def write_skill(base: Path, folder: str, text: str) -> Path:
    path = base / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def skill_md(name: str, description: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n\nSteps for {name}.\n"
