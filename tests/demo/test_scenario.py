"""The demo prints each figure from one source: its terminal and its HTML report agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from loupe.cli import app
from loupe.db.database import Database
from loupe.db.models import Item


def test_the_terminal_and_the_report_print_the_same_human_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the embeddings extra the demo trains TF-IDF and says how to get embeddings.
    monkeypatch.setattr("loupe.demo.intent_model.minilm_available", lambda: False)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    report = tmp_path / "report.html"
    args = ["demo", "--database-url", url, "--rounds", "1", "--per-round", "40"]
    result = CliRunner().invoke(app, [*args, "--report", str(report), "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "traffic served by champion v1 (POST /predict)" in result.output
    assert "intent model: TF-IDF word and character n-grams + linear SVM (install " in (
        result.output
    )
    said = re.search(r"summary: ([\d,]+) human labels for €([\d,.]+)", result.output)
    printed = re.search(
        r"([\d,]+) human labels bought for\s+([\d,.]+) EUR", report.read_text(encoding="utf-8")
    )
    assert said and printed, result.output
    assert said.groups() == printed.groups()
    # Its random control is trained at the strategy's budgets, and says it is simulated.
    html = report.read_text(encoding="utf-8")
    assert 'data-kind="simulated"' in html and "got SIMULATED labels" in html
    assert "Intent model: TF-IDF word and character n-grams + linear SVM (install " in html
    rows = re.findall(
        r"<tr><td>v\d+ ★?</td><td>(\d+)</td>(?:<td>[^<]*</td>){5}<td>(\d+)</td>", html
    )
    assert rows and all(strategy == control for strategy, control in rows)
    # Gold items' ids look like any traffic id: nothing in an id says "check".
    db = Database(url)
    try:
        with db.transaction(readonly=True) as session:
            gold_ids = session.scalars(select(Item.external_id).where(Item.is_gold)).all()
    finally:
        db.dispose()
    assert gold_ids and not any("gold" in external for external in gold_ids)


@pytest.mark.slow
def test_the_round_table_reports_the_champion_that_serves(tmp_path: Path) -> None:
    """Regression: once challengers were shadowed before promotion, the demo kept scoring
    its seed model ("final model v1 at 37.3%") while Loupe served v2, v3... from the store."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--database-url", url, "--rounds", "3", "--seed", "7"]
    result = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    served = [int(v) for v in re.findall(r"traffic served by champion v(\d+)", result.output)]
    final = re.search(r"final model\s+v(\d+)", result.output)
    assert served and final, result.output
    assert max(served) > 1, result.output  # a challenger was promoted through the shadow
    assert int(final.group(1)) >= max(served)
