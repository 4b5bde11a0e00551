"""Parquet both ways: the pure layout, and `loupe import/export --format parquet` round trips.

The optional `datasets` test reads an export with Hugging Face's own loader; it skips where
`datasets` is not installed (it is no test dependency: it pulls in a large stack).
"""

from __future__ import annotations

import io
import json
import math
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from tests.cli.test_startup import imported_after
from tests.cli_run import run
from tests.factories import count, hold, make_user

from loupe.db.database import Database
from loupe.errors import Conflict, InvalidInput
from loupe.formats_parquet import (
    EXTRA_MESSAGE,
    DataColumn,
    DataColumns,
    ParquetLayout,
    arrow_schema,
    export_rows,
    parquet_chunks,
    read_items,
    read_rows,
    require_pyarrow,
)
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.projects import definition

# --- the pure layout ---------------------------------------------------------------------


def test_data_columns_type_each_field_and_keep_the_text_first() -> None:
    columns = DataColumns()
    columns.add({"n": 1, "text": "a", "flag": True, "x": 1.5, "answer": "y", "mixed": 1})
    columns.add({"text": "b", "mixed": "one", "nested": {"a": [1]}, "none": None, "big": 2**70})
    found = columns.columns(text_field="text")
    assert found == (
        DataColumn("text", "text", "string"),
        DataColumn("n", "n", "int64"),
        DataColumn("flag", "flag", "bool"),
        DataColumn("x", "x", "float64"),
        # A data field named like one of Loupe's columns moves aside.
        DataColumn("answer", "data.answer", "string"),
        DataColumn("mixed", "mixed", "json"),
        DataColumn("nested", "nested", "json"),
        DataColumn("none", "none", "json"),
        DataColumn("big", "big", "json"),
    )


def test_schema_is_the_documented_one_with_the_layout_in_its_metadata() -> None:
    layout = ParquetLayout(data=(DataColumn("text", "text", "string"),), answer="json")
    schema = arrow_schema(layout)
    assert schema.names == [
        "id",
        "item_id",
        "text",
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
    ]
    assert schema.field("item_id").type == pa.int64()
    assert schema.field("withheld").type == pa.bool_()
    assert schema.field("confidence").type == pa.float64()
    assert schema.field("labels").type == pa.list_(
        pa.struct([("annotator", pa.int64()), ("answer", pa.string()), ("created_at", pa.string())])
    )
    assert schema.field("media").type == pa.list_(
        pa.struct(
            [(key, pa.string()) for key in ("field", "uri", "sha256", "mime")]
            + [("width", pa.int64()), ("height", pa.int64()), ("kind", pa.string())]
            + [("duration_ms", pa.int64()), ("sample_rate", pa.int64())]
        )
    )
    assert ParquetLayout.from_schema_metadata(schema.metadata) == layout
    assert ParquetLayout.from_schema_metadata({b"loupe": b"not json"}) is None
    assert ParquetLayout.from_schema_metadata(None) is None


def _export_row(index: int, answer: Any = "call") -> dict[str, Any]:
    """A row as the JSONL items export has it (JSON columns as JSON text)."""
    labels = [{"annotator": 7, "answer": json.dumps(answer), "created_at": "2026-01-01T00:00:00"}]
    return {
        "id": f"u{index}",
        "item_id": index + 1,
        "language": "en" if index % 2 else None,
        "domain": "general",
        "sensitivity": "internal",
        "withheld": False,
        "data": json.dumps({"text": f"utterance {index}", "n": index}),
        "metadata": json.dumps({"prediction": "call"}),
        "labels": labels,
        "distribution": {"call": 1},
        "entropy": 0.0,
        "answer": json.dumps(answer),
        "support": 1,
        "n_labels": 1,
        "confidence": 1.0,
        # An image by reference on every other row (the export's media entries).
        "media": [
            {
                "field": "image",
                "uri": f"/api/v1/media/{index:064x}",
                "sha256": f"{index:064x}",
                "mime": "image/png",
                "width": 640,
                "height": 480,
                "kind": "image",
                "duration_ms": None,
                "sample_rate": None,
            }
        ]
        if index % 2 == 0
        else [],
    }


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for field in ("data", "metadata", "answer"):
        out[field] = json.loads(row[field])
    out["labels"] = [label | {"answer": json.loads(label["answer"])} for label in row["labels"]]
    return out


