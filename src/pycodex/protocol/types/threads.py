"""Wire types of the `thread/*` method family."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from pycodex.protocol.base import UNSET, UnsetType, WireStruct
from pycodex.protocol.methods import MethodSpec
from pycodex.protocol.types.items import (
    ApprovalsReviewer,
    AskForApproval,
    NotLoadedThreadStatus,
    ReasoningEffort,
    SandboxMode,
    SandboxPolicy,
    ThreadItem,
    ThreadStatus,
    Turn,
    TurnItemsView,
)
from pycodex.protocol.types.turns import CollaborationMode

ThreadSourceKind = Literal[
    "cli",
    "vscode",
    "exec",
    "appServer",
    "subAgent",
    "subAgentReview",
    "subAgentCompact",
    "subAgentThreadSpawn",
    "subAgentOther",
    "unknown",
]
ThreadSortKey = Literal["created_at", "updated_at", "recency_at", "section_position"]
HistoryMode = Literal["legacy", "paginated"]


class GitInfo(WireStruct):
    sha: str | None = None
    branch: str | None = None
    origin_url: str | None = None


class ThreadEnvironment(WireStruct):
    environment_id: str
    cwd: str
    runtime_workspace_roots: list[str]


class Thread(WireStruct):
    """A thread as the reference reports it (field order follows the reference)."""

    id: str
    environments: list[ThreadEnvironment] | None = None
    extra: Any | None = None
    session_id: str = ""
    forked_from_id: str | None = None
    attached_to_thread_id: str | None = None
    parent_thread_id: str | None = None
    preview: str = ""
    ephemeral: bool = False
    section: Any | None = None
    section_entered_at: int | None = None
    project_id: str | None = None
    history_mode: HistoryMode = "legacy"
    model_provider: str = "openai"
    model: str | None = None
    reasoning_effort: ReasoningEffort | None = None
    created_at: int = 0
    updated_at: int = 0
    recency_at: int | None = None
    status: ThreadStatus = msgspec.field(default_factory=NotLoadedThreadStatus)
    path: str | None = None
    cwd: str = ""
    cli_version: str = ""
    originator: str | None = None
    source: Any = "vscode"
    can_accept_direct_input: bool | None = None
    thread_source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git_info: GitInfo | None = None
    name: str | None = None
    daybreak_enabled: bool | None = None
    turns: list[Turn] = msgspec.field(default_factory=list)


class _ThreadConfigParams(WireStruct):
    """Overrides shared by start, resume and fork."""

    model: str | None = None
    model_provider: str | None = None
    service_tier: str | UnsetType | None = UNSET
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    approvals_reviewer: ApprovalsReviewer | None = None
    sandbox: SandboxMode | None = None
    config: dict[str, Any] | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    personality: Literal["none", "friendly", "pragmatic"] | None = None


class ThreadStartParams(_ThreadConfigParams):
    __experimental__: ClassVar[dict[str, str]] = {
        "dynamic_tools": "dynamicTools",
        "mock_experimental_field": "mockExperimentalField",
        "experimental_raw_events": "experimentalRawEvents",
        "persist_extended_history": "persistFullHistory",
        "history_mode": "historyMode",
    }

    service_name: str | None = None
    ephemeral: bool | None = None
    session_start_source: Literal["startup", "clear"] | None = None
    dynamic_tools: list[dict[str, Any]] | None = None
    mock_experimental_field: str | None = None
    experimental_raw_events: bool = False
    persist_extended_history: bool = False
    history_mode: HistoryMode | None = None


class ThreadResumeParams(_ThreadConfigParams):
    __experimental__: ClassVar[dict[str, str]] = {
        "history": "history",
        "path": "path",
        "persist_extended_history": "persistFullHistory",
    }

    thread_id: str  # type: ignore[misc]  # kw_only: a required field may follow defaults
    history: list[Any] | None = None
    path: str | None = None
    persist_extended_history: bool = False
    exclude_turns: bool = False


class ThreadForkParams(_ThreadConfigParams):
    __experimental__: ClassVar[dict[str, str]] = {
        "path": "path",
        "persist_extended_history": "persistFullHistory",
    }

    thread_id: str  # type: ignore[misc]  # kw_only: a required field may follow defaults
    path: str | None = None
    ephemeral: bool = False
    persist_extended_history: bool = False
    exclude_turns: bool = False


class ThreadStartResponse(WireStruct):
    #: experimental in 0.171: left out of the stable schema export (sent to every client)
    __experimental__: ClassVar[dict[str, str]] = {
        "runtime_workspace_roots": "runtimeWorkspaceRoots",
        "active_permission_profile": "activePermissionProfile",
        "multi_agent_mode": "multiAgentMode",
    }
    thread: Thread
    model: str
    model_provider: str
    service_tier: str | None
    disabled_plugin_ids: list[str]
    cwd: str
    runtime_workspace_roots: list[str]
    instruction_sources: list[str]
    approval_policy: AskForApproval
    approvals_reviewer: ApprovalsReviewer
    sandbox: SandboxPolicy
    active_permission_profile: Any | None
    reasoning_effort: ReasoningEffort | None
    multi_agent_mode: str = "explicitRequestOnly"


class ThreadResumeResponse(ThreadStartResponse):
    #: the thread's current mode and its model settings
    collaboration_mode: CollaborationMode | None = None
    #: ``thread/turns/list`` cursor (``desc``) whose first page holds the last turn
    turns_backwards_cursor: str | None = None
    items_backwards_cursor: str | None = None


ThreadForkResponse = ThreadStartResponse


class ThreadIdParams(WireStruct):
    thread_id: str


class ThreadArchiveParams(ThreadIdParams):
    pass


class ThreadUnarchiveParams(ThreadIdParams):
    pass


class ThreadDeleteParams(ThreadIdParams):
    pass


class ThreadUnsubscribeParams(ThreadIdParams):
    pass


class EmptyResponse(WireStruct):
    pass


class ThreadResponse(WireStruct):
    thread: Thread


class ThreadUnsubscribeResponse(WireStruct):
    status: Literal["notLoaded", "notSubscribed", "unsubscribed"]


class ThreadSetNameParams(WireStruct):
    thread_id: str
    name: str


class ThreadMetadataGitInfoUpdateParams(WireStruct):
    sha: str | UnsetType | None = UNSET
    branch: str | UnsetType | None = UNSET
    origin_url: str | UnsetType | None = UNSET


class ThreadMetadataUpdateParams(WireStruct):
    thread_id: str
    git_info: ThreadMetadataGitInfoUpdateParams | None = None


class ThreadRollbackParams(WireStruct):
    thread_id: str
    num_turns: int


class ThreadRevertParams(WireStruct):
    thread_id: str
    before_turn_id: str


class ThreadRevertResponse(WireStruct):
    thread: Thread
    turns_backwards_cursor: str | None = None
    items_backwards_cursor: str | None = None


class ThreadItemsListAnchor(WireStruct, tag_field="type", tag="item"):
    item_id: str


class ThreadItemsListParams(WireStruct):
    thread_id: str
    turn_id: str | None = None
    cursor: str | ThreadItemsListAnchor | None = None
    limit: int | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    defer_output: dict[str, Any] | None = None


class ThreadItemEntry(WireStruct):
    turn_id: str
    item: ThreadItem
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ThreadItemsListResponse(WireStruct):
    data: list[ThreadItemEntry]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class ThreadListParams(WireStruct):
    cursor: str | None = None
    limit: int | None = None
    sort_key: ThreadSortKey | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    model_providers: list[str] | None = None
    source_kinds: list[ThreadSourceKind] | None = None
    archived: bool | None = None
    cwd: str | list[str] | None = None
    search_term: str | None = None
    included_thread_ids: list[str] | None = None
    section_id: str | UnsetType | None = UNSET
    """Omitted: every thread; ``null``: threads in no section; an id: that section's."""


