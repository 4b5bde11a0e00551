"""Loupe's one error hierarchy.

Every failure a user can cause is a :class:`LoupeError` with a stable ``code``,
a message that says what to fix, and optional structured ``details``. The HTTP
layer maps each class once to a status (``loupe.web.errors``); the CLI maps it
once to an exit code (``loupe.cli``)::

    LoupeError                      400  exit 1
    ├── InvalidInput                422  exit 2   bad field, bad file, bad option
    ├── Unauthenticated             401  exit 3   missing / unknown / revoked credentials
    ├── PermissionDenied            403  exit 4   authenticated, but not allowed
    ├── NotFound                    404  exit 5
    ├── Conflict                    409  exit 6   state forbids it (already labelled, full)
    ├── PrivacyBlocked              451  exit 7   the privacy gate withheld the content
    ├── PayloadTooLarge             413  exit 12  a request body over its limit (details.max_bytes)
    ├── TooManyRequests             429  exit 9   throttled (details.retry_after: seconds)
    ├── LedgerIntegrityError        409  exit 8   the payment log does not verify
    ├── AuditIntegrityError         409  exit 11  the audit log does not verify
    └── Unavailable                 503  exit 10  the database cannot be written (read-only, full)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AuditIntegrityError",
    "Conflict",
    "InvalidInput",
    "LedgerIntegrityError",
    "LoupeError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PrivacyBlocked",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
]


class LoupeError(Exception):
    """Base class: a failure with a stable code and a message that says what to fix."""

    code: ClassVar[str] = "loupe_error"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """The documented error body: ``{"error": {"code", "message", "details"}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(LoupeError):
    """The request or file is malformed; ``details`` names the field (and allowed values)."""

    code = "invalid_input"
    http_status = 422
    exit_code = 2


class Unauthenticated(LoupeError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 3


class PermissionDenied(LoupeError):
    code = "permission_denied"
    http_status = 403
    exit_code = 4


class NotFound(LoupeError):
    code = "not_found"
    http_status = 404
    exit_code = 5


class Conflict(LoupeError):
    code = "conflict"
    http_status = 409
    exit_code = 6


class PrivacyBlocked(LoupeError):
    code = "privacy_blocked"
    http_status = 451
    exit_code = 7


class PayloadTooLarge(LoupeError):
    """A request body over its limit; ``details["max_bytes"]`` is the limit, and the
    message says how to send less (smaller batches, or the streamed import)."""

    code = "payload_too_large"
    http_status = 413
    exit_code = 12


class TooManyRequests(LoupeError):
    """Throttled; ``details["retry_after"]`` is how many seconds to wait (``Retry-After``)."""

    code = "too_many_requests"
    http_status = 429
    exit_code = 9


class LedgerIntegrityError(LoupeError):
    code = "ledger_integrity"
    http_status = 409
    exit_code = 8


class AuditIntegrityError(LoupeError):
    """The audit log does not verify: events were edited, removed or truncated."""

    code = "audit_integrity"
    http_status = 409
    exit_code = 11


class Unavailable(LoupeError):
    """Loupe cannot work right now for a reason outside the request (a read-only or
    full disk); the message names the path and what to fix."""

    code = "unavailable"
    http_status = 503
    exit_code = 10
