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
    "initialize": (
        "tests/test_handshake.py::test_second_initialize_is_refused",
        "tests/test_handshake.py::test_invalid_client_name_is_refused",
    ),
    "thread/start": (
        "tests/test_threads.py::test_start_matches_reference_shape_and_defaults",
        "tests/test_threads.py::test_start_overrides_and_config",
    ),
    "thread/resume": (
        "tests/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/test_threads.py::test_resume_twice_rejoins",
    ),
    "thread/fork": (
        "tests/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/archive": (
        "tests/test_threads.py::test_archive_unarchive_delete",
        "tests/test_threads.py::test_archive_loaded_thread_unloads_it",
    ),
    "thread/unsubscribe": (
        "tests/test_threads.py::test_unsubscribe_statuses",
        "tests/test_threads.py::test_invalid_thread_ids",
    ),
    "thread/name/set": (
        "tests/test_threads.py::test_ephemeral_thread_never_touches_disk",
        "tests/test_threads.py::test_reference_rollout_after_restart_is_resumable",
    ),
    "thread/metadata/update": (
        "tests/test_threads.py::test_metadata_update_double_options",
        "tests/test_threads.py::test_ephemeral_thread_never_touches_disk",
    ),
    "thread/unarchive": (
        "tests/test_threads.py::test_archive_unarchive_delete",
        "tests/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/delete": (
        "tests/test_threads.py::test_archive_unarchive_delete",
        "tests/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/rollback": (
        "tests/test_threads.py::test_rollback_drops_turns",
        "tests/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/list": (
        "tests/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/test_threads.py::test_list_paging_filters_and_search",
    ),
    "thread/loaded/list": (
        "tests/test_threads.py::test_loaded_list_paging",
        "tests/test_threads.py::test_reference_rollout_list_read_resume_fork",
    ),
    "thread/read": (
        "tests/test_threads.py::test_ephemeral_thread_never_touches_disk",
        "tests/test_threads.py::test_read_before_first_turn",
    ),
    "thread/turns/list": (
        "tests/test_thread_turns_list.py::test_default_page_is_newest_first_with_summaries",
        "tests/test_thread_turns_list.py::test_views",
    ),
    "turn/start": (
        "tests/test_turns.py::test_turn_start_on_a_busy_thread_joins_the_running_turn",
        "tests/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "turn/steer": (
        "tests/test_turns.py::test_steer_adds_input_to_the_running_turn",
        "tests/test_turns.py::test_a_compaction_turn_cannot_be_steered",
    ),
    "turn/interrupt": (
        "tests/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "thread/compact/start": (
        "tests/test_turns.py::test_compaction_replaces_history_with_a_summary",
    ),
    "thread/inject_items": (
        "tests/test_inject_items.py::test_injected_items_reach_the_next_request_and_survive_a_restart",
        "tests/test_inject_items.py::test_items_injected_during_a_turn_join_it",
    ),
    "config/read": (
        "tests/test_config_api.py::test_read_on_empty_home_matches_reference",
        "tests/test_config_api.py::test_read_layers_origins_and_versions",
    ),
    "config/value/write": (
        "tests/test_config_api.py::test_write_replace_preserves_comments_and_unknown_keys",
        "tests/test_config_api.py::test_write_tables_upsert_delete_and_nesting",
    ),
    "config/batchWrite": (
        "tests/test_config_api.py::test_batch_write_is_all_or_nothing",
        "tests/test_config_api.py::test_write_overridden_by_session_flags",
    ),
    "configRequirements/read": (
        "tests/test_config_api.py::test_requirements",
        "tests/test_config_api.py::test_unparsable_config_warns_and_server_keeps_working",
    ),
    "externalAgentConfig/detect": (
        "tests/test_external_agent.py::test_detect_skips_config_when_nothing_would_be_added",
        "tests/test_external_agent.py::test_detect_lists_home_items_with_exact_descriptions",
    ),
    "externalAgentConfig/import": (
        "tests/test_external_agent.py::test_import_params_and_item_types",
    ),
    "model/list": (
        "tests/test_models_api.py::test_model_list_default_page",
        "tests/test_models_api.py::test_model_list_include_hidden",
    ),
    "account/login/start": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/test_account.py::test_api_key_survives_restart",
    ),
    "account/login/cancel": (
        "tests/test_account.py::test_login_cancel_validates_id",
        "tests/test_account.py::test_browser_login_cancel_and_replace",
    ),
    "account/logout": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/read": (
        "tests/test_account.py::test_account_read_requires_params",
        "tests/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/rateLimits/read": (
        "tests/test_account.py::test_rate_limits_read_from_backend",
        "tests/test_account.py::test_rate_limits_need_chatgpt_auth",
    ),
    "getAuthStatus": (
        "tests/test_account.py::test_get_auth_status_legacy",
        "tests/test_account.py::test_get_auth_status_without_openai_provider",
    ),
    "command/exec": ("tests/test_sandbox.py::test_network_is_blocked_unless_enabled",),
    "command/exec/write": (
        "tests/test_command_exec.py::test_write_requires_data_or_close_and_valid_base64",
        "tests/test_command_exec.py::test_stdin_streaming_write_and_close",
    ),
    "command/exec/terminate": (
        "tests/test_command_exec.py::test_terminate_kills_the_whole_process_group",
        "tests/test_command_exec.py::test_unknown_process_ids_are_refused",
    ),
    "command/exec/resize": (
        "tests/test_command_exec.py::test_tty_mode_size_resize_and_input",
        "tests/test_command_exec.py::test_unknown_process_ids_are_refused",
    ),
    "fs/readFile": (
        "tests/test_fs_api.py::test_write_then_read_round_trips_binary",
        "tests/test_fs_api.py::test_read_errors",
    ),
    "fs/writeFile": (
        "tests/test_fs_api.py::test_write_then_read_round_trips_binary",
        "tests/test_fs_api.py::test_write_replaces_atomically_and_keeps_mode",
    ),
    "fs/createDirectory": (
        "tests/test_fs_api.py::test_create_directory",
        "tests/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/getMetadata": (
        "tests/test_fs_api.py::test_get_metadata",
        "tests/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/readDirectory": (
        "tests/test_fs_api.py::test_read_directory",
        "tests/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/remove": (
        "tests/test_fs_api.py::test_remove",
        "tests/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/copy": (
        "tests/test_fs_api.py::test_copy",
        "tests/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/watch": (
        "tests/test_fs_api.py::test_watch_directory_and_file",
        "tests/test_fs_api.py::test_unwatch_stops_notifications",
    ),
    "fs/unwatch": ("tests/test_fs_api.py::test_unwatch_stops_notifications",),
    "fuzzyFileSearch": (
        "tests/test_fuzzy_search.py::test_reused_cancellation_token_still_answers",
    ),
    "fuzzyFileSearch/sessionStart": (
        "tests/test_fuzzy_search.py::test_sessions",
        "tests/test_fuzzy_search.py::test_sessions_need_the_experimental_api",
    ),
    "fuzzyFileSearch/sessionUpdate": (
        "tests/test_fuzzy_search.py::test_sessions",
        "tests/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "fuzzyFileSearch/sessionStop": ("tests/test_fuzzy_search.py::test_sessions",),
    "collaborationMode/list": (
        "tests/test_handshake.py::test_requests_before_initialize_are_refused",
        "tests/test_handshake.py::test_experimental_gate_and_opt_in",
    ),
    "mock/experimentalMethod": (
        "tests/test_handshake.py::test_experimental_gate_and_opt_in",
        "tests/test_handshake.py::test_ids_are_echoed_with_their_type",
    ),
    "mcpServer/oauth/login": (UNSERVED,),
    "config/mcpServer/reload": (
        "tests/test_mcp.py::test_reload_restarts_the_servers_of_loaded_threads",
    ),
    "mcpServerStatus/list": (
        "tests/test_mcp.py::test_servers_start_with_the_thread_and_report_ready_or_failed",
        "tests/test_mcp.py::test_status_list_without_thread_reads_the_config_afresh",
    ),
    "mcpServer/resource/read": ("tests/test_mcp.py::test_resource_read_with_and_without_thread",),
    "mcpServer/event/stream/start": (UNSERVED,),
    "mcpServer/event/stream/stop": (UNSERVED,),
    "mcpServer/tool/call": ("tests/test_mcp.py::test_direct_tool_call_passes_the_result_through",),
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
    "thread/search": (
        "tests/test_shell_command_review.py::test_thread_search_finds_threads_by_title",),
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
        "tests/test_config_api.py::test_mistyped_config_warns_with_location",
    ),
    "thread/started": (
        "tests/test_threads.py::test_start_matches_reference_shape_and_defaults",
        "tests/test_threads.py::test_reference_rollout_list_read_resume_fork",
    ),
    "thread/status/changed": (
        "tests/test_threads.py::test_archive_loaded_thread_unloads_it",
        "tests/test_threads.py::test_idle_unload_after_delay",
    ),
    "thread/archived": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/unarchived": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/deleted": ("tests/test_threads.py::test_archive_unarchive_delete",),
    "thread/closed": ("tests/test_threads.py::test_idle_unload_after_delay",),
    "thread/name/updated": (
        "tests/test_threads.py::test_reference_rollout_after_restart_is_resumable",
    ),
    "turn/started": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/test_turns.py::test_steer_adds_input_to_the_running_turn",
    ),
    "turn/completed": (
        "tests/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "item/started": ("tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",),
    "item/completed": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/test_turns.py::test_stream_retry_sends_error_with_will_retry",
    ),
    "item/agentMessage/delta": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
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
        "tests/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/updated": (
        "tests/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/rateLimits/updated": (
        "tests/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "command/exec/outputDelta": (
        "tests/test_command_exec.py::test_streaming_sends_deltas_before_the_answer",
        "tests/test_command_exec.py::test_streaming_cap_marks_the_last_chunk",
    ),
    "fs/changed": (
        "tests/test_fs_api.py::test_watch_directory_and_file",
        "tests/test_fs_api.py::test_unwatch_stops_notifications",
    ),
    "fuzzyFileSearch/sessionUpdated": (
        "tests/test_fuzzy_search.py::test_sessions",
        "tests/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "fuzzyFileSearch/sessionCompleted": (
        "tests/test_fuzzy_search.py::test_sessions",
        "tests/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "mcpServer/oauthLogin/completed": (TYPE_CHECK,),
    "mcpServer/startupStatus/updated": (
        "tests/test_mcp.py::test_servers_start_with_the_thread_and_report_ready_or_failed",
    ),
    "mcpServer/event/stream/notification": (TYPE_CHECK,),
    "item/mcpToolCall/progress": (TYPE_CHECK,),
    "thread/settings/updated": (TYPE_CHECK,),
    "thread/readState/changed": (
        "tests/test_shell_command_review.py::test_read_state_marks_finished_turns_unread",),
    "thread/prediction/updated": (TYPE_CHECK,),
    "autoApprovalReview/strictReviewRequired": (TYPE_CHECK,),
    "thread/queue/changed": (TYPE_CHECK,),
    "thread/search/partial": (TYPE_CHECK,),
    "project/changed": (TYPE_CHECK,),
    "thread/project/updated": (TYPE_CHECK,),
    "thread/environment/connected": (
        "tests/test_method_table.py::test_client_flags_methods_missing_from_the_table",
    ),
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
    "attestation/generate": (
        "tests/test_method_table.py::test_client_flags_methods_missing_from_the_table",
    ),
}
