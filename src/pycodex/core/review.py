"""Code review (``review/start``): what a review target asks of the model, the hint the
user sees, and the review result rendered for the ``exitedReviewMode`` item.

The review runs as its own turn on a fresh model history (guidelines, the review request);
the model answers with a JSON review (``findings`` plus an overall verdict), which is
rendered as text for the client and the parent thread's history.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import msgspec

from pycodex.core.errors import InvalidInput

#: The text reported when the reviewer gave no answer at all.
NO_REVIEW_TEXT = "Reviewer failed to output a response."

GUIDELINES = """# Code review

Review a proposed code change as a careful senior engineer would. Report only real problems
the author would want to fix: bugs, security issues, broken edge cases, clear performance
regressions, missing error handling. Skip style nits and speculation. Each finding names the
file and the smallest line range that shows the problem, says why it is a problem and, when
it helps, how to fix it. Priorities: 0 (must fix before merging) to 3 (nice to have).

Inspect the change with read-only commands (git diff, git show, reading files); change
nothing.

Answer with one JSON object and nothing else:
{"findings": [{"title": "<= 80 chars", "body": "markdown", "confidence_score": 0.0-1.0,
  "priority": 0-3, "code_location": {"absolute_file_path": "...",
  "line_range": {"start": 1, "end": 1}}}],
 "overall_correctness": "patch is correct" | "patch is incorrect",
 "overall_explanation": "1-3 sentences", "overall_confidence_score": 0.0-1.0}
"""


class ReviewRequest(msgspec.Struct, frozen=True):
    """What a review turn asks the model (``prompt``) and shows the user (``hint``)."""

    prompt: str
    hint: str


def _merge_base(cwd: Path, branch: str) -> str | None:
    try:
        done = subprocess.run(["git", "merge-base", "HEAD", branch], cwd=cwd, text=True,
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None


def review_request(target: dict[str, Any], cwd: Path) -> ReviewRequest:
    """The request for a wire ``ReviewTarget``; :class:`InvalidInput` for empty values."""
    kind = target.get("type")
    if kind == "uncommittedChanges":
        return ReviewRequest(
            "Review the uncommitted changes of this repository (staged, unstaged and "
            "untracked files) and report prioritized findings.", "current changes")
    if kind == "baseBranch":
        branch = str(target.get("branch") or "").strip()
        if not branch:
            raise InvalidInput("branch must not be empty")
        base = _merge_base(cwd, branch)
        diff = f"`git diff {base}`" if base else f"`git diff {branch}...HEAD`"
        return ReviewRequest(
            f"Review the changes of the current branch against the base branch '{branch}'; "
            f"{diff} shows them. Report prioritized findings.",
            f"changes against '{branch}'")
    if kind == "commit":
        sha = str(target.get("sha") or "").strip()
        if not sha:
            raise InvalidInput("sha must not be empty")
        title = str(target.get("title") or "").strip() or None
        subject = f" (\"{title}\")" if title else ""
        hint = f"commit {sha[:7]}" + (f": {title}" if title else "")
        return ReviewRequest(
            f"Review the changes introduced by commit {sha}{subject}; `git show {sha}` shows "
            "them. Report prioritized findings.", hint)
    instructions = str(target.get("instructions") or "").strip()
    if not instructions:
        raise InvalidInput("instructions must not be empty")
    return ReviewRequest(instructions, instructions)


def _location(finding: dict[str, Any]) -> str:
    loc = finding.get("code_location")
    if not isinstance(loc, dict):
        return ""
    path = loc.get("absolute_file_path") or ""
    lines = loc.get("line_range")
    if isinstance(lines, dict) and lines.get("start") is not None:
        return f"{path}:{lines.get('start')}-{lines.get('end', lines.get('start'))}"
    return str(path)


def render_review(text: str) -> str:
    """The review text shown to the user: the JSON review's explanation and findings, or
    the model's plain text when it did not answer with one."""
    stripped = text.strip()
    if not stripped:
        return NO_REVIEW_TEXT
    try:
        review = msgspec.json.decode(stripped)
    except msgspec.DecodeError:
        return stripped
    if not isinstance(review, dict):
        return stripped
    parts: list[str] = []
    explanation = review.get("overall_explanation")
    if isinstance(explanation, str) and explanation.strip():
        parts.append(explanation.strip())
    findings = [f for f in review.get("findings") or [] if isinstance(f, dict)]
    if findings:
        lines = ["Review comment:" if len(findings) == 1 else "Full review comments:", ""]
        for finding in findings:
            location = _location(finding)
            lines.append(f"- {finding.get('title', '')}" + (f" — {location}" if location
                                                           else ""))
            body = str(finding.get("body") or "").strip()
            lines.extend(f"  {line}" for line in body.splitlines())
            lines.append("")
        parts.append("\n".join(lines).rstrip())
    return "\n\n".join(parts) or NO_REVIEW_TEXT
