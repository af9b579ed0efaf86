"""What the model is told before the user speaks: base instructions, the permissions
note, AGENTS.md project docs and the environment context."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import msgspec

BASE_INSTRUCTIONS = """\
You are pycodex, a coding agent working in the user's workspace through tools. Your job is to \
understand what the user wants and get it done carefully, then say briefly what you did.

## How you work
- Read before you change: look at the relevant files and conventions first.
- Make focused changes that fit the existing style; do not reformat unrelated code.
- Edit files with the `apply_patch` tool. Run commands with `exec_command`; prefer fast \
read-only tools such as `rg` for searching.
- Check your work when you can: run the project's tests or a quick command that shows the \
change works.
- If something is ambiguous or risky (deleting data, large rewrites), ask first.
- Keep the user informed on longer tasks with short progress notes, and keep a plan with \
`update_plan` when the work has several steps.

## Answers
Be concise and concrete. Mention the files you changed and anything the user still has to do. \
Use Markdown sparingly: short lists, code in backticks, no heavy headings for short answers.
"""

AGENTS_FILENAMES = ("AGENTS.override.md", "AGENTS.md")
DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024
PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n"


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (``xml.sax.saxutils`` would pull in
    ``urllib.request`` for this)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ProjectDocs(msgspec.Struct, frozen=True):
    text: str
    sources: list[str]


def _read_nonblank(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return text if text.strip() else None


def find_project_root(cwd: Path, markers: list[str]) -> Path:
    if not markers:
        return cwd
    for directory in (cwd, *cwd.parents):
        if any((directory / marker).exists() for marker in markers):
            return directory
    return cwd


def discover_agents_md(codex_home: Path, cwd: Path, config: dict[str, Any]) -> ProjectDocs:
    """User-level AGENTS.md, then one file per directory from the project root down to
    ``cwd``, within ``project_doc_max_bytes``."""
    parts: list[str] = []
    sources: list[str] = []
    for name in AGENTS_FILENAMES:
        user_doc = codex_home / name
        text = _read_nonblank(user_doc)
        if text is not None:
            parts.append(text.strip())
            sources.append(str(user_doc))
            break
    budget = config.get("project_doc_max_bytes", DEFAULT_PROJECT_DOC_MAX_BYTES)
    budget = budget if isinstance(budget, int) else DEFAULT_PROJECT_DOC_MAX_BYTES
    markers = config.get("project_root_markers", [".git"])
    markers = [m for m in markers if isinstance(m, str)] if isinstance(markers, list) else [".git"]
    fallbacks = config.get("project_doc_fallback_filenames") or []
    names = [*AGENTS_FILENAMES, *(f for f in fallbacks if isinstance(f, str))]
    project: list[str] = []
    if budget > 0:
        root = find_project_root(cwd, markers)
        chain = [cwd, *cwd.parents]
        directories = list(reversed(chain[: chain.index(root) + 1])) if root in chain else [cwd]
        remaining = budget
        for directory in directories:
            for name in names:
                candidate = directory / name
                if not candidate.is_file():
                    continue
                text = _read_nonblank(candidate)
                if text is None:
                    continue
                data = text.encode()
                if len(data) > remaining:
                    text = data[:remaining].decode("utf-8", errors="ignore")
                remaining -= len(text.encode())
                project.append(text.strip())
                sources.append(str(candidate))
                break
            if remaining <= 0:
                break
    combined = "\n\n".join(parts)
    if project:
        joined = "\n\n".join(project)
        combined = f"{combined}{PROJECT_DOC_SEPARATOR}{joined}" if combined else joined
    return ProjectDocs(combined, sources)


def agents_md_message(cwd: Path, text: str) -> str:
    return f"# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n{text}\n</INSTRUCTIONS>"


def _timezone() -> str:
    tz = os.environ.get("TZ")
    if tz:
        return tz
    try:
        link = os.readlink("/etc/localtime")
        return link.split("zoneinfo/", 1)[1]
    except (OSError, IndexError):
        return time.tzname[0] or "UTC"


def environment_context(cwd: Path, shell: str, sandbox: dict[str, Any],
                        writable_roots: list[str]) -> str:
    kind = sandbox.get("type")
    if kind == "dangerFullAccess" or kind == "externalSandbox":
        profile = '<permission_profile type="disabled"><file_system type="unrestricted" />' \
                  "</permission_profile>"
    elif kind == "workspaceWrite":
        roots = "".join(f"<root>{escape(r)}</root>" for r in writable_roots)
        network = "enabled" if sandbox.get("networkAccess") else "restricted"
        profile = (f'<permission_profile type="workspace_write"><writable_roots>{roots}'
                   f'</writable_roots><network>{network}</network></permission_profile>')
    else:
        network = "enabled" if sandbox.get("networkAccess") else "restricted"
        profile = (f'<permission_profile type="read_only"><network>{network}</network>'
                   "</permission_profile>")
    return (
        "<environment_context>\n"
        f"  <cwd>{escape(str(cwd))}</cwd>\n"
        f"  <shell>{escape(shell)}</shell>\n"
        f"  <current_date>{time.strftime('%Y-%m-%d')}</current_date>\n"
        f"  <timezone>{escape(_timezone())}</timezone>\n"
        f"  <filesystem><workspace_roots><root>{escape(str(cwd))}</root></workspace_roots>"
        f"{profile}</filesystem>\n"
        "</environment_context>"
    )


_SANDBOX_TEXT = {
    "readOnly": "The sandbox only permits reading files. Writing files and network access are "
    "blocked.",
    "workspaceWrite": "The sandbox permits reading any file and editing files in the working "
    "directory and the writable roots; `.git` stays read-only. Editing elsewhere needs approval.",
    "dangerFullAccess": "There is no sandbox: commands run with full access to the machine and "
    "the network.",
    "externalSandbox": "Commands run inside a sandbox managed by the host application.",
}

_APPROVAL_TEXT = {
    "never": "Approval policy is `never`: you are never asked for approval and cannot ask for "
    "it; commands the sandbox blocks fail, so work within the sandbox.",
    "on-request": "Approval policy is `on-request`: commands run in the sandbox; when one truly "
    "needs to run outside it, call `exec_command` with `sandbox_permissions` set to "
    '`"require_escalated"` and a one-sentence `justification`; the user decides.',
    "on-failure": "Approval policy is `on-failure`: commands run in the sandbox and, when the "
    "sandbox blocks one, the user is asked whether to run it without the sandbox.",
    "untrusted": "Approval policy is `untrusted`: only known read-only commands run without "
    "asking; everything else (including file edits) waits for the user's approval.",
}


def permissions_text(sandbox: dict[str, Any], approval: Any, writable_roots: list[str]) -> str:
    kind = sandbox.get("type", "readOnly")
    lines = ["<permissions instructions>", _SANDBOX_TEXT.get(kind, _SANDBOX_TEXT["readOnly"])]
    if kind == "workspaceWrite" and writable_roots:
        lines.append("Writable roots: " + ", ".join(f"`{r}`" for r in writable_roots) + ".")
    if kind != "dangerFullAccess":
        network = sandbox.get("networkAccess") in (True, "enabled")
        lines.append("Network access is " + ("enabled." if network else "restricted."))
    policy = approval if isinstance(approval, str) else "on-request"
    lines.append(_APPROVAL_TEXT.get(policy, _APPROVAL_TEXT["on-request"]))
    lines.append("</permissions instructions>")
    return "\n".join(lines)
