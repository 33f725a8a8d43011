"""The bundle's entry point: the `learnworlds-mcp` command, configured by the host's env."""

from learnworlds_mcp.cli import main

if __name__ == "__main__":
    main()
