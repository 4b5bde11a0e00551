from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loupe.cli.privacy import privacy_app
from loupe.errors import InvalidInput

runner = CliRunner()


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_scan_writes_one_line_per_input(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "a", "text": "mail ana@x.org"}, {"id": "b", "text": "hi"}]
    )
    out = tmp_path / "spans.jsonl"
    result = runner.invoke(privacy_app, ["scan", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [
        {
            "id": "a",
            "spans": [{"start": 5, "end": 14, "type": "EMAIL", "score": 0.95}],
            "withhold": False,
        },
        {"id": "b", "spans": [], "withhold": False},
    ]


def test_redact_with_policy_and_custom_field(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "body": "call Maria Lopez or Maria Lopez"}])
    out = tmp_path / "out.jsonl"
    args = [
        "redact",
        str(src),
        "--text-field",
        "body",
        "--output",
        str(out),
        "--policy",
        "pseudonym",
    ]
    result = runner.invoke(privacy_app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"id": 1, "body": "call [PERSON_1] or [PERSON_1]"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\n{not json}\n', ":2: not valid JSON"),
        ('{"text": "ok"}\n{"other": 1}\n', ":2: field 'text' is missing"),
        ("[1, 2]\n", ":1: expected a JSON object"),
    ],
)
def test_malformed_input_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(content, encoding="utf-8")
    result = runner.invoke(privacy_app, ["scan", str(src), "--output", str(tmp_path / "o.jsonl")])
    assert isinstance(result.exception, InvalidInput)
    assert message in result.exception.message


def test_unknown_policy_is_invalid_input(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    result = runner.invoke(
        privacy_app, ["redact", str(src), "--output", str(tmp_path / "o"), "--policy", "zap"]
    )
    assert isinstance(result.exception, InvalidInput)
