"""``loupe subjects convert-ids`` and ``loupe init``: subject ids stored in clear by an
older Loupe become keyed refs, under this database's key directory only."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cli_run import run
from tests.factories import add_legacy_item, make_project, snapshot

from loupe.db.database import Database
from loupe.db.models import Item
from loupe.services.compliance.gate import vault_for
from loupe.services.compliance.key_binding import DATABASE_ID_FILE
from loupe.services.compliance.vault import load_ref_key, subject_ref
from loupe.settings import Settings

ANA = "ana.ruiz@example.org"


def _stored(db: Database) -> list[str | None]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(Item.subject_id).order_by(Item.id)))


def test_convert_ids_then_init_convert_what_is_in_clear(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_dir = settings.resolved_key_dir()
    monkeypatch.setenv("LOUPE_KEY_DIR", str(key_dir))
    project = make_project(db)
    add_legacy_item(db, vault_for(settings), project, "a1", ANA, "ana's words")
    url = ("--database-url", database_url)
    code, out, _ = run(capsys, "subjects", "convert-ids", *url)
    assert code == 0
    assert "1 subjects, 1 items, 1 keys renamed, 0 unused keys shredded" in out
    key = load_ref_key(key_dir)
    assert _stored(db) == [subject_ref(ANA, key=key)]
    assert run(capsys, "subjects", "convert-ids", *url)[1].strip() == (
        "no subject ids stored in clear"
    )
    # What an older Loupe wrote meanwhile: the next start's `loupe init` converts it.
    add_legacy_item(db, vault_for(settings), project, "b1", "bob", "bob's words")
    code, out, _ = run(capsys, "init", *url)
    assert code == 0 and "subject ids stored as keyed refs: 1 subjects" in out
    assert _stored(db) == [subject_ref(ANA, key=key), subject_ref("bob", key=key)]
    code, out, _ = run(capsys, "subjects", "export", ANA, *url)
    assert code == 0 and "ana's words" in out


def test_convert_ids_refuses_a_key_directory_of_another_database(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Converted under another deployment's ref key, a subject could never be found."""
    key_dir = settings.resolved_key_dir()
    monkeypatch.setenv("LOUPE_KEY_DIR", str(key_dir))
    add_legacy_item(db, vault_for(settings), make_project(db), "a1", ANA, "ana's words")
    (key_dir / DATABASE_ID_FILE).write_text(secrets.token_hex(16) + "\n")
    before = snapshot(db)
    code, out, err = run(capsys, "subjects", "convert-ids", "--database-url", database_url)
    assert code != 0 and out == ""
    assert err.startswith("error:") and "belongs to another database" in err
    assert snapshot(db) == before
    assert _stored(db) == [ANA]


@pytest.mark.parametrize("command", ["erase", "export", "import"])
def test_erase_export_and_import_refuse_a_key_directory_of_another_database(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
) -> None:
    """Under another deployment's ref key an erasure would find nothing ("nothing held")
    while the subject's items stay, and an import would seal under keys no erasure here
    finds: each is refused, one line, nothing changed."""
    key_dir = settings.resolved_key_dir()
    monkeypatch.setenv("LOUPE_KEY_DIR", str(key_dir))
    project = make_project(db)
    add_legacy_item(db, vault_for(settings), project, "a1", ANA, "ana's words")
    (key_dir / DATABASE_ID_FILE).write_text(secrets.token_hex(16) + "\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "b1", "text": "hello", "subject_id": "bob"}\n')
    args = {
        "erase": ["subjects", "erase", ANA],
        "export": ["subjects", "export", ANA],
        "import": ["import", str(project), str(rows)],
    }[command]
    before = snapshot(db)
    code, out, err = run(capsys, *args, "--database-url", database_url)
    assert code != 0 and out == ""
    assert err.startswith("error:") and "belongs to another database" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_a_subject_export_file_is_never_readable_by_others_while_it_is_written(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The export holds the subject's originals. Written into a file others could open (a
    new file under the umask, or one that was there) and only then made 0600, it could be
    read by whoever opened it meanwhile: a descriptor outlives a chmod."""
    monkeypatch.setenv("LOUPE_KEY_DIR", str(settings.resolved_key_dir()))
    add_legacy_item(db, vault_for(settings), make_project(db), "a1", ANA, "ana's words")
    target = tmp_path / "ana.json"
    target.write_text("")
    target.chmod(0o644)
    with target.open(encoding="utf-8") as watcher:  # another user's, opened beforehand
        code, out, _ = run(
            capsys, "subjects", "export", ANA, "-o", str(target), "--database-url", database_url
        )
        assert code == 0, out
        assert watcher.read() == ""
    assert "ana's words" in target.read_text(encoding="utf-8")
    assert target.stat().st_mode & 0o777 == 0o600
