"""Approval decisions for commands and patches, and the approval requests to the client.

The policy decides whether a command runs sandboxed without asking, must be approved, or is
refused outright; approvals are asked with ``item/commandExecution/requestApproval`` /
``item/fileChange/requestApproval`` while the thread shows ``waitingOnApproval``.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from pycodex.atomic import atomic_write
from pycodex.core.hooks import turn_points
from pycodex.core.host import ClientAnswerError
from pycodex.core.ids import now_ms
from pycodex.core.tools.context import ToolContext
from pycodex.protocol.types.items import (
    CommandAction,
    CommandExecutionItem,
    CommandExecutionRequestApprovalParams,
    CommandExecutionStatus,
    FileChangeItem,
    FileChangeRequestApprovalParams,
)

logger = logging.getLogger(__name__)

REJECTED_BY_USER = "rejected by user"


def exec_rejected(reason: str) -> str:
    """What the model is told when a command's approval was refused for ``reason`` (the
    reference's error, its message quoted twice the way Rust debug-prints strings)."""
    message = _debug(f"Rejected({_debug(reason)})")
    return f"exec_command failed: CreateProcess {{ message: {message} }}"


def _debug(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


#: What the model is told when a command approval is declined / could not be obtained.
EXEC_DECLINED = exec_rejected(REJECTED_BY_USER)
EXEC_APPROVAL_FAILED = exec_rejected("approval request failed")
#: ... and for file changes.
PATCH_DECLINED = "patch rejected by user"
APPROVAL_FAILED = "approval request failed"
#: The environment every command runs in (0.171 names this machine's environment ``local``).
LOCAL_ENVIRONMENT = "local"
_DECISIONS = ("accept", "acceptForSession", "decline", "cancel")

#: Prefixes too broad to offer as "always allow" rules.
_BANNED_PREFIXES = {("python",), ("python3",), ("bash",), ("sh",), ("git",), ("node",),
                    ("bash", "-lc"), ("sh", "-c"), ("bash", "-c"), ("zsh", "-lc")}


class ApprovalOutcome(msgspec.Struct):
    """How to proceed with a command: ``rejected`` is the text for the model when it must
    not run; otherwise it runs (``sandboxed`` or not)."""

    sandboxed: bool = True
    rejected: str | None = None
    source: str = "unifiedExecStartup"
    item_started: bool = False
    started_ms: int | None = None
    command_actions: list[dict[str, Any]] = msgspec.field(default_factory=list)


def _policy_name(policy: Any) -> str:
    if isinstance(policy, dict) and "granular" in policy:
        return "granular"
    return policy if isinstance(policy, str) else "on-request"


def _granular(policy: Any, key: str) -> bool:
    if isinstance(policy, dict):
        inner = policy.get("granular") or {}
        return bool(inner.get(key, False))
    return True


def _script_argv(argv: list[str]) -> list[list[str]]:
    """The plain commands of ``bash -lc '<a && b | c>'``; empty when the script is complex
    (redirections, expansions...). Any other argv is one command."""
    from pycodex.core.tools.command_actions import extract_shell_script, parse_plain_script

    script = extract_shell_script(argv)
    if script is None:
        return [argv]
    return [c for c in parse_plain_script(script) or [] if c]


def is_dangerous(argv: list[str]) -> bool:
    from pycodex.core.tools.safe_commands import is_dangerous_command

    return bool(is_dangerous_command(argv))


def _shell_join(argv: list[str]) -> str:
    from pycodex.core.tools.command_actions import shell_join

    return str(shell_join(argv))


def _known_safe(argv: list[str]) -> bool:
    from pycodex.core.tools.safe_commands import is_known_safe

    return bool(is_known_safe(argv))


def _command_actions(argv: list[str], cwd: Path) -> list[dict[str, Any]]:
    from pycodex.core.tools.command_actions import parse_command_actions

    return list(parse_command_actions(argv, str(cwd)))


def proposed_amendment(argv: list[str], prefix_rule: list[str] | None) -> list[str] | None:
    """The prefix offered for "always allow": the model's ``prefix_rule`` unless it is too
    broad, else the first command of the script that is not known to be safe (the whole
    argv when the script is too complex to split)."""
    if prefix_rule and all(isinstance(p, str) for p in prefix_rule) and \
            tuple(prefix_rule) not in _BANNED_PREFIXES:
        return list(prefix_rule)
    commands = _script_argv(argv)
    if not commands:
        return list(argv)
    for command in commands:
        if _known_safe(command):
            continue
        if tuple(command[:2]) in _BANNED_PREFIXES or tuple(command[:1]) in _BANNED_PREFIXES:
            return None
        return command
    return None


# -- exec policy rules ($CODEX_HOME/rules/*.rules) --------------------------------------------
PROMPT_CONFLICT = "approval required by policy, but AskForApproval is set to Never"
_STRICTNESS = {"allow": 0, "prompt": 1, "forbidden": 2}


class PrefixRule(msgspec.Struct, frozen=True):
    """``prefix_rule(pattern=[...], decision=...)``: each pattern element is a word or a
    list of alternative words."""

    pattern: tuple[tuple[str, ...], ...]
    decision: str = "allow"
    justification: str | None = None

    def matches(self, command: list[str]) -> bool:
        return len(command) >= len(self.pattern) and all(
            word in options for word, options in zip(command, self.pattern, strict=False))


def parse_rules(text: str, origin: str = "<rules>") -> list[PrefixRule]:
    """The ``prefix_rule`` calls of a rules file (Starlark; read with Python's parser)."""
    import ast

    try:
        tree = ast.parse(text, origin)
    except SyntaxError as exc:
        logger.warning("cannot parse exec policy file %s: %s", origin, exc)
        return []
    rules: list[PrefixRule] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "prefix_rule"):
            continue
        try:
            args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except ValueError:
            logger.warning("ignoring a prefix_rule with non-literal arguments in %s", origin)
            continue
        raw = args.get("pattern")
        decision = args.get("decision", "allow")
        if not isinstance(raw, list | tuple) or not raw or decision not in _STRICTNESS:
            logger.warning("ignoring an invalid prefix_rule in %s", origin)
            continue
        pattern: list[tuple[str, ...]] = []
        for element in raw:
            options = (element,) if isinstance(element, str) else tuple(element) \
                if isinstance(element, list | tuple) else ()
            if not options or not all(isinstance(o, str) for o in options):
                break
            pattern.append(options)
        else:
            justification = args.get("justification")
            rules.append(PrefixRule(tuple(pattern), decision,
                                    justification if isinstance(justification, str) else None))
    return rules


