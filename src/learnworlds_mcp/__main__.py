"""``python -m learnworlds_mcp``: the same as the ``learnworlds-mcp`` command."""

from learnworlds_mcp.cli import main

if __name__ == "__main__":
    main()
