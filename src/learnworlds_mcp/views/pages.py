"""Load a view page: its HTML with the shared CSS and JS inlined and a CSP pinned to them.

Pages are package data files. A page marks where the shared parts go with `/*@include NAME*/`
and where its policy goes with `__CSP__`; the policy allows exactly the page's one inline
style and one inline script (by SHA-256) and nothing else: no network, no frames, no forms.
"""

import base64
import hashlib
import re
from functools import cache
from importlib.resources import files

_INCLUDE = re.compile(r"/\*@include ([\w.]+)\*/")
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _read(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def policy(html: str) -> str:
    """The Content-Security-Policy for a page whose inline parts are final."""
    styles = " ".join(_sha256(s) for s in _STYLE.findall(html))
    scripts = " ".join(_sha256(s) for s in _SCRIPT.findall(html))
    return (
        f"default-src 'none'; style-src {styles}; script-src {scripts}; "
        "img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )


@cache
def load_page(name: str) -> str:
    """The served HTML of page `name` (a file in this package), built once per process."""
    html = _INCLUDE.sub(lambda m: _read(m.group(1)), _read(name))
    return html.replace("__CSP__", policy(html), 1)
