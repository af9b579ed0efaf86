"""A stdio MCP server (official ``mcp`` SDK, low-level API) whose resources and resource
templates come in pages of two, the cursor being the index of the next entry.
Run ``python -m tests.support.paged_mcp_server``."""

from __future__ import annotations

from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

RESOURCES = [types.Resource(uri=f"paged://r/{i}", name=f"r{i}") for i in range(5)]
TEMPLATES = [types.ResourceTemplate(uri_template=f"paged://t{i}/{{id}}", name=f"t{i}")
             for i in range(3)]
PAGE = 2


def _page(entries: list[Any], params: types.PaginatedRequestParams | None
          ) -> tuple[list[Any], str | None]:
    start = int(params.cursor) if params is not None and params.cursor else 0
    end = start + PAGE
    return entries[start:end], (str(end) if end < len(entries) else None)


async def list_resources(ctx: Any, params: types.PaginatedRequestParams | None
                         ) -> types.ListResourcesResult:
    page, cursor = _page(RESOURCES, params)
    return types.ListResourcesResult(resources=page, next_cursor=cursor)


async def list_templates(ctx: Any, params: types.PaginatedRequestParams | None
                         ) -> types.ListResourceTemplatesResult:
    page, cursor = _page(TEMPLATES, params)
    return types.ListResourceTemplatesResult(resource_templates=page, next_cursor=cursor)


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None
                     ) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[types.Tool(
        name="noop", description="Do nothing.", input_schema={"type": "object"})])


async def main() -> None:
    server: Server[Any] = Server("paged", version="1.0.0", on_list_resources=list_resources,
                                 on_list_resource_templates=list_templates,
                                 on_list_tools=list_tools)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