_RULES_CACHE: dict[str, tuple[tuple[tuple[str, int, int], ...], list[PrefixRule]]] = {}


def load_rules(codex_home: Path) -> list[PrefixRule]:
    """The rules of ``$CODEX_HOME/rules/*.rules`` (re-read when a file changes)."""
    folder = codex_home / "rules"
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".rules" and p.is_file())
    except OSError:
        return []
    stamp: list[tuple[str, int, int]] = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        stamp.append((str(path), st.st_mtime_ns, st.st_size))
    key = str(folder)
    cached = _RULES_CACHE.get(key)
    if cached is not None and cached[0] == tuple(stamp):
        return cached[1]
    rules: list[PrefixRule] = []
    for name, _mtime, _size in stamp:
        try:
            rules += parse_rules(Path(name).read_text(encoding="utf-8"), name)
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("cannot read exec policy file %s: %s", name, exc)
    _RULES_CACHE[key] = (tuple(stamp), rules)
    return rules


class PolicyVerdict(msgspec.Struct, frozen=True):
    decision: str | None  # "allow" (every command matched allow), "prompt", "forbidden"
    reason: str | None = None


def evaluate_rules(ctx: ToolContext, argv: list[str]) -> PolicyVerdict:
    """What the exec policy rules say about ``argv`` (``None``: no opinion)."""
    rules = [*load_rules(ctx.codex_home), *ctx.thread_state.session_rules]
    if not rules:
        return PolicyVerdict(None)
    commands = _script_argv(argv) or [argv]
    worst: tuple[int, PrefixRule] | None = None
    all_allowed = True
    for command in commands:
        matched = [r for r in rules if r.matches(command)]
        if not matched:
            all_allowed = False
            continue
        # The strictest decision wins; among equals, the most specific (longest) rule.
        top = max(matched, key=lambda r: (_STRICTNESS[r.decision], len(r.pattern)))
        if top.decision != "allow":
            all_allowed = False
        if worst is None or (_STRICTNESS[top.decision], len(top.pattern)) > \
                (_STRICTNESS[worst[1].decision], worst[0]):
            worst = (len(top.pattern), top)
    if worst is None:
        return PolicyVerdict(None)
    rule = worst[1]
    command_text = _shell_join(argv)
    if rule.decision == "forbidden":
        if rule.justification:
            return PolicyVerdict("forbidden", f"`{command_text}` rejected: {rule.justification}")
        prefix = _shell_join([options[0] for options in rule.pattern])
        return PolicyVerdict("forbidden", f"`{command_text}` rejected: policy forbids commands "
                                          f"starting with `{prefix}`")
    if rule.decision == "prompt":
        if rule.justification:
            return PolicyVerdict("prompt", f"`{command_text}` requires approval: "
                                           f"{rule.justification}")
        return PolicyVerdict("prompt", f"`{command_text}` requires approval by policy")
    return PolicyVerdict("allow" if all_allowed else None)


