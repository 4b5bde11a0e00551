"""``loupe aggregate``, in-process through a tiny Typer app that registers the command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loupe.cli.aggregate import aggregate_command
from loupe.errors import InvalidInput

ANSWERS = "item,worker,label,comment\na,w1,x,\na,w2,x,ok\na,w3,y,\nb,w1,y,\nb,w2,y,\nb,w3,x,\n"


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("aggregate")(aggregate_command)

    @app.callback()
    def root() -> None:
        """Keep "aggregate" as a named sub-command."""

    return app


def run(*args: str) -> tuple[int, BaseException | None, str]:
    result = CliRunner().invoke(make_app(), ["aggregate", *args])
    return result.exit_code, result.exception, result.output


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("method", ["mv", "wmv", "ds", "ocds", "glad", "mace"])
def test_writes_one_row_per_item(tmp_path: Path, method: str) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    out = tmp_path / "out.csv"
    code, exception, _ = run(str(answers), "--method", method, "--output", str(out))
    assert exception is None
    assert code == 0
    rows = read_rows(out)
    assert [row["item"] for row in rows] == ["a", "b"]
    assert [row["label"] for row in rows] == ["x", "y"]
    assert all(0.5 <= float(row["confidence"]) <= 1.0 for row in rows)


def test_gold_and_weights(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    weights = write(tmp_path / "w.csv", "worker,weight\nw3,10\n")
    gold = write(tmp_path / "gold.csv", "item,label\na,y\n")
    out = tmp_path / "out.csv"
    run(str(answers), "--method", "wmv", "--weights", str(weights), "-o", str(out))
    assert [row["label"] for row in read_rows(out)] == ["y", "x"]
    run(str(answers), "--gold", str(gold), "-o", str(out))
    assert read_rows(out)[0] == {"item": "a", "label": "y", "confidence": "1.000000"}


def test_output_neutralises_formula_cells(tmp_path: Path) -> None:
    """Regression: item ids and labels from the input reached the output CSV as formulas."""
    answers = write(
        tmp_path / "answers.csv",
        "item,worker,label\n=HYPERLINK(1),w1,@SUM(A1)\n=HYPERLINK(1),w2,@SUM(A1)\n-7,w1,x\n",
    )
    out = tmp_path / "out.csv"
    code, exception, _ = run(str(answers), "--output", str(out))
    assert exception is None
    assert code == 0
    assert {(row["item"], row["label"]) for row in read_rows(out)} == {
        ("'=HYPERLINK(1)", "'@SUM(A1)"),
        ("-7", "x"),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        ("item,label\na,x\n", "missing column 'worker'"),
        ("item,worker,label\n", "no answers after the header"),
        ("item,worker,label\na,w1,x\na,,y\n", "answers.csv:3: empty value in column 'worker'"),
        ("item,worker,label\na,w1\n", "answers.csv:2: empty value in column 'label'"),
    ],
)
def test_malformed_answers(tmp_path: Path, content: str, message: str) -> None:
    answers = write(tmp_path / "answers.csv", content)
    _code, exception, _ = run(str(answers), "-o", str(tmp_path / "out.csv"))
    assert isinstance(exception, InvalidInput)
    assert message in exception.message
    assert "\n" not in exception.message
    assert not (tmp_path / "out.csv").exists()


def test_malformed_options_and_side_files(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    out = str(tmp_path / "out.csv")
    cases = [
        (["--method", "nope"], "unknown method 'nope'"),
        (["--method", "ds", "--weights", str(answers)], "--weights applies to --method wmv"),
        (["--gold", str(write(tmp_path / "g.csv", "item\na\n"))], "missing column 'label'"),
        (["--gold", str(write(tmp_path / "g2.csv", "item,label\na,x\na,y\n"))], "g2.csv:3"),
        (["--gold", str(tmp_path / "missing.csv")], "no such file"),
        (
            [
                "--method",
                "wmv",
                "--weights",
                str(write(tmp_path / "w.csv", "worker,weight\nw1,-2\n")),
            ],
            "w.csv:2: weight '-2'",
        ),
    ]
    for extra, message in cases:
        _, exception, _ = run(str(answers), "-o", out, *extra)
        assert isinstance(exception, InvalidInput), extra
        assert message in exception.message


def test_gold_may_introduce_a_class(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    gold = write(tmp_path / "gold.csv", "item,label\nb,z\nunknown,x\n")
    out = tmp_path / "out.csv"
    _code, exception, _ = run(str(answers), "--gold", str(gold), "-o", str(out))
    assert exception is None
    assert [row["label"] for row in read_rows(out)] == ["x", "z"]


LOUPE_LABELS_CSV = (
    "label_id,id,item_id,annotator,answer,config_version,lead_time_ms,created_at\n"
    "1,utt-1,1,2,call,1,,2026-01-01T00:00:00\n"
    "2,utt-1,1,3,call,1,,2026-01-01T00:00:01\n"
    "3,utt-2,2,2,navigate,1,,2026-01-01T00:00:02\n"
)


def test_reads_loupe_labels_export_csv_and_jsonl(tmp_path: Path) -> None:
    """Regression (#19): Loupe's own labels export failed with "missing column 'item'"."""
    answers = write(tmp_path / "labels.csv", LOUPE_LABELS_CSV)
    rows = list(csv.DictReader(io.StringIO(LOUPE_LABELS_CSV)))
    jsonl = write(
        tmp_path / "labels.jsonl",
        "".join(
            json.dumps({**row, "annotator": int(row["annotator"]), "item_id": 1}) + "\n"
            for row in rows
        ),
    )
    for source in (answers, jsonl):
        out = tmp_path / "out.csv"
        code, exception, _ = run(str(source), "--method", "mv", "-o", str(out))
        assert exception is None and code == 0, exception
        assert [(row["item"], row["label"]) for row in read_rows(out)] == [
            ("utt-1", "call"),
            ("utt-2", "navigate"),
        ]


def test_dash_writes_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (#19): ``-o -`` wrote a file named ``-``."""
    monkeypatch.chdir(tmp_path)
    answers = write(tmp_path / "answers.csv", ANSWERS)
    code, exception, output = run(str(answers), "--method", "mv", "-o", "-")
    assert exception is None and code == 0
    assert "item,label,confidence\na,x,0.666667\nb,y,0.666667\n" in output
    assert not (tmp_path / "-").exists()
