"""``loupe aggregate`` reads and writes plain CSV by splitting and joining: same as the csv module."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loupe.cli.aggregate import _plain_csv_columns, _read_answers, _rows, _write_csv
from loupe.errors import InvalidInput

COLUMNS = ("item", "worker", "label")


def checked(path: Path) -> list[list[str]] | str:
    """The columns as the csv.reader path reads them, or its error message."""
    try:
        rows = [values for _, values in _rows(path, COLUMNS)]
    except InvalidInput as exc:
        return exc.message
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


HEADERS = [
    "item,worker,label",
    "label, worker ,item,extra",
    "\ufeffitem,worker,label",
    "id,annotator,answer",
]
# Cells the csv module treats specially, or that the checked reader rejects or skips.
SPECIAL = ["", " ", '"', '"a,b"', "\r", 'a"b', "a,b", "a\nb"]


@st.composite
def files(draw: st.DrawFn) -> str:
    """A header and rows of plain cells, sometimes with one special cell, in some line ending."""
    header = draw(st.sampled_from(HEADERS))
    width = header.count(",") + 1
    cell = st.text(alphabet="abé=\t ", min_size=1, max_size=3)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=5))
    inject: bool = draw(st.booleans())
    if rows and inject:
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, width - 1))
        rows[row][column] = draw(st.sampled_from(SPECIAL))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = line_end.join([header, *(",".join(row) for row in rows)])
    last: bool = draw(st.booleans())
    return text + (line_end if last else "")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=files())
def test_plain_reader_agrees_with_the_csv_module(tmp_path: Path, text: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(text.encode())
    plain = _plain_csv_columns(path, COLUMNS)
    if plain is not None:  # otherwise the checked reader runs, with its own line numbers
        assert plain == checked(path)


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("item,worker,label\na, w1 ,x\nb,w2,y\n", True),
        ("item,worker,label\r\na,w1,x\r\nb,w2,y", True),
        ("\ufeffitem,worker,label,comment\na,w1,x,fine\n", True),
        ('item,worker,label\n"a,1",w1,x\nb,w2,y\n', False),  # quoted comma
        ("item,worker,label\na,w1,x\n\nb,w2,y\n", False),  # blank line: skipped by csv path
        ("item,item,worker,label\na,b,w1,x\n", False),  # duplicate column: the last one wins
        ("item,worker,label,comment\na,w1,x\n", False),  # short row: padded by the csv path
    ],
)
def test_plain_files_take_the_fast_path_and_others_do_not(
    tmp_path: Path, text: str, fast: bool
) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(text.encode())
    assert (_plain_csv_columns(path, COLUMNS) is not None) == fast
    items, workers, labels = _read_answers(path)
    assert [items, workers, labels] == checked(path)


def test_errors_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("item,worker,label\na,w1,x\nb, ,y\n", encoding="utf-8")
    assert _plain_csv_columns(path, COLUMNS) is None
    with pytest.raises(InvalidInput, match=r"answers.csv:3: empty value in column 'worker'"):
        _read_answers(path)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 4).flatmap(
        lambda n: st.lists(
            st.lists(st.text(alphabet='ab ,"\r\n\t=', max_size=3), min_size=n, max_size=n),
            min_size=3,
            max_size=3,
        )
    )
)
def test_writer_matches_csv_writer(columns: list[list[str]]) -> None:
    header = ("item", "label", "confidence")
    fast = io.StringIO()
    _write_csv(fast, header, columns)
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(header)
    writer.writerows(zip(*columns, strict=True))
    assert fast.getvalue() == expected.getvalue()
