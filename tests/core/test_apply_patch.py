"""apply_patch engine: grammar, leniency, matching, application, texts, diffs, safety."""

from __future__ import annotations

import os
import random
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from pycodex.core.diffs import TurnDiffTracker, unified_diff
from pycodex.core.tools.apply_patch import (
    ApplyResult,
    FileChange,
    PatchApplyError,
    apply_changes,
    changes_to_wire,
    format_tool_output,
    format_wall_time,
    plan_patch,
    rejected_message,
    seek_sequence,
    verification_failed_message,
)
from pycodex.core.tools.apply_patch_parser import (
    AddFile,
    DeleteFile,
    ImplicitInvocationError,
    PatchParseError,
    UpdateChunk,
    UpdateFile,
    detect_apply_patch,
    parse_patch,
)
from pycodex.core.tools.apply_patch_safety import (
    PATCH_REJECTED_OUTSIDE_PROJECT,
    PATCH_REJECTED_READ_ONLY,
    SafetyCheck,
    assess_patch_safety,
)

UNEXPECTED = (
    "Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)"
)


def wrap(body: str) -> str:
    return f"*** Begin Patch\n{body}\n*** End Patch\n"


def run(cwd: Path, patch_text: str) -> tuple[list[FileChange], ApplyResult]:
    changes = plan_patch(parse_patch(patch_text), str(cwd))
    return changes, apply_changes(changes)


def parse_error(text: str) -> str:
    with pytest.raises(PatchParseError) as info:
        parse_patch(text)
    return str(info.value)


def plan_error(cwd: Path, text: str) -> str:
    with pytest.raises(PatchApplyError) as info:
        plan_patch(parse_patch(text), str(cwd))
    return str(info.value)


# --------------------------------------------------------------------------- grammar


def test_every_construct_parses_into_hunks() -> None:
    patch = parse_patch(
        wrap(
            "*** Add File: path/add.py\n+abc\n+def\n"
            "*** Delete File: path/delete.py\n"
            "*** Update File: path/update.py\n*** Move to: path/update2.py\n"
            "@@ def f():\n-    pass\n+    return 123\n"
            "@@\n context\n-old\n+new\n*** End of File\n"
            "*** Update File: other.py\n import foo\n+bar"
        )
    )
    assert patch.hunks == [
        AddFile(path="path/add.py", contents="abc\ndef\n"),
        DeleteFile(path="path/delete.py"),
        UpdateFile(
            path="path/update.py",
            move_path="path/update2.py",
            chunks=[
                UpdateChunk("def f():", ["    pass"], ["    return 123"], False),
                UpdateChunk(None, ["context", "old"], ["context", "new"], True),
            ],
        ),
        UpdateFile(
            path="other.py",
            move_path=None,
            chunks=[UpdateChunk(None, ["import foo"], ["import foo", "bar"], False)],
        ),
    ]


def test_empty_lines_in_chunk_are_context_and_blank_lines_between_chunks_skipped() -> None:
    patch = parse_patch(
        wrap(
            "*** Update File: a.txt\n@@ ctx\n\n keep\n-x\n+y\n   \n*** End of File\n"
            "\n  \n@@\n-z\n+w"
        )
    )
    (hunk,) = patch.hunks
    assert isinstance(hunk, UpdateFile)
    assert hunk.chunks == [
        UpdateChunk("ctx", ["", "keep", "x", "  "], ["", "keep", "y", "  "], True),
        UpdateChunk(None, ["z"], ["w"], False),
    ]


def test_pure_addition_chunk_followed_by_another_file() -> None:
    patch = parse_patch(wrap("*** Update File: file.py\n@@\n+line\n*** Add File: other.py\n+x"))
    assert patch.hunks == [
        UpdateFile("file.py", None, [UpdateChunk(None, [], ["line"], False)]),
        AddFile("other.py", "x\n"),
    ]


def test_add_file_without_lines_is_an_empty_file() -> None:
    assert parse_patch(wrap("*** Add File: empty.txt")).hunks == [AddFile("empty.txt", "")]


def test_patch_without_operations_parses_to_no_hunks() -> None:
    assert parse_patch("*** Begin Patch\n*** End Patch").hunks == []


def test_patch_text_excludes_heredoc_wrapper() -> None:
    inner = "*** Begin Patch\n*** Add File: a\n+b\n*** End Patch"
    assert parse_patch(f"<<'EOF'\n{inner}\nEOF\n").text == inner


# --------------------------------------------------------------------------- leniency


def test_whitespace_padded_markers_and_headers() -> None:
    patch = parse_patch(" *** Begin Patch \n  *** Add File: foo  \n+hi\n *** End Patch\t")
    assert patch.hunks == [AddFile("foo", "hi\n")]


def test_surrounding_whitespace_and_crlf_line_endings() -> None:
    text = "\n\n  *** Begin Patch\r\n*** Update File: a\r\n@@\r\n-x\r\n+y\r\n*** End Patch\r\n\n"
    assert parse_patch(text).hunks == [UpdateFile("a", None, [UpdateChunk(None, ["x"], ["y"])])]


@pytest.mark.parametrize("opener", ["<<EOF", "<<'EOF'", '<<"EOF"'])
def test_heredoc_wrapper_is_unwrapped(opener: str) -> None:
    text = (
        f"{opener}\n*** Begin Patch\n*** Update File: f.py\n import foo\n+bar\n*** End Patch\nEOF\n"
    )
    assert parse_patch(text).hunks == [
        UpdateFile("f.py", None, [UpdateChunk(None, ["import foo"], ["import foo", "bar"])])
    ]


