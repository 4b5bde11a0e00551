from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.formats import csv_lines, format_for, jsonl_lines, parse_item, read_items

text = st.text(min_size=1).filter(lambda s: s.strip() != "")
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@given(rows=st.lists(st.dictionaries(st.text(max_size=8), values, max_size=4), max_size=20))
def test_jsonl_lines_roundtrip(rows: list[dict[str, Any]]) -> None:
    assert [json.loads(line) for line in jsonl_lines(rows)] == rows


@given(rows=st.lists(st.tuples(st.integers(0, 10**6), text), max_size=20))
def test_csv_lines_roundtrip(rows: list[tuple[int, str]]) -> None:
    dicts = [{"id": i, "text": t} for i, t in rows]
    rendered = "".join(csv_lines(dicts, ["id", "text"]))
    parsed = list(csv.DictReader(io.StringIO(rendered, newline="")))
    assert [(int(r["id"]), r["text"]) for r in parsed] == rows


@given(body=text, external=st.one_of(st.integers(0, 10**9), text.filter(lambda s: len(s) < 200)))
def test_parse_item_keeps_data_and_ids(body: str, external: int | str) -> None:
    record = parse_item({"id": external, "text": body, "extra": 1}, where="row", text_field="text")
    assert record.external_id == str(external)
    assert record.data == {"text": body, "extra": 1}
    assert record.domain == "general"


def test_missing_id_is_a_content_hash_so_reimport_is_idempotent() -> None:
    a = parse_item({"text": "call mum"}, where="r", text_field="text")
    b = parse_item({"text": "call mum"}, where="r", text_field="text")
    c = parse_item({"text": "call dad"}, where="r", text_field="text")
    assert a.external_id == b.external_id != c.external_id
    assert a.external_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({"id": 1}, "field 'text' must be a non-empty string"),
        ({"id": 1.5, "text": "x"}, "id must be a string or an integer"),
        ({"id": "x" * 300, "text": "x"}, "longer than 255"),
        ({"text": "x", "language": "english please"}, "language must be a language tag"),
        ({"text": "x", "domain": "Medical"}, "domain must be a lower-case tag"),
        ({"text": "x", "metadata": [1]}, "metadata must be an object"),
    ],
)
def test_bad_rows_say_what_to_fix(row: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_item(row, where="line 3", text_field="text")
    assert info.value.message.startswith("line 3: ")
    assert message in info.value.message


def test_read_items_streams_csv_with_metadata() -> None:
    stream = io.StringIO('id,text,metadata,speaker\n1,hi,"{""a"": 2}",maya\n')
    [record] = list(read_items(stream, fmt="csv", text_field="text"))
    assert record.meta == {"a": 2}
    assert record.data == {"text": "hi", "speaker": "maya"}


def test_format_from_extension() -> None:
    assert format_for("x.ndjson") == "jsonl"
    assert format_for("x.CSV") == "csv"
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        format_for("x.parquet")
