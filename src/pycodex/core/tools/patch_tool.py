"""The ``apply_patch`` tool (freeform or JSON), also reached through ``exec_command`` when
the model runs ``apply_patch`` in the shell. Emits ``fileChange`` items and the turn's
aggregated diff."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

from pycodex.core import tool_specs
from pycodex.core.approvals import APPROVAL_FAILED, PATCH_DECLINED, request_patch_approval
from pycodex.core.hooks import turn_points
from pycodex.core.ids import now_ms
from pycodex.core.tools.context import Tool, ToolCall, ToolContext, ToolError, ToolOutput
from pycodex.protocol.types.items import FileChangeItem, FileUpdateChange, PatchApplyStatus
from pycodex.protocol.types.turns import TurnDiffUpdatedNotification


def _spec(settings: Any, info: Any) -> dict[str, Any] | None:
    kind = getattr(info, "apply_patch_tool_type", None)
    if kind == "freeform":
        return tool_specs.APPLY_PATCH
    return tool_specs.APPLY_PATCH_FUNCTION


async def apply_patch_tool(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    if call.kind == "custom":
        text = call.payload
    else:
        args = call.json_arguments()
        raw = args.get("input")
        if not isinstance(raw, str):
            raise ToolError("failed to parse function arguments: missing field `input`")
        text = raw
    from pycodex.core.tools.apply_patch_parser import PatchParseError, parse_patch

    try:
        patch = parse_patch(text)
    except PatchParseError as exc:
        from pycodex.core.tools.apply_patch import verification_failed_message

        return verification_failed_message(exc)
    return await run_patch(patch, ctx.cwd, call, ctx)


async def maybe_intercept(argv: list[str], cwd: Path, call: ToolCall, ctx: ToolContext
                          ) -> str | None:
    """Run ``apply_patch`` invocations found in a shell command; None if there is none."""
    script = argv[-1] if argv else ""
    if "apply_patch" not in script and "applypatch" not in script and "*** Begin Patch" \
            not in script:
        return None
    from pycodex.core.tools.apply_patch import verification_failed_message
    from pycodex.core.tools.apply_patch_parser import (
        ImplicitInvocationError,
        PatchParseError,
        detect_apply_patch,
    )

    try:
        invocation = detect_apply_patch(argv)
    except ImplicitInvocationError as exc:
        return str(exc)
    except PatchParseError as exc:
        return verification_failed_message(exc)
    if invocation is None:
        return None
    workdir = cwd / invocation.workdir if invocation.workdir else cwd
    return await run_patch(invocation.patch, workdir, call, ctx)


async def run_patch(patch: Any, cwd: Path, call: ToolCall, ctx: ToolContext) -> str:
    from pycodex.core.diffs import TurnDiffTracker
    from pycodex.core.tools.apply_patch import (
        PatchApplyError,
        apply_changes,
        changes_to_wire,
        first_refusal,
        format_tool_output,
        plan_patch,
        rejected_message,
        verification_failed_message,
    )
    from pycodex.core.tools.apply_patch_safety import (
        SANDBOX_RETRY_REASON,
        assess_patch_safety,
        patch_write_guard,
        sandbox_retry_asks,
    )

    started = time.perf_counter()
    settings = ctx.settings
    try:
        changes = plan_patch(patch, str(cwd))
    except PatchApplyError as exc:
        return verification_failed_message(exc)
    # The writes are confined in-process (core/write_guard.py): no bwrap needed for them.
    safety = assess_patch_safety(changes, settings.approval_policy, settings.sandbox_policy,
                                 str(settings.cwd))
    if safety.decision == "reject":
        return rejected_message(safety.reason or "rejected")
    item = FileChangeItem(
        id=call.call_id, status="inProgress", started_at_ms=now_ms(), completed_at_ms=None,
        changes=msgspec.convert(changes_to_wire(changes), list[FileUpdateChange]))
    started_ms = await ctx.item_started(item)
    sandbox_cwd = str(settings.cwd)
    guard = patch_write_guard(changes, settings.sandbox_policy, sandbox_cwd)
    retry = (safety.decision != "ask_user" and sandbox_retry_asks(settings.approval_policy)
             and first_refusal(changes, guard) is not None)
    if safety.decision == "ask_user" or retry:
        keys = {f"patch\0{c.path}" for c in item.changes}
        if retry or not keys <= ctx.thread_state.approved_for_session:
            decided = await turn_points.patch_permission(ctx, call)  # hooks: may decide
            decision = ("accept" if decided is not None and decided.allow
                        else "hook" if decided is not None
                        else await request_patch_approval(
                            ctx, item, reason=SANDBOX_RETRY_REASON if retry else None))
            if decision != "accept":
                await ctx.finish_item(msgspec.structs.replace(item, status="declined"),
                                      started_ms)
                if decided is not None:  # a hook's denial: its message is the output
                    return decided.message
                return APPROVAL_FAILED if decision == "failed" else PATCH_DECLINED
        if not retry:
            guard = patch_write_guard(changes, settings.sandbox_policy, sandbox_cwd,
                                      approved=True)
    result = apply_changes(changes, guard)
    status: PatchApplyStatus = "completed" if result.success else "failed"
    await ctx.finish_item(msgspec.structs.replace(item, status=status), started_ms)
    if result.applied:
        tracker = ctx.turn_state.diff_tracker
        if tracker is None:
            tracker = ctx.turn_state.diff_tracker = TurnDiffTracker(
                display_root=str(settings.cwd))
        tracker.track(change.tracked() for change in result.applied)
        diff = tracker.unified_diff()
        if diff is not None:
            await ctx.emit(TurnDiffUpdatedNotification(thread_id=ctx.thread_id,
                                                       turn_id=ctx.turn_id, diff=diff))
    return format_tool_output(result.exit_code, time.perf_counter() - started, result.output)


TOOLS = [Tool("apply_patch", apply_patch_tool, _spec)]
