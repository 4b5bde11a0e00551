"""docs/client.md runs: its Python blocks, in order, against a live server on a fresh
database, as the admin (``LOUPE_URL``/``LOUPE_TOKEN``, as the page says)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.client.live import LiveServer

from loupe.client import Client

PAGE = Path(__file__).resolve().parents[2] / "docs" / "client.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks() -> list[tuple[int, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_page_has_sync_and_async_examples() -> None:
    code = "\n".join(block for _, block in blocks())
    assert len(blocks()) >= 8
    assert "Client(" in code and "AsyncClient(" in code and "async for" in code


def test_the_examples_run(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LOUPE_URL", live_server.url)
    monkeypatch.setenv("LOUPE_TOKEN", live_server.admin.token)
    monkeypatch.chdir(tmp_path)  # the examples write their downloads here
    namespace: dict[str, object] = {"__name__": "docs_client"}
    try:
        for line, block in blocks():
            exec(compile(block, f"{PAGE}:{line}", "exec"), namespace)
    finally:  # a failing example must not leak its connections
        for value in namespace.values():
            if isinstance(value, Client):
                value.close()
    out = capsys.readouterr().out
    assert "ok - signed in as admin" in out
    assert "NotFound" not in out and "404 not_found" in out
    assert (tmp_path / "labels.csv").stat().st_size > 0
    assert (tmp_path / "payout.csv").read_text().count("\n") >= 2
