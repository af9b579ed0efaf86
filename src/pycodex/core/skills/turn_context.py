"""The two places a turn uses skills: the catalog in the initial developer message, and
the files of skills invoked with ``skill`` inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.core.skills.catalog import catalog_for
from pycodex.core.skills.render import skill_input_items, skills_instructions


def skills_text(codex_home: Path, cwd: Path) -> str | None:
    """``<skills_instructions>…`` for a thread in ``cwd``, or ``None`` (no enabled skill,
    or skills cannot be read)."""
    try:
        return skills_instructions(catalog_for(codex_home).load(cwd))
    except OSError:
        return None


def invoked_skill_items(codex_home: Path, cwd: Path, inputs: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """Messages carrying the ``SKILL.md`` of each enabled skill named by a ``skill`` input."""
    if not any(item.get("type") == "skill" for item in inputs):
        return []
    return skill_input_items(inputs, catalog_for(codex_home).load(cwd))
