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


def error_lines(err: str) -> list[str]:
    """The ``error:`` lines of stderr (which also carries progress bars)."""
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    ("guidelines", "expected"),
    [
        ("missing.md", "No such file or directory"),
        (".", "Is a directory"),
        ("latin1.md", "not UTF-8 text (byte 0xe9 at offset 1)"),
    ],
)
def test_a_guidelines_file_that_cannot_be_read_is_one_line_and_creates_nothing(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    guidelines: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin1.md").write_bytes("Sé polite".encode("latin-1"))
    before = snapshot(db)
    code, _, err = run(
        capsys, "projects", "create", "intents", "--labels", "a,b",
        "--guidelines", guidelines, "--database-url", database_url,
    )  # fmt: skip
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0], err
    assert snapshot(db) == before


def test_an_output_in_a_missing_folder_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database, tmp_path: Path
) -> None:
    make_project(db, name="intents")
    target = tmp_path / "no-such-folder" / "items.jsonl"
    code, _, err = run(
        capsys, "export", "intents", "-o", str(target), "--database-url", database_url
    )
    assert code == 2
    assert error_lines(err) == [
        f"error: {target}: No such file or directory; check the path and its permissions"
    ]
