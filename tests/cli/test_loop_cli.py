from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.factories import make_project
from typer.testing import CliRunner

from loupe.cli import app, main
from loupe.cli.session import console
from loupe.db.database import Database
from loupe.db.loop_models import ModelVersionRecord
from loupe.errors import Conflict
from loupe.services.access import Actor
from loupe.services.model_loop.loop_settings import loop_settings


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


def test_configure_sets_the_shadow_rule_and_refuses_bad_values(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    make_project(db, name="intents")
    runner = CliRunner()
    base = ["loop", "configure", "intents", "--database-url", database_url]
    done = runner.invoke(app, [*base, "--shadow-min-items", "50", "--shadow-max-drop", "0.05"])
    assert done.exit_code == 0, done.output
    assert "shadow_min_items=50" in done.output and "shadow_max_drop=0.05" in done.output
    kept = runner.invoke(app, [*base, "--mix", "margin=1"])  # other changes keep the rule
    assert "shadow_min_items=50" in kept.output and "shadow_max_drop=0.05" in kept.output
    for option, value in (("--shadow-min-items", "-1"), ("--shadow-max-drop", "1.5")):
        with pytest.raises(SystemExit) as refused:
            main([*base, option, value])
        assert refused.value.code == 2  # InvalidInput: 422 over HTTP
        error = capsys.readouterr().err
        assert f"{option.removeprefix('--').replace('-', '_')}: must be" in error, error
    with db.transaction(readonly=True) as session:
        current = loop_settings(session, Actor.system(), 1)
    assert (current.shadow_min_items, current.shadow_max_drop) == (50, 0.05)


def test_models_lists_the_out_of_scope_rule_of_each_version(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "_width", 200)  # one line per version: no wrapped cells
    project = make_project(db, name="intents")
    old: dict[str, Any] = {"n": 5, "accuracy": 0.8, "macro_f1": 0.75, "in_scope_accuracy": 0.8}
    old |= {"oos_recall": None, "oos_precision": None, "threshold": None}
    new = {**old, "oos_rule": "model: -max logit > -1.25"}
    row: dict[str, Any] = {"trainer": "embeddings", "training_ids": [], "n_labels": 0}
    row |= {"training_hash": "0" * 64, "gold_set": "0" * 64}
    with db.transaction() as session:
        for version, metrics in ((1, old), (2, new)):
            session.add(
                ModelVersionRecord(project_id=project, version=version, metrics=metrics, **row)
            )
    listed = CliRunner().invoke(app, ["loop", "models", "intents", "--database-url", database_url])
    assert listed.exit_code == 0, listed.output
    assert "-max logit > -1.25" in listed.output  # v2's rule
    assert "not recorded" in listed.output  # v1, stored before the rule was
