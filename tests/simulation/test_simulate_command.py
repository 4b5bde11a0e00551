from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loupe.cli.simulate import parse_accuracy_range, parse_mix, simulate_command
from loupe.errors import InvalidInput

from .test_replay import TEST, TRAIN


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("simulate")(simulate_command)

    @app.command("version")
    def version() -> None:  # a second command, so "simulate" is a real subcommand
        typer.echo("0")

    return app


def _jsonl(path: Path, texts: tuple[str, ...], labels: tuple[str, ...]) -> Path:
    rows = [json.dumps({"text": t, "intent": y}) for t, y in zip(texts, labels, strict=True)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_simulate_writes_curve(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", TRAIN.texts, TRAIN.labels)
    test = _jsonl(tmp_path / "test.jsonl", TEST.texts, TEST.labels)
    out = tmp_path / "curve.json"
    args = ["simulate", "--train", str(train), "--test", str(test), "--label-field", "intent"]
    args += ["--strategy", "margin", "--batch", "10", "--budget", "30", "--annotators", "3"]
    args += ["--annotator-accuracy", "0.6:0.95", "--output", str(out), "--seed", "0"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "simulated annotators" in result.output
    curve = json.loads(out.read_text())
    assert curve["meta"]["annotators"]["simulated"] is True
    assert [r["labels_used"] for r in curve["rounds"]] == [4, 14, 24, 30]
    assert {"accuracy", "macro_f1", "in_scope_accuracy"} <= set(curve["rounds"][0])


def test_missing_field_names_file_and_line(tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", TRAIN.texts, TRAIN.labels)
    args = ["simulate", "--train", str(train), "--test", str(train), "--label-field", "label"]
    result = CliRunner().invoke(_app(), args)
    assert isinstance(result.exception, InvalidInput)
    assert "train.jsonl, line 1" in result.exception.message
    assert "'label'" in result.exception.message


def test_missing_file(tmp_path: Path) -> None:
    args = ["simulate", "--train", str(tmp_path / "x.jsonl"), "--test", str(tmp_path / "y.jsonl")]
    result = CliRunner().invoke(_app(), args)
    assert isinstance(result.exception, InvalidInput)
    assert "x.jsonl" in result.exception.message


def test_option_parsers() -> None:
    assert parse_mix("margin") == {"margin": 1.0}
    assert parse_mix("margin=0.8, novelty=0.2") == {"margin": 0.8, "novelty": 0.2}
    assert parse_accuracy_range("0.6:0.95") == (0.6, 0.95)
    assert parse_accuracy_range("0.9") == (0.9, 0.9)
    for bad in ("0.9:0.6", "x:1", "1.2"):
        with pytest.raises(InvalidInput):
            parse_accuracy_range(bad)
    with pytest.raises(InvalidInput):
        parse_mix("margin=high")
    with pytest.raises(InvalidInput):
        parse_mix(" , ")


@pytest.mark.parametrize("option", [["--aggregation", "mean"], ["--diversity-method", "x"]])
def test_bad_choices(tmp_path: Path, option: list[str]) -> None:
    train = _jsonl(tmp_path / "train.jsonl", TRAIN.texts, TRAIN.labels)
    args = ["simulate", "--train", str(train), "--test", str(train), *option]
    result = CliRunner().invoke(_app(), args)
    assert isinstance(result.exception, InvalidInput)
