"""Requirement manifest: every method in the table → the tests that exercise it.

Enforced by ``tests/test_method_table.py::test_manifest_covers_the_table`` (every table method
listed, every referenced test exists). Methods published without a handler map to the test of
their unknown-variant answer; notifications and server requests pycodex never sends yet map to
the test comparing their types with the reference schema.
"""

from __future__ import annotations

UNSERVED = "tests/test_method_table.py::test_unserved_methods_answer_unknown_variant"
TYPE_CHECK = "tests/test_method_table.py::test_published_types_match_the_reference"

#: Methods of the reference 0.171 that other engineers are adding to the table on their
#: branches (engine: item/turn notifications and approvals; threads: revert/items; surface:
#: goals, sections, attachments, plugins, apps, account extras, providers, features,
#: feedback, Windows; skills/hooks). Tolerated by the table and manifest tests and by the test
#: client's "method not in the table" check until merged. THIS LIST MUST BE EMPTIED: the lead
#: removes each method when its branch is merged and maps it in the dicts below.
PENDING_ELSEWHERE: dict[str, frozenset[str]] = {
    "ClientRequest": frozenset(
        {
            "thread/goal/set",
            "thread/goal/get",
            "thread/goal/clear",
            "thread/attachment/add",
            "thread/attachment/list",
            "thread/attachmentOwner/list",
            "thread/attachment/remove",
            "thread/section/move",
            "thread/revert",
            "threadSection/list",
            "threadSection/create",
            "threadSection/update",
            "threadSection/delete",
            "thread/items/list",
            "skills/list",
            "skills/extraRoots/set",
            "hooks/list",
            "marketplace/add",
            "marketplace/remove",
            "marketplace/upgrade",
            "plugin/list",
            "plugin/search",
            "plugin/installed",
            "plugin/reconcile",
            "plugin/read",
            "plugin/skill/read",
            "plugin/share/save",
            "plugin/share/updateTargets",
            "plugin/share/list",
            "plugin/share/checkout",
            "plugin/share/delete",
            "app/read",
            "app/list",
            "app/installed",
            "skills/config/write",
            "plugin/install",
            "plugin/uninstall",
            "account/gatewayOAuth/read",
            "account/gatewayOAuth/login",
            "account/gatewayOAuth/cancel",
            "modelProvider/list",
            "modelProvider/config/write",
            "modelProvider/default/set",
            "modelProvider/capabilities/read",
            "experimentalFeature/list",
            "permissionProfile/list",
            "experimentalFeature/enablement/set",
            "windowsSandbox/setupStart",
            "windowsSandbox/readiness",
            "account/securitySetup/read",
            "account/rateLimitResetCredit/consume",
            "account/usage/read",
            "account/workspaceMessages/read",
            "account/sendAddCreditsNudgeEmail",
            "feedback/upload",
            "feedback/save",
            "externalAgentConfig/import/recordHistory",
            "externalAgentConfig/import/readHistories",
        }
    ),
    "ServerNotification": frozenset(
        {
            "thread/reverted",
            "skills/changed",
            "thread/section/changed",
            "thread/attachment/updated",
            "thread/goal/updated",
            "thread/goal/cleared",
            "hook/started",
            "hook/completed",
            "turn/diff/updated",
            "turn/plan/updated",
            "item/autoApprovalReview/started",
            "item/autoApprovalReview/completed",
            "item/plan/delta",
            "item/commandExecution/terminalInteraction",
            "item/fileChange/outputDelta",
            "item/fileChange/patchUpdated",
            "serverRequest/resolved",
            "item/mcpToolCall/progress",
            "account/gatewayOAuth/changed",
            "app/list/updated",
            "item/reasoning/summaryTextDelta",
            "item/reasoning/summaryPartAdded",
            "item/reasoning/textDelta",
            "thread/compacted",
            "model/rerouted",
            "model/verification",
            "modelProvider/authRecoveryStarted",
            "modelProvider/authRecoveryCompleted",
            "turn/moderationMetadata",
            "model/safetyBuffering/updated",
            "warning",
            "guardianWarning",
            "deprecationNotice",
            "windows/worldWritableWarning",
            "windowsSandbox/setupCompleted",
        }
    ),
    "ServerRequest": frozenset(
        {
            "item/commandExecution/requestApproval",
            "item/fileChange/requestApproval",
            "item/tool/requestUserInput",
            "item/permissions/requestApproval",
            "item/tool/call",
            "applyPatchApproval",
            "execCommandApproval",
        }
    ),
}

