"""learnworlds-mcp: an MCP server for LearnWorlds schools."""

# The one place the version lives (hatchling reads it at build time). A literal, not
# importlib.metadata: looking the installed distribution up costs ~40 ms of every start-up.
__version__ = "0.1.0"

__all__ = ["__version__"]
