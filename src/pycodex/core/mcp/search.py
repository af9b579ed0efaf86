"""``tool_search``: MCP tools deferred behind a client-executed search for models whose
catalog entry supports it (``extensions.md`` §1.5). The model's ``tool_search_call`` is
answered with a ``tool_search_output`` holding the best BM25 matches, grouped by namespace.

BM25 is scored here (a few lines over tens of tools) rather than with ``rank-bm25``, which
would pull numpy into the first turn for it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from pycodex.core.ids import uuid7
from pycodex.core.mcp.manager import McpManager, namespace_entry
from pycodex.core.tools.context import ToolCall

__all__ = ["DEFAULT_LIMIT", "TOOL_SEARCH_SPEC", "bm25", "tool_search_output"]

DEFAULT_LIMIT = 8
_WORD = re.compile(r"[a-z0-9]+")

TOOL_SEARCH_SPEC: dict[str, Any] = {
    "type": "tool_search", "execution": "client",
    "description": "Search the deferred tools (such as MCP server tools) by keywords. The "
                   "tools found can be called in the next step.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "Keywords describing the tool needed."},
        "limit": {"type": "integer", "description": "Most tools to return (default 8)."}},
        "required": ["query"], "additionalProperties": False},
}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " ").replace("-", " "))


def bm25(query: str, documents: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 score of each document for ``query``."""
    docs = [_words(d) for d in documents]
    if not docs:
        return []
    average = sum(len(d) for d in docs) / len(docs) or 1.0
    frequency = Counter(word for d in docs for word in set(d))
    scores = []
    for doc in docs:
        counts = Counter(doc)
        score = 0.0
        for word in set(_words(query)):
            if word not in counts:
                continue
            idf = math.log(1 + (len(docs) - frequency[word] + 0.5) / (frequency[word] + 0.5))
            tf = counts[word]
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / average))
        scores.append(score)
    return scores


def tool_search_output(call: ToolCall, manager: McpManager) -> dict[str, Any]:
    """The ``tool_search_output`` item answering ``call`` (ready servers only)."""
    args = call.item.get("arguments")
    if not isinstance(args, dict):
        args = {}
    query = str(args.get("query") or "")
    limit = args.get("limit")
    limit = limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT
    candidates = [(conn, tool) for conn in manager.ready() for tool in conn.tools]
    scores = bm25(query, [f"{conn.name} {tool.name} {tool.title or ''} "
                          f"{tool.description or ''}" for conn, tool in candidates])
    ranked = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: -scores[i])
    grouped: dict[str, tuple[Any, list[Any]]] = {}
    for index in ranked[:limit]:
        conn, tool = candidates[index]
        grouped.setdefault(conn.name, (conn, []))[1].append(tool)
    found = [namespace_entry(conn, tools, deferred=True) for conn, tools in grouped.values()]
    return {"type": "tool_search_output", "id": f"tso_{uuid7()}", "call_id": call.call_id,
            "status": "completed", "execution": "client", "tools": found}
