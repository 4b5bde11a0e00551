"""Reading items from JSONL (or one JSON array) and CSV, and writing exports, streamed row by row.

An input row becomes an :class:`ItemRecord`. Reserved fields: ``id`` (the
external id; when absent, a hash of the row's content, so re-importing the same
file is still idempotent), ``language``, ``domain`` and ``metadata`` (an
object; in CSV a JSON-encoded cell), ``subject_id`` (the data subject the row is
about, for erasure; at most 255 characters) and ``sensitivity`` (``public``,
``internal``, ``personal`` or ``health``: a floor; the privacy gate may raise it).
Every other field is the item's data.

A ``domain`` is a category name shown to everyone who works on its items, so it is
refused (:func:`domain_identifiers`), never redacted, when the privacy gate's detectors
find an identifier in it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from loupe.errors import InvalidInput

__all__ = [
    "MAX_DEPTH",
    "SENSITIVITIES",
    "Format",
    "ItemRecord",
    "MediaSource",
    "RawJSON",
    "Sensitivity",
    "csv_cell",
    "csv_lines",
    "decode_json",
    "domain_identifiers",
    "domain_identifiers_message",
    "format_for",
    "jsonl_lines",
    "language_identifiers",
    "parse_item",
    "read_items",
    "unstorable_message",
    "unstorable_text",
]

Format = Literal["jsonl", "csv"]
Sensitivity = Literal["public", "internal", "personal", "health"]
# In increasing order: a clearance for one class covers those before it.
SENSITIVITIES: tuple[Sensitivity, ...] = ("public", "internal", "personal", "health")
RESERVED = frozenset({"id", "language", "domain", "metadata", "subject_id", "sensitivity"})
DEFAULT_DOMAIN = "general"
# Two-letter language codes need no scan (no detector finds anything in "en" or "de").
_PLAIN_LANGUAGES = frozenset(["en", "de", "fr", "es", "it", "pt", "nl", "zh", "ja", "ko"])
DOMAIN_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}([_\-][A-Za-z0-9]{2,8})*$")
# The byte order mark some editors and spreadsheets put first in a UTF-8 file.
BOM = "\ufeff"
# Text no database here can store: PostgreSQL refuses NUL in text, and a lone
# (unpaired) surrogate cannot be encoded as UTF-8 for either database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = frozenset("=+-@\t\r")
# ... unless the whole cell is a plain number, which a spreadsheet reads as a number.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Objects and arrays nest at most this deep in a request body or an imported row (the
# body or row itself is level 1): far beyond any real item, and far below what the code
# that walks them recursively (the privacy gate, validation, serialisation) can take.
MAX_DEPTH = 64


def domain_identifiers(domain: str) -> tuple[str, ...]:
    """The identifier types the privacy gate's detectors find in the domain tag ``domain``
    (:func:`loupe.privacy.tags.identifiers_in_tag`); ``()`` for a category name.

    Checked whether or not a project's gate is on: a domain is a category, never data.
    """
    if domain == DEFAULT_DOMAIN:
        return ()
    # The detectors load on first use: reading or writing a file needs none of them.
    from loupe.privacy.tags import identifiers_in_tag

    return identifiers_in_tag(domain)


def language_identifiers(language: str) -> tuple[str, ...]:
    """The identifier types the detectors find in the language tag ``language``
    (:func:`loupe.privacy.tags.identifiers_in_language_tag`): everyone on the item sees
    it, like a domain, and its pattern lets "ana-ruiz" or "tel-020-7946-0958" through."""
    if language in _PLAIN_LANGUAGES:
        return ()
    from loupe.privacy.tags import identifiers_in_language_tag

    return identifiers_in_language_tag(language)


def domain_identifiers_message(found: Iterable[str], *, example: str = "medical") -> str:
    """What to fix about a tag (a domain, a language) in which the detectors found
    ``found`` (the value itself is not repeated: it holds personal data)."""
    return (
        f"holds what looks like personal data ({', '.join(found)}), not a category; "
        f"use a tag such as {example!r}"
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; write null or a string instead")


# Strict JSON: NaN and Infinity are Python's extension, which no JSON reader of an export
# (a browser, jq, another language) accepts. (A float that overflows, 1e999, is caught
# with the row's nesting by unstorable_text, keeping the decoder's fast path for numbers.)
_decoder = json.JSONDecoder(parse_constant=_no_constant)


def _decode_problem(exc: ValueError | RecursionError) -> str:
    """What is wrong with JSON text, from the error decoding it raised."""
    if isinstance(exc, RecursionError):
        return f"nested more than {MAX_DEPTH} levels deep"
    if isinstance(exc, json.JSONDecodeError):
        # Some messages end in "at" ("Unterminated string starting at"): say where once.
        return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
    if "integer string conversion" in str(exc):  # more digits than Python converts
        return "an integer too long to read; write it as a string"
    return str(exc)  # NaN or Infinity


def decode_json(text: str) -> Any:
    """``text`` as strict JSON (after any byte order mark); raises ``ValueError`` saying what
    is wrong (bad syntax with its column, NaN or Infinity, an integer too long to read,
    nesting too deep).

    >>> decode_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> decode_json('{"a": NaN}')
    Traceback (most recent call last):
    ...
    ValueError: NaN is not a JSON number; write null or a string instead
    """
    try:
        return _decoder.decode(text.removeprefix(BOM))
    except (ValueError, RecursionError) as exc:
        raise ValueError(_decode_problem(exc)) from None


@dataclass(frozen=True, slots=True)
class MediaSource:
    """A media file an import row names under a media ``field`` (see
    :meth:`loupe.label_schema.LabelSchema.media_fields`): a path or ``s3://`` URI for the
    CLI, an uploaded file's name for the API. ``where`` (``"line 3"``) names the row."""

    field: str
    name: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class ItemRecord:
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    language: str | None
    domain: str
    subject_id: str | None = None
    sensitivity: Sensitivity | None = None
    # The lowest expertise level in ``domain`` a contributor needs (metadata ``min_level``).
    min_level: int = 0
    # Media files the row names (taken out of ``data``, which keeps text only).
    media: tuple[MediaSource, ...] = ()
    # The row came without an id: ``external_id`` is ``sha256:`` and a hash of its content,
    # which a privacy gate replaces by a keyed one (anyone could hash guesses of the row).
    derived_id: bool = False


