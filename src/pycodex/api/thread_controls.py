"""Thread controls beyond turns: the user's shell command, background terminals and the
thread's sticky settings (``thread/settings/update``)."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from pycodex.api.context import DEFERRED, RequestContext
from pycodex.api.engine_host import engine_for
from pycodex.api.local_stores import parse_id
from pycodex.api.router import route
from pycodex.api.threads import thread_manager
from pycodex.api.turns import turn_overrides
from pycodex.core.host import TurnSettings
from pycodex.core.read_state import ReadStateConflict
from pycodex.core.thread_config import apply_turn_overrides, sandbox_policy, turn_settings
from pycodex.core.threads import ThreadSettings as ThreadSettingsRecord
from pycodex.core.turn_context import applied_thread_settings
from pycodex.protocol.errors import RpcError, invalid_request
from pycodex.protocol.types.items import ApprovalsReviewer
from pycodex.protocol.types.thread_controls import (
    ActivePermissionProfile,
    Personality,
    ReasoningSummary,
    ThreadBackgroundTerminalsListParams,
    ThreadBackgroundTerminalsListResponse,
    ThreadReadStateChangedNotification,
    ThreadReadStateUpdateParams,
    ThreadReadStateUpdateResponse,
    ThreadSettings,
    ThreadSettingsUpdatedNotification,
    ThreadSettingsUpdateParams,
    ThreadSettingsUpdateResponse,
    ThreadShellCommandParams,
    ThreadShellCommandResponse,
    UnreadThreadReadStateOperation,
)
from pycodex.protocol.types.threads import ThreadEnvironment
from pycodex.protocol.types.turns import CollaborationMode, CollaborationModeSettings
from pycodex.store import events


@route("thread/shellCommand")
async def thread_shell_command(ctx: RequestContext, params: ThreadShellCommandParams
                               ) -> ThreadShellCommandResponse:
    """Run the user's ``!cmd`` in the thread's cwd; its item streams on the thread."""
    thread_id = parse_id(params.thread_id)
    if not params.command.strip():
        raise invalid_request("command must not be empty")
    engine = await engine_for(ctx, thread_id)
    engine.shell_command(params.command, params.timeout_ms)
    return ThreadShellCommandResponse()


@route("thread/backgroundTerminals/list")
async def thread_background_terminals_list(
    ctx: RequestContext, params: ThreadBackgroundTerminalsListParams
) -> ThreadBackgroundTerminalsListResponse:
    """The thread's background terminals; pycodex keeps none beyond a turn's tools."""
    parse_id(params.thread_id)
    return ThreadBackgroundTerminalsListResponse(data=[], next_cursor=None)


#: The built-in permission profiles and the sandbox mode each stands for.
_PROFILE_MODES = {":read-only": "read-only", ":workspace": "workspace-write",
                  ":danger-full-access": "danger-full-access"}


@route("thread/settings/update")
async def thread_settings_update(ctx: RequestContext, params: ThreadSettingsUpdateParams
                                 ) -> Any:
    """Change a thread's sticky settings for its later turns; ``{}`` then
    ``thread/settings/updated`` with the full effective settings."""
    thread_id = parse_id(params.thread_id)
    engine = await engine_for(ctx, thread_id)
    thread = ctx.app.get(thread_manager).get(thread_id)
    if thread is None:
        raise invalid_request(f"thread not found: {thread_id}")
    mode = None
    if params.permissions is not None:
        mode = _PROFILE_MODES.get(params.permissions)
        if mode is None:
            raise invalid_request(f"unknown permission profile `{params.permissions}`")
    # the thread's one settings record, then the engine's view of it
    stored = thread.settings
    apply_turn_overrides(stored, turn_overrides(params), str(ctx.app.options.cwd))
    if params.sandbox_policy is not None:
        stored.active_permission_profile = None
    if mode is not None:
        stored.sandbox_mode = mode
        stored.sandbox_policy = sandbox_policy(mode, stored.config)
        stored.active_permission_profile = {"id": params.permissions, "extends": None}
    engine.settings = s = turn_settings(stored)
    if thread.materialized:  # recorded now, as the reference: a restart keeps them
        await thread.writer.append([events.thread_settings_applied(
            thread_id, applied_thread_settings(s))])
        ctx.app.get(thread_manager).refresh_index(thread)
    ctx.respond(ThreadSettingsUpdateResponse())
    await engine.host.emit(ThreadSettingsUpdatedNotification(
        thread_id=thread_id, thread_settings=effective_settings(s, stored)))
    return DEFERRED


def effective_settings(s: TurnSettings, stored: ThreadSettingsRecord) -> ThreadSettings:
    """The wire ``ThreadSettings`` of a loaded thread."""
    cwd = str(s.cwd)
    profile = stored.active_permission_profile
    return ThreadSettings(
        active_permission_profile=None if profile is None else msgspec.convert(
            profile, ActivePermissionProfile),
        approval_policy=stored.approval_policy,
        approvals_reviewer=cast(ApprovalsReviewer, s.approvals_reviewer),
        collaboration_mode=CollaborationMode(mode=s.collaboration_mode, settings=(
            CollaborationModeSettings(model=s.model, reasoning_effort=s.effort))),
        cwd=cwd, disabled_plugin_ids=[], effort=s.effort,
        environments=[ThreadEnvironment(environment_id="local", cwd=cwd,
                                        runtime_workspace_roots=[cwd])],
        model=s.model, model_provider=s.provider_id, multi_agent_mode="explicitRequestOnly",
        personality=cast(Personality | None, s.personality), sandbox_policy=stored.sandbox_policy,
        service_tier=s.service_tier, summary=cast(ReasoningSummary | None, s.summary))


@route("thread/readState/update")
async def thread_read_state_update(ctx: RequestContext, params: ThreadReadStateUpdateParams
                                   ) -> ThreadReadStateUpdateResponse:
    """Mark a thread read (or unread from its start) at the revision the client saw;
    subscribers get ``thread/readState/changed`` before the answer."""
    thread_id = parse_id(params.thread_id)
    engine = await engine_for(ctx, thread_id)
    try:
        unread = isinstance(params.operation, UnreadThreadReadStateOperation)
        state = engine.read_state.update(unread, params.expected_revision)
    except ReadStateConflict as exc:
        raise RpcError(-32600, str(exc), {
            "reason": "readStateConflict",
            "readState": msgspec.to_builtins(exc.current)}) from None
    await engine.host.emit(ThreadReadStateChangedNotification(thread_id=thread_id,
                                                              read_state=state))
    return ThreadReadStateUpdateResponse(read_state=state)
