from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_run import run
from tests.factories import count

from loupe.db.database import Database


@pytest.fixture
def url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # As SQLite's default (tmp/loupe.db): PostgreSQL's ./loupe-keys would be bound to the
    # first test database and refuse the next (keys belong to one database).
    monkeypatch.setenv("LOUPE_KEY_DIR", str(tmp_path / "loupe-keys"))
    return database_url


def test_init_creates_an_admin_once(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(capsys, "init", "--database-url", url)
    assert code == 0
    assert "admin user 'admin' created" in out
    assert out.strip().splitlines()[-1].startswith("lp_")
    code, out, _ = run(capsys, "init", "--database-url", url)
    assert code == 0
    assert "no new admin" in out


def test_import_export_roundtrip(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path, db: Database
) -> None:
    assert (
        run(
            capsys, "projects", "create", "intents", "--labels", "call,music", "--database-url", url
        )[0]
        == 0
    )
    source = tmp_path / "items.jsonl"
    source.write_text(
        "\n".join(
            json.dumps({"id": f"i{i}", "text": f"call {i}", "domain": "general"}) for i in range(50)
        )
    )
    code, out, _ = run(capsys, "import", "intents", str(source), "--database-url", url)
    assert code == 0, out
    assert "50 new items" in out
    code, out, _ = run(capsys, "import", "intents", str(source), "--database-url", url)
    assert "0 new items, 50 already present" in out
    assert count(db, "items") == 50
    target = tmp_path / "out.csv"
    code, _, _ = run(
        capsys,
        "export",
        "intents",
        "--format",
        "csv",
        "--output",
        str(target),
        "--database-url",
        url,
    )
    assert code == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,item_id,language,domain,data")
    assert len(lines) == 51


def test_bad_file_is_one_line_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path, db: Database
) -> None:
    run(capsys, "projects", "create", "intents", "--labels", "call,music", "--database-url", url)
    source = tmp_path / "items.jsonl"
    rows = [json.dumps({"id": i, "text": "ok"}) for i in range(10)] + ['{"id": 10}']
    source.write_text("\n".join(rows))
    code, _, err = run(capsys, "import", "intents", str(source), "--database-url", url)
    assert code == 2
    assert "line 11: field 'text' must be a non-empty string" in err
    assert "Traceback" not in err
    assert count(db, "items") == 0


@pytest.mark.parametrize(
    ("argv", "exit_code", "message"),
    [
        (["import", "nope", "x.jsonl"], 2, "x.jsonl: no such file"),
        (
            ["projects", "add-member", "nope", "x", "--role", "annotator"],
            5,
            "no project with id or name 'nope'",
        ),
        (["projects", "create", "p"], 2, "give either --labels"),
        (["projects", "create", "p", "--labels", "a"], 2, "config.task"),
        (["users", "create", "bob", "--role", "king"], 2, "role: 'king' is not a role"),
        (["export", "1", "--kind", "nope"], 5, "no project"),
    ],
)
def test_errors_exit_non_zero_with_one_line(
    capsys: pytest.CaptureFixture[str], url: str, argv: list[str], exit_code: int, message: str
) -> None:
    code, _, err = run(capsys, *argv, "--database-url", url)
    assert code == exit_code
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_users_and_members(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(
        capsys, "users", "create", "maya", "--role", "annotator", "--database-url", url
    )
    assert code == 0 and out.strip().splitlines()[-1].startswith("lp_")
    run(capsys, "projects", "create", "p", "--labels", "a,b", "--database-url", url)
    code, out, _ = run(
        capsys, "projects", "add-member", "p", "maya", "--role", "annotator", "--database-url", url
    )
    assert code == 0 and "maya is now annotator" in out
    code, out, _ = run(capsys, "users", "list", "--database-url", url)
    assert "maya" in out
    code, _, err = run(
        capsys, "users", "create", "maya", "--role", "annotator", "--database-url", url
    )
    assert code == 6 and "already exists" in err


def test_import_gates_outside_the_writer_and_commits_each_batch(
    capsys: pytest.CaptureFixture[str],
    url: str,
    tmp_path: Path,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.services.import_probe import ProbeGate

    run(capsys, "projects", "create", "intents", "--labels", "call,music", "--database-url", url)
    gate = ProbeGate(db)
    monkeypatch.setattr("loupe.cli.data.gate_for", lambda *_a, **_k: gate)
    monkeypatch.setattr("loupe.services.projects.imports.BATCH_SIZE", 2)
    monkeypatch.setattr("loupe.services.projects.imports.GATE_CHUNK", 2)
    source = tmp_path / "items.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "text": f"call {i}"}) for i in range(5)))
    code, out, _ = run(capsys, "import", "intents", str(source), "--database-url", url)
    assert code == 0, out
    assert "5 new items" in out
    # The old import gated inside its write transaction (the writer was held). The CLI
    # imports alone: each batch is handed to the gate before the one before it is
    # written (they overlap with a gate pool), never while the writer is held.
    assert gate.seen == [(True, 0), (True, 0), (True, 2)]
