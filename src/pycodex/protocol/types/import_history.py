"""Wire types of the external-agent import history
(``externalAgentConfig/import/recordHistory|readHistories``)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

MigrationItemType = Literal[
    "AGENTS_MD", "CONFIG", "SKILLS", "PLUGINS", "MCP_SERVER_CONFIG", "SUBAGENTS", "HOOKS",
    "COMMANDS", "MEMORY", "SESSIONS",
]


class ImportItemSuccess(WireStruct):
    item_type: MigrationItemType
    cwd: str | None = None
    source: str | None = None
    target: str | None = None
    title: str | None = None


class ImportItemFailure(WireStruct):
    item_type: MigrationItemType
    failure_stage: str
    message: str
    cwd: str | None = None
    source: str | None = None
    error_type: str | None = None
    sub_error_type: str | None = None


class ImportTypeResult(WireStruct):
    item_type: MigrationItemType
    successes: list[ImportItemSuccess]
    failures: list[ImportItemFailure]


class ExternalAgentConfigImportHistoryRecordParams(WireStruct):
    provider_id: str
    item_type_results: list[ImportTypeResult]


class ExternalAgentConfigImportHistoryRecordResponse(WireStruct):
    import_id: str


class ExternalAgentConfigImportHistory(WireStruct):
    import_id: str
    provider_id: str | None
    completed_at_ms: int
    successes: list[ImportItemSuccess]
    failures: list[ImportItemFailure]


class ExternalAgentConfigImportHistoriesReadResponse(WireStruct):
    data: list[ExternalAgentConfigImportHistory]
    connectors: list[dict[str, Any]]


REQUESTS: list[MethodSpec] = [
    MethodSpec(
        "externalAgentConfig/import/recordHistory",
        ExternalAgentConfigImportHistoryRecordParams,
        ExternalAgentConfigImportHistoryRecordResponse,
    ),
    MethodSpec(
        "externalAgentConfig/import/readHistories",
        None,
        ExternalAgentConfigImportHistoriesReadResponse,
    ),
]
NOTIFICATIONS: dict[str, Any] = {}
