"""What one tool call did, for observers such as the audit log — never seen by the tools.

An observer opens a `CallRecord` around a call (`observing()`); the client notes each write it
sent (`note_write`) and the tool layer notes how a failed call failed (`note_failure`). Without
an open record both are no-ops, so the client and the tools work the same with or without an
observer, over stdio or HTTP.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

Failure = Literal["refused", "error", "unknown", "made"]
"""How a failed call failed: refused before or by the school (nothing changed), failed
otherwise, a write whose outcome is unknown, or a write made whose reply could not be read."""


@dataclass(frozen=True)
class SentWrite:
    """One POST/PUT/DELETE sent to the school, and the HTTP status it got (None: no answer)."""

    method: str
    path: str
    status: int | None


@dataclass
class CallRecord:
    """The writes one tool call sent and, if it failed, how.

    `sending` is the write on its way while no answer has come (set just before it is sent):
    a call cancelled at that moment may have changed the school.
    """

    writes: list[SentWrite] = field(default_factory=list)
    failure: Failure | None = None
    sending: SentWrite | None = None


_current: ContextVar[CallRecord | None] = ContextVar("learnworlds_call_record", default=None)


@contextmanager
def observing() -> Iterator[CallRecord]:
    """Open a record for the tool call run inside this block (its tasks share the record)."""
    record = CallRecord()
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def note_sending(method: str, path: str) -> None:
    """The client is about to send a write; `note_write` or `note_not_sent` follows."""
    record = _current.get()
    if record is not None:
        record.sending = SentWrite(method, path, None)


def note_write(method: str, path: str, status: int | None) -> None:
    """The client sent a write (status None: it may have arrived, no answer came)."""
    record = _current.get()
    if record is not None:
        record.sending = None
        record.writes.append(SentWrite(method, path, status))


def note_not_sent() -> None:
    """The write on its way was not sent after all (refused before leaving, or never processed)."""
    record = _current.get()
    if record is not None:
        record.sending = None


def note_failure(failure: Failure) -> None:
    """The tool layer turned a failure into a tool error; the first one noted stands."""
    record = _current.get()
    if record is not None and record.failure is None:
        record.failure = failure
