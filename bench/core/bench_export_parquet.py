"""Parquet export and import against JSONL, through the CLI, with time and peak memory.

    .venv/bin/python bench/core/bench_export_parquet.py [--items 100000]

Imports a generated JSONL file of utterances (the baseline import), gives every item one
label and a consensus, then, each command in a fresh process: exports the items as JSONL
(the baseline) and as Parquet, checks that Parquet's peak memory stays flat (a project a
tenth the size peaks at about the same RSS), and imports the Parquet export into a new
project. Needs the ``parquet`` extra. Prints figures; docs/import.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

_PROBE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run([sys.executable, '-m', 'loupe', *sys.argv[1:]], check=True, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``loupe ARGV`` in a fresh process; (seconds incl. start-up, its peak RSS in MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def make_project(work: Path, name: str, rows: int, seed: int) -> tuple[dict[str, str], float]:
    """A database with ``rows`` imported, labelled items; returns its env and import seconds."""
    url = f"sqlite:///{work}/{name}.db"
    env = {**os.environ, "LOUPE_DATABASE_URL": url}
    rng = random.Random(seed)
    verbs = ["call", "text", "play", "navigate to", "translate", "buy", "photograph", "pay"]
    source = work / f"{name}.jsonl"
    with source.open("w") as out:
        for i in range(rows):
            words = " ".join(
                rng.choice(["mum", "jazz", "the station", "this sign", "coffee"])
                for _ in range(rng.randint(3, 12))
            )
            row = {
                "id": f"utt-{i}",
                "text": f"{rng.choice(verbs)} {words}",
                "language": "en",
                "turn": rng.randint(1, 9),
                "channel": rng.choice(["app", "car", "speaker"]),
            }
            out.write(json.dumps(row) + "\n")
    subprocess.run(
        [sys.executable, "-m", "loupe", "projects", "create", "bench", "--labels", "a,b,c,d"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds, _ = run(["import", "bench", str(source)], env)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO users (username, display_name, role, is_active, created_at) "
            "VALUES ('w', 'w', 'annotator', 1, '2026-01-01 00:00:00.000000')"
        )
        c.exec_driver_sql(
            "INSERT INTO labels (project_id, item_id, user_id, answer, config_version, "
            "lead_time_ms, created_at) SELECT project_id, id, 1, '\"a\"', 1, 1000, "
            "'2026-01-01 00:00:00.000000' FROM items"
        )
        c.exec_driver_sql(
            "INSERT INTO consensus (item_id, project_id, answer, support, n_labels, confidence, "
            "method, updated_at) SELECT id, project_id, '\"a\"', 1, 1, 1.0, 'mv', "
            "'2026-01-01 00:00:00.000000' FROM items"
        )
        c.exec_driver_sql("UPDATE items SET label_count = 1, is_complete = 1")
    engine.dispose()
    return env, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loupe-parquet-"))
    env, imported = make_project(work, "big", args.items, seed=7)
    print(f"baseline: JSONL import of {args.items:,} items: {imported:.1f} s")

    jsonl, parquet = work / "items.jsonl", work / "items.parquet"
    seconds, rss = run(["export", "bench", "-o", str(jsonl)], env)
    print(
        f"JSONL export:   {seconds:.2f} s, {jsonl.stat().st_size / 2**20:.1f} MiB, "
        f"peak RSS {rss:.0f} MiB"
    )
    seconds, rss = run(["export", "bench", "--format", "parquet", "-o", str(parquet)], env)
    print(
        f"Parquet export: {seconds:.2f} s, {parquet.stat().st_size / 2**20:.1f} MiB, "
        f"peak RSS {rss:.0f} MiB"
    )

    small_env, _ = make_project(work, "small", args.items // 10, seed=7)
    _, small_rss = run(
        ["export", "bench", "--format", "parquet", "-o", str(work / "small.parquet")], small_env
    )
    print(
        f"Parquet export peak RSS at {args.items // 10:,} vs {args.items:,} items: "
        f"{small_rss:.0f} vs {rss:.0f} MiB (ratio {rss / small_rss:.2f})"
    )

    subprocess.run(
        [sys.executable, "-m", "loupe", "projects", "create", "copy", "--labels", "a,b,c,d"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds, rss = run(["import", "copy", str(parquet)], env)
    print(f"Parquet import of the export: {seconds:.1f} s, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