def _persist_rule(ctx: ToolContext, prefix: list[str]) -> None:
    """Allow ``prefix`` from now on: in memory at once, and in ``rules/default.rules``."""
    import json

    rule = PrefixRule(tuple((word,) for word in prefix), "allow")
    ctx.thread_state.session_rules.append(rule)
    rules = ctx.codex_home / "rules" / "default.rules"
    line = f'prefix_rule(pattern={json.dumps(prefix)}, decision="allow")\n'
    try:
        rules.parent.mkdir(parents=True, exist_ok=True)
        try:
            existing = rules.read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = ""
        if line in existing.splitlines(keepends=True):
            return
        if existing and not existing.endswith("\n"):
            existing += "\n"
        atomic_write(rules, existing + line, follow_symlinks=False)
    except OSError as exc:
        logger.warning("could not persist exec policy rule: %s", exc)


def _hook_command(argv: list[str]) -> str:
    """The command as hooks see it: the script of ``<shell> -lc <script>``, else argv."""
    if len(argv) == 3 and argv[1] in ("-lc", "-c"):
        return argv[2]
    return shlex.join(argv)


def escalation_refusal(policy: Any) -> str:
    """What the model is told when it asks for escalation under a policy other than
    ``on-request`` (the policy rendered the way the reference prints it)."""
    names = {"never": "Never", "untrusted": "UnlessTrusted", "on-failure": "OnFailure",
             "on-request": "OnRequest"}
    if isinstance(policy, dict) and "granular" in policy:
        inner = policy.get("granular") or {}
        fields = ", ".join(f"{key}: {'true' if inner.get(key) else 'false'}" for key in (
            "sandbox_approval", "rules", "skill_approval", "request_permissions",
            "mcp_elicitations"))
        rendered = f"Granular(GranularApprovalConfig {{ {fields} }})"
    else:
        rendered = names.get(str(policy), str(policy))
    return (f"approval policy is {rendered}; reject command — you cannot ask for escalated "
            f"permissions if the approval policy is {rendered}")


