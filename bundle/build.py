"""Build the MCP Bundle (`.mcpb`) for Claude Desktop: `python bundle/build.py [--out DIR]`.

Stages a directory with `manifest.json` (manifest 0.4, server type "uv"), `server/main.py`, the
wheel `uv build` makes from this checkout, and a `pyproject.toml` that installs that wheel; then
validates the manifest and packs the directory with the `@anthropic-ai/mcpb` CLI (through npx).
The host runs `uv run --directory <bundle> server/main.py`, so uv fetches Python and the
wheel's dependencies itself. Needs `uv` and `npx` on PATH. Prints the bundle's path.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MCPB = ["npx", "-y", "@anthropic-ai/mcpb@2.1.2"]

PYPROJECT = """\
# Installs the bundled wheel; uv resolves its dependencies from PyPI.
[project]
name = "learnworlds-mcp-bundle"
version = "{version}"
requires-python = ">=3.11"
dependencies = ["learnworlds-mcp=={version}"]

[tool.uv]
package = false

[tool.uv.sources]
learnworlds-mcp = {{ path = "wheels/{wheel}" }}
"""


def package_version() -> str:
    text = (ROOT / "src" / "learnworlds_mcp" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SystemExit("build.py: no __version__ in src/learnworlds_mcp/__init__.py")
    return found.group(1)


def run(command: list[str], cwd: Path) -> None:
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=cwd, check=True, stdout=sys.stderr)


def stage(directory: Path) -> str:
    """Fill `directory` with what the bundle holds; return the version."""
    version = package_version()
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    if manifest["version"] != version:
        raise SystemExit(
            f"build.py: bundle/manifest.json says {manifest['version']}, the package {version}"
        )
    run(["uv", "build", "--wheel", "--out-dir", str(directory / "wheels")], cwd=ROOT)
    wheels = sorted((directory / "wheels").glob(f"learnworlds_mcp-{version}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"build.py: expected one wheel, found {[w.name for w in wheels]}")
    for stray in (directory / "wheels").iterdir():
        if stray not in wheels:
            stray.unlink()  # uv build's .gitignore
    shutil.copy2(HERE / "manifest.json", directory / "manifest.json")
    shutil.copytree(HERE / "server", directory / "server")
    (directory / "pyproject.toml").write_text(
        PYPROJECT.format(version=version, wheel=wheels[0].name), encoding="utf-8"
    )
    return version


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="learnworlds-mcpb-") as tmp:
        staged = Path(tmp) / "learnworlds-mcp"
        staged.mkdir()
        version = stage(staged)
        run([*MCPB, "validate", str(staged / "manifest.json")], cwd=staged)
        target = out.resolve() / f"learnworlds-mcp-{version}.mcpb"
        run([*MCPB, "pack", str(staged), str(target)], cwd=staged)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
