"""The SDK's one exception hierarchy: the server's error body, typed by HTTP status.

Every refusal the server sends is ``{"error": {"code", "message", "details"}}``
(docs/api.md); the SDK raises it as the class for its status, with those three
fields, so ``except NotFound`` reads like the server's own ``loupe.errors``::

    LoupeClientError                 any failure; ``status``, ``code``, ``message``, ``details``
    ├── ConnectionFailed      0      no answer (after the retries an idempotent call gets)
    ├── Unauthenticated       401    missing, unknown, expired or revoked token
    ├── PermissionDenied      403    your role may not do this
    ├── NotFound              404
    ├── Conflict              409    state forbids it (already labelled, full, no lease)
    ├── PayloadTooLarge       413    the body is over its limit (``details.max_bytes``)
    ├── InvalidInput          422    ``details.field`` names the field
    ├── TooManyRequests       429    after the retries (``retry_after``: seconds, if sent)
    ├── Unavailable           503    after the retries (``retry_after``: seconds, if sent)
    └── ServerError           5xx    any other server failure

The classes are not those of :mod:`loupe.errors` on purpose: a client error
carries the HTTP status and may come from a server of another version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "Conflict",
    "ConnectionFailed",
    "InvalidInput",
    "LoupeClientError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "ServerError",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
    "error_for",
    "retry_after_seconds",
]


class LoupeClientError(Exception):
    """The server refused a request (or never answered); ``code`` is Loupe's stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.retry_after = retry_after


class ConnectionFailed(LoupeClientError):
    """No response: the server is unreachable, or the connection broke."""


class Unauthenticated(LoupeClientError):
    """401: the token is missing, unknown, expired or revoked."""


class PermissionDenied(LoupeClientError):
    """403: authenticated, but your role may not do this."""


class NotFound(LoupeClientError):
    """404: no such thing, or not visible to you."""


class Conflict(LoupeClientError):
    """409: the current state forbids it; ``details.reason`` says why where it can."""


class PayloadTooLarge(LoupeClientError):
    """413: the request body is over its limit; ``details.max_bytes`` is the limit. Send
    less per call (smaller batches), or a file to ``items.import_file``."""


class InvalidInput(LoupeClientError):
    """422: a bad field or file; ``details.field`` names it."""


class TooManyRequests(LoupeClientError):
    """429: throttled; raised once the retries are spent."""


class Unavailable(LoupeClientError):
    """503: the database is busy, read-only or full; raised once the retries are spent."""


class ServerError(LoupeClientError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[LoupeClientError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: TooManyRequests,
    503: Unavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta form; Loupe never sends an HTTP date)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_for(response: httpx.Response, body: bytes) -> LoupeClientError:
    """The exception for an error ``response`` whose content is ``body``."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else LoupeClientError)
    try:
        error = httpx.Response(status, content=body).json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
        if not isinstance(details, dict):
            details = {"value": details}
    except (ValueError, KeyError, TypeError):
        code = "http_error"
        message = body.decode("utf-8", errors="replace")[:200] or response.reason_phrase
        details = {}
    return cls(status, code, message, details=details, retry_after=retry_after_seconds(response))
