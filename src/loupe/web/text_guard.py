"""One check, on every route, for values no database can store.

A NUL character (PostgreSQL refuses it in text) or a lone surrogate (neither
database can encode it) anywhere in a JSON body, a form, the query string or the
path; and in a JSON body a number that is not finite (``NaN``, ``Infinity``,
``1e400``: Python's parser accepts them, no database's JSON does) or an object or
array nested deeper than :data:`~loupe.formats.MAX_DEPTH` levels (it would exhaust the
stack of the code that walks it) is refused with a 422 naming the field, before a
handler or a transaction starts. Pydantic already refuses lone surrogates in ``str``
fields and non-finite ``float`` fields, but not free-form ones (metadata, answers,
imported rows), and accepts NUL everywhere.

File uploads (``/items/import``) stream through ``loupe.formats.parse_item``,
which applies the same rule row by row and names the line.
"""

from __future__ import annotations

import json
import re

from fastapi import Request

from loupe.errors import InvalidInput
from loupe.formats import MAX_DEPTH, unstorable_message, unstorable_text

__all__ = ["may_hold_unstorable", "reject_unstorable_text"]

# JSON can only carry NUL or a surrogate as an escape (raw control characters are
# invalid JSON, raw surrogates invalid UTF-8).
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
# A non-finite number is written NaN, Infinity, with an exponent of 3 digits or more, or
# with 309 digits or more: with every digit made 0 and E lower-case, a body without one
# of these has none (the walk decides: "the100" is text).
_NUMBERS = bytes.maketrans(b"123456789E", b"000000000e")
_NON_FINITE = (b"NaN", b"Infinity", b"e000", b"e+000", b"0" * 309)
# Brackets only, all made [ and ]: for the depth, an object counts as an array.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_FORM = "application/x-www-form-urlencoded"


def _deeper_than(body: bytes, limit: int) -> bool:
    """Whether the JSON text ``body`` may nest more than ``limit`` levels, without parsing
    it: each pass removes the innermost pairs of brackets, so a body ``limit`` levels deep
    has none left after ``limit`` passes. Brackets in strings, or brackets that do not
    balance, may make it answer ``True`` for a body that is not (the walk decides)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = body.translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if not inner:
            return False
        if len(inner) == len(brackets):
            return True  # unbalanced
        brackets = inner
    return True


def may_hold_unstorable(body: bytes) -> bool:
    """Whether a JSON body may hold a value :func:`~loupe.formats.unstorable_text`
    refuses: an escape of NUL or a surrogate, a non-finite number, or deep nesting."""
    if _ESCAPE.search(body) is not None or _deeper_than(body, MAX_DEPTH):
        return True
    numbers = body.translate(_NUMBERS)
    return any(sign in numbers for sign in _NON_FINITE)


def _refuse(field: str, problem: str) -> InvalidInput:
    return InvalidInput(unstorable_message(field, problem), details={"field": field})


async def reject_unstorable_text(request: Request) -> None:
    """App-wide dependency: raise ``InvalidInput`` for unstorable text in the request."""
    found = unstorable_text(request.scope["path"], "path")
    if found is not None:
        raise _refuse(*found)
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
        except RecursionError:
            raise _refuse(
                "body", f"is nested more than {MAX_DEPTH} levels deep; send a flatter value"
            ) from None
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
