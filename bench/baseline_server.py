"""The start-up baseline: a bare `MCPServer` with one tool, served on stdio.

`bench/startup.py` spawns this script with the same interpreter as `learnworlds-mcp` and
compares how long each takes from spawn to an answered `tools/list`.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("baseline")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    server.run("stdio")
