"""The one mapping from errors to HTTP responses (``{"error": {...}}`` bodies).

Under ``/api`` every error is JSON. Elsewhere, a client that asks for HTML (a browser
opening a web UI page) gets the same status and message from the ``html`` renderer
given to :func:`install_error_handlers`: an error page or, for 401, the sign-in page.
The UI's own ``fetch()`` calls ask for JSON and get the JSON body.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from loupe.db.database import is_unavailable, is_unique_violation, redacted
from loupe.errors import LoupeError
from loupe.formats import MAX_DEPTH
from loupe.privacy.messages import redact_details, redact_message
from loupe.web.schemas.common import ErrorBody

__all__ = [
    "ERROR_RESPONSES",
    "HtmlErrors",
    "api_error_response",
    "install_error_handlers",
    "wants_page",
]

log = logging.getLogger("loupe.web")

#: What a unique constraint's refusal means to the caller: another request created the
#: same thing first (the services check before they write; two at once can both pass).
RACED = "another request created or changed the same record at the same moment; reload and retry"

#: Renders an error for a browser: ``(request, status, code, message) -> response``.
HtmlErrors = Callable[[Request, int, str, str], Awaitable[Response]]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (401, "Missing, unknown or revoked API token"),
        (403, "Not allowed for your role"),
        (404, "No such resource"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input; details name the field"),
    ]
}


def _body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error body. Messages and details often name the value refused; any identifier
    in them is replaced by its placeholder (:mod:`loupe.privacy.messages`), so no error
    body, and no error page built from one, echoes personal data."""
    return {
        "error": {
            "code": code,
            "message": redact_message(message),
            "details": redact_details(details or {}),
        }
    }


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _loupe_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoupeError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    if "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return JSONResponse(
        _body(exc.code, exc.message, exc.details), status_code=exc.http_status, headers=headers
    )


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(error.get("loc", ()))), "message": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return JSONResponse(_body("invalid_input", message, {"errors": errors}), status_code=422)


def _unreadable_body(cause: BaseException) -> str:
    """What to fix in a body FastAPI could not parse (it raises a bare 400 from ``cause``)."""
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"body: is not UTF-8 text (bad byte at offset {cause.start}); "
            "send JSON encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return f"body: is nested more than {MAX_DEPTH} levels deep; send a flatter value"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return "body: holds a number of more than 4300 digits; send it as a string"
    return f"body: could not be read ({type(cause).__name__}); send well-formed JSON"


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's "There was an error parsing the body" says neither what nor where.
        message = _unreadable_body(exc.__cause__)
        return JSONResponse(_body("invalid_input", message, {"field": "body"}), status_code=422)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
    return JSONResponse(
        _body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _database_error(request: Request, exc: Exception) -> Response:
    """503 when the database cannot take work (busy, read-only, full, down); else a 500.

    Engines hide SQL parameters, so the logged message holds no personal data.
    """
    assert isinstance(exc, DBAPIError)
    if is_unique_violation(exc):
        log.info("unique constraint refused a concurrent write: %s", redacted(exc))
        return JSONResponse(_body("conflict", RACED), status_code=409)
    if not is_unavailable(exc):
        # Not exc_info: the chained driver error would print PostgreSQL's DETAIL line,
        # which repeats values (subject ids, metadata) the engine hid from the message.
        trace = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unexpected database error: %s\n%s", redacted(exc), trace)
        return JSONResponse(
            _body("internal", "an unexpected error occurred; it has been logged"),
            status_code=500,
        )
    db = getattr(request.app.state, "db", None)
    log.warning("database unavailable: %s", db.describe_failure(exc) if db else redacted(exc))
    reason = str(exc.orig).lower()
    message = (
        "the database is read-only, so nothing can be saved; an administrator must make "
        "it writable (the server log names the file)"
        if "readonly" in reason or "read-only" in reason
        else "the database is busy or unavailable; retry shortly"
    )
    return JSONResponse(
        _body("unavailable", message), status_code=503, headers={"Retry-After": "1"}
    )


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(
        _body("internal", "an unexpected error occurred; it has been logged"), status_code=500
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]


def wants_page(request: Request) -> bool:
    """Whether an error for ``request`` is a page: a browser's request outside ``/api``."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _for_pages(handler: Handler, html: HtmlErrors | None) -> Handler:
    """JSON under ``/api`` and for non-browser clients; an HTML page for browsers elsewhere."""
    if html is None:
        return handler

    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        if not wants_page(request):
            return response
        error = _json_error(response)
        return await html(request, response.status_code, error[0], error[1])

    return handle


def _json_error(response: Response) -> tuple[str, str]:
    try:
        error = json.loads(bytes(response.body))["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "http_error", "the request failed"


async def api_error_response(request: Request, exc: Exception) -> Response | None:
    """The JSON response :func:`install_error_handlers` gives ``exc`` under ``/api``;
    ``None`` for an unexpected error (the server's 500 handler takes it)."""
    if isinstance(exc, LoupeError):
        return await _loupe_error(request, exc)
    if isinstance(exc, DBAPIError):
        return await _database_error(request, exc)
    return None


def install_error_handlers(app: FastAPI, *, html: HtmlErrors | None = None) -> None:
    app.add_exception_handler(LoupeError, _for_pages(_loupe_error, html))
    app.add_exception_handler(RequestValidationError, _for_pages(_validation_error, html))
    app.add_exception_handler(HTTPException, _for_pages(_http_error, html))
    app.add_exception_handler(DBAPIError, _for_pages(_database_error, html))
    app.add_exception_handler(Exception, _for_pages(_unexpected, html))
