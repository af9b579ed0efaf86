"""One Responses API request of a turn: the body (instructions, history, tools, reasoning
and text options, client metadata) and its headers."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pycodex.core import instructions
from pycodex.core.host import TurnHost, TurnSettings
from pycodex.core.turn.active import ActiveTurn
from pycodex.core.turn.history import ResponseItem, message

logger = logging.getLogger(__name__)


class RequestBuilder:
    """Builds the requests of one thread (``window_number`` counts the context windows
    started by compaction: ``x-codex-window-id`` is ``<thread>:<n>``)."""

    def __init__(self, host: TurnHost) -> None:
        self.host = host
        self.window_number = 0

    def build(self, turn: ActiveTurn, settings: TurnSettings, history: list[ResponseItem],
              model_info: Any, tool_specs: list[dict[str, Any]], output_schema: Any = None
              ) -> dict[str, Any]:
        """The request body; ``history`` is already normalized (``History.for_request``)."""
        s = settings
        info = model_info
        base = s.base_instructions or _configured_instructions(s.config) or \
            instructions.BASE_INSTRUCTIONS
        request: dict[str, Any] = {
            "model": s.model,
            "input": [message("developer", base), *history],
            "tool_choice": "auto",
            "parallel_tool_calls": bool(info.supports_parallel_tool_calls),
            "store": False,
            "stream": True,
            "prompt_cache_key": self.host.thread_id,
            "tools": tool_specs,
        }
        reasoning: dict[str, Any] = {}
        effort = s.effort or info.default_reasoning_effort
        if effort and effort != "none" and info.supported_reasoning_efforts:
            reasoning["effort"] = effort
        summary = s.summary
        if summary and summary != "none" and (info.supports_reasoning_summaries
                                              or info.is_fallback):
            reasoning["summary"] = summary
        elif info.is_fallback and not reasoning:
            reasoning["summary"] = "auto"
        if reasoning:
            request["reasoning"] = reasoning
            request["include"] = ["reasoning.encrypted_content"]
        else:
            request["include"] = []
        text: dict[str, Any] = {}
        verbosity = s.config.get("model_verbosity") or info.default_verbosity
        if info.support_verbosity and verbosity:
            text["verbosity"] = verbosity
        if output_schema is not None:
            text["format"] = {"type": "json_schema", "name": "codex_output_schema",
                              "strict": True, "schema": output_schema}
        if text:
            request["text"] = text
        if s.service_tier:
            request["service_tier"] = s.service_tier
        request["client_metadata"] = self._client_metadata(turn, s, reasoning.get("effort"))
        return request

    def headers(self, request: dict[str, Any]) -> dict[str, str]:
        tid = self.host.thread_id
        headers = {
            "originator": self.host.originator,
            "user-agent": self.host.user_agent,
            "session-id": tid,
            "thread-id": tid,
            "x-client-request-id": tid,
            "x-codex-window-id": self._window_id(),
        }
        metadata = request.get("client_metadata") or {}
        if "x-codex-turn-metadata" in metadata:
            headers["x-codex-turn-metadata"] = metadata["x-codex-turn-metadata"]
        return headers

    def _window_id(self) -> str:
        return f"{self.host.thread_id}:{self.window_number}"

    def _turn_metadata(self, turn: ActiveTurn, settings: TurnSettings,
                       effort: str | None) -> str:
        """The ``x-codex-turn-metadata`` JSON: which thread, turn and context window a
        request belongs to, and under which sandbox and model it runs."""
        tid = self.host.thread_id
        meta: dict[str, Any] = {}
        installation = _installation_id(self.host.codex_home)
        if installation:
            meta["installation_id"] = installation
        meta.update({
            "session_id": tid, "thread_id": tid, "turn_id": turn.id,
            "window_id": self._window_id(), "window_number": self.window_number,
            "request_kind": "turn", "root_turn_id": turn.id,
            "sandbox_mode": _sandbox_mode(settings.sandbox_policy),
            "turn_started_at_unix_ms": turn.started_ms, "model": settings.model,
        })
        if effort:
            meta["reasoning_effort"] = effort
        return json.dumps(meta, separators=(",", ":"))

    def _client_metadata(self, turn: ActiveTurn, settings: TurnSettings,
                         effort: str | None) -> dict[str, str]:
        tid = self.host.thread_id
        meta = {"session_id": tid, "thread_id": tid, "turn_id": turn.id,
                "root_turn_id": turn.id, "x-codex-window-id": self._window_id(),
                "x-codex-turn-metadata": self._turn_metadata(turn, settings, effort)}
        installation = _installation_id(self.host.codex_home)
        if installation:
            meta["x-codex-installation-id"] = installation
        return {**turn.client_metadata, **meta}


def _configured_instructions(config: dict[str, Any]) -> str | None:
    text = config.get("instructions")
    if isinstance(text, str) and text.strip():
        return text
    path = config.get("model_instructions_file") or config.get("experimental_instructions_file")
    if isinstance(path, str):
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            logger.warning("cannot read model_instructions_file %s", path)
    return None


def _installation_id(codex_home: Path) -> str | None:
    """The id in ``$CODEX_HOME/installation_id`` when present (never created here)."""
    try:
        with open(os.path.join(str(codex_home), "installation_id"), encoding="utf-8") as fh:
            value = fh.read().strip()
    except OSError:
        return None
    return value or None


def _sandbox_mode(policy: dict[str, Any]) -> str:
    kind = policy.get("type")
    return {"dangerFullAccess": "danger-full-access", "readOnly": "read-only",
            "workspaceWrite": "workspace-write"}.get(str(kind), str(kind or "unknown"))
