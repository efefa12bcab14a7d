"""The one retry layer: a ``requests.Session`` with timeouts on every call, and backoff.

Only requests that are safe to repeat go through :meth:`Transport.retrying` (GETs, the
upload POST with a fresh object key, result downloads). Submitting and cancelling are
sent exactly once with :meth:`Transport.once`: repeating a submit whose answer was lost
can create a second, billed task.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class TruncatedBody(IOError):
    """The body ended before its announced length; the download can resume where it stopped."""


RETRY_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,  # includes ConnectTimeout and dropped connections
    requests.Timeout,  # ReadTimeout
    requests.exceptions.ChunkedEncodingError,  # body cut off mid-stream
    TruncatedBody,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a repeatable request."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_total_seconds: float = 60.0

    def backoff(self, failures: int, unit_random: float) -> float:
        """Exponential delay after the n-th failure (1-based), plus up to ``jitter`` of it at random."""
        delay = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        return delay * (1 + self.jitter * unit_random)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The server's ``Retry-After`` in seconds, if it sent a number."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


class Transport:
    """One session, (connect, read) timeouts on every request, and the only retry loop."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        policy: RetryPolicy,
        user_agent: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        unit_random: Callable[[], float] = random.random,
    ) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.timeout = (connect_timeout, read_timeout)
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._random = unit_random

    def once(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request with the timeouts; never retried."""
        return self.session.request(method, url, timeout=self.timeout, **kwargs)

    def with_retries(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send a repeatable request, retrying transient failures."""
        return self.retrying(lambda: self.once(method, url, **kwargs))

    def retrying(
        self,
        attempt: Callable[[], requests.Response],
        *,
        progress: Callable[[], int] | None = None,
    ) -> requests.Response:
        """Run ``attempt`` until it returns a non-transient response or the budget is spent.

        A transient failure is a response with a status in ``RETRY_STATUSES`` or one of
        ``RETRY_ERRORS``. When the budget runs out, the last response is returned (the
        caller turns it into an error) or the last exception re-raised. ``progress``
        (e.g. bytes saved so far) restarts the budget whenever it grows, so a long
        download that keeps advancing is not cut off by the total-time bound.
        """
        started, failures = self._clock(), 0
        mark = progress() if progress else 0
        while True:
            try:
                response = attempt()
            except RETRY_ERRORS as exc:
                outcome: requests.Response | BaseException = exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                outcome = response
            if progress and progress() > mark:
                started, failures, mark = self._clock(), 0, progress()
            failures += 1
            delay = self._delay(outcome, failures)
            if not self._may_retry(started, failures, delay):
                if isinstance(outcome, BaseException):
                    raise outcome
                return outcome
            if isinstance(outcome, requests.Response):
                outcome.close()
            self._sleep(delay)

    def _delay(self, outcome: requests.Response | BaseException, failures: int) -> float:
        """The server's Retry-After when it gave one, else exponential backoff with jitter."""
        asked = retry_after_seconds(outcome) if isinstance(outcome, requests.Response) else None
        return asked if asked is not None else self.policy.backoff(failures, self._random())

    def _may_retry(self, started: float, failures: int, delay: float) -> bool:
        within_time = self._clock() - started + delay <= self.policy.max_total_seconds
        return failures < self.policy.max_attempts and within_time
