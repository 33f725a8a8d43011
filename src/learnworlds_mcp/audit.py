"""The audit log: one JSON line per call of a write or destructive tool, whatever became of it.

Each record holds `time` (ISO 8601 UTC), `member` (`local` on stdio), `client` (the OAuth
client's registered name, `key` for a member key, `stdio` locally), `tool`, `arguments`,
`outcome` (`done`, `unchanged`, `dry_run`, `declined`, `refused`, `error`, `unknown`) and, when a
request was sent, `request` (`"PUT /v2/users/…/suspend"`) and `status` (its HTTP status; absent
when no answer came). Never a key, token or secret: tool arguments hold none.

The log is a server middleware around `tools/call`, so it sees every outcome — argument errors
and calls of tools the caller may not use included — and a 2026-07-28 call that pauses for the
person's answer (its first leg returns `input_required`) is recorded once, when it completes.
"""

import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp_types import methods

from learnworlds_mcp.observe import CallRecord, observing

logger = logging.getLogger(__name__)

Identify = Callable[[], tuple[str, str]]
"""Who is calling: (member, client)."""

_STATUS_OUTCOMES = frozenset({"done", "unchanged", "dry_run", "declined"})


class AuditLog:
    """Appends JSON lines to a file (created 0600) or to stderr (`-`), one write per record."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._stream: TextIO | None = None

    def _open(self) -> TextIO:
        if self._stream is None:
            if self.target == "-":
                self._stream = sys.stderr
            else:
                fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._stream = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
        return self._stream

    def check(self) -> None:
        """Open the log now, so a path that cannot be written stops start-up (ConfigError)
        instead of letting changes go ahead unrecorded."""
        from learnworlds_mcp.config import ConfigError

        try:
            self._open()
        except OSError as error:
            raise ConfigError(
                f"LEARNWORLDS_AUDIT_LOG (--audit-log) {self.target} cannot be written "
                f"({error.strerror}): give a writable file, - for stderr, or leave it unset"
            ) from None

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        with self._lock:
            try:
                stream = self._open()
                stream.write(line + "\n")
                stream.flush()
            except OSError as error:  # the audit must not break the call; say so loudly
                logger.error("audit log %s cannot be written: %s", self.target, error.strerror)

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stderr:
            self._stream.close()
        self._stream = None


def outcome_of(result: Mapping[str, Any], record: CallRecord) -> str:
    """A finished `tools/call` result (wire form) and what the call did → the audit outcome."""
    if not result.get("isError"):
        structured = result.get("structuredContent")
        status = structured.get("status") if isinstance(structured, Mapping) else None
        return status if status in _STATUS_OUTCOMES else "done"
    if record.failure == "made":
        return "done"
    if record.failure == "unknown":
        return "unknown"
    if record.failure == "error":
        return "error"
    return "refused"  # argument errors, unknown or hidden tools, checks and the school's 4xx


def audit_middleware(
    log: AuditLog, change_tools: Collection[str], identify: Identify
) -> ServerMiddleware[Any]:
    """A server middleware that records every call of a tool in `change_tools`."""
    watched = frozenset(change_tools)

    async def audit(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        name = params.get("name")
        if ctx.method != "tools/call" or name not in watched:
            return await call_next(ctx)
        arguments = params.get("arguments")
        who = identify()  # now: a key rotated while the call runs must not blank the record
        with observing() as record:
            try:
                result = await call_next(ctx)
            except BaseException:  # failed, or cancelled (the client went away) mid-call
                if record.sending is not None:
                    record.writes.append(record.sending)  # it may have reached the school
                    _write(log, who, name, arguments, "unknown", record)
                else:
                    made = any(w.status is not None and w.status < 300 for w in record.writes)
                    _write(log, who, name, arguments, "done" if made else "error", record)
                raise
        if methods.is_input_required(result):
            return result  # paused for the person's answer: recorded when the call completes
        wire = result if isinstance(result, Mapping) else _dump(result)
        _write(log, who, name, arguments, outcome_of(wire, record), record)
        return result

    return audit


def _dump(result: Any) -> Mapping[str, Any]:
    dump = getattr(result, "model_dump", None)
    return dump(by_alias=True, mode="json") if callable(dump) else {}


def _write(
    log: AuditLog,
    who: tuple[str, str],
    tool: str,
    arguments: Any,
    outcome: str,
    record: CallRecord,
) -> None:
    member, client = who
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "member": member,
        "client": client,
        "tool": tool,
        "arguments": arguments if isinstance(arguments, Mapping) else {},
        "outcome": outcome,
    }
    if record.writes:
        sent = record.writes[-1]
        entry["request"] = f"{sent.method} {sent.path}"
        if sent.status is not None:
            entry["status"] = sent.status
    log.write(entry)


def local_caller() -> tuple[str, str]:
    """The caller on stdio: the one local person, through the host that started the server."""
    return ("local", "stdio")
