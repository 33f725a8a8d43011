"""Typed errors of the client layer, each with the message a person or a model can act on.

Tools never see HTTP status codes: the client raises one of these, and the tool layer turns
any `LearnWorldsError` into a tool error whose text is `str(error)`. No message here ever
contains the client secret or an access token: messages are built from fixed text, the API's
own error message, and the names the caller chose.
"""

from __future__ import annotations


class LearnWorldsError(Exception):
    """Base of every failure talking to the school. `str()` is the user-facing message."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, api_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.api_message = api_message

    def __str__(self) -> str:
        return self.message


class InvalidIdError(LearnWorldsError):
    """An id that cannot be sent: empty, or containing characters no LearnWorlds id has."""


class NotFoundError(LearnWorldsError):
    """The school has no such user, group, course or other record (HTTP 404)."""


class InvalidRequestError(LearnWorldsError):
    """The school rejected the request's arguments (HTTP 400 or 422)."""


class AuthenticationError(LearnWorldsError):
    """The credentials were rejected: wrong client id, secret or access token, or expired token."""


class PermissionDeniedError(LearnWorldsError):
    """HTTP 403: the credentials are valid but may not use this part of the API (plan gated)."""


class RateLimitedError(LearnWorldsError):
    """The rate limit did not free up within the wait the server allows itself."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class SchoolUnreachableError(LearnWorldsError):
    """The school did not answer: connection refused, DNS failure, dropped connection, timeout."""

    retryable = True


class ServerError(LearnWorldsError):
    """The school answered with a 5xx error."""

    retryable = True


class UnexpectedResponseError(LearnWorldsError):
    """The school answered with something that is not the JSON the API documents."""


class AfterWriteError(LearnWorldsError):
    """A write that reached the school, or may have: reported so that nobody sends it twice.

    `what_happened` says what went wrong; the message adds what it means and which read tool
    (with its arguments) shows the truth. Tools call `naming()` to put their own read tool in.
    """

    def __init__(self, what_happened: str, *, check_with: str = "the matching read tool"):
        super().__init__(self.explain(what_happened, check_with))
        self.what_happened = what_happened

    @staticmethod
    def explain(what_happened: str, check_with: str) -> str:
        raise NotImplementedError

    def naming(self, check_with: str) -> AfterWriteError:
        """The same error, naming the read tool (and arguments) that shows what happened."""
        return type(self)(self.what_happened, check_with=check_with)


class WriteOutcomeUnknownError(AfterWriteError):
    """A write may or may not have reached the school; it was deliberately not sent again."""

    @staticmethod
    def explain(what_happened: str, check_with: str) -> str:
        return (
            f"Outcome unknown. {what_happened}: the change may or may not have been made, and "
            "it was not sent again so that it cannot happen twice. Check with "
            f"{check_with} before trying again."
        )


class WriteReplyUnreadableError(AfterWriteError):
    """The school accepted a write (2xx) but its reply could not be read: the change was made."""

    @staticmethod
    def explain(what_happened: str, check_with: str) -> str:
        return (
            f"The change was made, but {what_happened}. Do not send it again: check with "
            f"{check_with} to see the record as it is now."
        )


class SharedStateUnavailableError(LearnWorldsError):
    """The shared state in Redis (LEARNWORLDS_REDIS_URL) cannot be reached or refused a command.

    Nothing was sent to the school: no request goes out that the shared budget did not grant.
    """

    retryable = True
