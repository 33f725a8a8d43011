"""Suite-wide guards, run around every test.

No secret or token ever appears in a log line or a tool result: every sandbox school built
through `tests.support` is remembered; after each test, every log record of the test (all
loggers, DEBUG and up) and every tool result seen by `connected()` is checked for the client
secret, the static token and every bearer token the schools received.

The official OpenAPI description is the contract (DESIGN §7): every request the product sent
to any of the test's schools is held against it after the test (a test whose requests are off
errors at teardown, naming them), and the session's summary says how many were checked. Where
the spec file is absent the check is skipped and the summary says why; under CI=true that
fails the run (`tests/test_contract.py` also stands alone and fails there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from learnworlds_mcp.sandbox import DEFAULT_CLIENT_SECRET, DEFAULT_STATIC_TOKEN
from tests import openapi_contract as contract
from tests import support
from tests.redis_server import RedisServer, running_redis


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


class ContractTally:
    """What the session held against the spec: requests, the operations they used, skips."""

    def __init__(self) -> None:
        self.requests = 0
        self.operations: set[tuple[str, str]] = set()
        self.unchecked = 0


TALLY = ContractTally()


@pytest.fixture(autouse=True)
def requests_follow_the_spec() -> Iterator[None]:
    yield
    schools = {id(school): school for school in support.SCHOOLS}.values()  # listed once each
    sent = [r for school in schools for r in school.requests if contract.is_product_request(r)]
    if not sent:
        return
    if contract.spec_missing_reason():
        TALLY.unchecked += len(sent)
        return
    spec = contract.Contract.load()
    off: list[str] = []
    for request in sent:
        TALLY.requests += 1
        template = spec.template_for(request.raw_path)
        if template:
            TALLY.operations.add((request.method, template))
        off += [f"{request.method} {request.raw_path}: {p}" for p in spec.problems(request)]
    if off:
        listed = "\n  ".join(dict.fromkeys(off))
        pytest.fail(f"requests the OpenAPI spec does not declare:\n  {listed}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if TALLY.unchecked and contract.must_check() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = contract.spec_missing_reason()
    if TALLY.unchecked and reason:
        verdict = "FAILED under CI=true" if contract.must_check() else "skipped"
        terminalreporter.write_line(
            f"OpenAPI contract {verdict}: {TALLY.unchecked} requests not checked, {reason}"
        )
    elif TALLY.requests:
        terminalreporter.write_line(
            f"OpenAPI contract: {TALLY.requests} requests held against the spec, "
            f"{len(TALLY.operations)} operations used"
        )


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for one test, on a free loopback port (`tests/redis_server.py`)."""
    yield from running_redis()
