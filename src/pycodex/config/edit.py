"""Format-preserving edits of ``config.toml`` (comments, order and unknown keys survive),
atomic replacement on disk, and the cross-process write lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, InlineTable, Item, Table

from pycodex.atomic import atomic_write

TomlNode = Container | Table | InlineTable


def to_item(value: Any, *, inline: bool = False) -> Any:
    """Plain data → a tomlkit value; tables become ``[headers]`` unless ``inline``."""
    if isinstance(value, dict):
        if inline:
            table: Any = tomlkit.inline_table()
            for key, child in value.items():
                table[key] = to_item(child, inline=True)
            return table
        table = tomlkit.table()
        scalars = {k: v for k, v in value.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in value.items() if isinstance(v, dict)}
        for key, child in scalars.items():
            table[key] = to_item(child, inline=True)
        for key, child in tables.items():
            table[key] = to_item(child)
        return table
    if isinstance(value, list) and value and not inline and all(
        isinstance(child, dict) for child in value
    ):  # ``[[array.of.tables]]``, as the reference writes such lists
        array_of_tables: AoT = tomlkit.aot()
        for child in value:
            array_of_tables.append(to_item(child))
        return array_of_tables
    if isinstance(value, list):
        array = tomlkit.array()
        for child in value:
            array.append(to_item(child, inline=True))
        return array
    return value


def _is_table(node: Any) -> bool:
    return isinstance(node, (Container, Table, InlineTable))


def _child_table(node: TomlNode, key: str) -> TomlNode:
    """``node[key]`` as a table, creating it (or replacing a non-table) as needed."""
    existing = node.get(key) if key in node else None
    if isinstance(existing, (Container, Table, InlineTable)):
        return existing
    if isinstance(node, InlineTable):
        node[key] = tomlkit.inline_table()
    else:
        node[key] = tomlkit.table(is_super_table=True)
    return node[key]  # type: ignore[no-any-return]


def _sync(node: TomlNode, key: str, value: Any) -> None:
    """Make ``node[key]`` equal ``value`` touching as little text as possible."""
    existing = node.get(key) if key in node else None
    if isinstance(value, dict) and _is_table(existing):
        assert existing is not None
        for child in [k for k in existing if k not in value]:
            del existing[child]
        for child_key, child_value in value.items():
            _sync(existing, child_key, child_value)
        if (
            isinstance(existing, Table)
            and existing.is_super_table()
            and any(not isinstance(v, dict) for v in value.values())
        ):
            existing._is_super_table = False
        return
    if existing is not None and not isinstance(existing, AoT) and _plain(existing) == value:
        return
    node[key] = to_item(value, inline=isinstance(node, InlineTable))


def _plain(item: Any) -> Any:
    if isinstance(item, Item):
        return item.unwrap()
    return item


def set_path(doc: tomlkit.TOMLDocument, segments: list[str], value: Any) -> None:
    node: TomlNode = doc
    for segment in segments[:-1]:
        node = _child_table(node, segment)
    _sync(node, segments[-1], value)


def clear_path(doc: tomlkit.TOMLDocument, segments: list[str]) -> None:
    node: Any = doc
    for segment in segments[:-1]:
        if not _is_table(node) or segment not in node:
            return
        node = node[segment]
    if _is_table(node) and segments[-1] in node:
        del node[segments[-1]]


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename; an
    existing file keeps its permission bits, a new one is created 0600."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text, new_file_mode=0o600, durable=True)


def lock_path(config_path: Path) -> Path:
    return config_path.with_name(config_path.name + ".lock")


@contextlib.contextmanager
def file_lock(config_path: Path) -> Iterator[None]:
    """Exclusive ``flock`` on ``config.toml.lock`` beside the config (blocks until free)."""
    path = lock_path(config_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
