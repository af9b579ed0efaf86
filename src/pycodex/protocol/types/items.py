"""Shared wire types of threads and turns: user input, thread items, turns, sandbox and
approval policies, thread status. The turn engine builds and streams these; the thread
store rebuilds them from rollouts."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from pycodex.protocol.base import UNSET, UnsetType, WireStruct
from pycodex.protocol.methods import ServerRequestSpec
from pycodex.protocol.paths import check_absolute

# -- user input -----------------------------------------------------------------------


class ByteRange(WireStruct):
    start: int
    end: int


class TextElement(WireStruct):
    byte_range: ByteRange
    placeholder: str | None = None


class TextUserInput(WireStruct, tag_field="type", tag="text"):
    text: str
    #: snake_case on the wire (a quirk of the reference protocol).
    text_elements: list[TextElement] = msgspec.field(default_factory=list, name="text_elements")


class ImageUserInput(WireStruct, tag_field="type", tag="image", omit_defaults=True):
    url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class LocalImageUserInput(WireStruct, tag_field="type", tag="localImage"):
    path: str
    detail: str | None = None


class SkillUserInput(WireStruct, tag_field="type", tag="skill"):
    name: str
    path: str


class MentionUserInput(WireStruct, tag_field="type", tag="mention"):
    name: str
    path: str


UserInput = TextUserInput | ImageUserInput | LocalImageUserInput | SkillUserInput | MentionUserInput

# -- thread items ---------------------------------------------------------------------


class UserMessageItem(WireStruct, tag_field="type", tag="userMessage"):
    id: str
    content: list[UserInput]
    client_id: str | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


# -- moderation of an agent message (0.171: ``AgentMessageDisplay`` tagged by ``mode``) --

TrustedContacts = Literal["check", "skip"]
HelplineSubject = Literal["answer", "prompt"]


class WellbeingHelplineAnswerAnnotation(WireStruct, tag_field="kind", tag="wellbeingHelpline"):
    subject: HelplineSubject


class WellbeingPromptHelplineAnswerReplacement(WireStruct, tag_field="kind",
                                               tag="wellbeingPromptHelpline"):
    pass


class ProtectionBlockReason(WireStruct, tag_field="kind", tag="protection"):
    protection_type: str


class CyberBlockReason(WireStruct, tag_field="kind", tag="cyber"):
    trusted_access: bool | None = None


AnswerAnnotation = WellbeingHelplineAnswerAnnotation
AnswerReplacement = WellbeingPromptHelplineAnswerReplacement
BlockReason = ProtectionBlockReason | CyberBlockReason


class ShowAgentMessageDisplay(WireStruct, tag_field="mode", tag="show"):
    trusted_contacts: TrustedContacts
    version: Literal[1] = 1
    annotation: AnswerAnnotation | None = None


class HideAgentMessageDisplay(WireStruct, tag_field="mode", tag="hide"):
    replacement: AnswerReplacement
    version: Literal[1] = 1


class BlockAgentMessageDisplay(WireStruct, tag_field="mode", tag="block"):
    reason: BlockReason
    version: Literal[1] = 1


AgentMessageDisplay = ShowAgentMessageDisplay | HideAgentMessageDisplay | BlockAgentMessageDisplay


class AgentMessageModeration(WireStruct):
    moderated: bool
    display: AgentMessageDisplay | None = None


class AgentMessageItem(WireStruct, tag_field="type", tag="agentMessage"):
    id: str
    text: str
    moderation: AgentMessageModeration | None = None
    phase: str | None = None
    memory_citation: Any | None = None
    delivery: Any | None = None
    questions: Any | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class PlanItem(WireStruct, tag_field="type", tag="plan"):
    id: str
    text: str


class ReasoningItem(WireStruct, tag_field="type", tag="reasoning"):
    id: str
    summary: list[str] = msgspec.field(default_factory=list)
    content: list[str] = msgspec.field(default_factory=list)
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ReadCommandAction(WireStruct, tag_field="type", tag="read"):
    command: str
    name: str
    path: str


class ListFilesCommandAction(WireStruct, tag_field="type", tag="listFiles"):
    command: str
    path: str | None = None


class SearchCommandAction(WireStruct, tag_field="type", tag="search"):
    command: str
    query: str | None = None
    path: str | None = None


class UnknownCommandAction(WireStruct, tag_field="type", tag="unknown"):
    command: str


CommandAction = (
    ReadCommandAction | ListFilesCommandAction | SearchCommandAction | UnknownCommandAction
)

CommandExecutionStatus = Literal["inProgress", "completed", "failed", "declined"]
CommandExecutionSource = Literal[
    "agent", "userShell", "unifiedExecStartup", "unifiedExecInteraction"
]


class CommandExecutionItem(WireStruct, tag_field="type", tag="commandExecution"):
    id: str
    command: str
    cwd: str
    status: CommandExecutionStatus
    command_actions: list[CommandAction] = msgspec.field(default_factory=list)
    process_id: str | None = None
    source: CommandExecutionSource = "agent"
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class AddPatchChangeKind(WireStruct, tag_field="type", tag="add"):
    pass


class DeletePatchChangeKind(WireStruct, tag_field="type", tag="delete"):
    pass


class UpdatePatchChangeKind(WireStruct, tag_field="type", tag="update"):
    #: snake_case on the wire.
    move_path: str | None = msgspec.field(default=None, name="move_path")


PatchChangeKind = AddPatchChangeKind | DeletePatchChangeKind | UpdatePatchChangeKind


class FileUpdateChange(WireStruct):
    path: str
    kind: PatchChangeKind
    diff: str


PatchApplyStatus = Literal["inProgress", "completed", "failed", "declined"]


class FileChangeItem(WireStruct, tag_field="type", tag="fileChange"):
    id: str
    changes: list[FileUpdateChange]
    status: PatchApplyStatus
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class McpToolCallItem(WireStruct, tag_field="type", tag="mcpToolCall"):
    id: str
    server: str
    tool: str
    status: Literal["inProgress", "completed", "failed"]
    arguments: Any = None
    read_only_hint: bool | None = None
    result: Any | None = None
    error: Any | None = None
    duration_ms: int | None = None
    app_context: Any | None = None
    mcp_app_ui: Any | None = None
    plugin_id: str | None = None
    #: 0.171: where the server runs (``None`` for the local environment).
    environment_id: str | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


DynamicToolCallStatus = Literal["inProgress", "completed", "failed"]


class DynamicToolCallItem(WireStruct, tag_field="type", tag="dynamicToolCall"):
    """A call of a client-implemented tool (``item/tool/call``)."""

    id: str
    tool: str
    status: DynamicToolCallStatus
    arguments: Any = None
    #: ``{"type": "inputText", "text"}`` / ``{"type": "inputImage", "imageUrl"}`` parts.
    content_items: list[dict[str, Any]] | None = None
    success: bool | None = None
    duration_ms: int | None = None
    #: Only sent when the tool has a namespace (0.169.0 never sends the key).
    namespace: str | UnsetType | None = UNSET


class WebSearchItem(WireStruct, tag_field="type", tag="webSearch"):
    id: str
    query: str
    action: Any | None = None


class ImageViewItem(WireStruct, tag_field="type", tag="imageView"):
    id: str
    path: str


class EnteredReviewModeItem(WireStruct, tag_field="type", tag="enteredReviewMode"):
    id: str
    review: str
    started_at_ms: int | UnsetType | None = UNSET
    completed_at_ms: int | UnsetType | None = UNSET


class ExitedReviewModeItem(WireStruct, tag_field="type", tag="exitedReviewMode"):
    id: str
    review: str
    started_at_ms: int | UnsetType | None = UNSET
    completed_at_ms: int | UnsetType | None = UNSET


class ContextCompactionItem(WireStruct, tag_field="type", tag="contextCompaction"):
    id: str
    #: Sent by running turns; absent from items rebuilt from rollouts.
    started_at_ms: int | UnsetType | None = UNSET
    completed_at_ms: int | UnsetType | None = UNSET


class HookPromptFragment(WireStruct):
    text: str
    hook_run_id: str


class HookPromptItem(WireStruct, tag_field="type", tag="hookPrompt"):
    """A hook's request that the model keep working (a Stop hook that blocked)."""

    id: str
    fragments: list[HookPromptFragment]
    started_at_ms: int | UnsetType | None = UNSET
    completed_at_ms: int | UnsetType | None = UNSET


