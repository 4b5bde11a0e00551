"""``loupe aggregate``'s pyarrow path: the same codes, output and errors as the checked readers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from loupe.aggregation.registry import AGGREGATORS
from loupe.aggregation.table import encode
from loupe.cli import aggregate
from loupe.cli.aggregate import ANSWER_COLUMNS, _arrow_columns, _read_answers, aggregate_command
from loupe.errors import InvalidInput

HEADERS = [
    "item,worker,label",
    "label, worker ,item,extra",
    "\ufeffitem,worker,label",
    "id,annotator,answer",
    "item,item,worker,label",
    "item,worker",
]
# Cells the csv module treats specially, the checked reader rejects or skips, or that pyarrow
# might convert (numbers, null markers).
SPECIAL = ["", " ", '"', '"a,b"', "\r", 'a"b', "\x00", "\xa0a", "007", "NA", "null", "1e3", "-1"]


@st.composite
def files(draw: st.DrawFn) -> bytes:
    """A header and rows of cells, sometimes a special cell, a blank line or a short or long
    row, in some line ending."""
    header = draw(st.sampled_from(HEADERS) | st.just(HEADERS[0]))  # plain headers more often
    width = header.count(",") + 1
    plain = st.text(alphabet="abé=+-@\u4e2d1", min_size=1, max_size=3)
    cell = st.one_of(plain, st.builds("{} {}".format, plain, plain))  # inner spaces stay
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=6))
    sometimes = st.integers(0, 3).map(lambda n: n == 0)  # each oddity in about 1 file of 4
    lines = [",".join(row) for row in rows]
    if draw(sometimes) and rows:
        row = draw(st.integers(0, len(rows) - 1))
        rows[row][draw(st.integers(0, width - 1))] = draw(st.sampled_from(SPECIAL))
        lines[row] = ",".join(rows[row])
    if draw(sometimes) and lines:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", " ", ",,"])))
    if draw(sometimes) and lines:  # a short or long row
        lines[-1] = draw(st.sampled_from([lines[-1] + ",x", lines[-1].rpartition(",")[0]]))
    line_end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = line_end.join([header, *lines]) + (line_end if draw(st.booleans()) else "")
    return text.encode()


def decoded(arrow: tuple[list[list[str]], list[NDArray[np.intp]]]) -> list[list[str]]:
    """The columns the arrow path's vocabularies and codes stand for."""
    return [
        [values[code] for code in column.tolist()] for values, column in zip(*arrow, strict=True)
    ]


def checked(path: Path) -> list[list[str]] | str:
    """The columns the existing readers give, or their error message."""
    try:
        return [list(column) for column in _read_answers(path)]
    except InvalidInput as exc:
        return exc.message


def output(path: Path, method: str, arrow: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``loupe aggregate`` writes (or its error message), with or without pyarrow."""
    out = path.with_name(f"out-{method}-{arrow}.csv")
    with monkeypatch.context() as patch:
        if not arrow:
            patch.setattr(aggregate, "_arrow_columns", lambda path, columns: None)
        try:
            aggregate_command(path, out, method=method, gold=None, weights=None, ties=None, seed=3)
        except InvalidInput as exc:
            return exc.message
    return out.read_text(encoding="utf-8")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=files())
def test_arrow_codes_decode_to_the_checked_columns(tmp_path: Path, data: bytes) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "answers.csv"
    path.write_bytes(data)
    try:
        arrow = _arrow_columns(path, ANSWER_COLUMNS)
    except InvalidInput as exc:  # a header without the columns: the same message
        assert exc.message == checked(path)
        return
    if arrow is None:
        return
    vocabularies, codes = arrow
    columns = checked(path)
    assert decoded(arrow) == columns
    for values, column, original in zip(vocabularies, codes, columns, strict=True):
        uniques, expected = encode(original)
        assert values == uniques.tolist()
        assert column.tolist() == expected.tolist()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=files(), method=st.sampled_from(sorted(AGGREGATORS)))
def test_the_command_writes_the_same_bytes_with_and_without_pyarrow(
    tmp_path: Path, data: bytes, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "answers.csv"
    path.write_bytes(data)
    assert output(path, method, True, monkeypatch) == output(path, method, False, monkeypatch)


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("item,worker,label\na,w1,x\nb,w2,y\n", True),
        ("\ufeffitem,worker,label\r\n007,w1,NA\r\nb,w2,null", True),  # strings stay strings
        ("item,worker,label\na,w1,x\n\nb,w2,y\n", True),  # a blank line is skipped, as by csv
        ("item,worker,label\na, w1 ,x\n", False),  # a cell to strip
        ('item,worker,label\n"a,1",w1,x\n', False),  # quotes
        ("item,worker,label\ra,w1,x\r", False),  # lone carriage returns
        ("item,worker,label,comment\na,w1,x\n", False),  # a short row: padded by csv
        ("item,worker,label\na,,x\n", False),  # an empty value: the checked reader says where
        ("item,worker,label\n", False),  # no answers
    ],
)
def test_which_files_take_the_arrow_path(tmp_path: Path, text: str, fast: bool) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "answers.csv"
    path.write_bytes(text.encode())
    arrow = _arrow_columns(path, ANSWER_COLUMNS)
    assert (arrow is not None) == fast
    if arrow is not None:
        assert decoded(arrow) == checked(path)


def test_a_missing_column_fails_with_the_same_message(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "answers.csv"
    path.write_text("item,annotator_id,label\na,w1,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        _arrow_columns(path, ANSWER_COLUMNS)
    assert raised.value.message == checked(path)


def test_without_pyarrow_the_existing_readers_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("item,worker,label\na,w1,x\na,w2,x\nb,w1,y\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    assert _arrow_columns(path, ANSWER_COLUMNS) is None
    aggregate_command(
        path, tmp_path / "out.csv", method="ds", gold=None, weights=None, ties=None, seed=0
    )
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "a,x,1.000000",
        "b,y,1.000000",
    ]
