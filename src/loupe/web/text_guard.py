"""One check, on every route, for text no database can store.

A NUL character (PostgreSQL refuses it in text) or a lone surrogate (neither
database can encode it) anywhere in a JSON body, a form, the query string or the
path is refused with a 422 naming the field, before a handler or a transaction
starts. Pydantic already refuses lone surrogates in ``str`` fields, but not in
free-form ones (metadata, answers, imported rows), and accepts NUL everywhere.

File uploads (``/items/import``) stream through ``loupe.formats.parse_item``,
which applies the same rule row by row and names the line.
"""

from __future__ import annotations

import json
import re

from fastapi import Request

from loupe.errors import InvalidInput
from loupe.formats import unstorable_message, unstorable_text

__all__ = ["may_hold_unstorable", "reject_unstorable_text"]

# JSON can only carry NUL or a surrogate as an escape (raw control characters are
# invalid JSON, raw surrogates invalid UTF-8): bodies without one skip the walk.
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_FORM = "application/x-www-form-urlencoded"


def may_hold_unstorable(body: bytes) -> bool:
    """Whether a JSON body may hold NUL or a surrogate (it has one's escape)."""
    return _ESCAPE.search(body) is not None


def _refuse(field: str, problem: str) -> InvalidInput:
    return InvalidInput(unstorable_message(field, problem), details={"field": field})


async def reject_unstorable_text(request: Request) -> None:
    """App-wide dependency: raise ``InvalidInput`` for unstorable text in the request."""
    if "\x00" in request.scope["path"]:
        raise _refuse("path", "contains a NUL character (U+0000)")
    for key, value in request.query_params.multi_items():
        found = unstorable_text({key: value})
        if found is not None:
            raise _refuse(*found)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()  # cached: FastAPI reuses it for the handler
        if not may_hold_unstorable(body):
            return
        try:
            decoded = json.loads(body)
        except ValueError:
            return  # malformed JSON: the route's own validation reports it
        found = unstorable_text(decoded)
        if found is not None:
            raise _refuse(*found)
    elif content_type == _FORM:
        form = await request.form()  # cached as well
        for name, field in form.multi_items():
            if isinstance(field, str):
                found = unstorable_text({name: field})
                if found is not None:
                    raise _refuse(*found)
