"""MCP servers of a loaded thread: connections on the official ``mcp`` SDK (``connection``),
the per-thread set and its start-up events (``manager``), tool naming for the model
(``naming``), and a model's call turned into an ``mcpToolCall`` item (``calls``)."""
