from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cli_run import run
from tests.factories import make_project

from loupe.db.database import Database
from loupe.db.privacy_models import AuditEvent, SubjectKey
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.compliance.vault import MASTER_KEY_FILE, NEXT_KEY_FILE, load_master_key
from loupe.services.projects import items
from loupe.settings import Settings


@pytest.fixture
def key_dir(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOUPE_KEY_DIR", str(settings.resolved_key_dir()))
    return settings.resolved_key_dir()


def _seed(db: Database, settings: Settings) -> None:
    project = make_project(db)
    record = parse_item(
        {"id": "a1", "text": "mail ana@example.org", "subject_id": "ana"},
        where="t",
        text_field="text",
    )
    with gate_for(settings) as gate, db.transaction() as session:
        items.insert_items(session, Actor.system(), project, [record], gate=gate)


def _audited(db: Database, action: str) -> list[object]:
    with db.transaction(readonly=True) as session:
        return list(
            session.scalars(select(AuditEvent.details).where(AuditEvent.action == action)).all()
        )


def test_rotate_then_destroy_retired(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    key_dir: Path,
) -> None:
    _seed(db, settings)
    old_key = load_master_key(key_dir)
    code, out, err = run(capsys, "keys", "rotate", "--database-url", database_url)
    assert (code, err) == (0, "")
    assert "master key rotated: 1 subject keys re-wrapped" in out
    assert load_master_key(key_dir) != old_key
    retired = list((key_dir / "retired").iterdir())
    assert len(retired) == 1 and str(retired[0].name) in out
    assert _audited(db, "keys.master_rotated") == [{"rewrapped": 1}]

    code, out, _ = run(
        capsys, "keys", "destroy-retired", "--older-than-days", "30", "--database-url", database_url
    )
    assert code == 0 and "0 retired master keys destroyed" in out
    assert retired[0].exists()
    code, out, _ = run(
        capsys, "keys", "destroy-retired", "--older-than-days", "0", "--database-url", database_url
    )
    assert code == 0 and f"destroyed {retired[0].name}" in out
    assert not retired[0].exists()
    assert _audited(db, "keys.retired_destroyed") == [
        {"older_than_days": 30, "destroyed": []},
        {"older_than_days": 0, "destroyed": [retired[0].name]},
    ]


def test_bad_input_and_a_wrong_key_dir_change_nothing(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    key_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(db, settings)
    assert run(capsys, "keys", "rotate", "--database-url", database_url)[0] == 0
    (retired,) = (key_dir / "retired").iterdir()
    with db.transaction(readonly=True) as session:
        before = dict(session.execute(select(SubjectKey.key_id, SubjectKey.wrapped)).all())
    for argv in (
        ("keys", "destroy-retired", "--older-than-days", "-1"),
        ("keys", "destroy-retired", "--older-than-days", "soon"),
        ("keys", "destroy-retired"),
    ):
        code, _, err = run(capsys, *argv, "--database-url", database_url)
        assert code == 2, argv
        assert "Traceback" not in err
    assert retired.exists()
    # A key directory that is not the one the database is wrapped under: one line, exit 6.
    other = tmp_path / "other-keys"
    load_master_key(other, create=True)
    monkeypatch.setenv("LOUPE_KEY_DIR", str(other))
    code, out, err = run(capsys, "keys", "rotate", "--database-url", database_url)
    assert code == 6 and out == ""
    assert err.startswith("error:") and "LOUPE_KEY_DIR" in err and "Traceback" not in err
    monkeypatch.setenv("LOUPE_KEY_DIR", str(tmp_path / "missing"))
    code, _, err = run(capsys, "keys", "rotate", "--database-url", database_url)
    assert code != 0 and "does not exist" in err
    with db.transaction(readonly=True) as session:
        after = dict(session.execute(select(SubjectKey.key_id, SubjectKey.wrapped)).all())
    assert after == before
    assert not (other / NEXT_KEY_FILE).exists()
    assert (key_dir / MASTER_KEY_FILE).exists() and not (key_dir / NEXT_KEY_FILE).exists()
    assert len(_audited(db, "keys.master_rotated")) == 1
