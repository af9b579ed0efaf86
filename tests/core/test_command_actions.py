"""commandActions summaries and the shell-word helpers behind them."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.core.tools.command_actions import (
    parse_command_actions,
    parse_plain_script,
    shell_join,
    shell_quote,
    shell_split,
)


def read(command: str, name: str, path: str) -> dict[str, Any]:
    return {"type": "read", "command": command, "name": name, "path": path}


def listing(command: str, path: str | None = None) -> dict[str, Any]:
    return {"type": "listFiles", "command": command, "path": path}


def search(command: str, query: str | None, path: str | None = None) -> dict[str, Any]:
    return {"type": "search", "command": command, "query": query, "path": path}


def unknown(command: str) -> dict[str, Any]:
    return {"type": "unknown", "command": command}


def bash(script: str) -> list[str]:
    return ["bash", "-lc", script]


LONG_SCRIPT = "rg --version && node -v && pnpm -v && rg --files | wc -l && rg --files | head -n 40"

# (argv, expected actions) — bash scripts and plain argv alike.
CASES: list[tuple[list[str], list[dict[str, Any]]]] = [
    # what the shell transcripts show
    (["/bin/bash", "-lc", "echo hi"], [unknown("echo hi")]),
    (["/bin/bash", "-lc", "touch probe.txt"], [unknown("touch probe.txt")]),
    # reads
    (
        bash("cat webview/README.md"),
        [read("cat webview/README.md", "README.md", "webview/README.md")],
    ),
    (["zsh", "-lc", "cat README.md"], [read("cat README.md", "README.md", "README.md")]),
    (
        bash("bat --theme TwoDark README.md"),
        [read("bat --theme TwoDark README.md", "README.md", "README.md")],
    ),
    (bash("less -p TODO README.md"), [read("less -p TODO README.md", "README.md", "README.md")]),
    (bash("head -n 50 Cargo.toml"), [read("head -n 50 Cargo.toml", "Cargo.toml", "Cargo.toml")]),
    (bash("head Cargo.toml"), [read("head Cargo.toml", "Cargo.toml", "Cargo.toml")]),
    (bash("head -n50 Cargo.toml"), [read("head -n50 Cargo.toml", "Cargo.toml", "Cargo.toml")]),
    (bash("tail -n +522 README.md"), [read("tail -n +522 README.md", "README.md", "README.md")]),
    (bash("tail -n+10 README.md"), [read("tail -n+10 README.md", "README.md", "README.md")]),
    (bash("tail README.md"), [read("tail README.md", "README.md", "README.md")]),
    (
        bash("sed -n '2000,2200p' tui/src/history_cell.rs"),
        [
            read(
                "sed -n '2000,2200p' tui/src/history_cell.rs",
                "history_cell.rs",
                "tui/src/history_cell.rs",
            )
        ],
    ),
    (
        bash("cat tui/Cargo.toml | sed -n '1,200p'"),
        [read("cat tui/Cargo.toml | sed -n '1,200p'", "Cargo.toml", "tui/Cargo.toml")],
    ),
    (
        bash("nl -ba core/src/parse_command.rs | sed -n '1200,1720p'"),
        [
            read(
                "nl -ba core/src/parse_command.rs | sed -n '1200,1720p'",
                "parse_command.rs",
                "core/src/parse_command.rs",
            )
        ],
    ),
    (
        bash("awk '{print $1}' Cargo.toml"),
        [read("awk '{print $1}' Cargo.toml", "Cargo.toml", "Cargo.toml")],
    ),
    (
        bash('printf "\\n===== ansi-escape/Cargo.toml =====\\n"; cat -- ansi-escape/Cargo.toml'),
        [read("cat -- ansi-escape/Cargo.toml", "Cargo.toml", "ansi-escape/Cargo.toml")],
    ),
    (bash("cd foo && cat foo.txt"), [read("cat foo.txt", "foo.txt", "foo/foo.txt")]),
    (["cd", "foo", "&&", "cat", "foo.txt"], [read("cat foo.txt", "foo.txt", "foo/foo.txt")]),
    (
        ["cd", "--", "-weird", "&&", "cat", "foo.txt"],
        [read("cat foo.txt", "foo.txt", "-weird/foo.txt")],
    ),
    (
        ["cd", "dir1", "dir2", "&&", "cat", "foo.txt"],
        [read("cat foo.txt", "foo.txt", "dir2/foo.txt")],
    ),
    (
        ["cat", "--", "./-strange-file-name"],
        [read("cat -- ./-strange-file-name", "-strange-file-name", "./-strange-file-name")],
    ),
    (
        ["sed", "-n", "12,20p", "Cargo.toml"],
        [read("sed -n '12,20p' Cargo.toml", "Cargo.toml", "Cargo.toml")],
    ),
    (
        ["sed", "-n", "260,640p", "exec/src/x.rs", "|", "nl", "-ba"],
        [read("sed -n '260,640p' exec/src/x.rs", "x.rs", "exec/src/x.rs")],
    ),
    (
        ["/bin/bash", "-lc", "sed -n 1,10p Cargo.toml"],
        [read("sed -n '1,10p' Cargo.toml", "Cargo.toml", "Cargo.toml")],
    ),
    # listings
    (bash("ls -la | sed -n '1,120p'"), [listing("ls -la")]),
    (["eza", "--color=always", "src"], [listing("eza '--color=always' src", "src")]),
    (["exa", "-I", "target", "."], [listing("exa -I target .", ".")]),
    (["tree", "-L", "2", "src"], [listing("tree -L 2 src", "src")]),
    (["du", "-d", "2", "."], [listing("du -d 2 .", ".")]),
    (["ls", "-I", "*.test.js"], [listing("ls -I '*.test.js'")]),
    (
        ["ls", "--time-style=long-iso", "./dist"],
        [listing("ls '--time-style=long-iso' ./dist", ".")],
    ),
    (bash("rg --files webview/src | sed -n"), [listing("rg --files webview/src", "webview")]),
    (bash("rg --files | head -n 50"), [listing("rg --files")]),
    (["bash", "-c", "rg --files | head -n 1"], [listing("rg --files")]),
    (["rg", "--files", "|", "nl", "-ba"], [listing("rg --files")]),
    (bash("yes | rg --files"), [listing("rg --files")]),
    (["cd", "codex-rs", "&&", "rg", "--files"], [listing("rg --files")]),
    (["true", "&&", "rg", "--files"], [listing("rg --files")]),
    (["rg", "--files", "&&", "true"], [listing("rg --files")]),
    (bash("true && rg --files"), [listing("rg --files")]),
    (bash("rg --files || true"), [listing("rg --files")]),
    (["git", "ls-files"], [listing("git ls-files")]),
    (
        ["git", "ls-files", "--exclude", "target", "src"],
        [listing("git ls-files --exclude target src", "src")],
    ),
    (["fd", "-t", "f", "src/"], [listing("fd -t f src/", "src")]),
    (["find", "src", "-type", "f"], [listing("find src -type f", "src")]),
    (
        bash("python -c \"import os; print(os.listdir('.'))\""),
        [listing("python -c \"import os; print(os.listdir('.'))\"")],
    ),
    # searches
    (
        bash('rg -n "navigate-to-route" -S'),
        [search("rg -n navigate-to-route -S", "navigate-to-route")],
    ),
    (
        bash('rg -n "BUG|FIXME|TODO|XXX|HACK" -S | head -n 200'),
        [search("rg -n 'BUG|FIXME|TODO|XXX|HACK' -S", "BUG|FIXME|TODO|XXX|HACK")],
    ),
    (
        bash('cd /Users/x/code/codex && rg -n "codex_api" codex-rs -S | head -n 50'),
        [search("rg -n codex_api codex-rs -S", "codex_api", "codex-rs")],
    ),
    (["rg", "-l", "TODO", "src"], [search("rg -l TODO src", "TODO", "src")]),
    (["rga", "TODO", "src"], [search("rga TODO src", "TODO", "src")]),
    (
        ["rg", "--colors=never", "-n", "foo", "src"],
        [search("rg '--colors=never' -n foo src", "foo", "src")],
    ),
    (["yes", "|", "rg", "-n", "foo bar", "-S"], [search("rg -n 'foo bar' -S", "foo bar")]),
    (
        ["grep", "-R", "CODEX_SANDBOX_ENV_VAR", "-n", "."],
        [search("grep -R CODEX_SANDBOX_ENV_VAR -n .", "CODEX_SANDBOX_ENV_VAR", ".")],
    ),
    (
        ["grep", "-R", "X", "-n", "core/src/spawn.rs"],
        [search("grep -R X -n core/src/spawn.rs", "X", "spawn.rs")],
    ),
    (
        ["grep", "-R", "src/main.rs", "-n", "."],
        [search("grep -R src/main.rs -n .", "src/main.rs", ".")],
    ),
    (
        ["grep", "-R", "COD`EX_SANDBOX", "-n"],
        [search("grep -R 'COD`EX_SANDBOX' -n", "COD`EX_SANDBOX")],
    ),
    (["grep", "-e", "pat", "a.txt"], [search("grep -e pat a.txt", "pat", "a.txt")]),
    (["egrep", "-R", "TODO", "src"], [search("egrep -R TODO src", "TODO", "src")]),
    (["fgrep", "-l", "TODO", "src"], [search("fgrep -l TODO src", "TODO", "src")]),
    (["git", "grep", "TODO", "src"], [search("git grep TODO src", "TODO", "src")]),
    (["ag", "TODO", "src"], [search("ag TODO src", "TODO", "src")]),
    (["ack", "-l", "TODO", "src"], [search("ack -l TODO src", "TODO", "src")]),
    (["pt", "TODO", "src"], [search("pt TODO src", "TODO", "src")]),
    (["fd", "main", "src"], [search("fd main src", "main", "src")]),
    (["find", ".", "-name", "*.rs"], [search("find . -name '*.rs'", "*.rs", ".")]),
    # unknown (anything unknown collapses to the whole command)
    (["git", "status"], [unknown("git status")]),
    (["npm", "run", "build"], [unknown("npm run build")]),
    (bash("git status | wc -l"), [unknown("git status | wc -l")]),
    (bash("echo foo > bar"), [unknown("echo foo > bar")]),
    (bash("cd foo && bar"), [unknown("cd foo && bar")]),
    (bash(LONG_SCRIPT), [unknown(LONG_SCRIPT)]),
    (
        bash("rg -l Qk src | xargs perl -pi -e 's/Qk/Qx/g'"),
        [unknown("rg -l Qk src | xargs perl -pi -e 's/Qk/Qx/g'")],
    ),
    (
        ["rg", "--files", "|", "nl", "-ba", "|", "foo"],
        [unknown("rg --files '|' nl -ba '|' foo")],
    ),
    (bash("python -c \"print('hello')\""), [unknown("python -c \"print('hello')\"")]),
    (bash("echo $HOME"), [unknown("echo $HOME")]),
    (bash("wc -l"), [unknown("wc -l")]),
    (["pwsh", "-NoProfile", "-c", "Write-Host hi"], [unknown("Write-Host hi")]),
    (["powershell", "-Command", "Get-ChildItem"], [unknown("Get-ChildItem")]),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_command_actions(argv: list[str], expected: list[dict[str, Any]]) -> None:
    assert parse_command_actions(argv) == expected


def test_read_paths_are_joined_onto_cwd() -> None:
    assert parse_command_actions(bash("cat a/b.txt"), cwd="/work/x") == [
        read("cat a/b.txt", "b.txt", "/work/x/a/b.txt")
    ]
    assert parse_command_actions(bash("cat /etc/hosts"), cwd="/work/x") == [
        read("cat /etc/hosts", "hosts", "/etc/hosts")
    ]
    assert parse_command_actions(bash("ls src"), cwd="/work/x") == [listing("ls src", "src")]


def test_script_string_is_treated_as_bash() -> None:
    assert parse_command_actions("echo hi") == [unknown("echo hi")]
    assert parse_command_actions("rg --files") == [listing("rg --files")]


def test_consecutive_duplicates_collapse() -> None:
    assert parse_command_actions(bash("cat a.txt && cat a.txt")) == [
        read("cat a.txt", "a.txt", "a.txt")
    ]
    assert parse_command_actions(bash("cat a.txt && cat b.txt")) == [
        read("cat a.txt", "a.txt", "a.txt"),
        read("cat b.txt", "b.txt", "b.txt"),
    ]


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("word", "quoted"),
    [
        ("", "''"),
        ("foobar", "foobar"),
        ("foo bar", "'foo bar'"),
        ("a,b", "'a,b'"),
        ("--x=y", "'--x=y'"),
        ("it's", '"it\'s"'),
        ("'\"", '"\'\\""'),
        ("$HOME's", "'$HOME'\"'s\""),
        ("^x", "'^x'"),
        ("héllo", "'héllo'"),
    ],
)
def test_shell_quote(word: str, quoted: str) -> None:
    assert shell_quote(word) == quoted
    assert shell_split(quoted) == [word]


def test_shell_join_matches_command_display() -> None:
    assert shell_join(["/bin/bash", "-lc", "echo hi"]) == "/bin/bash -lc 'echo hi'"
    assert shell_join(["a\x00b"]) == "<command included NUL byte>"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("foo$baz", ["foo$baz"]),
        ("foo baz", ["foo", "baz"]),
        ('foo"bar"baz', ["foobarbaz"]),
        ("   foo \nbar", ["foo", "bar"]),
        ("foo\\\nbar", ["foobar"]),
        ('"foo\\\nbar"', ["foobar"]),
        ("'baz\\$b'", ["baz\\$b"]),
        ('"a\\$b\\x"', ["a$b\\x"]),
        ("foo #bar\nbaz", ["foo", "baz"]),
        ("foo#bar", ["foo#bar"]),
        ("'\\n'", ["\\n"]),
        ("", []),
    ],
)
def test_shell_split(text: str, words: list[str]) -> None:
    assert shell_split(text) == words


@pytest.mark.parametrize("text", ["'baz\\''", "\\", '"\\', "'\\", '"', "'", 'foo"#bar'])
def test_shell_split_errors(text: str) -> None:
    assert shell_split(text) is None


@pytest.mark.parametrize(
    ("script", "commands"),
    [
        ("ls -1", [["ls", "-1"]]),
        (
            "ls && pwd; echo 'hi there' | wc -l",
            [["ls"], ["pwd"], ["echo", "hi there"], ["wc", "-l"]],
        ),
        ('echo "hello world"', [["echo", "hello world"]]),
        ('git commit -m "line1\nline2"', [["git", "commit", "-m", "line1\nline2"]]),
        ('echo "/usr"\'/\'"local"/bin', [["echo", "/usr/local/bin"]]),
        ("echo 123 456", [["echo", "123", "456"]]),
        ('rg -n "foo" -g"*.py"', [["rg", "-n", "foo", "-g*.py"]]),
        ("ls;", [["ls"]]),
        ("ls &&\n  pwd\n", [["ls"], ["pwd"]]),
        ("", []),
    ],
)
def test_plain_scripts(script: str, commands: list[list[str]]) -> None:
    assert parse_plain_script(script) == commands


@pytest.mark.parametrize(
    "script",
    [
        'echo "hi ${USER}"',
        'echo "$HOME"',
        "echo $(pwd)",
        "echo `pwd`",
        "(ls)",
        "ls || (pwd && echo hi)",
        "ls > out.txt",
        "cat < in.txt",
        "echo hi & echo bye",
        "FOO=bar ls",
        "ls &&",
        "&& ls",
        "ls ;; pwd",
        "ls | | wc",
        "ls |& wc",
        "if true; then ls; fi",
        "for a in b; do ls; done",
        "# comment\nls",
        "ls # trailing comment",
        "echo 'unterminated",
        "find . -exec\\ rm",
        "{ ls; }",
        "! ls",
        "[ -f x ]",
    ],
)
def test_non_plain_scripts(script: str) -> None:
    assert parse_plain_script(script) is None
