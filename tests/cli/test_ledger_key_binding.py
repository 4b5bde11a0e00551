"""The ledger commands that sign or pay refuse a key directory bound to another database
(#19): a checkpoint signed with another database's key would be a forgery in its log."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loupe.cli import main
from loupe.db.database import Database
from loupe.db.ledger_models import LedgerCheckpoint
from loupe.services.compliance.key_binding import bind_key_dir
from loupe.services.payments.ledger_keys import init_keys


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture
def other_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def _checkpoints(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(LedgerCheckpoint)) or 0)


@pytest.mark.parametrize(
    "argv",
    [
        ["ledger", "checkpoint"],
        ["ledger", "rotate-key"],
        ["ledger", "payouts", "create", "--currency", "EUR"],
    ],
    ids=["checkpoint", "rotate-key", "payouts"],
)
def test_a_key_dir_bound_elsewhere_is_refused_and_nothing_is_signed(
    capsys: pytest.CaptureFixture[str],
    other_db: Database,
    sqlite_template: Path,
    tmp_path: Path,
    argv: list[str],
) -> None:
    key_dir = tmp_path / "keys"
    init_keys(key_dir, origin="test.loupe/payments")
    bind_key_dir(other_db, key_dir)  # the keys belong to the other database
    path = tmp_path / "mine.db"
    shutil.copy(sqlite_template, path)  # a database of its own, not bound to any keys
    mine = Database(f"sqlite:///{path}")
    try:
        before = _checkpoints(mine)
        key_files = sorted(p.name for p in key_dir.iterdir())
        code, err = _run(
            capsys, *argv, "--database-url", f"sqlite:///{path}", "--key-dir", str(key_dir)
        )
        assert code != 0
        assert str(key_dir) in err and len(err.strip().splitlines()) == 1
        assert _checkpoints(mine) == before
        assert sorted(p.name for p in key_dir.iterdir()) == key_files  # no key rotated
    finally:
        mine.dispose()
