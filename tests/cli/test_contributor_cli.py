from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_run import run
from tests.factories import make_project, make_user, snapshot

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.db.raw import Raw
from loupe.services.people.eligibility import load_profile


def test_grant_show_languages_and_revoke(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    ann = make_user(db, "ann")
    url = ("--database-url", database_url)
    code, out, _ = run(
        capsys,
        "contributors",
        "grant",
        "ann",
        "medical",
        "--level",
        "2",
        "--expires",
        "2999-01-01",
        *url,
    )
    assert code == 0, out
    assert "ann holds level 2 in medical until 2999-01-01T00:00+00:00" in out
    code, out, _ = run(capsys, "contributors", "languages", "ann", "de-AT", "EN", *url)
    assert (code, out.strip()) == (0, "ann works in: de, en")
    with db.transaction(readonly=True) as session:
        profile = load_profile(Raw(session), ann.id, now=utcnow())
    assert (dict(profile.levels), profile.languages) == ({"medical": 2}, frozenset({"de", "en"}))
    code, out, _ = run(capsys, "contributors", "show", "ann", *url)
    assert code == 0
    assert "ann (id" in out and "languages: de, en" in out
    assert "medical" in out and "manager" in out
    code, out, _ = run(capsys, "contributors", "list", "--domain", "medical", *url)
    assert code == 0 and "medical:2" in out
    code, out, _ = run(capsys, "contributors", "revoke", "ann", "medical", *url)
    assert (code, out.strip()) == (0, "ann no longer holds a level in medical")
    code, out, _ = run(capsys, "contributors", "languages", "ann", "--clear", *url)
    assert (code, out.strip()) == (0, "ann works in: -")


def test_contributor_errors_are_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database
) -> None:
    make_user(db, "ann")
    url = ("--database-url", database_url)
    before = snapshot(db)
    for argv, exit_code, message in [
        (("grant", "ann", "medical", "--level", "5"), 2, "level: must be 1 (qualified)"),
        (("grant", "ann", "Medical", "--level", "1"), 2, "domain: 'Medical' is not a domain"),
        (("grant", "ann", "ana-ruiz", "--level", "1"), 2, "domain: holds what looks like personal"),
        (("grant", "ann", "medical", "--level", "1", "--expires", "soon"), 2, "--expires"),
        (("grant", "ann", "medical", "--level", "1", "--expires", "2000-01-01"), 2, "expires_at"),
        (("grant", "nobody", "medical", "--level", "1"), 5, "no user named 'nobody'"),
        (("revoke", "ann", "medical"), 5, "holds no level in 'medical'"),
        (("languages", "ann", "klingon!"), 2, "languages[0]"),
        (("languages", "ann"), 2, "give language tags"),
        (("show", "nobody"), 5, "no user named"),
    ]:
        code, _, err = run(capsys, "contributors", *argv, *url)
        assert code == exit_code, (argv, err)
        assert err.startswith("error: ") and message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1
    assert snapshot(db) == before


def test_create_and_list_qualification_tests(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database, tmp_path: Path
) -> None:
    make_project(db)
    url = ("--database-url", database_url)
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"text": "call mum", "answer": "call"},
        {"data": {"text": "play jazz"}, "answer": "music"},
        {"text": "go home", "answer": "navigate"},
    ]
    questions.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    code, out, err = run(
        capsys, "qualifications", "create", "intents", "--name", "basics", "--domain", "general",
        "--level", "1", "--pass-mark", "0.6", "--max-attempts", "2", "--retry-after-hours", "1",
        "--valid-days", "30", "--questions", str(questions), *url,
    )  # fmt: skip
    assert code == 0, err
    assert "qualification test 'basics' created, id 1: 3 questions, level 1 in general" in out
    code, out, _ = run(capsys, "qualifications", "list", "intents", *url)
    assert code == 0
    assert "basics" in out and "60%" in out and "30" in out
    assert "call mum" not in out


def test_qualification_errors_are_one_line_and_change_nothing(
    capsys: pytest.CaptureFixture[str], database_url: str, db: Database, tmp_path: Path
) -> None:
    make_project(db)
    url = ("--database-url", database_url)
    bad_answer = tmp_path / "bad.jsonl"
    bad_answer.write_text(
        "\n".join(json.dumps({"text": f"q{i}", "answer": "dance"}) for i in range(3))
    )
    bad_json = tmp_path / "broken.jsonl"
    bad_json.write_text('{"text": "q", "answer": "call"}\n{oops\n')
    no_answer = tmp_path / "no-answer.jsonl"
    no_answer.write_text('{"text": "q"}\n')
    before = snapshot(db)
    for path, exit_code, message in [
        (bad_answer, 2, "questions[0].answer: 'dance' is not a label"),
        (bad_json, 2, "broken.jsonl:2: not valid JSON"),
        (no_answer, 2, 'no-answer.jsonl:1: expected an object with "answer"'),
        (tmp_path / "missing.jsonl", 2, "no such file"),
    ]:
        code, _, err = run(
            capsys, "qualifications", "create", "intents", "--name", "t", "--domain", "general",
            "--questions", str(path), *url,
        )  # fmt: skip
        assert code == exit_code, err
        assert err.startswith("error: ") and message in err, err
    code, _, err = run(capsys, "qualifications", "list", "nope", *url)
    assert code == 5 and "no project with id or name 'nope'" in err
    assert snapshot(db) == before
