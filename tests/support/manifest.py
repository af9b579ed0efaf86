"""Requirement manifest: every method in the table → the tests that exercise it.

Enforced by ``tests/protocol/test_method_table.py::test_manifest_covers_the_table`` (every
table method listed, every referenced test exists). Methods published without a handler map to
the test of their unknown-variant answer; notifications and server requests pycodex never sends
yet map to the test comparing their types with the reference schema.
"""

from __future__ import annotations

UNSERVED = "tests/protocol/test_method_table.py::test_unserved_methods_answer_unknown_variant"
TYPE_CHECK = "tests/protocol/test_method_table.py::test_published_types_match_the_reference"

#: Methods of the reference 0.171 that other engineers are adding to the table on their
#: branches (engine: item/turn notifications and approvals; threads: revert/items; surface:
#: goals, sections, attachments, plugins, apps, account extras, providers, features,
#: feedback, Windows; skills/hooks). Tolerated by the table and manifest tests and by the test
#: client's "method not in the table" check until merged. THIS LIST MUST BE EMPTIED: the lead
#: removes each method when its branch is merged and maps it in the dicts below.
PENDING_ELSEWHERE: dict[str, frozenset[str]] = {
    "ClientRequest": frozenset(
        {
            "plugin/search",
        }
    ),
    "ServerNotification": frozenset(
        {
            "item/autoApprovalReview/started",
            "item/autoApprovalReview/completed",
            "guardianWarning",
        }
    ),
    "ServerRequest": frozenset(
        {
            "item/permissions/requestApproval",
            "applyPatchApproval",
            "execCommandApproval",
        }
    ),
}

