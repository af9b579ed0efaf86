"""What the model is told before the user speaks: the initial context of a thread
(permissions, developer instructions, AGENTS.md, environment) and each turn's
``turn_context`` rollout record."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pycodex.core import instructions
from pycodex.core.host import TurnSettings
from pycodex.core.turn.history import ResponseItem, message
from pycodex.core.turn_context import turn_context_payload


def writable_roots(settings: TurnSettings) -> list[str]:
    roots = [str(settings.cwd)]
    roots += [r for r in settings.sandbox_policy.get("writableRoots") or []
              if isinstance(r, str)]
    return roots


def initial_context(settings: TurnSettings, codex_home: Path) -> list[ResponseItem]:
    """The items recorded once, before a thread's first user message."""
    s = settings
    roots = writable_roots(s)
    developer_parts = [_permissions(s, roots)]
    if s.developer_instructions:
        developer_parts.append(s.developer_instructions)
    items: list[ResponseItem] = [{
        "type": "message", "role": "developer",
        "content": [{"type": "input_text", "text": t} for t in developer_parts]}]
    docs = instructions.discover_agents_md(codex_home, s.cwd, s.config)
    if docs.text:
        items.append(message("user", instructions.agents_md_message(s.cwd, docs.text)))
    items.append(_environment(s, roots))
    return items


def _permissions(s: TurnSettings, roots: list[str]) -> str:
    return instructions.permissions_text(s.sandbox_policy, s.approval_policy, roots)


def _environment(s: TurnSettings, roots: list[str]) -> ResponseItem:
    return message("user", instructions.environment_context(
        s.cwd, _user_shell(), s.sandbox_policy, roots))


def told_settings(settings: TurnSettings) -> tuple[Any, ...]:
    """What the model has been told of ``settings`` (its permissions and where it works):
    when this changes between turns, :func:`settings_update` tells it again."""
    return (settings.sandbox_policy, settings.approval_policy, str(settings.cwd))


def settings_update(told: tuple[Any, ...], settings: TurnSettings) -> list[ResponseItem]:
    """The items that tell the model what changed since ``told`` (as the reference does
    after ``/permissions`` or a new cwd): the permissions again, the environment again."""
    sandbox, approval, cwd = told
    s = settings
    roots = writable_roots(s)
    items: list[ResponseItem] = []
    if (sandbox, approval) != (s.sandbox_policy, s.approval_policy):
        items.append(message("developer", _permissions(s, roots)))
    if cwd != str(s.cwd):
        items.append(_environment(s, roots))
    return items


def turn_context_line(settings: TurnSettings, turn_id: str) -> tuple[str, dict[str, Any]]:
    """The ``turn_context`` rollout line of a turn (the reference's format, see
    :mod:`pycodex.core.turn_context`)."""
    return ("turn_context", turn_context_payload(turn_id, settings))


def _user_shell() -> str:
    return os.path.basename(os.environ.get("SHELL") or "bash") or "bash"
