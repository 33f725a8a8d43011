"""One line that says what a benchmark measured: the code, the interpreter, the machine."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from learnworlds_mcp import __version__

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def describe() -> str:
    """E.g. `learnworlds-mcp 0.1.0 @ 2a87da5 (+ uncommitted changes) · Python 3.11.7 · 2 CPUs`."""
    commit = _git("rev-parse", "--short", "HEAD") or "no git"
    dirty = " (+ uncommitted changes)" if _git("status", "--porcelain", "--", "src") else ""
    return (
        f"learnworlds-mcp {__version__} @ {commit}{dirty} · "
        f"Python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.system()}"
    )