def test_chunks_are_row_groups_and_read_back_as_the_export_rows() -> None:
    layout = ParquetLayout(
        data=(DataColumn("text", "text", "string"), DataColumn("n", "n", "int64"))
    )
    rows = [_export_row(i) for i in range(5)]
    chunks = list(parquet_chunks(rows, layout, row_group_rows=2))
    # Bounded memory: a chunk leaves after each full row group, the footer last.
    assert len(chunks) == 3
    assert all(chunks)
    file = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert file.metadata.num_row_groups == 3
    assert file.metadata.num_rows == 5
    assert list(export_rows(io.BytesIO(b"".join(chunks)))) == [_decoded(row) for row in rows]


def test_an_import_of_an_export_skips_withheld_items_and_loupe_columns() -> None:
    layout = ParquetLayout(
        data=(DataColumn("text", "text", "string"), DataColumn("n", "n", "int64"))
    )
    rows = [_export_row(0), _export_row(1) | {"withheld": True}, _export_row(2)]
    data = b"".join(parquet_chunks(rows, layout))
    found = list(read_rows(io.BytesIO(data), source_name="x"))
    assert found == [
        (
            "x: row 1",
            {
                "id": "u0",
                "domain": "general",
                "sensitivity": "internal",
                "text": "utterance 0",
                "n": 0,
                "metadata": {"prediction": "call"},
            },
        ),
        (
            "x: row 3",
            {
                "id": "u2",
                "domain": "general",
                "sensitivity": "internal",
                "text": "utterance 2",
                "n": 2,
                "metadata": {"prediction": "call"},
            },
        ),
    ]


def test_structured_answers_are_json_text() -> None:
    layout = ParquetLayout(data=(DataColumn("text", "text", "string"),), answer="json")
    row = _export_row(0, answer=["a", "c"]) | {"data": json.dumps({"text": "t"})}
    data = b"".join(parquet_chunks([row], layout))
    table = pq.read_table(io.BytesIO(data))
    assert table.column("answer").to_pylist() == ['["a","c"]']
    assert list(export_rows(io.BytesIO(data))) == [_decoded(row)]


def test_a_project_that_changed_mid_export_is_a_conflict() -> None:
    layout = ParquetLayout(data=(DataColumn("text", "text", "string"),))
    for row in (
        _export_row(0),  # has a data field "n" the layout does not know
        _export_row(0, answer=["a"]) | {"data": json.dumps({"text": "t"})},
    ):
        with pytest.raises(Conflict, match="run the export again"):
            b"".join(parquet_chunks([row], layout))


def _parquet(rows: list[dict[str, Any]], schema: Any = None) -> io.BytesIO:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    buffer.seek(0)
    return buffer


def test_any_parquet_file_reads_like_jsonl_rows() -> None:
    """Other tools' files: nulls are absent fields, values become JSON values."""
    source = _parquet(
        [
            {
                "id": "a",
                "text": "hello",
                "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                "day": date(2026, 1, 2),
                "price": Decimal("1.50"),
                "score": math.nan,
                "tags": ["x", "y"],
                "meta": {"k": 1},
                "metadata": '{"prediction": "call"}',
                "__index_level_0__": 0,
            },
            {"id": "b", "text": "bye", "when": None, "tags": None, "metadata": None},
        ]
    )
    rows = list(read_rows(source, source_name="f.parquet"))
    assert rows[0] == (
        "f.parquet: row 1",
        {
            "id": "a",
            "text": "hello",
            "when": "2026-01-02T03:04:00+00:00",
            "day": "2026-01-02",
            "price": "1.50",
            "tags": ["x", "y"],
            "meta": {"k": 1},
            "metadata": {"prediction": "call"},
        },
    )
    assert rows[1] == ("f.parquet: row 2", {"id": "b", "text": "bye"})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"id": "a", "text": "ok"}, {"id": "b", "text": ""}],
            "f.parquet: row 2: field 'text' must be a non-empty string",
        ),
        ([{"id": "a", "text": "ok", "blob": b"\x00"}], "row 1: column 'blob' holds bytes"),
        (
            [{"id": "a", "text": "ok", "metadata": "{not json"}],
            "row 1: column 'metadata' must hold JSON text",
        ),
        ([{"id": "a", "text": "a\x00b"}], "row 1: text: contains a NUL character"),
    ],
)
def test_bad_rows_are_named(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        list(read_items(_parquet(rows), text_field="text", source_name="f.parquet"))


def test_a_file_that_is_not_parquet_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a Parquet file"):
        list(read_rows(io.BytesIO(b'{"id": 1}\n'), source_name="x"))
    with pytest.raises(InvalidInput, match="not a Loupe Parquet export"):
        list(export_rows(_parquet([{"id": "a"}])))


def test_without_the_extra_parquet_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InvalidInput) as caught:
        require_pyarrow()
    assert caught.value.message == EXTRA_MESSAGE
    assert caught.value.details == {"field": "format", "extra": "parquet"}


