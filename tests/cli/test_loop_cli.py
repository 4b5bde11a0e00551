from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loupe.cli import app
from loupe.errors import Conflict


@pytest.mark.slow
def test_demo_runs_end_to_end_and_leaves_a_servable_database(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    report = tmp_path / "report.html"
    args = ["demo", "--database-url", url, "--rounds", "2", "--per-round", "60"]
    result = runner.invoke(app, [*args, "--report", str(report), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "ledger verified" in result.output and "SIMULATED" in result.output
    assert "privacy gate" in result.output and "[CREDIT_CARD]" in result.output
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "random control" in html and "<script" not in html
    assert "demo-annotator" in result.output

    again = runner.invoke(app, args)  # refuses to clobber without --force
    assert isinstance(again.exception, Conflict)

    out = tmp_path / "loop.html"
    made = runner.invoke(
        app, ["loop", "report", "wearable-assistant", "-o", str(out), "--database-url", url]
    )
    assert made.exit_code == 0, made.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    retrained = runner.invoke(app, ["loop", "retrain", "wearable-assistant", "--database-url", url])
    assert retrained.exit_code == 0, retrained.output
    assert "model v" in retrained.output
    listed = runner.invoke(app, ["loop", "models", "wearable-assistant", "--database-url", url])
    assert listed.exit_code == 0 and "promoted" in listed.output
    configured = runner.invoke(
        app,
        ["loop", "configure", "wearable-assistant", "--mix", "margin=1", "--database-url", url],
    )
    assert configured.exit_code == 0 and "margin" in configured.output


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        args = ["demo", "--database-url", url, "--rounds", "1", "--per-round", "40"]
        result = runner.invoke(app, [*args, "--report", str(tmp_path / f"{name}.html")])
        assert result.exit_code == 0, result.output
        table = [line for line in result.output.splitlines() if "│" in line]
        outputs.append(table)
    assert outputs[0] == outputs[1] and outputs[0]
