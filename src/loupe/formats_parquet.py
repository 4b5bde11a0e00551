"""Parquet, both ways, in a layout Hugging Face ``datasets`` reads: pure conversion, no database.

pyarrow is the optional ``loupe[parquet]`` extra: it is imported here, inside the
functions that need it, never at import time; without it they raise
:class:`~loupe.errors.InvalidInput` saying which extra to install.

**Export** (:func:`parquet_chunks`) turns the rows of Loupe's JSONL ``items`` export
into one Parquet file, one row per item, written a row group at a time (at most
:data:`ROW_GROUP_ROWS` rows or about :data:`ROW_GROUP_BYTES` of item text each, so
memory stays bounded whatever the project's size). Columns, in order:

==================  ===========================================================
``id``              string: the item's external id
``item_id``         int64: Loupe's item id
data fields         one column per key of the items' data, the project's text
                    field first: string, int64, double or bool where every
                    item's value has that type, else a JSON-encoded string; a
                    key that is also one of these column names gets ``data.``
                    in front (``data.answer``)
``language``        string
``domain``          string
``sensitivity``     string
``withheld``        bool
``metadata``        string: JSON object
``answer``          string: the consensus answer (a label's key, a text) or, in
                    a project with structured answers (lists, spans), its JSON
``support``         int64
``n_labels``        int64
``confidence``      double
``entropy``         double: of the labels' answers, in bits
``distribution``    string: JSON object, answer → count
``labels``          list<struct<annotator: int64, answer: string, created_at:
                    string>>: each label, ``answer`` encoded like ``answer``
``media``           list<struct<field, uri, sha256, mime: string, width, height:
                    int64, kind: string, duration_ms, sample_rate: int64>>: the
                    item's images and recordings by reference (docs/media.md)
==================  ===========================================================

The schema's metadata holds the layout under the key ``loupe`` (:class:`ParquetLayout`),
so :func:`export_rows` gives back exactly the JSONL export's rows and an import knows
which columns are Loupe's output.

**Import** (:func:`read_items`) takes rows as JSONL does (``id``, the text field,
``language``, ``domain``, ``metadata``, ``subject_id``, ``sensitivity``, anything else
as data), numbered ``row 1``, ``row 2``, ... in errors. A file Loupe exported imports
its items (data, metadata, language, domain, sensitivity) and leaves out Loupe's own
columns (``item_id``, the consensus, ``labels``) and the items its project withheld.
In other files a null cell is an absent field, dates and times become ISO 8601 text,
decimals become text, NaN is absent, and binary columns are refused.

>>> columns = DataColumns()
>>> columns.add({"text": "hi", "n": 3, "answer": [1]})
>>> [(c.name, c.kind) for c in columns.columns(text_field="text")]
[('text', 'string'), ('n', 'int64'), ('data.answer', 'json')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import ModuleType
from typing import IO, Any, Literal

from loupe.errors import Conflict, InvalidInput
from loupe.formats import ItemRecord, parse_item

__all__ = [
    "EXTRA_MESSAGE",
    "MEDIA_TYPE",
    "ROW_GROUP_BYTES",
    "ROW_GROUP_ROWS",
    "DataColumn",
    "DataColumns",
    "ParquetLayout",
    "arrow_schema",
    "export_rows",
    "parquet_chunks",
    "parquet_row",
    "read_items",
    "read_rows",
    "require_pyarrow",
]

EXTRA_MESSAGE = "Parquet needs the loupe[parquet] extra (pyarrow): pip install 'loupe[parquet]'"
MEDIA_TYPE = "application/vnd.apache.parquet"
"""The media type IANA registered for Parquet (2024)."""
ROW_GROUP_ROWS = 10_000
ROW_GROUP_BYTES = 32 * 1024 * 1024
READ_BATCH_ROWS = 2_000
METADATA_KEY = b"loupe"
LAYOUT_FORMAT = "loupe.items"
LAYOUT_VERSION = 1

DataKind = Literal["string", "int64", "float64", "bool", "json"]
AnswerKind = Literal["string", "json"]
_DATA_KINDS: tuple[DataKind, ...] = ("string", "int64", "float64", "bool", "json")
# Loupe's columns, in order, around the data columns.
_BEFORE = ("id", "item_id")
_AFTER = (
    "language",
    "domain",
    "sensitivity",
    "withheld",
    "metadata",
    "answer",
    "support",
    "n_labels",
    "confidence",
    "entropy",
    "distribution",
    "labels",
    "media",
)
# What an import reads from a Loupe export besides the data columns.
_ITEM_FIELDS = ("id", "language", "domain", "sensitivity")
_INT64 = (-(2**63), 2**63 - 1)


def require_pyarrow() -> tuple[ModuleType, ModuleType]:
    """``(pyarrow, pyarrow.parquet)``, or :class:`InvalidInput` naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InvalidInput(EXTRA_MESSAGE, details={"field": "format", "extra": "parquet"}) from None
    return pyarrow, pyarrow.parquet