def test_pyarrow_is_imported_only_on_the_parquet_path() -> None:
    for module in (
        "loupe.cli",
        "loupe.cli.data",
        "loupe.services.projects.exports",
        "loupe.web.app",
    ):
        assert "pyarrow" not in imported_after(f"import {module}"), module


# --- through the CLI and the database ------------------------------------------------------


def _create(capsys: pytest.CaptureFixture[str], url: str, name: str) -> None:
    code, out, _ = run(
        capsys, "projects", "create", name, "--labels", "call,music", "--database-url", url
    )
    assert code == 0, out


ROWS = [
    {
        "id": "1",
        "text": "call ann.lee@example.com now",
        "n": 3,
        "answer": "a data field named like a column",
        "nested": {"a": [1, 2], "b": None},
        "maybe": None,
    },
    {"id": "2", "text": "play music", "language": "en", "metadata": {"prediction": "music"}},
    {"id": 3, "text": "navigate home", "domain": "legal", "score": 0.5, "flag": True},
]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _item_fields(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "data", "metadata", "language", "domain", "sensitivity", "withheld")
    return {field: row[field] for field in keep}


def test_parquet_round_trip_through_loupe(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path, db: Database
) -> None:
    url = database_url
    _create(capsys, url, "intents")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in ROWS), encoding="utf-8")
    code, out, _ = run(capsys, "import", "intents", str(source), "--database-url", url)
    assert code == 0, out

    ann = make_user(db, "ann")
    with db.transaction() as session:
        definition.add_member(session, Actor.system(), 1, user_id=ann.id, role="annotator")
        item_id = session.execute(text("SELECT id FROM items WHERE external_id = '2'")).scalar_one()
    hold(db, ann, 1, item_id)
    with db.transaction() as session:
        submit_label(session, ann.actor, 1, item_id, "music")

    # A directory gets the Hugging Face Hub's layout; the JSONL export is the reference.
    code, out, _ = run(
        capsys, "export", "intents", "--format", "parquet", "-o", str(tmp_path / "hf"),
        "--database-url", url,
    )  # fmt: skip
    assert code == 0, out
    exported = tmp_path / "hf" / "data" / "train-00000-of-00001.parquet"
    assert exported.is_file()
    assert not list(exported.parent.glob("*.part"))
    code, _, _ = run(
        capsys, "export", "intents", "-o", str(tmp_path / "items.jsonl"), "--database-url", url
    )
    assert code == 0
    reference = _jsonl(tmp_path / "items.jsonl")

    # The Parquet export holds exactly what the JSONL export holds: same redaction.
    assert list(export_rows(str(exported))) == reference
    assert b"ann.lee@example.com" not in exported.read_bytes()
    table = pq.read_table(exported)
    by_id = {row["id"]: row for row in table.to_pylist()}
    assert by_id["2"]["answer"] == "music"
    assert [label["answer"] for label in by_id["2"]["labels"]] == ["music"]
    assert by_id["1"]["data.answer"] == "a data field named like a column"
    assert table.schema.field("n").type == pa.int64()

    # Audited like every export, with its format.
    with db.transaction(readonly=True) as session:
        details = session.execute(
            text("SELECT details FROM audit_log WHERE action = 'export.run'")
        ).scalars()
        audited = [d if isinstance(d, dict) else json.loads(d) for d in details]
    assert {"kind": "items", "format": "parquet"} in audited

    # Into a new project: the same items, by external id and fields; labels stay behind.
    _create(capsys, url, "copy")
    args = ["import", "copy", str(exported), "--database-url", url]
    code, out, _ = run(capsys, *args)
    assert code == 0, out
    assert "3 new items" in out
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "0 new items, 3 already present" in out
    code, _, _ = run(
        capsys, "export", "copy", "-o", str(tmp_path / "copy.jsonl"), "--database-url", url
    )
    assert code == 0
    copied = _jsonl(tmp_path / "copy.jsonl")
    assert [_item_fields(row) for row in copied] == [_item_fields(row) for row in reference]
    assert all(row["labels"] == [] for row in copied)

    # A single .parquet file works too, and reads the same.
    single = tmp_path / "items.parquet"
    code, out, _ = run(
        capsys, "export", "intents", "--format", "parquet", "-o", str(single), "--database-url", url
    )
    assert code == 0, out
    assert list(export_rows(str(single))) == reference


