"""The turn engine of one loaded thread, one job per module:

- ``engine``: :class:`~pycodex.core.turn.engine.ThreadEngine` — lifecycle (start, steer,
  interrupt, inject, shutdown), the turn's run and end, the sampling loop.
- ``active``: the running turn's state and the one builder of the ``Turn`` wire object.
- ``history``: the model-visible history (:class:`~pycodex.core.turn.history.History`).
- ``context``: the initial context and per-turn context records.
- ``inputs``: user input → Responses content and ``userMessage`` items.
- ``request``: the Responses request, its headers and metadata.
- ``stream``: the model's event stream → items, deltas and tool calls.
- ``compaction``: replacing the history with a summary.

Nothing is imported here, so each module can be imported on its own.
"""