ThreadItem = (
    UserMessageItem
    | AgentMessageItem
    | PlanItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | DynamicToolCallItem
    | WebSearchItem
    | ImageViewItem
    | EnteredReviewModeItem
    | ExitedReviewModeItem
    | ContextCompactionItem
    | HookPromptItem
)

# -- turns ----------------------------------------------------------------------------

TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]
TurnItemsView = Literal["notLoaded", "summary", "full"]


#: The plain kinds of ``CodexErrorInfo`` (0.171 added ``bioPolicy``); the others are
#: one-key objects such as ``{"httpConnectionFailed": {"httpStatusCode": 502}}``.
CodexErrorKind = Literal[
    "contextWindowExceeded", "sessionBudgetExceeded", "usageLimitExceeded",
    "rateLimitExceeded", "flexUnavailable", "serverOverloaded", "modelNotFound",
    "policyCapacityUnavailable", "cyberPolicy", "bioPolicy", "misalignmentPolicyViolation",
    "tooManyDenials", "internalServerError", "unauthorized", "badRequest",
    "threadRollbackFailed", "sandboxError", "other", "inferenceHookDenied",
]
CodexErrorInfo = CodexErrorKind | dict[str, Any]


class TurnError(WireStruct):
    message: str
    codex_error_info: CodexErrorInfo | None = None
    additional_details: str | None = None
    #: Always sent (null) by running turns; absent from turns rebuilt from rollouts.
    misalignment: Any | UnsetType | None = UNSET