def test_heredoc_with_mismatched_quotes_is_not_unwrapped() -> None:
    text = "<<\"EOF'\n*** Begin Patch\n*** Add File: a\n+b\n*** End Patch\nEOF\n"
    assert (
        parse_error(text) == "invalid patch: The first line of the patch must be '*** Begin Patch'"
    )


def test_heredoc_missing_end_marker_reports_last_line() -> None:
    text = "<<EOF\n*** Begin Patch\n*** Update File: file2.py\nEOF\n"
    assert parse_error(text) == "invalid patch: The last line of the patch must be '*** End Patch'"


# --------------------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bad", "invalid patch: The first line of the patch must be '*** Begin Patch'"),
        ("", "invalid patch: The last line of the patch must be '*** End Patch'"),
        (
            "*** Begin Patch\nbad",
            "invalid patch: The last line of the patch must be '*** End Patch'",
        ),
        (
            wrap("*** Frobnicate File: x"),
            "invalid hunk at line 2, '*** Frobnicate File: x' is not a valid hunk header. "
            "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', "
            "'*** Update File: {path}'",
        ),
        (
            wrap("*** Add File: a\n+x\nstray"),
            "invalid hunk at line 4, 'stray' is not a valid hunk header. "
            "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', "
            "'*** Update File: {path}'",
        ),
        (
            wrap("*** Update File: test.py"),
            "invalid hunk at line 2, Update file hunk for path 'test.py' is empty",
        ),
        (
            wrap("*** Update File: a\n@@"),
            "invalid hunk at line 4, Update hunk does not contain any lines",
        ),
        (
            wrap("*** Update File: a\n@@\n*** End of File"),
            "invalid hunk at line 4, Update hunk does not contain any lines",
        ),
        (
            wrap("*** Update File: a\n@@\nbad"),
            f"invalid hunk at line 4, Unexpected line found in update hunk: 'bad'. {UNEXPECTED}",
        ),
        (
            wrap("*** Update File: a\n@@\n-x\n+y\nz"),
            "invalid hunk at line 6, Expected update hunk to start with a @@ context marker, "
            "got: 'z'",
        ),
        (
            wrap("*** Update File: a\n@@ class B:\n@@ def f():\n-x\n+y"),
            "invalid hunk at line 4, Unexpected line found in update hunk: '@@ def f():'. "
            f"{UNEXPECTED}",
        ),
        (
            wrap("*** Update File: a\n\t\n@@\n-a\n+b"),
            f"invalid hunk at line 3, Unexpected line found in update hunk: '\t'. {UNEXPECTED}",
        ),
        (
            wrap("*** Update File: a\n@@\n-a\n+b\n\n\t"),
            "invalid hunk at line 7, Expected update hunk to start with a @@ context marker, "
            "got: '\t'",
        ),
        (
            wrap("*** Update File: a\n@@\n-a\n*** End of File\n*** End of File"),
            "invalid hunk at line 6, Expected update hunk to start with a @@ context marker, "
            "got: '*** End of File'",
        ),
        (
            wrap("*** Update File: a\n*** End of File"),
            "invalid hunk at line 2, Update file hunk for path 'a' is empty",
        ),
        (
            wrap("*** Add File: a\n+x\n*** Update File: b\n*** Move to: c"),
            "invalid hunk at line 4, Update file hunk for path 'b' is empty",
        ),
    ],
)
def test_parse_errors_have_reference_texts(text: str, expected: str) -> None:
    assert parse_error(text) == expected


def test_parse_error_keeps_message_and_line() -> None:
    with pytest.raises(PatchParseError) as info:
        parse_patch(wrap("*** Update File: a\n@@\nbad"))
    assert info.value.line_number == 4
    assert info.value.message.startswith("Unexpected line found in update hunk: 'bad'.")
    assert verification_failed_message(info.value) == (
        f"apply_patch verification failed: {info.value}"
    )


# --------------------------------------------------------------------------- application


def test_add_file_creates_parents_and_reports(tmp_path: Path) -> None:
    changes, result = run(tmp_path, wrap("*** Add File: nested/dir/new.txt\n+one\n+two"))
    assert (tmp_path / "nested/dir/new.txt").read_text() == "one\ntwo\n"
    assert result.exit_code == 0
    assert result.stdout == "Success. Updated the following files:\nA nested/dir/new.txt\n"
    assert result.stderr == ""
    assert changes_to_wire(changes) == [
        {
            "path": str(tmp_path / "nested/dir/new.txt"),
            "kind": {"type": "add"},
            "diff": "one\ntwo\n",
        }
    ]


def test_add_overwrites_existing_file(tmp_path: Path) -> None:
    (tmp_path / "dup.txt").write_text("old\n")
    changes, result = run(tmp_path, wrap("*** Add File: dup.txt\n+new"))
    assert (tmp_path / "dup.txt").read_text() == "new\n"
    assert changes[0].old_content == "old\n"
    assert result.stdout.endswith("A dup.txt\n")


def test_delete_file(tmp_path: Path) -> None:
    (tmp_path / "obsolete.txt").write_text("gone\n")
    (tmp_path / "keep.txt").write_text("keep\n")
    changes, result = run(tmp_path, wrap("*** Delete File: obsolete.txt"))
    assert not (tmp_path / "obsolete.txt").exists()
    assert (tmp_path / "keep.txt").exists()
    assert result.stdout == "Success. Updated the following files:\nD obsolete.txt\n"
    assert changes_to_wire(changes) == [
        {"path": str(tmp_path / "obsolete.txt"), "kind": {"type": "delete"}, "diff": "gone\n"}
    ]


