"""The project's exceptions.

Two families: a bad request the user typed (``VideoUsageError``, shown by IPython as one
line with no traceback, and nothing is sent), and what the service or the network said
(``DashScopeError`` and its subclasses, which carry every identifier a user needs to find
the task again).
"""

from __future__ import annotations

from IPython.core.error import UsageError


class VideoUsageError(UsageError):
    """Bad input: names the option, the value and what is allowed. Nothing was sent."""


class MissingApiKeyError(VideoUsageError):
    """No API key was found in any of the places keys are read from."""


class DashScopeError(Exception):
    """Something the service (or the way to it) answered. Carries the ids to look it up."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.task_id = task_id

    def __str__(self) -> str:
        head = f"{self.code}: {self.message}" if self.code else self.message
        ids = [
            f"{name} {value}"
            for name, value in (
                ("HTTP", self.status),
                ("task_id", self.task_id),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{head} ({', '.join(ids)})" if ids else head


class APIError(DashScopeError):
    """A non-2xx answer with the service's flat ``{code, message, request_id}`` body."""


class SubmissionUnclearError(DashScopeError):
    """The submit POST may have reached the server but its answer was lost.

    A task may exist and may be billed; it is never re-sent automatically. ``model`` and
    ``sent_at`` let the caller (or ``DashScopeClient.find_submitted``) look it up.
    """

    def __init__(self, message: str, *, model: str, sent_at: float, **ids: object) -> None:
        super().__init__(message, **ids)  # type: ignore[arg-type]
        self.model = model
        self.sent_at = sent_at


class TaskFailedError(DashScopeError):
    """The task ended FAILED; ``code``/``message`` are the task's own ``output.code``/``output.message``."""


class TaskCanceledError(DashScopeError):
    """The task ended CANCELED."""


class TaskUnknownError(DashScopeError):
    """The service answered UNKNOWN: expired (kept about 24 h), or another region or account's key."""


class CancelNotPossibleError(DashScopeError):
    """Cancel is refused once a task has left PENDING (``UnsupportedOperation``)."""


class PollTimeoutError(DashScopeError):
    """Our own overall deadline passed while the task was still going; it may still finish."""


class DownloadError(DashScopeError):
    """The result file could not be fetched whole."""


class ResultExpiredError(DownloadError):
    """The signed result URL has expired (OSS answers 403); the video can no longer be fetched."""


class NetworkError(DashScopeError):
    """No usable answer: the connection failed, dropped or timed out (after retries where allowed)."""
