"""Scripted misbehaviour, so tests can rehearse every way the real service and network fail."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

FaultKind = Literal["status", "drop", "drop_after_accept", "slow", "truncate"]

#: Endpoint names accepted by ``Emulator.script``.
ENDPOINTS = ("submit", "get", "cancel", "list", "policy", "upload", "result")

#: What DashScope says for each status when a test does not give its own body.
_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidParameter", "Required parameter(s) missing or invalid, please check the request parameters."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("ModelNotFound", "Model not found."),
    408: ("RequestTimeOut", "Request timed out, please try again later."),
    413: ("BadRequest.TooLarge", "Payload Too Large."),
    429: ("Throttling", "Requests throttling triggered."),
    500: ("InternalError", "An internal error has occured, please try again later or contact service support."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "Service is unavailable, please try again later."),
    504: ("GatewayTimeout", "Gateway timeout."),
}


def default_error(status: int) -> tuple[str, str]:
    """The ``(code, message)`` pair the service would send with this HTTP status."""
    if status in _DEFAULT_ERRORS:
        return _DEFAULT_ERRORS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase.replace(" ", "").replace("-", ""), phrase + "."


@dataclass(frozen=True)
class Fault:
    """One scripted answer for one request; build it with the class methods."""

    kind: FaultKind
    status_code: int = 0
    body: dict[str, Any] | str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    fraction: float = 0.5

    @classmethod
    def status(
        cls, code: int, body: dict[str, Any] | str | None = None, retry_after: float | None = None
    ) -> Fault:
        """Answer this HTTP status (default body: the service's usual error for it)."""
        return cls("status", status_code=code, body=body, retry_after=retry_after)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering, before doing anything."""
        return cls("drop")

    @classmethod
    def drop_after_accept(cls) -> Fault:
        """Do the work for real (a submit creates its task), then close without answering."""
        return cls("drop_after_accept")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Sleep this long, then answer normally (to trip read timeouts)."""
        return cls("slow", seconds=seconds)

    @classmethod
    def truncate(cls, fraction: float = 0.5) -> Fault:
        """Answer normally with the full Content-Length but send only part of the body."""
        if not 0.0 <= fraction < 1.0:
            raise ValueError("fraction must be in [0, 1)")
        return cls("truncate", fraction=fraction)
