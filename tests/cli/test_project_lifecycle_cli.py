"""``loupe projects archive/unarchive/duplicate/delete`` and ``loupe comments``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import add_items, hold_in, make_project, make_rate_card, make_user
from typer.testing import CliRunner

from loupe.cli import app
from loupe.db.database import Database
from loupe.db.project_models import ItemComment
from loupe.errors import LoupeError
from loupe.services.labelling.labels import submit_label
from loupe.services.payments.earnings import balances
from loupe.services.payments.ledger_keys import LedgerConfig, load_keys

runner = CliRunner()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def _cli(database_url: str, key_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """The exit code ``loupe`` gives (an error's own, as ``loupe.cli.main`` maps it)."""
    result = runner.invoke(
        app,
        [*args, "--database-url", database_url],
        env={"LOUPE_KEY_DIR": str(key_dir), "COLUMNS": "200"},
        input=stdin,
    )
    if isinstance(result.exception, LoupeError):
        return result.exception.exit_code, result.exception.message
    return result.exit_code, result.output


def test_archive_list_unarchive_duplicate(database_url: str, key_dir: Path, db: Database) -> None:
    make_project(db, name="live")
    make_project(db, name="old")
    assert _cli(database_url, key_dir, "projects", "archive", "old")[0] == 0
    code, output = _cli(database_url, key_dir, "projects", "archive", "old")
    assert code == 6 and "already archived" in output
    code, output = _cli(database_url, key_dir, "projects", "list")
    assert "live" in output and "old" not in output
    code, output = _cli(database_url, key_dir, "projects", "list", "--archived")
    assert "old" in output and "live" not in output
    assert _cli(database_url, key_dir, "projects", "unarchive", "old")[0] == 0
    code, output = _cli(database_url, key_dir, "projects", "duplicate", "live", "--name", "live-2")
    assert code == 0, output
    assert "live-2" in _cli(database_url, key_dir, "projects", "list")[1]


def test_delete_keeps_the_ledger_verifiable_and_balances_unchanged(
    database_url: str, key_dir: Path, db: Database
) -> None:
    assert _cli(database_url, key_dir, "init")[0] == 0
    ledger = LedgerConfig(keys=load_keys(key_dir))
    ann = make_user(db, "ann")
    kept = make_project(db, name="kept", members={ann: "annotator"})
    gone = make_project(db, name="gone", members={ann: "annotator"})
    for project in (kept, gone):
        add_items(db, project, 2, start=10 * project)
        make_rate_card(db, project)
    with db.transaction(readonly=True) as session:
        from loupe.db.models import Item

        ids = list(session.execute(select(Item.project_id, Item.id)).all())
    for project, item in ids:
        with db.transaction() as session:
            hold_in(session, ann.id, project, item)
            submit_label(session, ann.actor, project, item, "call", ledger=ledger)
    with db.transaction(readonly=True) as session:
        owed = balances(session, ann.id, secret=ledger.keys.secret)
    # A wrong name typed at the prompt deletes nothing.
    code, output = _cli(database_url, key_dir, "projects", "delete", "gone", stdin="kept\n")
    assert code == 2 and "type the project's name" in output
    code, output = _cli(database_url, key_dir, "projects", "delete", "gone", stdin="gone\n")
    assert code == 0, output
    assert "2 payment-log entries kept" in output
    code, output = _cli(database_url, key_dir, "ledger", "verify")
    assert code == 0, output
    with db.transaction(readonly=True) as session:
        assert balances(session, ann.id, secret=ledger.keys.secret) == owed
    code, output = _cli(database_url, key_dir, "projects", "delete", "kept", "--yes")
    assert code == 0, output
    assert _cli(database_url, key_dir, "ledger", "verify")[0] == 0


def test_comments_add_and_list(database_url: str, key_dir: Path, db: Database) -> None:
    project = make_project(db)
    add_items(db, project, 1)
    code, output = _cli(
        database_url, key_dir, "comments", "add", str(project), "1", "call +44 20 7946 0958 back"
    )
    assert code == 0, output
    assert "redacted" in output
    code, output = _cli(database_url, key_dir, "comments", "list", "intents", "1")
    assert code == 0 and "call" in output and "7946" not in output
    with db.engine.connect() as connection:
        assert "7946" not in connection.execute(select(ItemComment.body)).scalar_one()
    code, output = _cli(database_url, key_dir, "comments", "add", "intents", "9", "hm")
    assert code == 5
