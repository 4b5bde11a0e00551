"""The CLI refuses text no database can store with one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.factories import make_project, snapshot

from loupe.cli import main
from loupe.db.database import Database


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("items.jsonl", '{"id": "a", "text": "ok"}\n{"id": "b", "text": "x\\u0000y"}\n'),
        ("items.jsonl", '{"id": "a", "text": "ok"}\n{"id": "b", "metadata": {"k\\udc80": 1}}\n'),
        ("items.csv", "id,text\na,ok\nb,x\x00y\n"),
    ],
)
def test_import_with_unstorable_text_is_one_line_and_imports_nothing(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    tmp_path: Path,
    name: str,
    content: str,
) -> None:
    make_project(db, name="intents")
    before = snapshot(db)
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "import", "intents", str(source), "--database-url", database_url)
    assert code == 2
    # stderr also carries the progress bars; the error is one line, no traceback.
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "line 3" in lines[0] if name.endswith(".csv") else "line 2" in lines[0]
    assert "remove it" in lines[0]
    assert snapshot(db) == before


def test_arguments_that_are_not_utf8_are_one_line(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    before = snapshot(db)
    # Undecodable bytes in argv reach Python as lone surrogates (surrogateescape).
    bad = b"intents\xed\xa0\x80".decode("utf-8", "surrogateescape")
    code, _, err = run(
        capsys, "projects", "create", bad, "--labels", "a,b", "--database-url", database_url
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "error: argument 3 is not valid UTF-8 text; re-type it or fix your terminal's encoding"
    ]
    assert snapshot(db) == before