def format_for(path: str | Path, explicit: str | None = None) -> Format:
    """The input format from ``explicit`` or the file's extension."""
    name = (explicit or Path(path).suffix.lstrip(".")).lower()
    if name in {"jsonl", "ndjson", "json"}:
        return "jsonl"
    if name == "csv":
        return "csv"
    raise InvalidInput(
        f"{path}: cannot tell the format; use a .jsonl, .json or .csv file or pass "
        "--format jsonl|csv",
        details={"field": "format", "allowed": ["jsonl", "csv"]},
    )


def _unstorable_problem(text: str) -> str | None:
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character (U+0000)"
    return f"contains an unpaired surrogate (U+{ord(char):04X})"


_TEXT_ADVICE = (
    "remove it (text must be valid Unicode without NUL characters or unpaired surrogates)"
)


def unstorable_text(value: Any, field: str = "") -> tuple[str, str] | None:
    """The first value in ``value`` (object keys included) that no database can store.

    That is text with a NUL or an unpaired surrogate, a number that is not finite (JSON
    has no NaN or Infinity: PostgreSQL refuses them, and SQLite would keep text no JSON
    reader accepts), or an object or array nested more than :data:`MAX_DEPTH` levels
    deep (``value`` itself is level 1). Returns ``(field, problem)`` with ``field`` a
    dotted path (``"items.0.text"``) and ``problem`` saying what is wrong and what to do,
    or ``None`` when all of it is storable. The walk is iterative: no depth breaks it.

    >>> unstorable_text({"items": [{"text": "a\\x00b"}]})[0]
    'items.0.text'
    >>> unstorable_text({"text": "fine", "score": 0.5}) is None
    True
    """
    stack: list[tuple[Any, str, int]] = [(value, field, 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            problem = _unstorable_problem(node)
            if problem is not None:
                return (path or "body", f"{problem}; {_TEXT_ADVICE}")
        elif isinstance(node, float):
            if not math.isfinite(node):
                return (
                    path or "body",
                    f"is not a finite number ({node!r}); JSON has no NaN or Infinity, "
                    "send a finite number or null",
                )
        elif isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                return (
                    path or "body",
                    f"is nested more than {MAX_DEPTH} levels deep; send a flatter value",
                )
            children: list[tuple[Any, str, int]] = []
            if isinstance(node, dict):
                for key, child in node.items():
                    name = str(key)
                    problem = _unstorable_problem(name)
                    if problem is not None:
                        return (path or "body", f"has a key that {problem}; {_TEXT_ADVICE}")
                    children.append((child, f"{path}.{name}" if path else name, depth + 1))
            else:
                for index, child in enumerate(node):
                    children.append((child, f"{path}.{index}" if path else str(index), depth + 1))
            stack.extend(reversed(children))  # the first problem in document order
    return None


def unstorable_message(field: str, problem: str) -> str:
    """The one wording for :func:`unstorable_text`'s finding: what is wrong and what to do."""
    return f"{field}: {problem}"


def _media_of(row: dict[str, Any], fields: Iterable[str], where: str) -> tuple[MediaSource, ...]:
    """The media files ``row`` names under ``fields`` (absent or empty: none)."""
    found: list[MediaSource] = []
    for name in fields:
        value = row.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(
                f"{where}: field {name!r} must name a media file (a string), "
                f"got {type(value).__name__}",
                details={"field": name, "where": where},
            )
        found.append(MediaSource(name, value.strip(), where))
    return tuple(found)


def parse_item(
    row: Any, *, where: str, text_field: str, media_fields: Iterable[str] = ()
) -> ItemRecord:
    """Validate one decoded row; ``where`` (e.g. ``"line 7"``) prefixes every error.

    ``media_fields`` (the schema's :meth:`~loupe.label_schema.LabelSchema.media_fields`)
    name files: they go to :attr:`ItemRecord.media`, not ``data``, and a row with media
    may leave ``text_field`` out (an image alone is an item).
    """
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: expected a JSON object, got {type(row).__name__}")
    bad = unstorable_text(row)
    if bad is not None:
        raise InvalidInput(
            f"{where}: {unstorable_message(*bad)}", details={"field": bad[0], "where": where}
        )
    media_names = [name for name in media_fields if name not in RESERVED]
    media = _media_of(row, media_names, where)
    text = row.get(text_field)
    if media and text_field not in media_names and (text is None or text == ""):
        pass  # an image alone is a valid item
    elif not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            f"{where}: field {text_field!r} must be a non-empty string",
            details={"field": text_field, "where": where},
        )
    raw_id = row.get("id")
    derived = raw_id is None or raw_id == ""
    if derived:
        canonical = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        external_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
        external_id = str(raw_id)
        if len(external_id) > 255:
            raise InvalidInput(
                f"{where}: id is longer than 255 characters", details={"field": "id"}
            )
    else:
        raise InvalidInput(f"{where}: id must be a string or an integer", details={"field": "id"})
    language = row.get("language") or None
    if language is not None and (
        not isinstance(language, str) or not LANGUAGE_PATTERN.match(language)
    ):
        raise InvalidInput(
            f"{where}: language must be a language tag such as 'en' or 'pt-BR', got {language!r}",
            details={"field": "language"},
        )
    if language is not None and (found := language_identifiers(language)):
        raise InvalidInput(
            f"{where}: language {domain_identifiers_message(found, example='pt-BR')}",
            details={"field": "language", "where": where, "detected": list(found)},
        )
    domain = row.get("domain") or DEFAULT_DOMAIN
    if not isinstance(domain, str) or not DOMAIN_PATTERN.match(domain):
        raise InvalidInput(
            f"{where}: domain must be a lower-case tag such as 'medical', got {domain!r}",
            details={"field": "domain"},
        )
    if found := domain_identifiers(domain):
        raise InvalidInput(
            f"{where}: domain {domain_identifiers_message(found)}",
            details={"field": "domain", "where": where, "detected": list(found)},
        )
    meta = row.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: metadata must be an object", details={"field": "metadata"})
    subject = row.get("subject_id")
    if subject is not None and subject != "":
        if isinstance(subject, int) and not isinstance(subject, bool):
            subject = str(subject)
        if not isinstance(subject, str) or len(subject) > 255 or not subject.strip():
            raise InvalidInput(
                f"{where}: subject_id must be a non-empty string of at most 255 characters",
                details={"field": "subject_id"},
            )
    else:
        subject = None
    sensitivity = row.get("sensitivity") or None
    if sensitivity is not None and sensitivity not in SENSITIVITIES:
        raise InvalidInput(
            f"{where}: sensitivity must be one of {', '.join(SENSITIVITIES)}, got {sensitivity!r}",
            details={"field": "sensitivity", "allowed": list(SENSITIVITIES)},
        )
    min_level = meta.get("min_level", 0)
    if isinstance(min_level, str) and min_level.isdigit():
        min_level = int(min_level)
    if isinstance(min_level, bool) or not isinstance(min_level, int) or not 0 <= min_level <= 3:
        raise InvalidInput(
            f"{where}: metadata.min_level must be an expertise level 0-3, got {min_level!r}",
            details={"field": "metadata.min_level"},
        )
    skip = RESERVED.union(media_names)
    data = {key: value for key, value in row.items() if key not in skip}
    return ItemRecord(
        external_id,
        data,
        meta,
        language,
        domain,
        subject,
        sensitivity,
        min_level,
        media,
        derived_id=derived,
    )


def _jsonl_rows(stream: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    """Rows of a JSON Lines file, or of one JSON array when the text starts with ``[``."""
    skipped = ""
    # A byte order mark (U+FEFF) that some editors put first is not part of the text.
    while (char := stream.read(1)) and (char.isspace() or (char == BOM and not skipped)):
        skipped += char.replace(BOM, "")
    if char == "[":
        yield from _json_array_rows(stream, source)
        return
    first = skipped.count("\n") + 1
    lines = itertools.chain([char + stream.readline()] if char else [], stream)
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        try:
            row = _decoder.decode(line)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(
                f"{source}line {number}: not valid JSON ({_decode_problem(exc)})",
                details={"line": number},
            ) from None
        yield f"{source}line {number}", row


ARRAY_CHUNK = 1 << 20


def _json_array_rows(stream: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    """The elements of a JSON array (its ``[`` already read), decoded one at a time so
    that a large upload never sits in memory as one parsed document."""
    buffer, pos, eof = "", 0, False
    index, want_value = 0, True

    def more() -> None:
        nonlocal buffer, pos, eof
        chunk = stream.read(ARRAY_CHUNK)
        buffer, pos, eof = buffer[pos:] + chunk, 0, not chunk

    while True:
        while True:  # skip whitespace, reading on as needed
            while pos < len(buffer) and buffer[pos].isspace():
                pos += 1
            if pos < len(buffer) or eof:
                break
            more()
        if pos >= len(buffer):
            raise InvalidInput(
                f"{source}the JSON array is not closed (no ']' after index {index - 1})",
                details={"index": index},
            )
        char = buffer[pos]
        if char == "]" and (index == 0 or not want_value):
            rest = buffer[pos + 1 :] + stream.read()
            if rest.strip():
                raise InvalidInput(f"{source}text after the JSON array's closing ']'")
            return
        if not want_value:
            if char != ",":
                raise InvalidInput(
                    f"{source}index {index}: expected ',' or ']' after the previous element",
                    details={"index": index},
                )
            pos, want_value = pos + 1, True
            continue
        while True:
            try:
                value, end = _decoder.raw_decode(buffer, pos)
            except (ValueError, RecursionError) as exc:
                if isinstance(exc, json.JSONDecodeError) and not eof:
                    more()  # the element may go on in the next chunk
                    continue
                problem = _decode_problem(exc)
                if isinstance(exc, json.JSONDecodeError):
                    problem = exc.msg.removesuffix(" at")  # a column in one long line says little
                raise InvalidInput(
                    f"{source}index {index}: not valid JSON ({problem})",
                    details={"index": index},
                ) from None
            if end < len(buffer) or eof:  # a number at the buffer's end may go on
                break
            more()
        yield f"{source}index {index}", value
        pos, index, want_value = end, index + 1, False


def _csv_rows(stream: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    reader = csv.DictReader(stream)
    if not reader.fieldnames:
        raise InvalidInput(f"{source}the CSV file is empty; the first row must be a header")
    # A spreadsheet's "CSV UTF-8" starts with a byte order mark, which is not the first
    # column's name (else the "id" column would be read as data and the id made up).
    header = [reader.fieldnames[0].removeprefix(BOM), *reader.fieldnames[1:]]
    repeated = sorted(name for name, n in Counter(header).items() if n > 1)
    if repeated:
        raise InvalidInput(
            f"{source}the CSV header repeats the column {repeated[0]!r}: each column needs "
            "its own name (else one cell of each row would be dropped)",
            details={"field": repeated[0]},
        )
    reader.fieldnames = header
    for row in reader:
        where = f"{source}line {reader.line_num}"
        if None in row:
            raise InvalidInput(f"{where}: more cells than header columns")
        record: dict[str, Any] = {key: value for key, value in row.items() if value is not None}
        if record.get("metadata"):
            try:
                record["metadata"] = json.loads(record["metadata"])
            except (ValueError, RecursionError):
                raise InvalidInput(
                    f"{where}: the metadata cell must hold a JSON object",
                    details={"field": "metadata"},
                ) from None
        yield where, record


def read_items(
    stream: IO[str],
    *,
    fmt: Format,
    text_field: str,
    source: str = "",
    media_fields: Iterable[str] = (),
) -> Iterator[ItemRecord]:
    """Yield validated records one at a time; the first bad row raises ``InvalidInput``."""
    prefix = f"{source}: " if source else ""
    rows = _jsonl_rows(stream, prefix) if fmt == "jsonl" else _csv_rows(stream, prefix)
    media = tuple(media_fields)
    try:
        for where, row in rows:
            yield parse_item(row, where=where, text_field=text_field, media_fields=media)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{prefix}the file is not UTF-8 text (bad byte at offset {exc.start}); "
            "re-encode it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise InvalidInput(f"{prefix}malformed CSV: {exc}") from None


class RawJSON(str):
    """Text that is already JSON (e.g. a JSON column read as text): written into an
    export as is, instead of being parsed and encoded again."""

    __slots__ = ()


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string: Any = json.encoder.encode_basestring  # the C-accelerated encoder


def _json(value: Any) -> str:
    """JSON text for ``value``, splicing :class:`RawJSON` in unparsed (the export hot path)."""
    kind = type(value)
    if kind is RawJSON:
        return value  # type: ignore[no-any-return]
    if kind is str:
        return _string(value)  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float and math.isfinite(value):
        return repr(value)  # what json.dumps writes for a finite float
    if kind is dict:
        return "{" + ",".join(f"{_string(str(k))}:{_json(v)}" for k, v in value.items()) + "}"
    if kind is list:
        return "[" + ",".join(_json(v) for v in value) + "]"
    return _encode(value)


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield _json(row) + "\n"


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as typed instead of running it.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading ``'`` (the OWASP defence against CSV formula injection), unless the
    whole cell is a plain number such as ``-3.5``, which stays a number. Nested
    values become JSON text (which starts with ``{`` or ``[``); a string is plain
    text whether it arrives as ``str`` or as :class:`RawJSON` (one convention for
    every CSV export: an answer ``call`` is the cell ``call``, never ``"call"``).

    >>> [csv_cell(v) for v in ["=1+1", "-3.5", -3.5, "@SUM(A1)", None, {"a": 1}]]
    ["'=1+1", '-3.5', -3.5, "'@SUM(A1)", '', '{"a":1}']
    >>> [csv_cell(RawJSON(v)) for v in ['"call"', '["a","b"]', '"=1+1"']]
    ['call', '["a","b"]', "'=1+1"]
    """
    kind = type(value)
    if kind is RawJSON:
        if value[:1] == '"':  # a JSON string is written as plain text, like any other string
            return csv_cell(json.loads(value))
        if value[:1] in ("{", "["):
            return value
    if kind is str or kind is RawJSON:
        if value[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return _json(value)
    if isinstance(value, str):  # a str subclass other than RawJSON
        return csv_cell(str(value))
    return value


def csv_lines(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    """CSV text, header first; nested values are JSON-encoded cells, and text a
    spreadsheet would run as a formula is neutralised (:func:`csv_cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF, and any CR or LF in a cell is quoted
    writer.writerow([csv_cell(column) for column in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