class ThreadListResponse(WireStruct):
    data: list[Thread]
    next_cursor: str | None
    backwards_cursor: str | None = None


class ThreadLoadedListParams(WireStruct):
    cursor: str | None = None
    limit: int | None = None


class ThreadLoadedListResponse(WireStruct):
    data: list[str]
    next_cursor: str | None


class ThreadReadParams(WireStruct):
    thread_id: str
    include_turns: bool = False


class ThreadTurnsListParams(WireStruct):
    thread_id: str
    cursor: str | None = None
    limit: int | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    items_view: TurnItemsView | None = None


class ThreadTurnsListResponse(WireStruct):
    data: list[Turn]
    next_cursor: str | None = None
    backwards_cursor: str | None = None


# -- notifications --------------------------------------------------------------------


class ThreadStartedNotification(WireStruct):
    thread: Thread


class ThreadStatusChangedNotification(WireStruct):
    thread_id: str
    status: ThreadStatus


class ThreadIdNotification(WireStruct):
    thread_id: str


class ThreadClosedNotification(ThreadIdNotification):
    """``thread/closed``: its own type, so it is sent by type (the other thread-id
    notifications are sent by method name from the api layer)."""


class ThreadRevertedNotification(ThreadIdNotification):
    """``thread/reverted``: a thread's history was cut by ``thread/revert``."""


class DeprecationNoticeNotification(WireStruct):
    """``deprecationNotice``: something the client asked for is on its way out."""

    summary: str
    details: str | None = None


class ThreadNameUpdatedNotification(WireStruct, omit_defaults=True):
    thread_id: str
    thread_name: str | None = None


REQUESTS: list[MethodSpec] = [
    MethodSpec("thread/start", ThreadStartParams, ThreadStartResponse),
    MethodSpec("thread/resume", ThreadResumeParams, ThreadResumeResponse),
    MethodSpec("thread/fork", ThreadForkParams, ThreadForkResponse),
    MethodSpec("thread/archive", ThreadArchiveParams, EmptyResponse),
    MethodSpec("thread/unsubscribe", ThreadUnsubscribeParams, ThreadUnsubscribeResponse),
    MethodSpec("thread/name/set", ThreadSetNameParams, EmptyResponse),
    MethodSpec("thread/metadata/update", ThreadMetadataUpdateParams, ThreadResponse),
    MethodSpec("thread/unarchive", ThreadUnarchiveParams, ThreadResponse),
    MethodSpec("thread/delete", ThreadDeleteParams, EmptyResponse),
    MethodSpec("thread/rollback", ThreadRollbackParams, ThreadResponse),
    MethodSpec("thread/revert", ThreadRevertParams, ThreadRevertResponse),
    MethodSpec("thread/items/list", ThreadItemsListParams, ThreadItemsListResponse),
    MethodSpec("thread/list", ThreadListParams, ThreadListResponse),
    MethodSpec("thread/loaded/list", ThreadLoadedListParams, ThreadLoadedListResponse),
    MethodSpec("thread/read", ThreadReadParams, ThreadResponse),
    MethodSpec("thread/turns/list", ThreadTurnsListParams, ThreadTurnsListResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "thread/started": ThreadStartedNotification,
    "thread/status/changed": ThreadStatusChangedNotification,
    "thread/archived": ThreadIdNotification,
    "thread/unarchived": ThreadIdNotification,
    "thread/deleted": ThreadIdNotification,
    "thread/closed": ThreadClosedNotification,
    "thread/reverted": ThreadRevertedNotification,
    "deprecationNotice": DeprecationNoticeNotification,
    "thread/name/updated": ThreadNameUpdatedNotification,
}
