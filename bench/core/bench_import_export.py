"""Import and export at 100,000 items through the CLI, with time and peak memory.

    .venv/bin/python bench/core/bench_import_export.py [--items 100000]

Generates a JSONL file of assistant-style utterances, imports it with
``loupe import`` (a subprocess, as a user runs it), re-imports it (idempotent:
nothing new), gives every item one label, then exports items with their labels
with ``loupe export``. Export memory is checked for flatness by exporting 10%
of the items and comparing peak RSS. Prints figures; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``loupe ARGV``; return (seconds, peak RSS of the child in MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "loupe", *argv],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loupe-io-"))
    url = f"sqlite:///{work}/loupe.db"
    env = {**os.environ, "LOUPE_DATABASE_URL": url}
    rng = random.Random(7)
    verbs = ["call", "text", "play", "navigate to", "translate", "buy", "photograph", "pay"]
    source = work / "items.jsonl"
    with source.open("w") as out:
        for i in range(args.items):
            words = " ".join(
                rng.choice(["mum", "jazz", "the station", "this sign", "coffee"])
                for _ in range(rng.randint(3, 12))
            )
            out.write(
                json.dumps(
                    {
                        "id": f"utt-{i}",
                        "text": f"{rng.choice(verbs)} {words}",
                        "language": "en",
                        "domain": "general",
                    }
                )
                + "\n"
            )
    size_mb = source.stat().st_size / 2**20
    subprocess.run(
        [sys.executable, "-m", "loupe", "projects", "create", "bench", "--labels", "a,b,c,d"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    seconds, rss = run(["import", "bench", str(source)], env)
    print(
        f"import {args.items:,} items ({size_mb:.1f} MiB JSONL): {seconds:.2f} s "
        f"= {args.items / seconds:,.0f} items/s (incl. process start), peak RSS {rss:.0f} MiB"
    )
    again, _ = run(["import", "bench", str(source)], env)
    print(f"re-import (all present, nothing written): {again:.2f} s")

    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO users (username, display_name, role, is_active, created_at) VALUES ('w', 'w', 'annotator', 1, '2026-01-01 00:00:00.000000')"
        )
        c.exec_driver_sql(
            "INSERT INTO labels (project_id, item_id, user_id, answer, config_version, lead_time_ms, created_at) "
            "SELECT project_id, id, 1, '\"a\"', 1, 1000, '2026-01-01 00:00:00.000000' FROM items"
        )
        c.exec_driver_sql(
            "INSERT INTO consensus (item_id, project_id, answer, support, n_labels, confidence, method, updated_at) "
            "SELECT id, project_id, '\"a\"', 1, 1, 1.0, 'mv', '2026-01-01 00:00:00.000000' FROM items"
        )
        c.exec_driver_sql("UPDATE items SET label_count = 1, is_complete = 1")
    engine.dispose()

    target = work / "export.jsonl"
    seconds, rss = run(["export", "bench", "--kind", "items", "-o", str(target)], env)
    lines = sum(1 for _ in target.open())
    print(
        f"export {lines:,} items with labels + consensus: {seconds:.2f} s, "
        f"{target.stat().st_size / 2**20:.1f} MiB, peak RSS {rss:.0f} MiB"
    )

    # Flat memory: a tenth of the data in a fresh database must peak at about the same RSS.
    small = work / "small.db"
    small_env = {**os.environ, "LOUPE_DATABASE_URL": f"sqlite:///{small}"}
    subprocess.run(
        [sys.executable, "-m", "loupe", "projects", "create", "bench", "--labels", "a,b"],
        env=small_env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    head = work / "head.jsonl"
    with source.open() as src, head.open("w") as dst:
        for i, line in enumerate(src):
            if i >= args.items // 10:
                break
            dst.write(line)
    run(["import", "bench", str(head)], small_env)
    # ru_maxrss of children is a high-water mark across all children, so measure in a fresh process.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'loupe', 'export', 'bench', '-o', '/dev/null'], check=True, stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)",
        ],
        env=small_env,
        check=True,
        capture_output=True,
        text=True,
    )
    big = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'loupe', 'export', 'bench', '-o', '/dev/null'], check=True, stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(
        f"export peak RSS: {float(probe.stdout.split()[-1]):.0f} MiB at {args.items // 10:,} items vs "
        f"{float(big.stdout.split()[-1]):.0f} MiB at {args.items:,} items (flat memory: ratio {float(big.stdout.split()[-1]) / float(probe.stdout.split()[-1]):.2f})"
    )


if __name__ == "__main__":
    main()
