"""The apply_patch engine: plan file changes from a parsed patch, then apply them.

`plan_patch` reads the files and computes every new content without writing
(verification; used for approval requests and `fileChange` items).
`apply_changes` writes the planned changes in patch order, atomically per file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pycodex.atomic import atomic_write
from pycodex.core.diffs import TrackedChange, split_lines_keepends, unified_diff
from pycodex.core.tools.apply_patch_parser import (
    AddFile,
    ApplyPatchInvocation,
    DeleteFile,
    ImplicitInvocationError,
    Patch,
    PatchParseError,
    UpdateChunk,
    UpdateFile,
    detect_apply_patch,
    parse_patch,
    rust_lines,
    rust_trim,
    rust_trim_end,
)

if TYPE_CHECKING:
    from pycodex.core.write_guard import WriteGuard

__all__ = [
    "ApplyPatchInvocation",
    "ApplyResult",
    "FileChange",
    "ImplicitInvocationError",
    "Patch",
    "PatchApplyError",
    "PatchParseError",
    "apply_changes",
    "changes_to_wire",
    "detect_apply_patch",
    "first_refusal",
    "format_tool_output",
    "format_wall_time",
    "parse_patch",
    "plan_patch",
    "rejected_message",
    "seek_sequence",
    "verification_failed_message",
]

SUCCESS_HEADER = "Success. Updated the following files:\n"
FILE_CHANGE_DIFF_CONTEXT = 1

ChangeKind = Literal["add", "delete", "update"]


class PatchApplyError(Exception):
    """The patch parsed but cannot be applied to the files (text as the reference)."""


# --------------------------------------------------------------------------- matching

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
            " ",
        ),
    }
)


def _normalise(text: str) -> str:
    return rust_trim(text).translate(_PUNCTUATION)


_PASSES: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    rust_trim_end,
    rust_trim,
    _normalise,
)


def seek_sequence(lines: list[str], pattern: list[str], start: int, eof: bool) -> int | None:
    """Index where `pattern` occurs at or after `start` (only at the very end when `eof`).

    Four passes from strict to loose: exact, trailing whitespace ignored, both
    sides trimmed, then typographic punctuation normalised.
    """
    if not pattern:
        return start
    if len(pattern) > len(lines):
        return None
    last = len(lines) - len(pattern)
    first = max(start, last) if eof else start
    for key in _PASSES:
        wanted = [key(p) for p in pattern]
        for i in range(first, last + 1):
            if all(key(lines[i + j]) == wanted[j] for j in range(len(pattern))):
                return i
    return None


Ops = list[tuple[str, str]]


def _chunk_ops(chunk: UpdateChunk) -> Ops:
    if chunk.ops:
        return list(chunk.ops)
    return [("-", t) for t in chunk.old_lines] + [("+", t) for t in chunk.new_lines]


def _drop_trailing_blank(ops: Ops, drop_new: bool) -> Ops:
    """Ops without the final old line (and the final new line when `drop_new`)."""
    flags = [[op != "+", op != "-", text] for op, text in ops]
    last_old = max(i for i, f in enumerate(flags) if f[0])
    flags[last_old][0] = False
    if drop_new:
        last_new = max(i for i, f in enumerate(flags) if f[1])
        flags[last_new][1] = False
    kinds = {(True, True): " ", (True, False): "-", (False, True): "+"}
    return [
        (kinds[(bool(f[0]), bool(f[1]))], str(f[2])) for f in flags if f[0] or f[1]
    ]


def _locate(lines: list[str], path: str, chunks: list[UpdateChunk]) -> list[tuple[int, Ops]]:
    """Where each chunk applies (in patch order), with the ops to perform there."""
    out: list[tuple[int, Ops]] = []
    cursor = 0
    for chunk in chunks:
        if chunk.change_context is not None:
            idx = seek_sequence(lines, [chunk.change_context], cursor, False)
            if idx is None:
                raise PatchApplyError(f"Failed to find context '{chunk.change_context}' in {path}")
            cursor = idx + 1
        ops = _chunk_ops(chunk)
        if not chunk.old_lines:
            out.append((len(lines), ops))
            continue
        pattern = chunk.old_lines
        found = seek_sequence(lines, pattern, cursor, chunk.is_end_of_file)
        if found is None and pattern[-1] == "":
            pattern = pattern[:-1]
            drop_new = bool(chunk.new_lines) and chunk.new_lines[-1] == ""
            ops = _drop_trailing_blank(ops, drop_new)
            found = seek_sequence(lines, pattern, cursor, chunk.is_end_of_file)
        if found is None:
            raise PatchApplyError(
                f"Failed to find expected lines in {path}:\n" + "\n".join(chunk.old_lines)
            )
        out.append((found, ops))
        cursor = found + len(pattern)
    return out


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(("\n", "\r")) else line


def apply_chunks(original: str, path: str, chunks: list[UpdateChunk]) -> str:
    """New content after applying `chunks` to `original`.

    Edits are placed by position in the original: context lines stay as they are
    in the file, removed lines go, and each run of added lines is inserted where
    its run of changes begins (insertions at one position keep patch order;
    pure additions go at the end). Kept lines
    keep their own endings; new lines use the first line's ending (LF by
    default); the result always ends with a line ending.
    """
    raw = split_lines_keepends(original)
    eol = "\r\n" if raw and raw[0].endswith("\r\n") else "\n"
    inserts: dict[int, list[str]] = {}
    deleted: set[int] = set()
    for found, ops in _locate([_strip_eol(r) for r in raw], path, chunks):
        pos = found
        block: int | None = None  # where the current run of changes began
        for op, text in ops:
            if op == " ":
                block = None
                pos += 1
                continue
            if block is None:
                block = pos
            if op == "+":
                inserts.setdefault(block, []).append(text + eol)
            else:
                deleted.add(pos)
                pos += 1
    out: list[str] = []
    for idx in range(len(raw) + 1):
        out.extend(inserts.get(idx, ()))
        if idx < len(raw) and idx not in deleted:
            out.append(raw[idx])
    return "".join(line if line.endswith(("\n", "\r")) else line + eol for line in out)


# --------------------------------------------------------------------------- planning


def _io_text(err: OSError | UnicodeDecodeError) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "stream did not contain valid UTF-8"
    if err.errno is not None and err.strerror:
        return f"{err.strerror} (os error {err.errno})"
    return str(err)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _resolve(cwd: str, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


@dataclass
class FileChange:
    """One planned file change (paths absolute; `display_*` as written in the patch)."""

    path: str
    kind: ChangeKind
    display_path: str
    old_content: str | None = None
    new_content: str | None = None
    move_path: str | None = None
    display_move_path: str | None = None
    unified_diff: str = ""
    overwritten_move_content: str | None = None

    @property
    def diff(self) -> str:
        """The `diff` text of a `fileChange` entry (content for add/delete)."""
        if self.kind == "add":
            return self.new_content or ""
        if self.kind == "delete":
            return self.old_content or ""
        return self.unified_diff

    def to_wire(self) -> dict[str, Any]:
        """`FileUpdateChange` as sent in `fileChange` items."""
        kind: dict[str, Any] = {"type": self.kind}
        if self.kind == "update":
            kind["move_path"] = self.move_path
        return {"path": self.path, "kind": kind, "diff": self.diff}

    def tracked(self) -> TrackedChange:
        """The form the turn diff tracker consumes."""
        return TrackedChange(
            path=self.path,
            kind=self.kind,
            old_content=self.old_content,
            new_content=self.new_content,
            move_path=self.move_path,
            overwritten_move_content=self.overwritten_move_content,
        )


@dataclass
class _Overlay:
    """File contents as earlier hunks of the same patch leave them."""

    files: dict[str, str | None] = field(default_factory=dict)

    def read(self, path: str) -> str:
        if path in self.files:
            content = self.files[path]
            if content is None:
                raise FileNotFoundError(2, "No such file or directory")
            return content
        return _read_text(path)

    def peek(self, path: str) -> str | None:
        try:
            return self.read(path)
        except (OSError, UnicodeDecodeError):
            return None


def plan_patch(patch: Patch, cwd: str) -> list[FileChange]:
    """Compute every change of `patch` relative to `cwd` without writing anything.

    Raises `PatchApplyError` with the reference's wording when a file cannot be
    read or a hunk does not match.
    """
    overlay = _Overlay()
    changes: list[FileChange] = []
    for hunk in patch.hunks:
        path = _resolve(cwd, hunk.path)
        if isinstance(hunk, AddFile):
            changes.append(
                FileChange(
                    path=path,
                    kind="add",
                    display_path=hunk.path,
                    old_content=overlay.peek(path),
                    new_content=hunk.contents,
                )
            )
            overlay.files[path] = hunk.contents
        elif isinstance(hunk, DeleteFile):
            try:
                content = overlay.read(path)
            except (OSError, UnicodeDecodeError) as err:
                raise PatchApplyError(f"Failed to read {path}: {_io_text(err)}") from err
            changes.append(
                FileChange(path=path, kind="delete", display_path=hunk.path, old_content=content)
            )
            overlay.files[path] = None
        else:
            changes.append(_plan_update(hunk, path, cwd, overlay))
    return changes


def _plan_update(hunk: UpdateFile, path: str, cwd: str, overlay: _Overlay) -> FileChange:
    try:
        original = overlay.read(path)
    except (OSError, UnicodeDecodeError) as err:
        raise PatchApplyError(f"Failed to read file to update {path}: {_io_text(err)}") from err
    new_content = apply_chunks(original, path, hunk.chunks)
    move_path = _resolve(cwd, hunk.move_path) if hunk.move_path is not None else None
    overwritten = overlay.peek(move_path) if move_path is not None else None
    change = FileChange(
        path=path,
        kind="update",
        display_path=hunk.path,
        old_content=original,
        new_content=new_content,
        move_path=move_path,
        display_move_path=hunk.move_path,
        unified_diff=unified_diff(original, new_content, context=FILE_CHANGE_DIFF_CONTEXT),
        overwritten_move_content=overwritten,
    )
    if move_path is not None:
        overlay.files[path] = None
        overlay.files[move_path] = new_content
    else:
        overlay.files[path] = new_content
    return change


def changes_to_wire(changes: Iterable[FileChange]) -> list[dict[str, Any]]:
    """`fileChange.changes`: one entry per path (last change wins), sorted by path."""
    by_path: dict[str, FileChange] = {}
    for change in changes:
        by_path[change.path] = change
    return [by_path[p].to_wire() for p in sorted(by_path)]


# --------------------------------------------------------------------------- applying


@dataclass
class ApplyResult:
    """Outcome of `apply_changes`, shaped like the reference's apply_patch process."""

    exit_code: int
    stdout: str
    stderr: str
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    applied: list[FileChange] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when every change was written."""
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """Combined stdout and stderr (what the model sees after `Output:`)."""
        return self.stdout + self.stderr


def atomic_write_text(path: str, content: str) -> None:
    """Write `content` to `path` via a temp file + `os.replace`, keeping mode bits."""
    atomic_write(path, content)


def _make_parents(path: str) -> None:
    parent = os.path.dirname(path)
    if parent:
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as err:
            raise PatchApplyError(f"Failed to create parent directories for {path}") from err


def _refusal(change: FileChange, guard: WriteGuard | None) -> str | None:
    """The failure text when ``guard`` refuses one of the writes ``change`` makes."""
    if guard is None:
        return None
    path = change.path
    if change.kind == "add":
        return None if guard.allows_write(path) else f"Failed to write file {path}"
    if change.kind == "delete":
        return None if guard.allows_unlink(path) else f"Failed to delete file {path}"
    if change.move_path is not None:
        if not guard.allows_write(change.move_path):
            return f"Failed to write file {change.move_path}"
        return None if guard.allows_unlink(path) else f"Failed to remove original {path}"
    return None if guard.allows_write(path) else f"Failed to write file {path}"


def first_refusal(changes: Iterable[FileChange], guard: WriteGuard) -> str | None:
    """The failure text of the first change ``guard`` refuses (nothing is written)."""
    for change in changes:
        refused = _refusal(change, guard)
        if refused is not None:
            return refused
    return None


def _apply_one(change: FileChange, result: ApplyResult, guard: WriteGuard | None) -> None:
    refused = _refusal(change, guard)
    if refused is not None:
        raise PatchApplyError(refused)
    path = change.path
    if change.kind == "add":
        _make_parents(path)
        try:
            atomic_write_text(path, change.new_content or "")
        except OSError as err:
            raise PatchApplyError(f"Failed to write file {path}") from err
        result.added.append(change.display_path)
    elif change.kind == "delete":
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                raise IsADirectoryError(21, "Is a directory")
            os.remove(path)
        except OSError as err:
            raise PatchApplyError(f"Failed to delete file {path}") from err
        result.deleted.append(change.display_path)
    elif change.move_path is not None:
        dest = change.move_path
        _make_parents(dest)
        try:
            atomic_write_text(dest, change.new_content or "")
        except OSError as err:
            raise PatchApplyError(f"Failed to write file {dest}") from err
        try:
            os.remove(path)
        except OSError as err:
            raise PatchApplyError(f"Failed to remove original {path}") from err
        result.modified.append(change.display_move_path or dest)
    else:
        try:
            atomic_write_text(path, change.new_content or "")
        except OSError as err:
            raise PatchApplyError(f"Failed to write file {path}") from err
        result.modified.append(change.display_path)


def apply_changes(changes: list[FileChange], guard: WriteGuard | None = None) -> ApplyResult:
    """Write planned changes in order; stop at the first failure (earlier writes stay).

    ``guard`` confines the writes (resolved through symlinks) the way the sandbox would.
    """
    result = ApplyResult(exit_code=0, stdout="", stderr="")
    if not changes:
        result.exit_code = 1
        result.stderr = "No files were modified.\n"
        return result
    for change in changes:
        try:
            _apply_one(change, result, guard)
        except PatchApplyError as err:
            result.exit_code = 1
            result.stderr = f"{err}\n"
            return result
        result.applied.append(change)
    lines = [SUCCESS_HEADER]
    lines += [f"A {p}\n" for p in result.added]
    lines += [f"M {p}\n" for p in result.modified]
    lines += [f"D {p}\n" for p in result.deleted]
    result.stdout = "".join(lines)
    return result


# --------------------------------------------------------------------------- texts


def format_wall_time(seconds: float) -> str:
    """Seconds rounded to one decimal, printed the way the reference prints an f32."""
    tenths = math.floor(max(seconds, 0.0) * 10 + 0.5)
    whole, frac = divmod(tenths, 10)
    return str(whole) if frac == 0 else f"{whole}.{frac}"


def format_tool_output(
    exit_code: int,
    wall_seconds: float,
    output: str,
    *,
    truncate: Callable[[str], str] | None = None,
) -> str:
    """The `Exit code / Wall time / Output` text returned to the model."""
    shown = truncate(output) if truncate is not None else output
    total_lines = len(rust_lines(output))
    sections = [f"Exit code: {exit_code}", f"Wall time: {format_wall_time(wall_seconds)} seconds"]
    if total_lines != len(rust_lines(shown)):
        sections.append(f"Total output lines: {total_lines}")
    sections += ["Output:", shown]
    return "\n".join(sections)


def verification_failed_message(error: Exception) -> str:
    """Model-facing text for a patch that failed to parse or verify."""
    return f"apply_patch verification failed: {error}"


def rejected_message(reason: str) -> str:
    """Model-facing text for a patch rejected by the safety check."""
    return f"patch rejected: {reason}"