#: Client request → tests that exercise it (unserved ones: their unknown-variant answer).
REQUESTS: dict[str, tuple[str, ...]] = {
    "initialize": ("tests/test_fuzz_protocol.py::test_random_requests",),
    "thread/start": (
        "tests/test_conformance.py::test_thread_started_follows_thread_start_response",
    ),
    "thread/resume": ("tests/test_approvals.py::test_disconnect_while_asked_does_not_hang",),
    "thread/fork": ("tests/test_threads.py::test_reference_rollout_list_read_resume_fork",),
    "thread/archive": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/unsubscribe": ("tests/test_threads.py::test_invalid_thread_ids",),
    "thread/name/set": ("tests/test_threads.py::test_ephemeral_thread_never_touches_disk",),
    "thread/metadata/update": ("tests/test_threads.py::test_ephemeral_thread_never_touches_disk",),
    "thread/unarchive": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/delete": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/rollback": ("tests/test_threads.py::test_unknown_thread_errors",),
    "thread/list": ("tests/test_approvals.py::test_disconnect_while_asked_does_not_hang",),
    "thread/loaded/list": (
        "tests/test_threads.py::test_start_matches_reference_shape_and_defaults",
    ),
    "thread/read": ("tests/test_approvals.py::test_decline_continues_the_turn",),
    "thread/turns/list": (
        "tests/test_thread_turns_list.py::test_default_page_is_newest_first_with_summaries",
    ),
    "turn/start": (
        "tests/test_approvals.py::test_websocket_client_gone_while_asked_interrupts_the_turn",
    ),
    "turn/steer": ("tests/test_turns.py::test_steer_adds_input_to_the_running_turn",),
    "turn/interrupt": (
        "tests/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "thread/compact/start": (
        "tests/test_turns.py::test_compaction_replaces_history_with_a_summary",
    ),
    "thread/inject_items": (
        "tests/test_inject_items.py::test_injected_items_reach_the_next_request_and_survive_a_restart",
    ),
    "config/read": ("tests/test_config_api.py::test_read_on_empty_home_matches_reference",),
    "config/value/write": (
        "tests/test_config_api.py::test_write_replace_preserves_comments_and_unknown_keys",
    ),
    "config/batchWrite": ("tests/test_config_api.py::test_batch_write_is_all_or_nothing",),
    "configRequirements/read": (
        "tests/test_config_api.py::test_unparsable_config_warns_and_server_keeps_working",
    ),
    "externalAgentConfig/detect": (
        "tests/test_external_agent.py::test_detect_lists_home_items_with_exact_descriptions",
    ),
    "externalAgentConfig/import": (
        "tests/test_external_agent.py::test_import_params_and_item_types",
    ),
    "model/list": ("tests/test_models_api.py::test_model_list_default_page",),
    "account/login/start": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "account/login/cancel": ("tests/test_account.py::test_login_cancel_validates_id",),
    "account/logout": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "account/read": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "account/rateLimits/read": ("tests/test_account.py::test_rate_limits_need_chatgpt_auth",),
    "getAuthStatus": ("tests/test_account.py::test_get_auth_status_legacy",),
    "command/exec": ("tests/test_sandbox.py::test_network_is_blocked_unless_enabled",),
    "command/exec/write": ("tests/test_command_exec.py::test_unknown_process_ids_are_refused",),
    "command/exec/terminate": ("tests/test_command_exec.py::test_unknown_process_ids_are_refused",),
    "command/exec/resize": ("tests/test_command_exec.py::test_unknown_process_ids_are_refused",),
    "fs/readFile": ("tests/test_fs_api.py::test_write_then_read_round_trips_binary",),
    "fs/writeFile": ("tests/test_fs_api.py::test_write_then_read_round_trips_binary",),
    "fs/createDirectory": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/getMetadata": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/readDirectory": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/remove": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/copy": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/watch": ("tests/test_fs_api.py::test_relative_paths_are_refused",),
    "fs/unwatch": ("tests/test_fs_api.py::test_unwatch_stops_notifications",),
    "fuzzyFileSearch": (
        "tests/test_fuzzy_search.py::test_reused_cancellation_token_still_answers",
    ),
    "fuzzyFileSearch/sessionStart": ("tests/test_fuzzy_search.py::test_sessions",),
    "fuzzyFileSearch/sessionUpdate": ("tests/test_fuzzy_search.py::test_sessions",),
    "fuzzyFileSearch/sessionStop": ("tests/test_fuzzy_search.py::test_sessions",),
    "collaborationMode/list": (
        "tests/test_handshake.py::test_requests_before_initialize_are_refused",
    ),
    "mock/experimentalMethod": ("tests/test_handshake.py::test_ids_are_echoed_with_their_type",),
    "mcpServer/oauth/login": (UNSERVED,),
    "config/mcpServer/reload": (UNSERVED,),
    "mcpServerStatus/list": (UNSERVED,),
    "mcpServer/resource/read": (UNSERVED,),
    "mcpServer/event/stream/start": (UNSERVED,),
    "mcpServer/event/stream/stop": (UNSERVED,),
    "mcpServer/tool/call": (UNSERVED,),
    "review/start": (
        "tests/test_shell_command_review.py::"
        "test_review_of_uncommitted_changes_reports_entered_and_exited_items",
        "tests/test_shell_command_review.py::test_review_targets_hints_and_validation"),
    "thread/shellCommand": (
        "tests/test_shell_command_review.py::test_shell_command_runs_as_its_own_turn_and_reaches_the_model",),
    "thread/approveGuardianDeniedAction": (UNSERVED,),
    "thread/guardianReview": (UNSERVED,),
    "thread/prepareApprovedPlan": (UNSERVED,),
    "thread/backgroundTerminals/clean": (UNSERVED,),
    "thread/backgroundTerminals/list": (
        "tests/test_shell_command_review.py::test_background_terminals_list_is_empty",),
    "thread/backgroundTerminals/terminate": (UNSERVED,),
    "thread/settings/update": (
        "tests/test_shell_command_review.py::"
        "test_settings_update_applies_to_later_turns_and_reports_the_effective_settings",),
    "turn/settings/update": (UNSERVED,),
    "thread/memoryMode/set": (UNSERVED,),
    "thread/memory/read": (UNSERVED,),
    "memory/status": (UNSERVED,),
    "memory/reset": (UNSERVED,),
    "rollout/compress": (UNSERVED,),
    "thread/sample": (UNSERVED,),
    "thread/sample/cancel": (UNSERVED,),
    "thread/increment_elicitation": (UNSERVED,),
    "thread/decrement_elicitation": (UNSERVED,),
    "thread/prediction/request": (UNSERVED,),
    "thread/readState/update": (
        "tests/test_shell_command_review.py::test_read_state_marks_finished_turns_unread",),
    "thread/items/read": (UNSERVED,),
    "thread/queue/add": (UNSERVED,),
    "thread/queue/list": (UNSERVED,),
    "thread/queue/update": (UNSERVED,),
    "thread/queue/delete": (UNSERVED,),
    "thread/queue/reorder": (UNSERVED,),
    "thread/queue/start": (UNSERVED,),
    "thread/search": (UNSERVED,),
    "thread/search/stream": (UNSERVED,),
    "thread/search/cancel": (UNSERVED,),
    "thread/search/stream/cancel": (UNSERVED,),
    "thread/searchOccurrences": (UNSERVED,),
    "project/list": (UNSERVED,),
    "project/read": (UNSERVED,),
    "project/create": (UNSERVED,),
    "project/import": (UNSERVED,),
    "project/update": (UNSERVED,),
    "project/move": (UNSERVED,),
    "project/delete": (UNSERVED,),
    "environment/add": (UNSERVED,),
    "environment/info": (UNSERVED,),
    "environment/status": (UNSERVED,),
    "thread/realtime/start": (UNSERVED,),
    "thread/realtime/appendAudio": (UNSERVED,),
    "thread/realtime/appendText": (UNSERVED,),
    "thread/realtime/appendSpeech": (UNSERVED,),
    "thread/realtime/stop": (UNSERVED,),
    "thread/timeline/list": (UNSERVED,),
    "thread/realtime/list": (UNSERVED,),
    "thread/realtime/listVoices": (UNSERVED,),
    "process/spawn": (UNSERVED,),
    "process/writeStdin": (UNSERVED,),
    "process/kill": (UNSERVED,),
    "process/resizePty": (UNSERVED,),
    "remoteControl/enable": (UNSERVED,),
    "remoteControl/disable": (UNSERVED,),
    "remoteControl/status/read": (UNSERVED,),
    "remoteControl/pairing/start": (UNSERVED,),
    "remoteControl/pairing/status": (UNSERVED,),
    "remoteControl/client/list": (UNSERVED,),
    "remoteControl/client/revoke": (UNSERVED,),
    "userVerification/status": (UNSERVED,),
    "userVerification/enroll": (UNSERVED,),
    "userVerification/delete": (UNSERVED,),
    "userVerification/verify": (UNSERVED,),
    "userVerification/cancel": (UNSERVED,),
    "account/bedrock/discover": (UNSERVED,),
    "account/bedrock/setup": (UNSERVED,),
    "account/gcp/setup": (UNSERVED,),
    "account/bedrock/checkGovCloudRequirements": (UNSERVED,),
    "accountSession/list": (UNSERVED,),
    "accountSession/switch": (UNSERVED,),
    "server/diagnostics": (UNSERVED,),
}