class Turn(WireStruct):
    id: str
    #: Sent by running turns (``turn/started``, ``turn/completed``, ``turn/start``); absent
    #: from turns rebuilt from rollouts.
    root_turn_id: str | UnsetType | None = UNSET
    items: list[ThreadItem] = msgspec.field(default_factory=list)
    status: TurnStatus = "inProgress"
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    items_view: TurnItemsView = "full"


# -- sandbox and approvals ------------------------------------------------------------

SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]
ReasoningEffort = str


class GranularApproval(msgspec.Struct, kw_only=True):
    """Inner keys are snake_case on the wire."""

    sandbox_approval: bool
    rules: bool
    mcp_elicitations: bool
    skill_approval: bool = False
    request_permissions: bool = False


class GranularAskForApproval(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    __experimental_descriptor__ = "askForApproval.granular"

    granular: GranularApproval


AskForApprovalMode = Literal["untrusted", "on-request", "never"]
AskForApproval = AskForApprovalMode | GranularAskForApproval


class DangerFullAccessSandboxPolicy(WireStruct, tag_field="type", tag="dangerFullAccess"):
    pass


class ReadOnlySandboxPolicy(WireStruct, tag_field="type", tag="readOnly"):
    network_access: bool = False


class ExternalSandboxSandboxPolicy(WireStruct, tag_field="type", tag="externalSandbox"):
    network_access: Literal["restricted", "enabled"] = "restricted"


class WorkspaceWriteSandboxPolicy(WireStruct, tag_field="type", tag="workspaceWrite"):
    writable_roots: list[str] = msgspec.field(default_factory=list)
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False

    def __post_init__(self) -> None:
        for root in self.writable_roots:
            check_absolute(root)


SandboxPolicy = (
    DangerFullAccessSandboxPolicy
    | ReadOnlySandboxPolicy
    | ExternalSandboxSandboxPolicy
    | WorkspaceWriteSandboxPolicy
)

# -- thread status --------------------------------------------------------------------

ThreadActiveFlag = Literal["waitingOnApproval", "waitingOnUserInput"]


class NotLoadedThreadStatus(WireStruct, tag_field="type", tag="notLoaded"):
    pass


class IdleThreadStatus(WireStruct, tag_field="type", tag="idle"):
    pass


class SystemErrorThreadStatus(WireStruct, tag_field="type", tag="systemError"):
    pass


class ActiveThreadStatus(WireStruct, tag_field="type", tag="active"):
    active_flags: list[ThreadActiveFlag] = msgspec.field(default_factory=list)


ThreadStatus = (
    NotLoadedThreadStatus | IdleThreadStatus | SystemErrorThreadStatus | ActiveThreadStatus
)

# -- item notifications and server requests of running turns ---------------------------
# One params type per method: the outbound facade finds the method by type.


class StreamedDelta(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    """Base of the streamed delta notifications, sent once per model or process chunk: a
    plain struct (the ``WireStruct`` metaclass makes each construction ~3x slower) that the
    GC does not track (its fields are strings and ints)."""


class ItemStartedNotification(WireStruct):
    item: ThreadItem
    thread_id: str
    turn_id: str
    started_at_ms: int


class ItemCompletedNotification(WireStruct):
    item: ThreadItem
    thread_id: str
    turn_id: str
    content_token_count: int | None
    completed_at_ms: int


class McpToolCallProgressNotification(WireStruct):
    """A progress message of a running MCP tool call."""

    thread_id: str
    turn_id: str
    item_id: str
    message: str


class AgentMessageDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class PlanDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ReasoningSummaryTextDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    summary_index: int


class ReasoningSummaryPartAddedNotification(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    summary_index: int


class ReasoningTextDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    content_index: int


class CommandExecutionOutputDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class TerminalInteractionNotification(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    process_id: str
    stdin: str


class FileChangeOutputDeltaNotification(StreamedDelta):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class FileChangePatchUpdatedNotification(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    changes: list[dict[str, Any]]


CommandExecutionApprovalKind = Literal["command", "writeStdin", "humanCommand"]


class CommandExecutionRequestApprovalParams(WireStruct):
    __experimental__: ClassVar[dict[str, str]] = {"available_decisions": "availableDecisions"}
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    command: str | None
    cwd: str | None
    command_actions: list[dict[str, Any]] | None
    kind: CommandExecutionApprovalKind = "command"
    #: set only for sub-command callbacks (several approvals under one item)
    approval_id: str | UnsetType | None = UNSET
    #: where the command runs (``local`` for this machine)
    environment_id: str | UnsetType | None = UNSET
    #: ``accept``, ``{"acceptWithExecpolicyAmendment": …}``, ``cancel``…
    available_decisions: list[Any] | UnsetType = UNSET
    reason: str | UnsetType | None = UNSET
    #: ``{host, protocol}`` of a network-only approval
    network_approval_context: dict[str, Any] | UnsetType | None = UNSET
    proposed_execpolicy_amendment: list[str] | UnsetType | None = UNSET
    #: ``[{host, action: "allow"|"deny"}]``
    proposed_network_policy_amendments: list[dict[str, Any]] | UnsetType | None = UNSET


class CommandExecutionRequestApprovalResponse(WireStruct):
    decision: Any


class FileChangeRequestApprovalParams(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    reason: str | None = None
    grant_root: str | None = None


class FileChangeRequestApprovalResponse(WireStruct):
    decision: Any


class ToolRequestUserInputOption(WireStruct):
    label: str
    description: str


class ToolRequestUserInputQuestion(WireStruct):
    id: str
    header: str
    question: str
    is_other: bool = False
    is_secret: bool = False
    options: list[ToolRequestUserInputOption] | None = None


class ToolRequestUserInputParams(WireStruct):
    thread_id: str
    turn_id: str
    item_id: str
    questions: list[ToolRequestUserInputQuestion]
    is_blocking: bool
    #: deprecated in 0.171 (clients decide by ``isBlocking``); 0.171 sends ``null``
    auto_resolution_ms: int | None = None


class ToolRequestUserInputResponse(WireStruct):
    answers: dict[str, Any]


class DynamicToolCallParams(WireStruct):
    thread_id: str
    turn_id: str
    call_id: str
    tool: str
    arguments: Any
    #: the namespace of a dynamic tool registered under one (``null`` otherwise)
    namespace: str | None = None


class DynamicToolCallResponse(WireStruct):
    content_items: list[dict[str, Any]]
    success: bool


NOTIFICATIONS: dict[str, Any] = {
    "item/started": ItemStartedNotification,
    "item/completed": ItemCompletedNotification,
    "item/agentMessage/delta": AgentMessageDeltaNotification,
    "item/plan/delta": PlanDeltaNotification,
    "item/reasoning/summaryTextDelta": ReasoningSummaryTextDeltaNotification,
    "item/reasoning/summaryPartAdded": ReasoningSummaryPartAddedNotification,
    "item/reasoning/textDelta": ReasoningTextDeltaNotification,
    "item/commandExecution/outputDelta": CommandExecutionOutputDeltaNotification,
    "item/commandExecution/terminalInteraction": TerminalInteractionNotification,
    "item/fileChange/outputDelta": FileChangeOutputDeltaNotification,
    "item/fileChange/patchUpdated": FileChangePatchUpdatedNotification,
    "item/mcpToolCall/progress": McpToolCallProgressNotification,
}
SERVER_REQUESTS = [
    ServerRequestSpec("item/commandExecution/requestApproval",
                      CommandExecutionRequestApprovalParams,
                      CommandExecutionRequestApprovalResponse),
    ServerRequestSpec("item/fileChange/requestApproval", FileChangeRequestApprovalParams,
                      FileChangeRequestApprovalResponse),
    ServerRequestSpec("item/tool/requestUserInput", ToolRequestUserInputParams,
                      ToolRequestUserInputResponse),
    ServerRequestSpec("item/tool/call", DynamicToolCallParams, DynamicToolCallResponse),
]

__all__ = [
    "ActiveThreadStatus",
    "AgentMessageItem",
    "AskForApproval",
    "CommandAction",
    "CommandExecutionItem",
    "DynamicToolCallItem",
    "FileChangeItem",
    "FileUpdateChange",
    "IdleThreadStatus",
    "McpToolCallProgressNotification",
    "NotLoadedThreadStatus",
    "ReasoningItem",
    "SandboxPolicy",
    "SystemErrorThreadStatus",
    "TextUserInput",
    "ThreadItem",
    "ThreadStatus",
    "Turn",
    "TurnError",
    "UserInput",
    "UserMessageItem",
]
