"""Known-safe and dangerous command classification (engine.md §4.5)."""

from __future__ import annotations

import pytest

from pycodex.core.tools.safe_commands import (
    is_dangerous_command,
    is_known_safe,
    is_safe_to_call_with_exec,
)

SAFE = [
    ["ls"],
    ["/bin/ls", "-la"],
    ["cat", "README.md"],
    ["grep", "-R", "x", "."],
    ["head", "-n", "5", "f"],
    ["wc", "-l", "f"],
    ["echo", "hi"],
    ["true"],
    ["base64"],
    ["nl", "-nrz", "Cargo.toml"],
    ["numfmt", "1000"],
    ["tac", "Cargo.toml"],
    ["sed", "-n", "1,5p", "file.txt"],
    ["sed", "-n", "10p"],
    ["find", ".", "-name", "file.txt"],
    ["rg", "Cargo.toml", "-n"],
    ["zsh", "-lc", "ls"],
    ["bash", "-lc", "ls"],
    ["bash", "-lc", "ls -1"],
    ["bash", "-lc", 'grep -R "Cargo.toml" -n'],
    ["bash", "-lc", "sed -n 1,5p file.txt"],
    ["bash", "-lc", "sed -n '1,5p' file.txt"],
    ["bash", "-lc", "find . -name file.txt"],
    ["bash", "-lc", 'grep -R "Cargo.toml" -n || true'],
    ["bash", "-lc", "ls && pwd"],
    ["bash", "-lc", "echo 'hi' ; ls"],
    ["bash", "-lc", "ls | wc -l"],
    ["/bin/bash", "-c", "cat a.txt | head -n 3"],
]

NOT_SAFE = [
    [],
    ["foo"],
    ["cargo", "check"],
    ["git", "status"],
    ["git", "diff", "-p"],
    ["git", "log", "-p", "-1"],
    ["git", "show", "-p", "HEAD"],
    ["git", "branch", "--show-current"],
    ["git", "fetch"],
    ["bash", "-lc", "git status"],
    ["bash", "-lc", "git log -p -1"],
    ["bash", "-lc", "git", "status"],
    ["bash", "-lc", "'git status'"],
    ["sed", "-n", "xp", "file.txt"],
    ["sed", "-n", "1,5p", "a", "b"],
    ["sed", "-i", "s/a/b/", "f"],
    ["sed", "-n"],
    ["base64", "-o", "out.bin"],
    ["base64", "--output", "out.bin"],
    ["base64", "--output=out.bin"],
    ["base64", "-ob64.txt"],
    ["rg", "--search-zip", "files"],
    ["rg", "-z", "files"],
    ["rg", "--pre", "pwned", "files"],
    ["rg", "--pre=pwned", "files"],
    ["rg", "--hostname-bin", "pwned", "files"],
    ["rg", "--hostname-bin=pwned", "files"],
    ["find", ".", "-name", "file.txt", "-exec", "rm", "{}", ";"],
    ["find", ".", "-name", "*.py", "-execdir", "python3", "{}", ";"],
    ["find", ".", "-name", "file.txt", "-ok", "rm", "{}", ";"],
    ["find", ".", "-name", "*.py", "-okdir", "python3", "{}", ";"],
    ["find", ".", "-delete", "-name", "file.txt"],
    ["find", ".", "-fls", "/etc/passwd"],
    ["find", ".", "-fprint", "/etc/passwd"],
    ["find", ".", "-fprint0", "/etc/passwd"],
    ["find", ".", "-fprintf", "/root/suid.txt", "%#m %u %p\n"],
    ["bash", "-lc", "find . -name file.txt -delete"],
    ["bash", "-lc", "ls && rm -rf /"],
    ["bash", "-lc", "(ls)"],
    ["bash", "-lc", "ls || (pwd && echo hi)"],
    ["bash", "-lc", "ls > out.txt"],
    ["bash", "-lc", "cat $HOME/x"],
    ["bash", "-lc", "echo $(rm -rf x)"],
    ["bash", "-lc", ""],
    ["fish", "-c", "ls"],
    ["bash", "-x", "ls"],
]


@pytest.mark.parametrize("argv", SAFE, ids=[" ".join(a) for a in SAFE])
def test_known_safe(argv: list[str]) -> None:
    assert is_known_safe(argv)


@pytest.mark.parametrize("argv", NOT_SAFE, ids=[" ".join(a) or "<empty>" for a in NOT_SAFE])
def test_not_known_safe(argv: list[str]) -> None:
    assert not is_known_safe(argv)


def test_single_command_check_does_not_parse_scripts() -> None:
    assert not is_safe_to_call_with_exec(["bash", "-lc", "ls"])
    assert is_safe_to_call_with_exec(["ls"])


DANGEROUS = [
    ["rm", "-rf", "/"],
    ["rm", "-f", "/"],
    ["/bin/rm", "-fr", "/tmp/example"],
    ["rm", "-r", "-f", "/tmp/example"],
    ["rm", "--force", "/tmp/example"],
    ["rm", "/tmp/example", "-f"],
    ["sudo", "rm", "-rf", "/tmp/example"],
    ["git", "reset", "--hard"],
    ["git", "rm", "file"],
    ["git", "-C", "repo", "reset", "HEAD~1"],
    ["git", "-c", "core.x=y", "rm", "f"],
    ["git", "--git-dir=.git", "reset"],
    ["git", "branch", "-d", "feature"],
    ["git", "branch", "-D", "feature"],
    ["git", "branch", "--delete", "feature"],
    ["git", "branch", "-vD", "feature"],
    ["git", "push", "--force", "origin", "main"],
    ["git", "push", "-f"],
    ["git", "push", "--force-with-lease"],
    ["git", "push", "--force-with-lease=main"],
    ["git", "push", "--force-if-includes"],
    ["git", "push", "--delete", "origin", "x"],
    ["git", "push", "-d", "origin", "x"],
    ["git", "push", "origin", "+main"],
    ["git", "push", "origin", ":old"],
    ["git", "clean", "-f"],
    ["git", "clean", "-fdx"],
    ["git", "clean", "--force"],
    ["bash", "-lc", "ls && rm -rf build"],
    ["bash", "-lc", "git reset --hard"],
]

NOT_DANGEROUS = [
    ["rm", "-r", "/tmp/example"],
    ["rm", "--", "-f"],
    ["rm", "file"],
    ["git", "status"],
    ["git", "branch", "feature"],
    ["git", "branch", "--show-current"],
    ["git", "push", "origin", "main"],
    ["git", "clean", "-n"],
    ["git", "log", "reset"],
    ["git", "checkout", "rm"],
    ["bash", "-lc", "echo 'rm -rf /tmp/example'"],
    ["ls"],
    [],
]


@pytest.mark.parametrize("argv", DANGEROUS, ids=[" ".join(a) for a in DANGEROUS])
def test_dangerous(argv: list[str]) -> None:
    assert is_dangerous_command(argv)


@pytest.mark.parametrize(
    "argv", NOT_DANGEROUS, ids=[" ".join(a) or "<empty>" for a in NOT_DANGEROUS]
)
def test_not_dangerous(argv: list[str]) -> None:
    assert not is_dangerous_command(argv)