#: Client request → tests that exercise it (unserved ones: their unknown-variant answer).
REQUESTS: dict[str, tuple[str, ...]] = {
    "skills/list": ("tests/core/test_skills.py::test_every_scope_in_listing_order_with_errors",),
    "skills/config/write": (
        "tests/core/test_skills.py::test_config_write_by_path_and_name_persists",
    ),
    "skills/extraRoots/set": ("tests/core/test_skills.py::test_extra_roots_and_changes_on_disk",),
    "hooks/list": ("tests/core/test_hooks.py::test_list_shows_keys_hashes_and_trust",),
    "initialize": (
        "tests/rpc/test_handshake.py::test_second_initialize_is_refused",
        "tests/rpc/test_handshake.py::test_invalid_client_name_is_refused",
    ),
    "thread/start": (
        "tests/api/test_threads.py::test_start_matches_reference_shape_and_defaults",
        "tests/api/test_threads.py::test_start_overrides_and_config",
    ),
    "thread/resume": (
        "tests/api/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/api/test_threads.py::test_resume_twice_rejoins",
    ),
    "thread/fork": (
        "tests/api/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/api/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/archive": (
        "tests/api/test_threads.py::test_archive_unarchive_delete",
        "tests/api/test_threads.py::test_archive_loaded_thread_unloads_it",
    ),
    "thread/unsubscribe": (
        "tests/api/test_threads.py::test_unsubscribe_statuses",
        "tests/api/test_threads.py::test_invalid_thread_ids",
    ),
    "thread/name/set": (
        "tests/api/test_threads.py::test_ephemeral_thread_never_touches_disk",
        "tests/api/test_threads.py::test_reference_rollout_after_restart_is_resumable",
    ),
    "thread/metadata/update": (
        "tests/api/test_threads.py::test_metadata_update_double_options",
        "tests/api/test_threads.py::test_ephemeral_thread_never_touches_disk",
    ),
    "thread/unarchive": (
        "tests/api/test_threads.py::test_archive_unarchive_delete",
        "tests/api/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/delete": (
        "tests/api/test_threads.py::test_archive_unarchive_delete",
        "tests/api/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/rollback": (
        "tests/api/test_threads.py::test_rollback_drops_turns",
        "tests/api/test_threads.py::test_unknown_thread_errors",
    ),
    "thread/list": (
        "tests/api/test_threads.py::test_reference_rollout_list_read_resume_fork",
        "tests/api/test_threads.py::test_list_paging_filters_and_search",
    ),
    "thread/loaded/list": (
        "tests/api/test_threads.py::test_loaded_list_paging",
        "tests/api/test_threads.py::test_reference_rollout_list_read_resume_fork",
    ),
    "thread/read": (
        "tests/api/test_threads.py::test_ephemeral_thread_never_touches_disk",
        "tests/api/test_threads.py::test_read_before_first_turn",
    ),
    "thread/turns/list": (
        "tests/api/test_thread_turns_list.py::test_default_page_is_newest_first_with_summaries",
        "tests/api/test_thread_turns_list.py::test_views",
    ),
    "turn/start": (
        "tests/core/test_turns.py::test_turn_start_on_a_busy_thread_joins_the_running_turn",
        "tests/core/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "turn/steer": (
        "tests/core/test_turns.py::test_steer_adds_input_to_the_running_turn",
        "tests/core/test_turns.py::test_a_compaction_turn_cannot_be_steered",
    ),
    "turn/interrupt": (
        "tests/core/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "thread/compact/start": (
        "tests/core/test_turns.py::test_compaction_replaces_history_with_a_summary",
    ),
    "thread/inject_items": (
        "tests/core/test_inject_items.py::test_injected_items_reach_the_next_request_and_survive_a_restart",
        "tests/core/test_inject_items.py::test_items_injected_during_a_turn_join_it",
    ),
    "config/read": (
        "tests/config/test_config_api.py::test_read_on_empty_home_matches_reference",
        "tests/config/test_config_api.py::test_read_layers_origins_and_versions",
    ),
    "config/value/write": (
        "tests/config/test_config_api.py::test_write_replace_preserves_comments_and_unknown_keys",
        "tests/config/test_config_api.py::test_write_tables_upsert_delete_and_nesting",
    ),
    "config/batchWrite": (
        "tests/config/test_config_api.py::test_batch_write_is_all_or_nothing",
        "tests/config/test_config_api.py::test_write_overridden_by_session_flags",
    ),
    "configRequirements/read": (
        "tests/config/test_config_api.py::test_requirements",
        "tests/config/test_config_api.py::test_unparsable_config_warns_and_server_keeps_working",
    ),
    "externalAgentConfig/detect": (
        "tests/api/test_external_agent.py::test_detect_skips_config_when_nothing_would_be_added",
        "tests/api/test_external_agent.py::test_detect_lists_home_items_with_exact_descriptions",
    ),
    "externalAgentConfig/import": (
        "tests/api/test_external_agent.py::test_import_params_and_item_types",
    ),
    "model/list": (
        "tests/api/test_models_api.py::test_model_list_default_page",
        "tests/api/test_models_api.py::test_model_list_include_hidden",
    ),
    "account/login/start": (
        "tests/auth/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/auth/test_account.py::test_api_key_survives_restart",
    ),
    "account/login/cancel": (
        "tests/auth/test_account.py::test_login_cancel_validates_id",
        "tests/auth/test_account.py::test_browser_login_cancel_and_replace",
    ),
    "account/logout": (
        "tests/auth/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/auth/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/read": (
        "tests/auth/test_account.py::test_account_read_requires_params",
        "tests/auth/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/rateLimits/read": (
        "tests/auth/test_account.py::test_rate_limits_read_from_backend",
        "tests/auth/test_account.py::test_rate_limits_need_chatgpt_auth",
    ),
    "getAuthStatus": (
        "tests/auth/test_account.py::test_get_auth_status_legacy",
        "tests/auth/test_account.py::test_get_auth_status_without_openai_provider",
    ),
    "command/exec": ("tests/core/test_sandbox.py::test_network_is_blocked_unless_enabled",),
    "command/exec/write": (
        "tests/api/test_command_exec.py::test_write_requires_data_or_close_and_valid_base64",
        "tests/api/test_command_exec.py::test_stdin_streaming_write_and_close",
    ),
    "command/exec/terminate": (
        "tests/api/test_command_exec.py::test_terminate_kills_the_whole_process_group",
        "tests/api/test_command_exec.py::test_unknown_process_ids_are_refused",
    ),
    "command/exec/resize": (
        "tests/api/test_command_exec.py::test_tty_mode_size_resize_and_input",
        "tests/api/test_command_exec.py::test_unknown_process_ids_are_refused",
    ),
    "fs/readFile": (
        "tests/api/test_fs_api.py::test_write_then_read_round_trips_binary",
        "tests/api/test_fs_api.py::test_read_errors",
    ),
    "fs/writeFile": (
        "tests/api/test_fs_api.py::test_write_then_read_round_trips_binary",
        "tests/api/test_fs_api.py::test_write_replaces_atomically_and_keeps_mode",
    ),
    "fs/createDirectory": (
        "tests/api/test_fs_api.py::test_create_directory",
        "tests/api/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/getMetadata": (
        "tests/api/test_fs_api.py::test_get_metadata",
        "tests/api/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/readDirectory": (
        "tests/api/test_fs_api.py::test_read_directory",
        "tests/api/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/remove": (
        "tests/api/test_fs_api.py::test_remove",
        "tests/api/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/copy": (
        "tests/api/test_fs_api.py::test_copy",
        "tests/api/test_fs_api.py::test_relative_paths_are_refused",
    ),
    "fs/watch": (
        "tests/api/test_fs_api.py::test_watch_directory_and_file",
        "tests/api/test_fs_api.py::test_unwatch_stops_notifications",
    ),
    "fs/unwatch": ("tests/api/test_fs_api.py::test_unwatch_stops_notifications",),
    "fuzzyFileSearch": (
        "tests/api/test_fuzzy_search.py::test_reused_cancellation_token_still_answers",
    ),
    "fuzzyFileSearch/sessionStart": (
        "tests/api/test_fuzzy_search.py::test_sessions",
        "tests/api/test_fuzzy_search.py::test_sessions_need_the_experimental_api",
    ),
    "fuzzyFileSearch/sessionUpdate": (
        "tests/api/test_fuzzy_search.py::test_sessions",
        "tests/api/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "fuzzyFileSearch/sessionStop": ("tests/api/test_fuzzy_search.py::test_sessions",),
    "collaborationMode/list": (
        "tests/rpc/test_handshake.py::test_requests_before_initialize_are_refused",
        "tests/rpc/test_handshake.py::test_experimental_gate_and_opt_in",
    ),
    "mock/experimentalMethod": (
        "tests/rpc/test_handshake.py::test_experimental_gate_and_opt_in",
        "tests/rpc/test_handshake.py::test_ids_are_echoed_with_their_type",
    ),
    "mcpServer/oauth/login": (UNSERVED,),
    "config/mcpServer/reload": (
        "tests/core/test_mcp.py::test_reload_restarts_the_servers_of_loaded_threads",
    ),
    "mcpServerStatus/list": (
        "tests/core/test_mcp.py::test_servers_start_with_the_thread_and_report_ready_or_failed",
        "tests/core/test_mcp.py::test_status_list_without_thread_reads_the_config_afresh",
    ),
    "mcpServer/resource/read": (
        "tests/core/test_mcp_everything.py::test_resource_read_with_and_without_thread",
    ),
    "mcpServer/event/stream/start": (UNSERVED,),
    "mcpServer/event/stream/stop": (UNSERVED,),
    "mcpServer/tool/call": (
        "tests/core/test_mcp.py::test_direct_tool_call_passes_the_result_through",
    ),
    "review/start": (
        "tests/core/test_shell_command_review.py::"
        "test_review_of_uncommitted_changes_reports_entered_and_exited_items",
        "tests/core/test_shell_command_review.py::test_review_targets_hints_and_validation"),
    "thread/shellCommand": (
        "tests/core/test_shell_command_review.py::test_shell_command_runs_as_its_own_turn_and_reaches_the_model",),
    "thread/approveGuardianDeniedAction": (UNSERVED,),
    "thread/guardianReview": (UNSERVED,),
    "thread/prepareApprovedPlan": (UNSERVED,),
    "thread/backgroundTerminals/clean": (UNSERVED,),
    "thread/backgroundTerminals/list": (
        "tests/core/test_shell_command_review.py::test_background_terminals_list_is_empty",),
    "thread/backgroundTerminals/terminate": (UNSERVED,),
    "thread/settings/update": (
        "tests/core/test_shell_command_review.py::"
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
        "tests/core/test_shell_command_review.py::test_read_state_marks_finished_turns_unread",),
    "thread/items/read": (UNSERVED,),
    "thread/queue/add": (UNSERVED,),
    "thread/queue/list": (UNSERVED,),
    "thread/queue/update": (UNSERVED,),
    "thread/queue/delete": (UNSERVED,),
    "thread/queue/reorder": (UNSERVED,),
    "thread/queue/start": (UNSERVED,),
    "thread/search": (
        "tests/core/test_shell_command_review.py::test_thread_search_finds_threads_by_title",),
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
    "accountSession/list": (UNSERVED,),
    "accountSession/switch": (UNSERVED,),
    "server/diagnostics": (UNSERVED,),
    "thread/revert": (
        "tests/api/test_thread_history.py::test_revert_drops_a_turn_and_the_later_ones",
    ),
    "thread/items/list": (
        "tests/api/test_thread_history.py::test_revert_drops_a_turn_and_the_later_ones",
        "tests/api/test_thread_items_list.py::test_items_pages_forward_backward_and_by_turn",
    ),
    "experimentalFeature/list": (
        "tests/api/test_surface_settings.py::test_feature_list_pages_and_reflects_config",
        "tests/api/test_surface_settings.py::test_feature_enablement_persists_and_ignores_unknown_names",
    ),
    "experimentalFeature/enablement/set": (
        "tests/api/test_surface_settings.py::test_feature_enablement_persists_and_ignores_unknown_names",
    ),
    "permissionProfile/list": (
        "tests/api/test_surface_settings.py::test_permission_profiles_builtins_then_user_profiles",
    ),
    "modelProvider/list": (
        "tests/api/test_surface_settings.py::test_model_provider_list_and_capabilities",
        "tests/api/test_surface_settings.py::test_model_provider_writes_survive_a_restart",
    ),
    "modelProvider/config/write": (
        "tests/api/test_surface_settings.py::test_model_provider_writes_survive_a_restart",
        "tests/api/test_surface_settings.py::test_model_provider_write_rejections_change_nothing",
    ),
    "modelProvider/default/set": (
        "tests/api/test_surface_settings.py::test_model_provider_writes_survive_a_restart",
        "tests/api/test_surface_settings.py::test_model_provider_default_set_unknown_id",
    ),
    "modelProvider/capabilities/read": (
        "tests/api/test_surface_settings.py::test_model_provider_list_and_capabilities",
    ),
    "account/bedrock/checkGovCloudRequirements": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
        "tests/conformance/test_surface_reference.py::test_same_answers_as_the_reference",
    ),
    "account/gatewayOAuth/read": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/gatewayOAuth/login": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/gatewayOAuth/cancel": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/securitySetup/read": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/usage/read": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/rateLimitResetCredit/consume": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/workspaceMessages/read": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "account/sendAddCreditsNudgeEmail": (
        "tests/api/test_surface_settings.py::test_account_extras_offline",
    ),
    "marketplace/add": (
        "tests/api/test_surface_plugins.py::test_local_marketplace_add_remove_survives_a_restart",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "marketplace/remove": (
        "tests/api/test_surface_plugins.py::test_local_marketplace_add_remove_survives_a_restart",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "marketplace/upgrade": (
        "tests/api/test_surface_plugins.py::test_local_marketplace_add_remove_survives_a_restart",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/list": (
        "tests/api/test_surface_plugins.py::test_local_plugin_list_read_install_uninstall",
        "tests/api/test_surface_plugins.py::test_broken_marketplace_is_reported_not_fatal",
    ),
    "plugin/installed": (
        "tests/api/test_surface_plugins.py::test_local_plugin_list_read_install_uninstall",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/reconcile": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/read": (
        "tests/api/test_surface_plugins.py::test_local_plugin_list_read_install_uninstall",
        "tests/api/test_surface_plugins.py::test_plugins_feature_off",
    ),
    "plugin/skill/read": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/share/save": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/share/updateTargets": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/share/list": (
        "tests/api/test_surface_settings.py::test_feature_enablement_persists_and_ignores_unknown_names",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/share/checkout": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/share/delete": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/install": (
        "tests/api/test_surface_plugins.py::test_local_plugin_list_read_install_uninstall",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "plugin/uninstall": (
        "tests/api/test_surface_plugins.py::test_local_plugin_list_read_install_uninstall",
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "app/read": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "app/list": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "app/installed": (
        "tests/api/test_surface_settings.py::test_plugins_marketplaces_apps_offline",
    ),
    "threadSection/list": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "threadSection/create": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "threadSection/update": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "threadSection/delete": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "thread/section/move": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "thread/attachment/add": (
        "tests/api/test_surface_threads.py::test_attachments_add_list_owners_remove_and_restart",
    ),
    "thread/attachment/list": (
        "tests/api/test_surface_threads.py::test_attachments_add_list_owners_remove_and_restart",
    ),
    "thread/attachmentOwner/list": (
        "tests/api/test_surface_threads.py::test_attachments_add_list_owners_remove_and_restart",
    ),
    "thread/attachment/remove": (
        "tests/api/test_surface_threads.py::test_attachments_add_list_owners_remove_and_restart",
    ),
    "thread/goal/set": (
        "tests/api/test_surface_threads.py::test_goal_set_starts_a_turn_and_survives_a_restart",
        "tests/api/test_surface_threads.py::test_goal_over_budget_or_failed_turn",
    ),
    "thread/goal/get": (
        "tests/api/test_surface_threads.py::test_goal_set_starts_a_turn_and_survives_a_restart",
        "tests/api/test_surface_threads.py::test_goal_over_budget_or_failed_turn",
    ),
    "thread/goal/clear": (
        "tests/api/test_surface_threads.py::test_goal_set_starts_a_turn_and_survives_a_restart",
    ),
    "feedback/upload": (
        "tests/api/test_surface_local.py::test_feedback_save_writes_a_local_archive",
    ),
    "feedback/save": (
        "tests/api/test_surface_local.py::test_feedback_save_writes_a_local_archive",
    ),
    "windowsSandbox/setupStart": (
        "tests/api/test_surface_local.py::test_windows_sandbox_on_linux",
    ),
    "windowsSandbox/readiness": (
        "tests/api/test_surface_local.py::test_windows_sandbox_on_linux",
    ),
    "externalAgentConfig/import/recordHistory": (
        "tests/api/test_surface_local.py::test_import_history_is_recorded_and_survives_a_restart",
    ),
    "externalAgentConfig/import/readHistories": (
        "tests/api/test_surface_local.py::test_import_history_is_recorded_and_survives_a_restart",
    ),
}

#: Server notification → tests that receive it (published only: its type check).
NOTIFICATIONS: dict[str, tuple[str, ...]] = {
    "skills/changed": ("tests/core/test_skills.py::test_extra_roots_and_changes_on_disk",),
    "hook/started": (
        "tests/core/test_hooks.py::test_turn_runs_hooks_in_order_and_acts_on_their_output",
    ),
    "hook/completed": (
        "tests/core/test_hooks.py::test_turn_runs_hooks_in_order_and_acts_on_their_output",
    ),
    "configWarning": (
        "tests/config/test_config_api.py::test_unparsable_config_warns_and_server_keeps_working",
        "tests/config/test_config_api.py::test_mistyped_config_warns_with_location",
    ),
    "thread/started": (
        "tests/api/test_threads.py::test_start_matches_reference_shape_and_defaults",
        "tests/api/test_threads.py::test_reference_rollout_list_read_resume_fork",
    ),
    "thread/status/changed": (
        "tests/api/test_threads.py::test_archive_loaded_thread_unloads_it",
        "tests/api/test_threads.py::test_idle_unload_after_delay",
    ),
    "thread/archived": ("tests/api/test_threads.py::test_archive_unarchive_delete",),
    "thread/unarchived": ("tests/api/test_threads.py::test_archive_unarchive_delete",),
    "thread/deleted": ("tests/api/test_threads.py::test_archive_unarchive_delete",),
    "thread/closed": ("tests/api/test_threads.py::test_idle_unload_after_delay",),
    "deprecationNotice": (
        "tests/api/test_threads_resume.py::"
        "test_resume_tells_the_token_usage_and_deprecates_the_whole_history",
    ),
    "thread/reverted": (
        "tests/api/test_thread_history.py::test_revert_drops_a_turn_and_the_later_ones",
    ),
    "thread/name/updated": (
        "tests/api/test_threads.py::test_reference_rollout_after_restart_is_resumable",
    ),
    "turn/started": (
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/core/test_turns.py::test_steer_adds_input_to_the_running_turn",
    ),
    "turn/completed": (
        "tests/core/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "item/started": ("tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",),
    "item/completed": (
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/core/test_turns.py::test_stream_retry_sends_error_with_will_retry",
    ),
    "item/agentMessage/delta": (
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
        "tests/core/test_turns.py::test_interrupt_answers_before_turn_completed_and_closes_the_stream",
    ),
    "item/commandExecution/outputDelta": (
        "tests/core/test_tools_exec.py::test_echo_streams_the_command_item_and_feeds_the_output_back",
    ),
    "error": (
        "tests/auth/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
    ),
    "thread/tokenUsage/updated": (
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "externalAgentConfig/import/progress": (
        "tests/api/test_external_agent.py::test_import_applies_items_and_reports_progress",
    ),
    "externalAgentConfig/import/completed": (
        "tests/api/test_external_agent.py::test_import_applies_items_and_reports_progress",
    ),
    "account/login/completed": (
        "tests/auth/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/auth/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/updated": (
        "tests/auth/test_account.py::test_api_key_login_persists_notifies_and_logout_clears",
        "tests/auth/test_account.py::test_external_tokens_login_read_and_logout",
    ),
    "account/rateLimits/updated": (
        "tests/core/test_turns.py::test_hello_turn_matches_the_reference_sequence",
    ),
    "command/exec/outputDelta": (
        "tests/api/test_command_exec.py::test_streaming_sends_deltas_before_the_answer",
        "tests/api/test_command_exec.py::test_streaming_cap_marks_the_last_chunk",
    ),
    "fs/changed": (
        "tests/api/test_fs_api.py::test_watch_directory_and_file",
        "tests/api/test_fs_api.py::test_unwatch_stops_notifications",
    ),
    "fuzzyFileSearch/sessionUpdated": (
        "tests/api/test_fuzzy_search.py::test_sessions",
        "tests/api/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "fuzzyFileSearch/sessionCompleted": (
        "tests/api/test_fuzzy_search.py::test_sessions",
        "tests/api/test_fuzzy_search.py::test_session_reports_only_the_latest_query",
    ),
    "mcpServer/oauthLogin/completed": (TYPE_CHECK,),
    "mcpServer/startupStatus/updated": (
        "tests/core/test_mcp.py::test_servers_start_with_the_thread_and_report_ready_or_failed",
    ),
    "mcpServer/event/stream/notification": (TYPE_CHECK,),
    "item/mcpToolCall/progress": (TYPE_CHECK,),
    "thread/settings/updated": (TYPE_CHECK,),
    "thread/readState/changed": (
        "tests/core/test_shell_command_review.py::test_read_state_marks_finished_turns_unread",),
    "thread/prediction/updated": (TYPE_CHECK,),
    "autoApprovalReview/strictReviewRequired": (TYPE_CHECK,),
    "thread/queue/changed": (TYPE_CHECK,),
    "thread/search/partial": (TYPE_CHECK,),
    "project/changed": (TYPE_CHECK,),
    "thread/project/updated": (TYPE_CHECK,),
    "thread/environment/connected": (
        "tests/protocol/test_method_table.py::test_client_flags_methods_missing_from_the_table",
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
    "turn/plan/updated": (
        "tests/core/test_turns.py::test_tool_calls_loop_until_the_model_answers",
        "tests/core/test_turns.py::test_a_rerouted_answer_is_announced_once_per_turn",
    ),
    "turn/diff/updated": (
        "tests/core/test_tools_patch.py::test_add_file_matches_the_reference",
        "tests/core/test_tools_patch.py::test_update_move_and_delete",
    ),
    "serverRequest/resolved": (
        "tests/core/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
        "tests/core/test_approvals.py::test_decline_continues_the_turn",
    ),
    "thread/compacted": (
        "tests/core/test_turns.py::test_a_compaction_turn_shows_only_its_context_compaction_item",
    ),
    "warning": (
        "tests/core/test_turns.py::test_unknown_model_warns_after_thread_started",
        "tests/core/test_turns.py::test_a_rerouted_answer_is_announced_once_per_turn",
    ),
    "model/verification": (
        "tests/core/test_turns.py::"
        "test_response_metadata_announces_verification_once_and_every_buffering",
        "tests/conformance/test_response_metadata_reference.py::"
        "test_response_metadata_announced_as_the_reference",
    ),
    # 0.171 does not send it for the metadata key newer sources read (docs/conformance.md)
    "turn/moderationMetadata": (
        TYPE_CHECK,
        "tests/conformance/test_response_metadata_reference.py::"
        "test_response_metadata_announced_as_the_reference",
    ),
    "model/safetyBuffering/updated": (
        "tests/core/test_turns.py::"
        "test_response_metadata_announces_verification_once_and_every_buffering",
        "tests/conformance/test_response_metadata_reference.py::"
        "test_response_metadata_announced_as_the_reference",
    ),
    "model/rerouted": (
        "tests/core/test_turns.py::test_a_rerouted_answer_is_announced_once_per_turn",
    ),
    "item/plan/delta": (TYPE_CHECK,),
    "item/reasoning/summaryTextDelta": (
        "tests/core/test_turns.py::test_reasoning_summaries_are_streamed",
    ),
    "item/reasoning/summaryPartAdded": (
        "tests/core/test_turns.py::test_reasoning_parts_and_raw_text_are_streamed",
    ),
    "item/reasoning/textDelta": (
        "tests/core/test_turns.py::test_reasoning_parts_and_raw_text_are_streamed",
    ),
    "item/commandExecution/terminalInteraction": (
        "tests/core/test_tools_exec.py::test_write_stdin_talks_to_cat",
    ),
    "item/fileChange/outputDelta": (TYPE_CHECK,),
    "item/fileChange/patchUpdated": (TYPE_CHECK,),
    "modelProvider/authRecoveryStarted": (TYPE_CHECK,),
    "modelProvider/authRecoveryCompleted": (TYPE_CHECK,),
    "account/gatewayOAuth/changed": (TYPE_CHECK,),
    "app/list/updated": (TYPE_CHECK,),
    "thread/section/changed": (
        "tests/api/test_surface_threads.py::test_sections_crud_move_and_restart",
    ),
    "thread/attachment/updated": (
        "tests/api/test_surface_threads.py::test_attachments_add_list_owners_remove_and_restart",
    ),
    "thread/goal/updated": (
        "tests/api/test_surface_threads.py::test_goal_set_starts_a_turn_and_survives_a_restart",
        "tests/api/test_surface_threads.py::test_goal_over_budget_or_failed_turn",
    ),
    "thread/goal/cleared": (
        "tests/api/test_surface_threads.py::test_goal_set_starts_a_turn_and_survives_a_restart",
        "tests/api/test_surface_threads.py::test_goal_notification_for_a_resuming_client",
    ),
    "windowsSandbox/setupCompleted": (
        "tests/api/test_surface_local.py::test_windows_sandbox_on_linux",
    ),
    "windows/worldWritableWarning": (TYPE_CHECK,),
}

#: Server request → tests that answer it (published only: its type check).
SERVER_REQUESTS: dict[str, tuple[str, ...]] = {
    "account/chatgptAuthTokens/refresh": (
        "tests/auth/test_account.py::test_refresher_success_replaces_tokens",
    ),
    "mcpServer/elicitation/request": (TYPE_CHECK,),
    "attestation/generate": (
        "tests/protocol/test_method_table.py::test_client_flags_methods_missing_from_the_table",
    ),
    "item/commandExecution/requestApproval": (
        "tests/core/test_approvals.py::test_accept_runs_the_command_in_the_reference_order",
        "tests/core/test_approvals.py::test_accept_for_session_is_not_asked_again",
    ),
    "item/fileChange/requestApproval": (
        "tests/core/test_patch_confinement.py::test_on_request_asks_to_retry_without_sandbox_and_still_refuses",
        "tests/core/test_patch_confinement.py::test_an_approved_patch_outside_the_project_is_written",
    ),
    "item/tool/requestUserInput": (
        "tests/core/test_dynamic_tools.py::test_request_user_input_waits_on_the_user",
        "tests/core/test_dynamic_tools.py::test_request_user_input_error_answer_gives_empty_answers",
    ),
    "item/tool/call": (
        "tests/core/test_dynamic_tools.py::test_dynamic_tool_round_trip",
        "tests/core/test_dynamic_tools.py::test_deferred_dynamic_tool_is_still_callable",
    ),
}
