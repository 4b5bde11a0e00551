"""The README's five-minute tour, run as written on a fresh database.

The commands are read from README.md's tour block, so the test cannot drift from
the text. Two substitutions only: ``source .venv/bin/activate`` becomes this
interpreter's ``bin`` directory on ``PATH``, and port 8000 a free port (the
tour's own Python snippet waits until the server answers).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The CLI") :]
    block = section[section.index("```bash\n") + len("```bash\n") :]
    return block[: block.index("```\n")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    """Regression (#19): the tour exported labels nobody had given, and `loupe aggregate`
    refused Loupe's own labels export (missing column 'item')."""
    script = tour_script()
    assert "source .venv/bin/activate" in script and "8000" in script
    assert "loupe users password maya" in script
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "loupe").exists(), "the loupe entry point is not installed"
    script = script.replace("source .venv/bin/activate", f'export PATH="{bin_dir}:$PATH"')
    script = "set -euo pipefail\n" + script.replace("8000", str(free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUPE_")}
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        # Its own session, so that a server the script leaves behind can be stopped.
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=240)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    printed = out.read_text(encoding="utf-8")
    assert code == 0, printed + err.read_text(encoding="utf-8")
    # Every labelled item shows up, with its label, in the export and the aggregate.
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert {row["id"]: row["answer"] for row in items} == {
        "utt-1": "call",
        "utt-2": "play_music",
        "utt-3": "navigate",
        "utt-4": "out_of_scope",
    }
    labels = list(csv.DictReader(io.StringIO((tmp_path / "labels.csv").read_text())))
    assert len(labels) == 4
    aggregated = printed[printed.index("item,label,confidence") :]
    rows = list(csv.DictReader(io.StringIO(aggregated)))
    assert {row["item"]: row["label"] for row in rows} == {
        row["id"]: row["answer"] for row in items
    }
    # The tour's keys are its own, next to tour.db (never the demo's ./loupe-keys).
    assert (tmp_path / "tour-keys").is_dir()
    assert not (tmp_path / "loupe-keys").exists()