def test_cli_refuses_what_parquet_cannot_do(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path, db: Database
) -> None:
    url = database_url
    _create(capsys, url, "intents")
    code, _, err = run(capsys, "export", "intents", "--format", "parquet", "--database-url", url)
    assert code == 2
    assert "needs --output" in err
    target = str(tmp_path / "x.parquet")
    code, _, err = run(
        capsys, "export", "intents", "--kind", "labels", "--format", "parquet", "-o", target,
        "--database-url", url,
    )  # fmt: skip
    assert code == 2
    assert "Parquet export is of items" in err
    assert not Path(target).exists()
    code, _, err = run(
        capsys, "export", "nope", "--format", "parquet", "-o", target, "--database-url", url
    )
    assert code == 5, err

    # One bad row anywhere imports nothing, and the row is named.
    bad = tmp_path / "bad.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"id": str(i), "text": "ok" if i < 5 else " "} for i in range(6)]),
        bad,
    )
    code, _, err = run(capsys, "import", "intents", str(bad), "--database-url", url)
    assert code == 2
    assert "bad.parquet: row 6: field 'text' must be a non-empty string" in err
    assert count(db, "items") == 0
    fake = tmp_path / "fake.parquet"
    fake.write_text('{"id": 1, "text": "x"}\n', encoding="utf-8")
    code, _, err = run(capsys, "import", "intents", str(fake), "--database-url", url)
    assert code == 2
    assert "not a Parquet file" in err
    # --format parquet reads a file whatever its name.
    named = tmp_path / "items.bin"
    pq.write_table(pa.Table.from_pylist([{"id": "a", "text": "hello"}]), named)
    code, out, _ = run(
        capsys, "import", "intents", str(named), "--format", "parquet", "--database-url", url
    )
    assert code == 0, out
    assert count(db, "items") == 1


def test_cli_without_the_extra_exits_with_one_line(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _create(capsys, database_url, "intents")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    target = tmp_path / "x.parquet"
    code, _, err = run(
        capsys, "export", "intents", "--format", "parquet", "-o", str(target),
        "--database-url", database_url,
    )  # fmt: skip
    assert code == 2
    assert "pip install 'loupe[parquet]'" in err
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()
    target.write_bytes(b"PAR1")
    code, _, err = run(capsys, "import", "intents", str(target), "--database-url", database_url)
    assert code == 2
    assert "loupe[parquet]" in err


def test_hugging_face_datasets_loads_the_export(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    datasets = pytest.importorskip(
        "datasets", reason="Hugging Face datasets is not installed (pip install datasets)"
    )
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    _create(capsys, database_url, "intents")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in ROWS), encoding="utf-8")
    assert run(capsys, "import", "intents", str(source), "--database-url", database_url)[0] == 0
    out = tmp_path / "hf"
    code, _, _ = run(
        capsys, "export", "intents", "--format", "parquet", "-o", str(out),
        "--database-url", database_url,
    )  # fmt: skip
    assert code == 0
    files = str(out / "data" / "train-00000-of-00001.parquet")
    loaded = datasets.load_dataset(
        "parquet", data_files=files, split="train", cache_dir=str(tmp_path / "cache")
    )
    assert loaded.num_rows == 3
    assert loaded["id"] == ["1", "2", "3"]
    assert loaded[1]["text"] == "play music"
    assert loaded.features["text"].dtype == "string"
    hub = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache2"))
    assert hub["train"].num_rows == 3
