"""Reading items from JSONL/CSV and writing exports, streamed row by row.

An input row becomes an :class:`ItemRecord`. Reserved fields: ``id`` (the
external id; when absent, a hash of the row's content, so re-importing the same
file is still idempotent), ``language``, ``domain`` and ``metadata`` (an
object; in CSV a JSON-encoded cell). Every other field is the item's data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from loupe.errors import InvalidInput

__all__ = [
    "Format",
    "ItemRecord",
    "csv_lines",
    "format_for",
    "jsonl_lines",
    "parse_item",
    "read_items",
]

Format = Literal["jsonl", "csv"]
RESERVED = frozenset({"id", "language", "domain", "metadata"})
DOMAIN_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}([_\-][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class ItemRecord:
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    language: str | None
    domain: str


def format_for(path: str | Path, explicit: str | None = None) -> Format:
    """The input format from ``explicit`` or the file's extension."""
    name = (explicit or Path(path).suffix.lstrip(".")).lower()
    if name in {"jsonl", "ndjson", "json"}:
        return "jsonl"
    if name == "csv":
        return "csv"
    raise InvalidInput(
        f"{path}: cannot tell the format; use a .jsonl or .csv file or pass --format jsonl|csv",
        details={"field": "format", "allowed": ["jsonl", "csv"]},
    )


def parse_item(row: Any, *, where: str, text_field: str) -> ItemRecord:
    """Validate one decoded row; ``where`` (e.g. ``"line 7"``) prefixes every error."""
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: expected a JSON object, got {type(row).__name__}")
    text = row.get(text_field)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            f"{where}: field {text_field!r} must be a non-empty string",
            details={"field": text_field, "where": where},
        )
    raw_id = row.get("id")
    if raw_id is None or raw_id == "":
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
    domain = row.get("domain") or "general"
    if not isinstance(domain, str) or not DOMAIN_PATTERN.match(domain):
        raise InvalidInput(
            f"{where}: domain must be a lower-case tag such as 'medical', got {domain!r}",
            details={"field": "domain"},
        )
    meta = row.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: metadata must be an object", details={"field": "metadata"})
    data = {key: value for key, value in row.items() if key not in RESERVED}
    return ItemRecord(external_id, data, meta, language, domain)


def _jsonl_rows(stream: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield f"{source}line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{source}line {number}: not valid JSON ({exc.msg} at column {exc.colno})",
                details={"line": number},
            ) from None


def _csv_rows(stream: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    reader = csv.DictReader(stream)
    if not reader.fieldnames:
        raise InvalidInput(f"{source}the CSV file is empty; the first row must be a header")
    for row in reader:
        where = f"{source}line {reader.line_num}"
        if None in row:
            raise InvalidInput(f"{where}: more cells than header columns")
        record: dict[str, Any] = {key: value for key, value in row.items() if value is not None}
        if record.get("metadata"):
            try:
                record["metadata"] = json.loads(record["metadata"])
            except json.JSONDecodeError:
                raise InvalidInput(
                    f"{where}: the metadata cell must hold a JSON object",
                    details={"field": "metadata"},
                ) from None
        yield where, record


def read_items(
    stream: IO[str], *, fmt: Format, text_field: str, source: str = ""
) -> Iterator[ItemRecord]:
    """Yield validated records one at a time; the first bad row raises ``InvalidInput``."""
    prefix = f"{source}: " if source else ""
    rows = _jsonl_rows(stream, prefix) if fmt == "jsonl" else _csv_rows(stream, prefix)
    try:
        for where, row in rows:
            yield parse_item(row, where=where, text_field=text_field)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{prefix}the file is not UTF-8 text (bad byte at offset {exc.start}); "
            "re-encode it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise InvalidInput(f"{prefix}malformed CSV: {exc}") from None


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_lines(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    """CSV text, header first; nested values are JSON-encoded cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                json.dumps(value, ensure_ascii=False)
                if isinstance(value, (dict, list))
                else ("" if value is None else value)
                for value in (row.get(column) for column in columns)
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
