"""Reading one ``SKILL.md``: YAML front matter (PyYAML) and the optional
``agents/openai.yaml`` metadata. Error texts are the reference's."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from pycodex.core.skills.model import Interface, Scope, Skill, ToolDependency

logger = logging.getLogger(__name__)

MAX_NAME_LEN = 64
MAX_DESCRIPTION_LEN = 1024
MISSING_FRONTMATTER = "missing YAML frontmatter delimited by ---"
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


class SkillParseError(Exception):
    """A ``SKILL.md`` that cannot be used; ``str()`` is the message ``skills/list`` shows."""


def single_line(text: str) -> str:
    return " ".join(text.split())


def front_matter(contents: str) -> str | None:
    """The text between a first ``---`` line and the next one; ``None`` when absent or empty."""
    lines = contents.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    body: list[str] = []
    for line in lines[1:]:
        if line.strip() == "---":
            return "\n".join(body) if body else None
        body.append(line)
    return None


def _lenient_mapping(text: str) -> dict[str, Any] | None:
    """``key: value`` lines read literally, for front matter that is not valid YAML (an
    unbalanced ``[`` in a name is still a usable name)."""
    result: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line[:1].isspace():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            return None
        result[key.strip()] = value.strip()
    return result or None


def _yaml_mapping(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        lenient = _lenient_mapping(text)
        if lenient is None:
            raise SkillParseError(f"invalid YAML: {_yaml_message(exc)}") from None
        return lenient
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SkillParseError("invalid YAML: expected a mapping")
    return data


def _yaml_message(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if isinstance(problem, str) and mark is not None:
        return f"{problem} at line {mark.line + 1} column {mark.column + 1}"
    return " ".join(str(exc).split())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def _check_len(value: str, limit: int, field: str) -> None:
    if not value:
        raise SkillParseError(f"missing field `{field}`")
    if len(value) > limit:
        raise SkillParseError(f"invalid {field}: exceeds maximum length of {limit} characters")


def parse_skill(path: Path, root: Path, scope: Scope) -> Skill:
    """The skill in ``path``; raises :class:`SkillParseError`."""
    try:
        contents = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillParseError(f"failed to read file: {exc}") from None
    text = front_matter(contents)
    if text is None:
        raise SkillParseError(MISSING_FRONTMATTER)
    fields = _yaml_mapping(text)
    name = single_line(_text(fields.get("name")) or "") or single_line(path.parent.name) \
        or "skill"
    description = single_line(_text(fields.get("description")) or "")
    metadata = fields.get("metadata")
    short = None
    if isinstance(metadata, dict):
        short = single_line(_text(metadata.get("short-description")) or "") or None
    _check_len(name, MAX_NAME_LEN, "name")
    _check_len(description, MAX_DESCRIPTION_LEN, "description")
    if short is not None:
        _check_len(short, MAX_DESCRIPTION_LEN, "metadata.short-description")
    interface, dependencies = _metadata_file(path.parent)
    return Skill(name=name, description=description, path=path, root=root, scope=scope,
                 short_description=short, interface=interface, dependencies=dependencies)


def _metadata_file(skill_dir: Path) -> tuple[Interface | None, tuple[ToolDependency, ...]]:
    """``agents/openai.yaml``: fail open, a bad file is ignored (and logged)."""
    import yaml

    path = skill_dir / "agents" / "openai.yaml"
    if not path.is_file():
        return None, ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        logger.warning("ignoring %s: %s", path, exc)
        return None, ()
    if not isinstance(data, dict):
        return None, ()
    return _interface(data.get("interface"), skill_dir), _dependencies(data.get("dependencies"))


def _short(value: Any, limit: int) -> str | None:
    text = single_line(_text(value) or "")
    return text if text and len(text) <= limit else None


def _icon(value: Any, skill_dir: Path) -> str | None:
    raw = _text(value)
    if not raw:
        return None
    relative = Path(raw)
    parts = [p for p in relative.parts if p != "."]
    if relative.is_absolute() or ".." in parts or not parts or parts[0] != "assets":
        logger.warning("ignoring icon %s: it must be a path under assets/", raw)
        return None
    return str(skill_dir.joinpath(*parts))


def _interface(value: Any, skill_dir: Path) -> Interface | None:
    if not isinstance(value, dict):
        return None
    color = (_text(value.get("brand_color")) or "").strip()
    interface = Interface(
        display_name=_short(value.get("display_name"), MAX_NAME_LEN),
        short_description=_short(value.get("short_description"), MAX_DESCRIPTION_LEN),
        icon_small=_icon(value.get("icon_small"), skill_dir),
        icon_large=_icon(value.get("icon_large"), skill_dir),
        brand_color=color if _COLOR.fullmatch(color) else None,
        default_prompt=_short(value.get("default_prompt"), MAX_DESCRIPTION_LEN),
    )
    return interface if interface != Interface() else None


def _dependencies(value: Any) -> tuple[ToolDependency, ...]:
    tools = value.get("tools") if isinstance(value, dict) else None
    out: list[ToolDependency] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        kind = _short(tool.get("type"), MAX_NAME_LEN)
        val = _short(tool.get("value"), MAX_DESCRIPTION_LEN)
        if kind is None or val is None:
            continue
        out.append(ToolDependency(
            type=kind, value=val,
            description=_short(tool.get("description"), MAX_DESCRIPTION_LEN),
            transport=_short(tool.get("transport"), MAX_NAME_LEN),
            command=_short(tool.get("command"), MAX_DESCRIPTION_LEN),
            url=_short(tool.get("url"), MAX_DESCRIPTION_LEN)))
    return tuple(out)
