"""Suite-wide guard: no secret or token ever appears in a log line or a tool result.

Every sandbox school built through `tests.support` is remembered; after each test, every log
record of the test (all loggers, DEBUG and up) and every tool result seen by `connected()` is
checked for the client secret, the static token and every bearer token the schools received.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from learnworlds_mcp.sandbox import DEFAULT_CLIENT_SECRET, DEFAULT_STATIC_TOKEN
from tests import support


def secrets_in_play() -> set[str]:
    found = {DEFAULT_CLIENT_SECRET, DEFAULT_STATIC_TOKEN}
    for school in support.SCHOOLS:
        found.add(school.options.client_secret)
        if school.options.static_token:
            found.add(school.options.static_token)
        for request in school.requests:
            bearer = request.headers.get("authorization", "")
            if bearer.startswith("Bearer ") and len(bearer) > 20:
                found.add(bearer.removeprefix("Bearer "))
    return found


@pytest.fixture(autouse=True)
def no_secret_leaks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    support.SCHOOLS.clear()
    support.RESULTS.clear()
    caplog.set_level(logging.DEBUG)
    yield
    secrets = secrets_in_play()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in logged, "a secret or token reached a log line"
        for text in support.RESULTS:
            assert secret not in text, "a secret or token reached a tool result"
