from __future__ import annotations

import json
from pathlib import Path

import pytest

from loupe.errors import InvalidInput
from loupe.simulation.datasets import load_jsonl


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_loads_rows_and_skips_blank_lines(tmp_path: Path) -> None:
    rows = [
        json.dumps({"text": "hi", "intent": "greet"}),
        "",
        json.dumps({"text": "bye", "intent": "leave"}),
    ]
    data = load_jsonl(_write(tmp_path / "d.jsonl", rows), text_field="text", label_field="intent")
    assert data.texts == ("hi", "bye")
    assert data.labels == ("greet", "leave")
    assert len(data.without(["greet"])) == 1
    assert data.only(["greet"]).texts == ("hi",)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file") as info:
        load_jsonl(tmp_path / "nope.jsonl", text_field="text", label_field="intent")
    assert info.value.details["file"].endswith("nope.jsonl")


@pytest.mark.parametrize(
    ("bad_row", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"text": "x"}), "'intent' is missing"),
        (json.dumps({"text": "", "intent": "a"}), "'text' is missing"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, bad_row: str, match: str) -> None:
    good = json.dumps({"text": "hi", "intent": "greet"})
    path = _write(tmp_path / "d.jsonl", [good, bad_row])
    with pytest.raises(InvalidInput, match=match) as info:
        load_jsonl(path, text_field="text", label_field="intent")
    assert "line 2" in info.value.message
    assert info.value.details["line"] == 2


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        load_jsonl(_write(tmp_path / "d.jsonl", [""]), text_field="text", label_field="intent")


def test_skip_empty_text(tmp_path: Path) -> None:
    rows = [json.dumps({"text": "", "intent": "a"}), json.dumps({"text": "hi", "intent": "b"})]
    path = _write(tmp_path / "d.jsonl", rows)
    with pytest.raises(InvalidInput, match="line 1"):
        load_jsonl(path, text_field="text", label_field="intent")
    data = load_jsonl(path, text_field="text", label_field="intent", skip_empty_text=True)
    assert data.texts == ("hi",)
