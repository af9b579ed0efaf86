"""Built-in system skills, written by pycodex into ``$CODEX_HOME/skills/.system`` and
listed with ``scope: "system"``. The set is small and ours: how to write a skill, and how
to draft a commit message from the working tree."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import msgspec

from pycodex.atomic import atomic_write
from pycodex.core.skills.model import Interface, Skill

logger = logging.getLogger(__name__)

MARKER = ".pycodex-system-skills"

class SystemSkill(msgspec.Struct, frozen=True):
    """One built-in skill: its metadata (so listing it needs no YAML parsing) and body."""

    folder: str
    name: str
    description: str
    short_description: str
    interface: Interface
    body: str

    def files(self) -> dict[str, str]:
        """The files written for this skill: ``SKILL.md`` and ``agents/openai.yaml``."""
        skill_md = (f"---\nname: {self.name}\ndescription: >-\n"
                    + "".join(f"  {line}\n" for line in _wrap(self.description))
                    + f"metadata:\n  short-description: {self.short_description}\n---\n\n"
                    + self.body)
        ui = self.interface
        openai_yaml = (f"interface:\n  display_name: {json.dumps(ui.display_name)}\n"
                       f"  short_description: {json.dumps(ui.short_description)}\n"
                       f"  default_prompt: {json.dumps(ui.default_prompt)}\n")
        return {"SKILL.md": skill_md, "agents/openai.yaml": openai_yaml}


def _wrap(text: str, width: int = 84) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


SYSTEM_SKILLS: tuple[SystemSkill, ...] = (
    SystemSkill(
        folder="skill-writer",
        name="skill-writer",
        description="Write or revise a skill (a folder with a SKILL.md) so that the agent "
                    "can find it and follow it. Use when the user asks to create, fix or "
                    "extend a skill.",
        short_description="Write or revise a skill",
        interface=Interface(display_name="Skill Writer",
                            short_description="Write or revise a skill",
                            default_prompt="Use $skill-writer to write a skill for this "
                                           "project."),
        body="""# Writing a skill

A skill is a folder holding a `SKILL.md`. The agent sees only the `name` and
`description` from the front matter until it decides to open the file, so:

1. Pick the folder: `.agents/skills/<name>/` inside a repository for a project skill,
   `~/.agents/skills/<name>/` for a personal one.
2. Start `SKILL.md` with YAML front matter between `---` lines:
   - `name`: short, lowercase words joined by `-` (at most 64 characters);
   - `description`: one or two sentences saying what the skill does **and when to use
     it** (at most 1024 characters);
   - optional `metadata.short-description` for user interfaces.
3. Below the front matter write the instructions as steps. Keep them short; move long
   reference material to `references/*.md` and say when each file is needed.
4. Put scripts the steps run in `scripts/` and refer to them by relative path.
5. Check the result: the front matter parses as YAML, the description names the
   situations that should trigger the skill, and every file the steps mention exists.
"""),
    SystemSkill(
        folder="commit-message",
        name="commit-message",
        description="Draft a git commit message for the staged (or, if none, unstaged) "
                    "changes of the current repository. Use when the user asks for a "
                    "commit message or asks to commit.",
        short_description="Draft a commit message",
        interface=Interface(display_name="Commit Message",
                            short_description="Draft a commit message",
                            default_prompt="Use $commit-message to draft a message for my "
                                           "staged changes."),
        body="""# Drafting a commit message

1. Run `git diff --cached --stat` and `git diff --cached`; when nothing is staged use
   `git diff --stat` and `git diff` instead and say so.
2. Read `git log --oneline -10` to follow the repository's conventions (prefixes,
   tense, line length).
3. Write a subject line of at most 72 characters that says what changed and, when
   space allows, why. Add a body only when the reason or the consequences are not
   obvious from the diff; wrap it at 72 characters.
4. Show the message. Commit only when the user asked for the commit itself.
"""),
)


def known_skill(path: Path, root: Path) -> Skill | None:
    """The built-in skill stored unchanged at ``path``, without parsing its YAML."""
    for skill in SYSTEM_SKILLS:
        if path.parent.name != skill.folder:
            continue
        try:
            if path.read_text(encoding="utf-8") != skill.files()["SKILL.md"]:
                return None
        except (OSError, UnicodeDecodeError):
            return None
        return Skill(name=skill.name, description=skill.description, path=path, root=root,
                     scope="system", short_description=skill.short_description,
                     interface=skill.interface)
    return None


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for skill in SYSTEM_SKILLS:
        for name, text in sorted(skill.files().items()):
            digest.update(f"{skill.folder}/{name}\0{text}\0".encode())
    return digest.hexdigest()


def install(codex_home: Path) -> None:
    """Write the system skills unless the installed set is already current."""
    from pycodex.core.skills.discovery import system_root

    root = system_root(codex_home)
    marker = root / MARKER
    fingerprint = _fingerprint()
    try:
        if marker.read_text(encoding="utf-8").strip() == fingerprint:
            return
    except OSError:
        pass
    try:
        if root.is_dir():
            for child in root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
        for skill in SYSTEM_SKILLS:
            for name, text in skill.files().items():
                target = root / skill.folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(target, text)
        atomic_write(marker, fingerprint + "\n")
    except OSError as exc:
        logger.warning("could not install system skills under %s: %s", root, exc)