async def request_command_approval(
    ctx: ToolContext,
    call_id: str,
    argv: list[str],
    cwd: Path,
    *,
    escalate: bool = False,
    justification: str | None = None,
    prefix_rule: list[str] | None = None,
    retry: bool = False,
) -> ApprovalOutcome:
    settings = ctx.settings
    policy = settings.approval_policy
    name = _policy_name(policy)
    sandbox_kind = settings.sandbox_policy.get("type")
    unrestricted = sandbox_kind in ("dangerFullAccess", "externalSandbox")
    actions = _command_actions(argv, cwd)
    outcome = ApprovalOutcome(command_actions=actions)
    if escalate and not retry and name == "never":
        outcome.rejected = escalation_refusal(policy)
        return outcome
    command_key = f"{shlex.join(argv)}\0{cwd}"
    if command_key in ctx.thread_state.approved_for_session:
        outcome.sandboxed = not escalate and not retry
        return outcome

    must_ask = False
    verdict = PolicyVerdict(None) if retry else evaluate_rules(ctx, argv)
    if verdict.decision == "forbidden":
        outcome.rejected = verdict.reason
        return outcome
    if retry:
        must_ask = True
    elif verdict.decision == "allow" and not escalate:
        outcome.sandboxed = False  # an explicit allow rule runs the command as is
        return outcome
    elif verdict.decision == "prompt":
        if name == "never":
            outcome.rejected = PROMPT_CONFLICT
            return outcome
        must_ask = True
        justification = justification or verdict.reason
    elif name == "never":
        if is_dangerous(argv) and not unrestricted:
            outcome.rejected = (f"`{argv[-1]}` rejected: dangerous command blocked by the "
                                "approval policy `never`")
            return outcome
    elif name == "untrusted":
        must_ask = not (_known_safe(argv) and not escalate)
    elif name == "on-failure":
        must_ask = escalate
    else:  # on-request / granular
        must_ask = escalate or is_dangerous(argv)
        if must_ask and name == "granular" and not _granular(policy, "sandbox_approval"):
            outcome.rejected = "approval required by policy, but sandbox approvals are disabled"
            return outcome
    if not must_ask:
        outcome.sandboxed = True
        return outcome
    hook_input: dict[str, Any] = {"command": _hook_command(argv)}  # hooks: may decide
    if justification:
        hook_input["description"] = justification
    decided = await turn_points.permission_request(ctx, call_id, hook_input)
    if decided is not None:
        if decided.allow:
            outcome.sandboxed = not (escalate or retry)
        else:
            outcome.rejected = exec_rejected(decided.message)
        return outcome

    command = _shell_join(argv)
    amendment = proposed_amendment(argv, prefix_rule)
    item = CommandExecutionItem(
        id=call_id, command=command, cwd=str(cwd), status="inProgress", source="agent",
        command_actions=msgspec.convert(actions, list[CommandAction]),
        started_at_ms=now_ms())
    host = ctx.host
    await host.waiting("waitingOnApproval", True)
    started = await ctx.item_started(item)
    outcome.item_started = True
    outcome.started_ms = started
    outcome.source = "agent"
    # The reference offers these three whatever the policy (decline etc. are still honoured).
    decisions: list[Any] = ["accept"]
    if amendment:
        decisions.append({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": amendment}})
    decisions.append("cancel")
    params = CommandExecutionRequestApprovalParams(
        thread_id=ctx.thread_id, turn_id=ctx.turn_id, item_id=call_id, started_at_ms=started,
        environment_id=LOCAL_ENVIRONMENT, command=command, cwd=str(cwd),
        command_actions=actions, available_decisions=decisions,
        reason=justification or UNSET, proposed_execpolicy_amendment=amendment or UNSET)
    decision: Any
    failed = False
    try:
        answer = await host.ask(params)
        decision = answer.get("decision") if isinstance(answer, dict) else None
        if not _valid_command_decision(decision):
            decision, failed = "decline", True
    except ClientAnswerError as exc:
        decision = "cancel" if exc.turn_transition or exc.disconnected else "decline"
        failed = not (exc.turn_transition or exc.disconnected)
    finally:
        await host.waiting("waitingOnApproval", False)
    return await _apply_decision(ctx, outcome, item, decision, failed, command_key,
                                 unsandboxed=escalate or retry)


async def _apply_decision(ctx: ToolContext, outcome: ApprovalOutcome,
                          item: CommandExecutionItem,
                          decision: Any, failed: bool, command_key: str, *,
                          unsandboxed: bool) -> ApprovalOutcome:
    if isinstance(decision, dict) and "acceptWithExecpolicyAmendment" in decision:
        inner = decision["acceptWithExecpolicyAmendment"] or {}
        prefix = inner.get("execpolicy_amendment")
        if isinstance(prefix, list) and all(isinstance(p, str) for p in prefix) and prefix:
            _persist_rule(ctx, prefix)
        decision = "accept"
    if isinstance(decision, dict) and "applyNetworkPolicyAmendment" in decision:
        action = ((decision["applyNetworkPolicyAmendment"] or {})
                  .get("network_policy_amendment") or {}).get("action")
        decision = "accept" if action == "allow" else "decline"
    if decision == "acceptForSession":
        ctx.thread_state.approved_for_session.add(command_key)
        decision = "accept"
    if decision == "accept":
        outcome.sandboxed = not unsandboxed
        return outcome
    status: CommandExecutionStatus = "failed" if failed else "declined"
    await ctx.finish_item(msgspec.structs.replace(item, status=status), item.started_at_ms)
    outcome.rejected = EXEC_APPROVAL_FAILED if failed else EXEC_DECLINED
    if decision == "cancel":
        raise asyncio.CancelledError("approval cancelled by the user")
    return outcome


def _valid_command_decision(decision: Any) -> bool:
    if isinstance(decision, str):
        return decision in _DECISIONS
    if isinstance(decision, dict) and len(decision) == 1:
        key, inner = next(iter(decision.items()))
        if key == "acceptWithExecpolicyAmendment":
            prefix = (inner or {}).get("execpolicy_amendment") if isinstance(inner, dict) \
                else None
            return isinstance(prefix, list) and all(isinstance(p, str) for p in prefix)
        if key == "applyNetworkPolicyAmendment":
            return isinstance(inner, dict)
    return False


async def request_patch_approval(ctx: ToolContext, item: FileChangeItem, *,
                                 reason: str | None = None,
                                 grant_root: str | None = None) -> str:
    """Ask about a file change whose ``item/started`` was already sent. Returns
    ``accept``, ``decline`` or ``failed``; raises CancelledError for ``cancel``."""
    host = ctx.host
    await host.waiting("waitingOnApproval", True)
    params = FileChangeRequestApprovalParams(
        thread_id=ctx.thread_id, turn_id=ctx.turn_id, item_id=item.id,
        started_at_ms=now_ms(), reason=reason, grant_root=grant_root)
    try:
        answer = await host.ask(params)
        decision = answer.get("decision") if isinstance(answer, dict) else None
        if decision not in _DECISIONS:
            decision = "failed"
    except ClientAnswerError as exc:
        decision = "cancel" if exc.turn_transition or exc.disconnected else "failed"
    finally:
        await host.waiting("waitingOnApproval", False)
    if decision == "acceptForSession":
        for change in item.changes:
            ctx.thread_state.approved_for_session.add(f"patch\0{change.path}")
        return "accept"
    if decision == "accept":
        return "accept"
    if decision == "cancel":
        await ctx.finish_item(msgspec.structs.replace(item, status="declined"),
                              item.started_at_ms)
        raise asyncio.CancelledError("approval cancelled by the user")
    return "failed" if decision == "failed" else "decline"
