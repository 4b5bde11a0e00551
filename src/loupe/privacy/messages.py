"""Error messages without the personal data they echo.

Many errors name the value they refuse (``language must be a language tag such as 'en',
got 'ana@example.org'``: a CSV whose columns are shifted by one puts e-mail addresses
there). Such a message reaches a terminal, a CI log, a browser's error page or an HTTP
client's log, none of which the privacy gate guards. :func:`redact_message` is applied
where an error leaves Loupe (the HTTP error handlers and the CLI), so no error echoes an
identifier, whichever of the many checks raised it.

Every detected identifier is replaced by its placeholder (``[EMAIL]``). Names, URLs and
dates are replaced only inside a quoted value (``'...'``, ``"..."``): outside quotes they
are the message's own prose ("set it in Loupe's settings", a documentation URL, a date
the server chose), not what the caller sent.

>>> redact_message("line 3: domain must be a lower-case tag, got 'ana@example.org'")
"line 3: domain must be a lower-case tag, got '[EMAIL]'"
>>> redact_message("answer: 'call Maria Schmidt' is not a label of this project")
"answer: 'call [PERSON]' is not a label of this project"
>>> redact_message("no such item 17")
'no such item 17'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from loupe.privacy.redaction import WITHHELD
from loupe.privacy.scanner import Scanner

__all__ = ["redact_details", "redact_message"]

# Types that prose uses as well as input: redacted only inside a quoted value.
_PROSE_TYPES = frozenset({"PERSON", "URL", "DATE"})
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# A message is one line or a few; the scanner's own limit is far higher.
_MAX_CHARS = 20_000


@lru_cache(maxsize=1)
def _scanner() -> Scanner:
    return Scanner()


def redact_message(message: str) -> str:
    """``message`` with every identifier it holds replaced by its placeholder."""
    if not message:
        return message
    if len(message) > _MAX_CHARS:
        return WITHHELD
    scan = _scanner().scan(message)
    if scan.verdict == "withhold":
        return WITHHELD
    if not scan.spans:
        return message
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(message)]
    out = message
    for span in sorted(scan.spans, key=lambda s: s.start, reverse=True):
        inside = any(start <= span.start and span.end <= end for start, end in quoted)
        if span.type in _PROSE_TYPES and not inside:
            continue
        out = f"{out[: span.start]}[{span.type}]{out[span.end :]}"
    return out


def redact_details(value: Any) -> Any:
    """An error's ``details`` with :func:`redact_message` applied to every string in it
    (a field path may name a metadata key the caller sent)."""
    if isinstance(value, str):
        return redact_message(value)
    if isinstance(value, dict):
        return {k: redact_details(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_details(v) for v in value]
    return value
