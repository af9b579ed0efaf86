"""``externalAgentConfig/import/recordHistory|readHistories``: completed imports kept in
SQLite under ``CODEX_HOME``."""

from __future__ import annotations

import msgspec

from pycodex.api.context import RequestContext
from pycodex.api.local_stores import import_history_store
from pycodex.api.router import route
from pycodex.protocol.types import import_history as t


@route("externalAgentConfig/import/recordHistory")
async def record_history(
    ctx: RequestContext, params: t.ExternalAgentConfigImportHistoryRecordParams
) -> t.ExternalAgentConfigImportHistoryRecordResponse:
    successes = [msgspec.to_builtins(s) for r in params.item_type_results for s in r.successes]
    failures = [msgspec.to_builtins(f) for r in params.item_type_results for f in r.failures]
    record = ctx.app.get(import_history_store).record(params.provider_id, successes, failures)
    return t.ExternalAgentConfigImportHistoryRecordResponse(import_id=record.import_id)


@route("externalAgentConfig/import/readHistories")
async def read_histories(
    ctx: RequestContext, params: None
) -> t.ExternalAgentConfigImportHistoriesReadResponse:
    records = ctx.app.get(import_history_store).all()
    return t.ExternalAgentConfigImportHistoriesReadResponse(
        data=msgspec.convert(
            [{"importId": r.import_id, "providerId": r.provider_id,
              "completedAtMs": r.completed_at_ms, "successes": r.successes,
              "failures": r.failures} for r in records],
            list[t.ExternalAgentConfigImportHistory]),
        connectors=[])
