"""A small stdio MCP server (official SDK) for lifecycle tests: ``pid`` answers its process
id; ``die`` exits the process in the middle of the call."""

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("dying")


@server.tool()
def pid() -> str:
    """This server's process id."""
    return str(os.getpid())


@server.tool()
def die() -> str:
    """Exit at once, without answering."""
    os._exit(3)


if __name__ == "__main__":
    server.run()