@dataclass(frozen=True, slots=True)
class DataColumn:
    """One data field's column: the data ``key``, the column ``name`` and its ``kind``."""

    key: str
    name: str
    kind: DataKind


def _kind_of(value: Any) -> DataKind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64" if _INT64[0] <= value <= _INT64[1] else "json"
    if isinstance(value, float):
        return "float64" if math.isfinite(value) else "json"
    if isinstance(value, str):
        return "string"
    # An explicit null is kept apart from an absent key: only a JSON column can tell.
    return "json"


class DataColumns:
    """The data columns of an export, learnt from every item's data (:meth:`add`)."""

    def __init__(self) -> None:
        self._kinds: dict[str, DataKind] = {}

    def add(self, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            kind = _kind_of(value)
            seen = self._kinds.setdefault(key, kind)
            if seen != kind:
                self._kinds[key] = "json"

    def columns(self, *, text_field: str) -> tuple[DataColumn, ...]:
        """The columns, the text field first, then the keys in the order first seen."""
        keys = sorted(self._kinds, key=lambda key: key != text_field)
        taken = set(_BEFORE) | set(_AFTER)
        found = []
        for key in keys:
            name = key
            while name in taken:
                name = "data." + name
            taken.add(name)
            found.append(DataColumn(key, name, self._kinds[key]))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class ParquetLayout:
    """What a Loupe Parquet export holds beyond its column names, kept in its schema."""

    data: tuple[DataColumn, ...] = ()
    answer: AnswerKind = "string"

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": LAYOUT_FORMAT,
                "version": LAYOUT_VERSION,
                "answer": self.answer,
                "data": [[c.name, c.key, c.kind] for c in self.data],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_schema_metadata(cls, metadata: Mapping[bytes, bytes] | None) -> ParquetLayout | None:
        """The layout of a Loupe export, or ``None`` for any other Parquet file."""
        raw = (metadata or {}).get(METADATA_KEY)
        if raw is None:
            return None
        try:
            found = json.loads(raw)
            if found.get("format") != LAYOUT_FORMAT or found.get("version") != LAYOUT_VERSION:
                return None
            answer = found["answer"]
            data = tuple(
                DataColumn(str(key), str(name), kind)
                for name, key, kind in found["data"]
                if kind in _DATA_KINDS
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if answer not in ("string", "json") or len(data) != len(found["data"]):
            return None
        return cls(data=data, answer=answer)


def arrow_schema(layout: ParquetLayout) -> Any:
    """The export's ``pyarrow.Schema``, the layout in its metadata."""
    pa, _ = require_pyarrow()
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "json": pa.string(),
    }
    label = pa.struct(
        [("annotator", pa.int64()), ("answer", pa.string()), ("created_at", pa.string())]
    )
    media = pa.struct(
        [
            *[(key, pa.string()) for key in ("field", "uri", "sha256", "mime")],
            ("width", pa.int64()),
            ("height", pa.int64()),
            ("kind", pa.string()),
            ("duration_ms", pa.int64()),
            ("sample_rate", pa.int64()),
        ]
    )
    fields = [
        ("id", pa.string()),
        ("item_id", pa.int64()),
        *[(column.name, types[column.kind]) for column in layout.data],
        ("language", pa.string()),
        ("domain", pa.string()),
        ("sensitivity", pa.string()),
        ("withheld", pa.bool_()),
        ("metadata", pa.string()),
        ("answer", pa.string()),
        ("support", pa.int64()),
        ("n_labels", pa.int64()),
        ("confidence", pa.float64()),
        ("entropy", pa.float64()),
        ("distribution", pa.string()),
        ("labels", pa.list_(label)),
        ("media", pa.list_(media)),
    ]
    return pa.schema(fields, metadata={METADATA_KEY: layout.to_json().encode()})


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decoded(value: Any) -> Any:
    """A value of the export row: JSON columns arrive as JSON text (RawJSON)."""
    return json.loads(value) if isinstance(value, str) else value


def _changed(what: str) -> Conflict:
    return Conflict(
        f"the project's items changed while they were exported ({what}); run the export again"
    )


def _answer_cell(value: Any, layout: ParquetLayout) -> str | None:
    answer = _decoded(value)
    if answer is None:
        return None
    if layout.answer == "json":
        return _json_text(answer)
    if not isinstance(answer, str):
        raise _changed("a structured answer appeared")
    return answer


def parquet_row(row: Mapping[str, Any], layout: ParquetLayout) -> dict[str, Any]:
    """One row of the ``items`` export (:func:`loupe.services.projects.exports.iter_export`) as
    a Parquet row of ``layout``."""
    data = _decoded(row["data"])
    known = {column.key for column in layout.data}
    if any(key not in known for key in data):
        raise _changed("a new data field appeared")
    out: dict[str, Any] = {"id": row["id"], "item_id": row["item_id"]}
    for column in layout.data:
        if column.key not in data:
            out[column.name] = None
            continue
        value = data[column.key]
        if column.kind == "json":
            out[column.name] = _json_text(value)
        elif _kind_of(value) != column.kind:
            raise _changed(f"data field {column.key!r} changed type")
        else:
            out[column.name] = value
    out |= {
        "language": row["language"],
        "domain": row["domain"],
        "sensitivity": row["sensitivity"],
        "withheld": row["withheld"],
        # JSON text already (the column read as text): passed through unparsed.
        "metadata": meta if isinstance(meta := row["metadata"], str) else _json_text(meta),
        "answer": _answer_cell(row["answer"], layout),
        "support": row["support"],
        "n_labels": row["n_labels"],
        "confidence": row["confidence"],
        "entropy": row["entropy"],
        "distribution": _json_text(row["distribution"]),
        "labels": [
            {
                "annotator": label["annotator"],
                "answer": _answer_cell(label["answer"], layout),
                "created_at": label["created_at"],
            }
            for label in row["labels"]
        ],
        "media": list(row.get("media", [])),
    }
    return out


class _Sink:
    """A write-only file that hands over what was written (:meth:`take`): the Parquet
    file leaves a row group at a time instead of piling up in memory."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts.clear()
        return chunk


def _size(row: Mapping[str, Any]) -> int:
    """Roughly the bytes a row holds: its data and metadata text (the bulk of an item)."""
    return sum(len(value) for value in (row["data"], row["metadata"]) if isinstance(value, str))


def parquet_chunks(
    rows: Iterable[Mapping[str, Any]],
    layout: ParquetLayout,
    *,
    row_group_rows: int = ROW_GROUP_ROWS,
    row_group_bytes: int = ROW_GROUP_BYTES,
) -> Iterator[bytes]:
    """The Parquet file of ``items`` export ``rows``, its bytes a row group at a time
    (the last chunk ends with the footer; concatenated, they are the file)."""
    pa, pq = require_pyarrow()
    schema = arrow_schema(layout)
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema)
    try:
        group: list[dict[str, Any]] = []
        size = 0
        for row in rows:
            group.append(parquet_row(row, layout))
            size += _size(row)
            if len(group) >= row_group_rows or size >= row_group_bytes:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                group, size = [], 0
                yield sink.take()
        if group:
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
    finally:
        writer.close()
    yield sink.take()


def _open(source: str | IO[bytes], prefix: str) -> tuple[Any, ParquetLayout | None]:
    pa, pq = require_pyarrow()
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{prefix}not a Parquet file ({exc})") from None
    return file, ParquetLayout.from_schema_metadata(file.schema_arrow.metadata)


def _records(file: Any, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    pa, _ = require_pyarrow()
    number = 0
    try:
        for batch in file.iter_batches(batch_size=READ_BATCH_ROWS):
            for record in batch.to_pylist():
                number += 1
                yield f"{prefix}row {number}", record
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(
            f"{prefix}row {number + 1}: cannot read the Parquet file ({exc})"
        ) from None


def export_rows(source: str | IO[bytes]) -> Iterator[dict[str, Any]]:
    """The JSONL ``items`` export's rows back from a Loupe Parquet export."""
    file, layout = _open(source, "")
    if layout is None:
        raise InvalidInput("not a Loupe Parquet export (no 'loupe' layout in its schema)")
    for _, record in _records(file, ""):
        data = {}
        for column in layout.data:
            value = record[column.name]
            if value is not None:
                data[column.key] = json.loads(value) if column.kind == "json" else value
        yield {
            "id": record["id"],
            "item_id": record["item_id"],
            "language": record["language"],
            "domain": record["domain"],
            "sensitivity": record["sensitivity"],
            "withheld": record["withheld"],
            "data": data,
            "metadata": json.loads(record["metadata"]),
            "labels": [
                {
                    "annotator": label["annotator"],
                    "answer": _answer_value(label["answer"], layout),
                    "created_at": label["created_at"],
                }
                for label in record["labels"]
            ],
            "distribution": json.loads(record["distribution"]),
            "entropy": record["entropy"],
            "answer": _answer_value(record["answer"], layout),
            "support": record["support"],
            "n_labels": record["n_labels"],
            "confidence": record["confidence"],
            # A file written before media existed has no such column.
            "media": record.get("media") or [],
        }


def _answer_value(cell: str | None, layout: ParquetLayout) -> Any:
    if cell is None or layout.answer == "string":
        return cell
    return json.loads(cell)


def _jsonable(value: Any, where: str, column: str) -> Any:
    """A cell of any Parquet file as a JSON value (what an item can hold)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _jsonable(child, where, column) for key, child in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(child, where, column) for child in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise InvalidInput(
        f"{where}: column {column!r} holds {type(value).__name__} values; items hold text, "
        "numbers, booleans, lists and objects",
        details={"field": column, "where": where},
    )


def _loupe_row(record: Mapping[str, Any], layout: ParquetLayout, where: str) -> dict[str, Any]:
    row = {field: record.get(field) for field in _ITEM_FIELDS if record.get(field) is not None}
    for column in layout.data:
        value = record.get(column.name)
        if value is not None:
            row[column.key] = _decode_cell(
                value, where, column.name, json_text=column.kind == "json"
            )
    if record.get("metadata") is not None:
        row["metadata"] = _decode_cell(record["metadata"], where, "metadata", json_text=True)
    return row


def _decode_cell(value: Any, where: str, column: str, *, json_text: bool) -> Any:
    if not json_text or not isinstance(value, str):
        return _jsonable(value, where, column)
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise InvalidInput(
            f"{where}: column {column!r} must hold JSON text", details={"field": column}
        ) from None


def _plain_row(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column, value in record.items():
        if column.startswith("__index_level_"):  # pandas' index, written as a column
            continue
        cell = _jsonable(value, where, column)
        if cell is not None:
            row[column] = cell
    if isinstance(row.get("metadata"), str):  # a JSON-encoded cell, as in CSV
        row["metadata"] = _decode_cell(row["metadata"], where, "metadata", json_text=True)
    return row


def read_rows(source: str | IO[bytes], *, source_name: str = "") -> Iterator[tuple[str, Any]]:
    """``(where, row)`` for each row of a Parquet file, ``where`` naming the row.

    Rows of a Loupe export that its project withheld are skipped: their data are
    ``[WITHHELD]`` placeholders, which another project would hand to annotators."""
    prefix = f"{source_name}: " if source_name else ""
    file, layout = _open(source, prefix)
    for where, record in _records(file, prefix):
        if layout is None:
            yield where, _plain_row(record, where)
        elif not record.get("withheld"):
            yield where, _loupe_row(record, layout, where)


def read_items(
    source: str | IO[bytes], *, text_field: str, source_name: str = ""
) -> Iterator[ItemRecord]:
    """Validated records, one at a time; the first bad row raises ``InvalidInput``."""
    for where, row in read_rows(source, source_name=source_name):
        yield parse_item(row, where=where, text_field=text_field)