def test_update_with_multiple_chunks_and_unified_diff(tmp_path: Path) -> None:
    (tmp_path / "multi.txt").write_text("foo\nbar\nbaz\nqux\n")
    changes, result = run(
        tmp_path, wrap("*** Update File: multi.txt\n@@\n foo\n-bar\n+BAR\n@@\n baz\n-qux\n+QUX")
    )
    assert (tmp_path / "multi.txt").read_text() == "foo\nBAR\nbaz\nQUX\n"
    assert result.stdout == "Success. Updated the following files:\nM multi.txt\n"
    assert changes_to_wire(changes) == [
        {
            "path": str(tmp_path / "multi.txt"),
            "kind": {"type": "update", "move_path": None},
            "diff": "@@ -1,4 +1,4 @@\n foo\n-bar\n+BAR\n baz\n-qux\n+QUX\n",
        }
    ]


def test_update_diff_uses_one_line_of_context(tmp_path: Path) -> None:
    original = "".join(f"line{i}\n" for i in range(1, 11))
    (tmp_path / "f.txt").write_text(original)
    changes, _ = run(
        tmp_path, wrap("*** Update File: f.txt\n@@\n-line2\n+TWO\n@@\n line8\n-line9\n+NINE")
    )
    assert changes[0].diff == (
        "@@ -1,3 +1,3 @@\n line1\n-line2\n+TWO\n line3\n"
        "@@ -8,3 +8,3 @@\n line8\n-line9\n+NINE\n line10\n"
    )


def test_context_header_narrows_position(tmp_path: Path) -> None:
    (tmp_path / "c.py").write_text(
        "class A:\n    def f():\n        pass\nclass B:\n    def f():\n        pass\n"
    )
    run(
        tmp_path,
        wrap("*** Update File: c.py\n@@ class B:\n     def f():\n-        pass\n+        return 1"),
    )
    assert (tmp_path / "c.py").read_text() == (
        "class A:\n    def f():\n        pass\nclass B:\n    def f():\n        return 1\n"
    )


