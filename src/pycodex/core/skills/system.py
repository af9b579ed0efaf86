"""Built-in system skills, written by pycodex into ``$CODEX_HOME/skills/.system`` and
listed with ``scope: "system"``. The set is small and ours: how to write a skill, and how
to draft a commit message from the working tree."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from pycodex.atomic import atomic_write

logger = logging.getLogger(__name__)

MARKER = ".pycodex-system-skills"

#: skill folder → {relative file path: contents}
SYSTEM_SKILLS: dict[str, dict[str, str]] = {
    "skill-writer": {
        "SKILL.md": """---
name: skill-writer
description: >-
  Write or revise a skill (a folder with a SKILL.md) so that the agent can find it
  and follow it. Use when the user asks to create, fix or extend a skill.
metadata:
  short-description: Write or revise a skill
---

# Writing a skill

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
""",
        "agents/openai.yaml": """interface:
  display_name: "Skill Writer"
  short_description: "Write or revise a skill"
  default_prompt: "Use $skill-writer to write a skill for this project."
""",
    },
    "commit-message": {
        "SKILL.md": """---
name: commit-message
description: >-
  Draft a git commit message for the staged (or, if none, unstaged) changes of the
  current repository. Use when the user asks for a commit message or asks to commit.
metadata:
  short-description: Draft a commit message
---

# Drafting a commit message

1. Run `git diff --cached --stat` and `git diff --cached`; when nothing is staged use
   `git diff --stat` and `git diff` instead and say so.
2. Read `git log --oneline -10` to follow the repository's conventions (prefixes,
   tense, line length).
3. Write a subject line of at most 72 characters that says what changed and, when
   space allows, why. Add a body only when the reason or the consequences are not
   obvious from the diff; wrap it at 72 characters.
4. Show the message. Commit only when the user asked for the commit itself.
""",
        "agents/openai.yaml": """interface:
  display_name: "Commit Message"
  short_description: "Draft a commit message"
  default_prompt: "Use $commit-message to draft a message for my staged changes."
""",
    },
}


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for folder in sorted(SYSTEM_SKILLS):
        for name, text in sorted(SYSTEM_SKILLS[folder].items()):
            digest.update(f"{folder}/{name}\0{text}\0".encode())
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
        for folder, files in SYSTEM_SKILLS.items():
            for name, text in files.items():
                target = root / folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(target, text)
        atomic_write(marker, fingerprint + "\n")
    except OSError as exc:
        logger.warning("could not install system skills under %s: %s", root, exc)
