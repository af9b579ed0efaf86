"""The two places a turn uses skills: the catalog in the initial developer message, and
the files of skills invoked with ``skill`` inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The catalog modules are imported on first use, in the worker thread that builds the
# catalog, so importing the turn engine stays cheap.


def skills_text(codex_home: Path, cwd: Path) -> str | None:
    """``<skills_instructions>…`` for a thread in ``cwd``, or ``None`` (no enabled skill,
    or skills cannot be read)."""
    from pycodex.core.skills.catalog import catalog_for
    from pycodex.core.skills.render import skills_instructions

    try:
        return skills_instructions(catalog_for(codex_home).load(cwd))
    except OSError:
        return None


def invoked_skill_items(codex_home: Path, cwd: Path, inputs: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """Messages carrying the ``SKILL.md`` of each enabled skill named by a ``skill`` input."""
    if not any(item.get("type") == "skill" for item in inputs):
        return []
    from pycodex.core.skills.catalog import catalog_for
    from pycodex.core.skills.render import skill_input_items

    return skill_input_items(inputs, catalog_for(codex_home).load(cwd))