def test_first_chunk_without_header(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("import foo\nx = 1\n")
    run(tmp_path, wrap("*** Update File: f.py\n import foo\n+import bar"))
    assert (tmp_path / "f.py").read_text() == "import foo\nimport bar\nx = 1\n"


def test_move_to_new_directory(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old/name.txt").write_text("old content\n")
    (tmp_path / "old/other.txt").write_text("unrelated\n")
    changes, result = run(
        tmp_path,
        wrap(
            "*** Update File: old/name.txt\n*** Move to: renamed/dir/name.txt\n"
            "@@\n-old content\n+new content"
        ),
    )
    assert not (tmp_path / "old/name.txt").exists()
    assert (tmp_path / "renamed/dir/name.txt").read_text() == "new content\n"
    assert (tmp_path / "old/other.txt").read_text() == "unrelated\n"
    assert result.stdout == "Success. Updated the following files:\nM renamed/dir/name.txt\n"
    assert changes_to_wire(changes)[0]["kind"] == {
        "type": "update",
        "move_path": str(tmp_path / "renamed/dir/name.txt"),
    }


def test_move_overwrites_existing_destination(tmp_path: Path) -> None:
    (tmp_path / "src.txt").write_text("line\n")
    (tmp_path / "dst.txt").write_text("previous\n")
    changes, _ = run(
        tmp_path, wrap("*** Update File: src.txt\n*** Move to: dst.txt\n@@\n-line\n+line2")
    )
    assert not (tmp_path / "src.txt").exists()
    assert (tmp_path / "dst.txt").read_text() == "line2\n"
    assert changes[0].overwritten_move_content == "previous\n"


def test_end_of_file_chunk_matches_at_end(tmp_path: Path) -> None:
    (tmp_path / "tail.txt").write_text("same\nmiddle\nsame\n")
    run(tmp_path, wrap("*** Update File: tail.txt\n@@\n-same\n+last\n*** End of File"))
    assert (tmp_path / "tail.txt").read_text() == "same\nmiddle\nlast\n"


def test_pure_addition_appends_at_end(tmp_path: Path) -> None:
    (tmp_path / "input.txt").write_text("line1\nline2\n")
    run(tmp_path, wrap("*** Update File: input.txt\n@@ line1\n+added"))
    assert (tmp_path / "input.txt").read_text() == "line1\nline2\nadded\n"


def test_deletion_only_chunk(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_text("a\nb\nc\n")
    run(tmp_path, wrap("*** Update File: lines.txt\n@@\n a\n-b\n c"))
    assert (tmp_path / "lines.txt").read_text() == "a\nc\n"


def test_update_appends_missing_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "no_newline.txt").write_text("no newline at end")
    changes, _ = run(
        tmp_path,
        wrap("*** Update File: no_newline.txt\n@@\n-no newline at end\n+first line\n+second line"),
    )
    assert (tmp_path / "no_newline.txt").read_text() == "first line\nsecond line\n"
    assert changes[0].diff == (
        "@@ -1 +1,2 @@\n-no newline at end\n\\ No newline at end of file\n"
        "+first line\n+second line\n"
    )


def test_trailing_empty_old_line_is_retried_without_it(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a\nb\n")
    run(tmp_path, wrap("*** Update File: f.txt\n@@\n a\n-b\n+c\n"))
    assert (tmp_path / "f.txt").read_text() == "a\nc\n"
    (tmp_path / "g.txt").write_text("x\ny\n")
    run(tmp_path, wrap("*** Update File: g.txt\n@@\n-y\n+z\n "))
    assert (tmp_path / "g.txt").read_text() == "x\nz\n"


def test_multiple_files_summary_is_grouped_added_modified_deleted(tmp_path: Path) -> None:
    (tmp_path / "delete.txt").write_text("bye\n")
    (tmp_path / "modify.txt").write_text("line1\nline2\n")
    changes, result = run(
        tmp_path,
        wrap(
            "*** Delete File: delete.txt\n"
            "*** Update File: modify.txt\n@@\n-line2\n+changed\n"
            "*** Add File: nested/new.txt\n+created"
        ),
    )
    assert result.stdout == (
        "Success. Updated the following files:\nA nested/new.txt\nM modify.txt\nD delete.txt\n"
    )
    assert [c.kind for c in changes] == ["delete", "update", "add"]
    assert [e["path"] for e in changes_to_wire(changes)] == sorted(
        str(tmp_path / p) for p in ("delete.txt", "modify.txt", "nested/new.txt")
    )


def test_two_updates_to_one_file_apply_in_sequence(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a\nb\n")
    changes, _ = run(
        tmp_path,
        wrap("*** Update File: f.txt\n@@\n-a\n+A\n*** Update File: f.txt\n@@\n-b\n+B"),
    )
    assert (tmp_path / "f.txt").read_text() == "A\nB\n"
    assert len(changes_to_wire(changes)) == 1


def test_absolute_paths_are_accepted(tmp_path: Path) -> None:
    target = tmp_path / "abs.txt"
    _, result = run(tmp_path / "elsewhere", wrap(f"*** Add File: {target}\n+x"))
    assert target.read_text() == "x\n"
    assert result.stdout == f"Success. Updated the following files:\nA {target}\n"


def test_mode_bits_are_kept(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo a\n")
    script.chmod(0o755)
    run(tmp_path, wrap("*** Update File: run.sh\n@@\n-echo a\n+echo b"))
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert script.read_text() == "echo b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]


def test_crlf_files_keep_crlf(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"one\r\ntwo\r\n")
    run(tmp_path, wrap("*** Update File: w.txt\n@@\n-two\n+TWO\n+three"))
    assert (tmp_path / "w.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\n"


@pytest.mark.parametrize(
    ("original", "body", "expected"),
    [
        # new lines take the first line's ending; kept lines keep theirs
        (b"x\ny\r\nz\n", "@@\n-z\n+Z", b"x\ny\r\nZ\n"),
        (b"x\r\ny\nz\n", "@@\n-z\n+Z", b"x\r\ny\nZ\r\n"),
        (b"x\ny\nz\r\n", "@@\n-x\n+X", b"X\ny\nz\r\n"),
        (b"x\r\ny", "@@\n y\n+z", b"x\r\ny\r\nz\r\n"),
        # trailing blank lines survive; a missing final newline is added
        (b"a\n\n\n", "@@\n-a\n+b", b"b\n\n\n"),
        (b"a\nb", "@@\n-a\n+A", b"A\nb\n"),
        (b"x", "@@\n x\n+y", b"x\ny\n"),
        (b"", "@@\n+first", b"first\n"),
        # pure additions go after everything, blank lines included
        (b"line1\nline2\n\n", "@@\n+added", b"line1\nline2\n\nadded\n"),
        # context lines found fuzzily keep the file's text
        (b"p\n  q  \nr\n", "@@ p\n q\n-r\n+R", b"p\n  q  \nR\n"),
        (b"k  \nv\n", "@@\n k\n-v\n+w\n ", b"k  \nw\n"),
    ],
)
def test_line_endings_and_kept_lines(
    tmp_path: Path, original: bytes, body: str, expected: bytes
) -> None:
    (tmp_path / "f.txt").write_bytes(original)
    run(tmp_path, wrap(f"*** Update File: f.txt\n{body}"))
    assert (tmp_path / "f.txt").read_bytes() == expected


@pytest.mark.parametrize(
    ("original", "body", "expected"),
    [
        # a blank line before the first chunk is a context line, not skipped
        (b"a\n\nb\n", "\n-b\n+c", b"a\n\nc\n"),
        # `@@` followed only by spaces has no context text
        (b"a\nb\n", "@@  \n-b\n+c", b"a\nc\n"),
        # stray End of File markers before the first chunk are ignored
        (b"a\n", "*** End of File\n*** End of File\n@@\n-a\n+b", b"b\n"),
        # blank lines between chunks are skipped
        (b"a\nb\n", "@@\n-b\n+B\n*** End of File\n\n  \n", b"a\nB\n"),
        # runs of added lines go where their run of changes starts; ties keep patch order
        (b"a\n  a\r\n", "@@\n+\n@@\n a\n+  a\n*** End of File", b"a\n  a\r\n\n  a\n"),
        (b"b\na\nx\n", "@@\n+p\n@@\n-a\n-x\n+c", b"b\nc\np\n"),
        # retry without a trailing blank line turns context into removals
        (b"\n", "@@\n \n-\n@@\n-\n+new", b"new\n"),
        (b"  a\na  \n\n\n", "@@\n \n-\n-", b"  a\na  \n"),
        # a pure removal and insertion at the last line
        (b"a\nb\na\nc\n", "@@\n-c\n+C", b"a\nb\na\nC\n"),
    ],
)
def test_observed_reference_edge_cases(
    tmp_path: Path, original: bytes, body: str, expected: bytes
) -> None:
    (tmp_path / "f.txt").write_bytes(original)
    run(tmp_path, wrap(f"*** Update File: f.txt\n{body}"))
    assert (tmp_path / "f.txt").read_bytes() == expected


def test_end_of_file_chunk_does_not_match_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a\nb\na\nc\n")
    assert plan_error(tmp_path, wrap("*** Update File: f.txt\n@@\n-a\n+A\n*** End of File")) == (
        f"Failed to find expected lines in {tmp_path / 'f.txt'}:\na"
    )


def test_lone_carriage_return_splits_lines(tmp_path: Path) -> None:
    (tmp_path / "cr.txt").write_bytes(b"a\rb\n")
    assert plan_error(tmp_path, wrap("*** Update File: cr.txt\n@@\n-a\rb\n+c")) == (
        f"Failed to find expected lines in {tmp_path / 'cr.txt'}:\na\rb"
    )


def test_symlink_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("a\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    run(tmp_path, wrap("*** Update File: link.txt\n@@\n-a\n+b"))
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "b\n"


# --------------------------------------------------------------------------- fuzzy matching


def test_trailing_whitespace_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("foo   \nbar\t\t\n")
    run(tmp_path, wrap("*** Update File: f.txt\n@@\n foo\n-bar\n+baz"))
    # Context lines keep the file's own text.
    assert (tmp_path / "f.txt").read_text() == "foo   \nbaz\n"


def test_leading_and_trailing_whitespace_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("    foo   \n   bar\t\n")
    run(tmp_path, wrap("*** Update File: f.txt\n@@\n foo\n-bar\n+baz"))
    assert (tmp_path / "f.txt").read_text() == "    foo   \nbaz\n"


def test_unicode_punctuation_is_normalised(tmp_path: Path) -> None:
    (tmp_path / "u.txt").write_text("say \u201chello\u201d \u2013 it\u2019s\u00a0fine\nend\n")
    run(tmp_path, wrap('*** Update File: u.txt\n@@\n say "hello" - it\'s fine\n-end\n+plain'))
    assert (tmp_path / "u.txt").read_text() == (
        "say \u201chello\u201d \u2013 it\u2019s\u00a0fine\nplain\n"
    )
    (tmp_path / "v.txt").write_text("a \u2014 b\n")
    run(tmp_path, wrap("*** Update File: v.txt\n@@\n-a - b\n+c"))
    assert (tmp_path / "v.txt").read_text() == "c\n"


def test_passes_run_strict_first() -> None:
    lines = ["foo  ", "x", "foo"]
    assert seek_sequence(lines, ["foo"], 0, False) == 2
    assert seek_sequence(lines, ["foo "], 0, False) == 0
    assert seek_sequence(["  a", "a"], ["a"], 0, False) == 1
    assert seek_sequence(["a"], [], 0, False) == 0
    assert seek_sequence(["a"], ["a", "b"], 0, False) is None
    assert seek_sequence(["x", "a", "a"], ["a"], 0, True) == 2
    assert seek_sequence(["a", "b"], ["a"], 0, True) is None


# --------------------------------------------------------------------------- apply errors


def test_update_of_missing_file(tmp_path: Path) -> None:
    assert plan_error(tmp_path, wrap("*** Update File: missing.txt\n@@\n-a\n+b")) == (
        f"Failed to read file to update {tmp_path / 'missing.txt'}: "
        "No such file or directory (os error 2)"
    )


def test_delete_of_missing_file(tmp_path: Path) -> None:
    assert plan_error(tmp_path, wrap("*** Delete File: missing.txt")) == (
        f"Failed to read {tmp_path / 'missing.txt'}: No such file or directory (os error 2)"
    )


def test_delete_of_directory(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir/foo.txt").write_text("x\n")
    assert plan_error(tmp_path, wrap("*** Delete File: dir")) == (
        f"Failed to read {tmp_path / 'dir'}: Is a directory (os error 21)"
    )
    assert (tmp_path / "dir/foo.txt").exists()


def test_missing_context_header(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("def f():\n    pass\n")
    assert plan_error(
        tmp_path, wrap("*** Update File: f.py\n@@ def nope():\n-    pass\n+    x")
    ) == (f"Failed to find context 'def nope():' in {tmp_path / 'f.py'}")


def test_missing_expected_lines_leaves_file_untouched(tmp_path: Path) -> None:
    (tmp_path / "modify.txt").write_text("line1\nline2\n")
    assert plan_error(tmp_path, wrap("*** Update File: modify.txt\n@@\n-missing\n-lines\n+x")) == (
        f"Failed to find expected lines in {tmp_path / 'modify.txt'}:\nmissing\nlines"
    )
    assert (tmp_path / "modify.txt").read_text() == "line1\nline2\n"


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "bin.dat").write_bytes(b"\xff\xfe\n")
    assert plan_error(tmp_path, wrap("*** Update File: bin.dat\n@@\n-a\n+b")) == (
        f"Failed to read file to update {tmp_path / 'bin.dat'}: stream did not contain valid UTF-8"
    )


def test_verification_failure_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    with pytest.raises(PatchApplyError):
        plan_patch(
            parse_patch(
                wrap("*** Add File: created.txt\n+x\n*** Update File: a.txt\n@@\n-zzz\n+y")
            ),
            str(tmp_path),
        )
    assert not (tmp_path / "created.txt").exists()


def test_failure_after_partial_success_leaves_changes(tmp_path: Path) -> None:
    (tmp_path / "doomed.txt").write_text("x\n")
    changes = plan_patch(
        parse_patch(wrap("*** Add File: created.txt\n+hello\n*** Delete File: doomed.txt")),
        str(tmp_path),
    )
    os.remove(tmp_path / "doomed.txt")
    result = apply_changes(changes)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Failed to delete file {tmp_path / 'doomed.txt'}\n"
    assert result.output == result.stderr
    assert (tmp_path / "created.txt").read_text() == "hello\n"
    assert [c.display_path for c in result.applied] == ["created.txt"]


def test_applying_nothing_fails() -> None:
    result = apply_changes([])
    assert (result.exit_code, result.stderr) == (1, "No files were modified.\n")


# --------------------------------------------------------------------------- texts


def test_tool_output_matches_reference_transcript(tmp_path: Path) -> None:
    _, result = run(
        tmp_path,
        "*** Begin Patch\n*** Add File: hello.txt\n+hi from the mock patch\n*** End Patch\n",
    )
    assert format_tool_output(result.exit_code, 0.01, result.output) == (
        "Exit code: 0\nWall time: 0 seconds\nOutput:\n"
        "Success. Updated the following files:\nA hello.txt\n"
    )


def test_tool_output_for_failure_and_truncation() -> None:
    assert format_tool_output(1, 1.26, "Failed to delete file x\n") == (
        "Exit code: 1\nWall time: 1.3 seconds\nOutput:\nFailed to delete file x\n"
    )
    text = "a\nb\nc\n"
    assert format_tool_output(0, 0.2, text, truncate=lambda s: s[:2]) == (
        "Exit code: 0\nWall time: 0.2 seconds\nTotal output lines: 3\nOutput:\na\n"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0"),
        (0.04, "0"),
        (0.05, "0.1"),
        (0.1234, "0.1"),
        (1.0, "1"),
        (2.96, "3"),
        (12.34, "12.3"),
    ],
)
def test_wall_time_rounding(seconds: float, text: str) -> None:
    assert format_wall_time(seconds) == text


def test_rejection_text() -> None:
    assert rejected_message("empty patch") == "patch rejected: empty patch"


# --------------------------------------------------------------------------- shell forms


PATCH = "*** Begin Patch\n*** Add File: foo\n+hi\n*** End Patch"


def test_direct_invocation_is_detected() -> None:
    for name in ("apply_patch", "applypatch"):
        found = detect_apply_patch([name, PATCH + "\n"])
        assert found is not None
        assert found.patch.hunks == [AddFile("foo", "hi\n")]
        assert found.workdir is None


@pytest.mark.parametrize(
    ("argv", "workdir"),
    [
        (["bash", "-lc", f"apply_patch <<'PATCH'\n{PATCH}\nPATCH"], None),
        (["/bin/bash", "-c", f"applypatch <<EOF\n{PATCH}\nEOF\n"], None),
        (["zsh", "-lc", f"cd foo && apply_patch <<'PATCH'\n{PATCH}\nPATCH"], "foo"),
        (["bash", "-lc", f"cd 'foo bar' && apply_patch <<'PATCH'\n{PATCH}\nPATCH"], "foo bar"),
        (["bash", "-lc", f'cd "foo bar" && apply_patch <<"PATCH"\n{PATCH}\nPATCH'], "foo bar"),
    ],
)
def test_heredoc_invocation_is_detected(argv: list[str], workdir: str | None) -> None:
    found = detect_apply_patch(argv)
    assert found is not None
    assert found.patch.hunks == [AddFile("foo", "hi\n")]
    assert found.workdir == workdir


@pytest.mark.parametrize(
    "script",
    [
        f"cd foo; apply_patch <<'PATCH'\n{PATCH}\nPATCH",
        f"cd bar || apply_patch <<'PATCH'\n{PATCH}\nPATCH",
        f"echo foo && apply_patch <<'PATCH'\n{PATCH}\nPATCH",
        f"apply_patch foo <<'PATCH'\n{PATCH}\nPATCH",
        f"cd foo && cd bar && apply_patch <<'PATCH'\n{PATCH}\nPATCH",
        f"cd foo bar && apply_patch <<'PATCH'\n{PATCH}\nPATCH",
        f"cd bar && apply_patch <<'PATCH'\n{PATCH}\nPATCH && echo done",
        "echo hi",
    ],
)
def test_other_scripts_are_not_apply_patch(script: str) -> None:
    assert detect_apply_patch(["bash", "-lc", script]) is None


def test_non_shell_commands_are_not_apply_patch() -> None:
    assert detect_apply_patch(["echo", "hi"]) is None
    assert detect_apply_patch(["python", "-c", "print(1)"]) is None


def test_bare_patch_as_command_is_an_error() -> None:
    expected = (
        'patch detected without explicit call to apply_patch. Rerun as ["apply_patch", "<patch>"]'
    )
    for argv in ([PATCH], ["bash", "-lc", PATCH]):
        with pytest.raises(ImplicitInvocationError) as info:
            detect_apply_patch(argv)
        assert str(info.value) == expected


def test_malformed_patch_in_invocation_raises() -> None:
    with pytest.raises(PatchParseError):
        detect_apply_patch(["apply_patch", "*** Begin Patch\n*** Nope\n*** End Patch"])


# --------------------------------------------------------------------------- turn diff


def test_turn_diff_for_added_file_matches_transcript(tmp_path: Path) -> None:
    changes, _ = run(tmp_path, wrap("*** Add File: hello.txt\n+hi from the mock patch"))
    tracker = TurnDiffTracker(display_root=str(tmp_path))
    tracker.track(c.tracked() for c in changes)
    assert tracker.unified_diff() == (
        "diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n"
        "index 0000000000000000000000000000000000000000..08803819badba381f4018a9e1569ed2fed9f5e32\n"
        "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hi from the mock patch\n"
    )


def test_turn_diff_accumulates_updates_deletes_and_renames(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    (tmp_path / "old.txt").write_text("same\n")
    tracker = TurnDiffTracker(display_root=str(tmp_path))
    for body in (
        "*** Update File: a.txt\n@@\n-two\n+2",
        "*** Update File: a.txt\n@@\n-one\n+1",
        "*** Delete File: gone.txt",
        "*** Update File: old.txt\n*** Move to: new.txt\n@@\n-same\n+changed",
    ):
        changes, result = run(tmp_path, wrap(body))
        assert result.success
        tracker.track(c.tracked() for c in changes)
    assert tracker.unified_diff() == (
        "diff --git a/a.txt b/a.txt\n"
        "index 814f4a422927b82f5f8a43f8fab6d3839e3983f2..1191247b6d9a206f6ba3d8ac79e26d041dd86941\n"
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-one\n-two\n+1\n+2\n"
        "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n"
        "index b023018cabc396e7692c70bbf5784a93d3f738ab..0000000000000000000000000000000000000000\n"
        "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
        "diff --git a/old.txt b/new.txt\n"
        "index 1275430f1765c63e539cb0452565563bd6aef6a6..5ea2ed416fbd4a4cbe227b75fe255dd7fa6bd4d6\n"
        "--- a/old.txt\n+++ b/new.txt\n@@ -1 +1 @@\n-same\n+changed\n"
    )


def test_turn_diff_is_none_when_changes_cancel_out(tmp_path: Path) -> None:
    tracker = TurnDiffTracker(display_root=str(tmp_path))
    for body in ("*** Add File: t.txt\n+x", "*** Delete File: t.txt"):
        changes, _ = run(tmp_path, wrap(body))
        tracker.track(c.tracked() for c in changes)
    assert tracker.unified_diff() is None


def test_unified_diff_headers_and_no_change() -> None:
    assert unified_diff("a\n", "a\n") == ""
    assert unified_diff("", "") == ""
    assert (
        unified_diff("a\n", "b\n", header=("a/x", "b/x"))
        == "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    )


# --------------------------------------------------------------------------- safety


def _plan(cwd: Path, body: str) -> list[FileChange]:
    return plan_patch(parse_patch(wrap(body)), str(cwd))


WORKSPACE = {
    "type": "workspaceWrite",
    "writableRoots": [],
    "excludeSlashTmp": True,
    "excludeTmpdirEnvVar": True,
}


def test_empty_patch_is_rejected(tmp_path: Path) -> None:
    assert assess_patch_safety([], "never", WORKSPACE, str(tmp_path)) == SafetyCheck(
        "reject", "empty patch"
    )


def test_untrusted_always_asks(tmp_path: Path) -> None:
    inside = _plan(tmp_path, "*** Add File: in.txt\n+x")
    assert assess_patch_safety(inside, "untrusted", WORKSPACE, str(tmp_path)).decision == "ask_user"


def test_inside_workspace_is_auto_approved_in_sandbox(tmp_path: Path) -> None:
    inside = _plan(tmp_path, "*** Add File: sub/../in.txt\n+x")
    check = assess_patch_safety(inside, "on-request", WORKSPACE, str(tmp_path))
    assert check == SafetyCheck("auto_approve", sandboxed=True)
    no_sandbox = assess_patch_safety(
        inside, "on-request", WORKSPACE, str(tmp_path), platform_sandbox=False
    )
    assert no_sandbox.decision == "ask_user"
    never = assess_patch_safety(inside, "never", WORKSPACE, str(tmp_path), platform_sandbox=False)
    assert never == SafetyCheck("reject", PATCH_REJECTED_OUTSIDE_PROJECT)


def test_outside_workspace(tmp_path: Path) -> None:
    cwd = tmp_path / "proj"
    cwd.mkdir()
    outside = _plan(cwd, "*** Add File: ../outside.txt\n+x")
    assert assess_patch_safety(outside, "on-request", WORKSPACE, str(cwd)).decision == "ask_user"
    assert assess_patch_safety(outside, "never", WORKSPACE, str(cwd)) == SafetyCheck(
        "reject", PATCH_REJECTED_OUTSIDE_PROJECT
    )
    granular_off = {
        "granular": {"sandbox_approval": False, "rules": True, "mcp_elicitations": True}
    }
    assert assess_patch_safety(outside, granular_off, WORKSPACE, str(cwd)).decision == "reject"
    granular_on = {"granular": {"sandbox_approval": True, "rules": True, "mcp_elicitations": True}}
    assert assess_patch_safety(outside, granular_on, WORKSPACE, str(cwd)).decision == "ask_user"
    with_root = {**WORKSPACE, "writableRoots": [str(tmp_path)]}
    assert assess_patch_safety(outside, "never", with_root, str(cwd)).decision == "auto_approve"
    assert (
        assess_patch_safety(outside, "on-failure", WORKSPACE, str(cwd)).decision == "auto_approve"
    )


def test_move_destination_must_be_writable(tmp_path: Path) -> None:
    cwd = tmp_path / "proj"
    cwd.mkdir()
    (cwd / "a.txt").write_text("a\n")
    moving_out = _plan(cwd, "*** Update File: a.txt\n*** Move to: ../b.txt\n@@\n-a\n+b")
    assert assess_patch_safety(moving_out, "never", WORKSPACE, str(cwd)).decision == "reject"


def test_git_directory_is_read_only(tmp_path: Path) -> None:
    into_git = _plan(tmp_path, "*** Add File: .git/hooks/pre-commit\n+x")
    assert (
        assess_patch_safety(into_git, "on-request", WORKSPACE, str(tmp_path)).decision == "ask_user"
    )


def test_read_only_and_full_access_policies(tmp_path: Path) -> None:
    inside = _plan(tmp_path, "*** Add File: in.txt\n+x")
    read_only = {"type": "readOnly", "networkAccess": False}
    assert assess_patch_safety(inside, "never", read_only, str(tmp_path)) == SafetyCheck(
        "reject", PATCH_REJECTED_READ_ONLY
    )
    assert (
        assess_patch_safety(inside, "on-request", read_only, str(tmp_path)).decision == "ask_user"
    )
    full = {"type": "dangerFullAccess"}
    assert assess_patch_safety(inside, "never", full, str(tmp_path)) == SafetyCheck("auto_approve")
    external = {"type": "externalSandbox", "networkAccess": "restricted"}
    assert assess_patch_safety(inside, "on-request", external, str(tmp_path)) == SafetyCheck(
        "auto_approve"
    )


def test_tmp_roots_follow_policy_flags(tmp_path: Path) -> None:
    cwd = tmp_path / "proj"
    cwd.mkdir()
    change = FileChange(path="/tmp/pycodex-probe.txt", kind="add", display_path="x", new_content="")
    allow_tmp = {**WORKSPACE, "excludeSlashTmp": False}
    assert assess_patch_safety([change], "never", allow_tmp, str(cwd)).decision == "auto_approve"
    assert assess_patch_safety([change], "never", WORKSPACE, str(cwd)).decision == "reject"
    via_env = {**WORKSPACE, "excludeTmpdirEnvVar": False}
    check = assess_patch_safety([change], "never", via_env, str(cwd), env={"TMPDIR": "/tmp"})
    assert check.decision == "auto_approve"


# --------------------------------------------------------------------------- differential

REFERENCE_BIN = Path.home() / (
    ".cache/refcodex-install/node_modules/@openai/codex-linux-x64/vendor/"
    "x86_64-unknown-linux-musl/bin/codex"
)
_WORDS = ["a", "b", "c", "", "  a", "a  ", "x\u2013y", "x-y", "\tb"]


def _random_case(rng: random.Random) -> tuple[str, str]:
    eols = rng.choice([["\n"], ["\r\n"], ["\n", "\r\n"]])
    content = "".join(rng.choice(_WORDS) + rng.choice(eols) for _ in range(rng.randint(0, 8)))
    if content and rng.random() < 0.2:
        content = content.rstrip("\r\n")
    lines = content.replace("\r\n", "\n").split("\n")
    body = ["*** Update File: f.txt"]
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.3:
            body.append("@@ " + rng.choice(_WORDS).strip())
        elif roll < 0.85:
            body.append("@@")
        start = rng.randint(0, max(len(lines) - 1, 0))
        for i in range(rng.randint(0, 4)):
            text = lines[start + i] if start + i < len(lines) else rng.choice(_WORDS)
            if rng.random() < 0.2:
                text = text.strip()
            body.append(rng.choice([" ", "-", " ", "+"]) + text)
        if rng.random() < 0.5:
            body.append("+" + rng.choice(["new", "n2", ""]))
        if rng.random() < 0.1:
            body.append("*** End of File")
    if rng.random() < 0.2:
        body += ["*** Add File: g.txt", "+g"]
    return content, "*** Begin Patch\n" + "\n".join(body) + "\n*** End Patch"


def _ours(cwd: Path, patch: str) -> tuple[int, str, str]:
    try:
        result = apply_changes(plan_patch(parse_patch(patch), str(cwd)))
    except PatchParseError as err:
        if err.line_number is None:
            return 1, "", f"Invalid patch: {err.message}\n"
        return 1, "", f"Invalid patch hunk on line {err.line_number}: {err.message}\n"
    except PatchApplyError as err:
        return 1, "", f"{err}\n"
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.skipif(not REFERENCE_BIN.exists(), reason="reference codex binary not installed")
def test_matches_reference_binary_on_random_patches(tmp_path: Path) -> None:
    """Apply random patches with the reference `apply_patch` and with ours; compare."""
    tool = tmp_path / "apply_patch"
    tool.symlink_to(REFERENCE_BIN)
    rng = random.Random(20240611)
    for _ in range(150):
        content, patch = _random_case(rng)
        theirs_dir, ours_dir = tmp_path / "ref", tmp_path / "ours"
        for d in (theirs_dir, ours_dir):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            (d / "f.txt").write_bytes(content.encode())
        proc = subprocess.run(
            [str(tool), patch], cwd=theirs_dir, capture_output=True, text=True, check=False
        )
        theirs = (proc.returncode, proc.stdout, proc.stderr.replace(str(theirs_dir), "<D>"))
        code, out, err = _ours(ours_dir, patch)
        assert (code, out, err.replace(str(ours_dir), "<D>")) == theirs, (content, patch)
        assert (ours_dir / "f.txt").read_bytes() == (theirs_dir / "f.txt").read_bytes(), (
            content,
            patch,
        )