#: Server notification → tests that receive it (published only: its type check).
NOTIFICATIONS: dict[str, tuple[str, ...]] = {
    "configWarning": (
        "tests/test_config_api.py::test_unparsable_config_warns_and_server_keeps_working",
    ),
    "thread/started": (
        "tests/test_conformance.py::test_thread_started_follows_thread_start_response",
    ),
    "thread/status/changed": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "thread/archived": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/unarchived": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/deleted": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/closed": ("tests/test_threads.py::test_idle_unload_after_delay",),
    "thread/name/updated": (
        "tests/test_threads.py::test_reference_rollout_after_restart_is_resumable",
    ),
    "turn/started": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "turn/completed": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "item/started": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "item/completed": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "item/agentMessage/delta": (
        "tests/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
    ),
    "item/commandExecution/outputDelta": (
        "tests/test_tools_exec.py::test_echo_streams_the_command_item_and_feeds_the_output_back",
    ),
    "error": ("tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",),
    "thread/tokenUsage/updated": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "externalAgentConfig/import/progress": (
        "tests/test_external_agent.py::test_import_applies_items_and_reports_progress",
    ),
    "externalAgentConfig/import/completed": (
        "tests/test_external_agent.py::test_import_applies_items_and_reports_progress",
    ),
    "account/login/completed": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "account/updated": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "account/rateLimits/updated": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "command/exec/outputDelta": (
        "tests/test_command_exec.py::test_streaming_sends_deltas_before_the_answer",
    ),
    "fs/changed": ("tests/test_fs_api.py::test_watch_directory_and_file",),
    "fuzzyFileSearch/sessionUpdated": ("tests/test_fuzzy_search.py::test_sessions",),
    "fuzzyFileSearch/sessionCompleted": ("tests/test_fuzzy_search.py::test_sessions",),
    "mcpServer/oauthLogin/completed": (TYPE_CHECK,),
    "mcpServer/startupStatus/updated": (TYPE_CHECK,),
    "mcpServer/event/stream/notification": (TYPE_CHECK,),
    "thread/settings/updated": (TYPE_CHECK,),
    "thread/readState/changed": (
        "tests/test_shell_command_review.py::test_read_state_marks_finished_turns_unread",),
    "thread/prediction/updated": (TYPE_CHECK,),
    "autoApprovalReview/strictReviewRequired": (TYPE_CHECK,),
    "thread/queue/changed": (TYPE_CHECK,),
    "thread/search/partial": (TYPE_CHECK,),
    "project/changed": (TYPE_CHECK,),
    "thread/project/updated": (TYPE_CHECK,),
    "thread/environment/connected": (TYPE_CHECK,),
    "thread/environment/disconnected": (TYPE_CHECK,),
    "thread/realtime/started": (TYPE_CHECK,),
    "thread/realtime/itemAdded": (TYPE_CHECK,),
    "thread/realtime/item/started": (TYPE_CHECK,),
    "thread/realtime/item/transcript/delta": (TYPE_CHECK,),
    "thread/realtime/item/completed": (TYPE_CHECK,),
    "thread/realtime/transcript/delta": (TYPE_CHECK,),
    "thread/realtime/transcript/done": (TYPE_CHECK,),
    "thread/realtime/outputAudio/delta": (TYPE_CHECK,),
    "thread/realtime/sdp": (TYPE_CHECK,),
    "thread/realtime/error": (TYPE_CHECK,),
    "thread/realtime/closed": (TYPE_CHECK,),
    "process/outputDelta": (TYPE_CHECK,),
    "process/exited": (TYPE_CHECK,),
    "remoteControl/status/changed": (TYPE_CHECK,),
}

#: Server request → tests that answer it (published only: its type check).
SERVER_REQUESTS: dict[str, tuple[str, ...]] = {
    "account/chatgptAuthTokens/refresh": (
        "tests/test_account.py::test_refresher_success_replaces_tokens",
    ),
    "mcpServer/elicitation/request": (TYPE_CHECK,),
    "attestation/generate": (TYPE_CHECK,),
}
