"""Records of discovered skills."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from pycodex.protocol.types.skills import SkillInterface, SkillToolDependency

Scope = Literal["repo", "user", "system", "admin"]

#: listing order of scopes (higher precedence first)
SCOPE_RANK: dict[str, int] = {"repo": 0, "user": 1, "system": 2, "admin": 3}


#: presentation hints from ``agents/openai.yaml`` beside a ``SKILL.md`` (wire shape)
Interface = SkillInterface
ToolDependency = SkillToolDependency


class Skill(msgspec.Struct, frozen=True):
    name: str
    description: str
    path: Path
    """The ``SKILL.md`` file (resolved)."""
    root: Path
    """The skills root the file was found under."""
    scope: Scope
    short_description: str | None = None
    interface: Interface | None = None
    dependencies: tuple[ToolDependency, ...] = ()
    enabled: bool = True


class SkillError(msgspec.Struct, frozen=True):
    path: Path
    message: str


class SkillLoad(msgspec.Struct, frozen=True):
    """What one discovery pass found: skills in listing order, and files that failed."""

    skills: tuple[Skill, ...] = ()
    errors: tuple[SkillError, ...] = ()
    roots: tuple[Path, ...] = ()
    """Every root scanned, in scan order (for watching)."""
