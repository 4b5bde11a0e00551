"""The whole ``loupe aggregate`` process vs crowd-kit 1.4.2, on a CSV of string answers.

Run: ``.venv/bin/python bench/aggregation/speed_cli.py`` (1M answers: 200k items x 5, 2k
workers, 5 classes; a few minutes) or ``--labels 100000`` for a quick run. Needs crowd-kit for
the comparison (``pip install 'loupe[bench]'``); without it only Loupe runs.

Data: :func:`synthetic.generate_hard` (a simulation: skewed class priors, heterogeneous skills,
20% spammers, skewed worker activity, string ids, rows shuffled), written once to a CSV that
both sides read. Each run is a separate process, timed from outside: wall-clock time and CPU
time (user + system, from ``getrusage`` of the finished child). Loupe's is the whole
``python -m loupe aggregate`` command (start-up, CSV reading, encoding, fit, writing the
output; with pyarrow installed, the ``parquet`` extra, it parses and encodes the CSV in C).
crowd-kit's is ``crowdkit_run.py`` (imports, ``pandas.read_csv``, fit, writing); it also
reports its read and fit times, and the ratio against its fit alone is printed too, the
comparison most favourable to crowd-kit. Accuracy is against the generator's true classes.
crowd-kit's GLAD runs on a smaller CSV (``--ck-glad-labels``, default 20k) because it took over
15 minutes at 100k on the shared machine; Loupe's GLAD runs on both sizes.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import StringCrowd, generate_hard, write_csv

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    accuracy: float
    inner: dict[str, float]


def timed_process(command: list[str], out: Path, truth: dict[str, str]) -> Run:
    """Run ``command`` to completion; wall and CPU time of the child, accuracy of ``out``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with out.open(newline="", encoding="utf-8") as handle:
        predicted = {row["item"]: row["label"] for row in csv.DictReader(handle)}
    hits = sum(predicted.get(item) == label for item, label in truth.items())
    inner: dict[str, float] = {}
    if done.stdout.strip().startswith("{"):
        inner = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(wall_s=wall, cpu_s=cpu, accuracy=hits / len(truth), inner=inner)


def make_csv(n_labels: int, folder: Path) -> tuple[Path, StringCrowd]:
    crowd = generate_hard(n_items=n_labels // 5, n_workers=max(n_labels // 500, 20))
    path = folder / f"answers-{n_labels}.csv"
    write_csv(crowd, path)
    return path, crowd


def loupe(path: Path, method: str, truth: dict[str, str], extra: list[str]) -> Run:
    out = path.with_name(f"loupe-{method}-{path.stem}.csv")
    command = [sys.executable, "-m", "loupe", "aggregate", str(path), "--method", method]
    return timed_process([*command, "-o", str(out), *extra], out, truth)


def run_crowdkit(path: Path, method: str, truth: dict[str, str]) -> Run:
    out = path.with_name(f"ck-{method}-{path.stem}.csv")
    command = [sys.executable, str(HERE / "crowdkit_run.py"), str(path), method, str(out)]
    return timed_process(command, out, truth)


def describe(name: str, run: Run) -> str:
    inner = ""
    if run.inner:
        inner = f" (read {run.inner['read_s']:.2f} s, fit {run.inner['fit_s']:.2f} s)"
    return (
        f"| {name} | {run.wall_s:.2f} | {run.cpu_s:.2f} | {run.accuracy:.4f} |{inner}"
        if not inner
        else f"| {name}{inner} | {run.wall_s:.2f} | {run.cpu_s:.2f} | {run.accuracy:.4f} |"
    )


def stages(path: Path) -> None:
    """Where ``loupe aggregate --method ds`` spends CPU, stage by stage, in a fresh process."""
    code = f"""
import io, time
from pathlib import Path
clock = time.process_time
start = clock()
from loupe.cli.aggregate import ANSWER_COLUMNS, _arrow_columns, _csv_cells, _read_answers, _write_csv
from loupe.aggregation import DawidSkene
from loupe.aggregation.table import LabelTable
import scipy.sparse, scipy.special
try:
    import pyarrow, pyarrow.csv
except ImportError:
    pass
print(f"  interpreter start-up and CLI framework not counted; imports {{clock() - start:.2f}}")
path = Path({str(path)!r})
start = clock(); arrow = _arrow_columns(path, ANSWER_COLUMNS)
if arrow is None:
    items, workers, labels = _read_answers(path)
    print(f"  read the CSV (csv path: pyarrow not installed) {{clock() - start:.2f}}")
else:
    vocabularies, (items, workers, labels) = arrow
    print(f"  read + dictionary-encode the CSV (pyarrow) {{clock() - start:.2f}}")
start = clock(); LabelTable.from_sequences(items, workers, labels)
table = clock() - start
print(f"  {{'encode + ' if arrow is None else ''}}count matrix {{table:.2f}}")
start = clock(); model = DawidSkene().fit(items, workers, labels)
print(f"  DawidSkene fit without the table {{clock() - start - table:.2f}}")
start = clock()
names, predicted = model.items_.tolist(), model.predict().tolist()
if arrow is not None:
    names = list(map(vocabularies[0].__getitem__, names))
    predicted = list(map(vocabularies[2].__getitem__, predicted))
columns = (_csv_cells(names), predicted,
           list(map("{{:.6f}}".format, model.probas_.max(axis=1).tolist())))
_write_csv(io.StringIO(), ("item", "label", "confidence"), columns)
print(f"  write the output {{clock() - start:.2f}}")
"""
    print("\nloupe ds, CPU seconds by stage (in one process):", flush=True)
    subprocess.run([sys.executable, "-c", code], check=True)


def fit_only_mv(crowd: StringCrowd, have_ck: bool) -> None:
    """Majority vote fit alone, in this process, from the same string columns (best of 3)."""
    from loupe.aggregation import MajorityVote

    def best(run: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    mine = best(lambda: MajorityVote().fit(crowd.items, crowd.workers, crowd.labels))
    line = f"\nmajority vote fit alone, best of 3: loupe {mine:.2f} s (encoding included)"
    if have_ck:
        import pandas as pd  # type: ignore[import-untyped]
        from crowdkit.aggregation import MajorityVote as CrowdKitMV

        frame = pd.DataFrame({"task": crowd.items, "worker": crowd.workers, "label": crowd.labels})
        theirs = best(lambda: CrowdKitMV().fit(frame))
        line += f", crowd-kit {theirs:.2f} s (ratio {theirs / mine:.1f}x)"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1_000_000, help="answers in the CSV")
    parser.add_argument("--ck-glad-labels", type=int, default=20_000)
    parser.add_argument("--methods", default="mv,ds,glad")
    parser.add_argument(
        "--stages-only", action="store_true", help="only the CPU breakdown of loupe ds"
    )
    args = parser.parse_args()
    if args.stages_only:
        with tempfile.TemporaryDirectory() as tmp:
            stages(make_csv(args.labels, Path(tmp))[0])
        return
    have_ck = importlib.util.find_spec("crowdkit") is not None
    if not have_ck:
        print("crowd-kit not installed: Loupe only", file=sys.stderr)
    methods = args.methods.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        path, crowd = make_csv(args.labels, Path(tmp))
        print(
            f"{len(crowd.items):,} answers, {len(crowd.truth):,} items, "
            f"{len({*crowd.workers}):,} workers ({crowd.spammers} spammers), "
            f"{path.stat().st_size / 2**20:.1f} MiB CSV; os.cpu_count()={os.cpu_count()}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print("\n| run | wall s | CPU s | accuracy |\n|---|---|---|---|")
        results: dict[str, tuple[Run, Run | None]] = {}
        for method in methods:
            mine = loupe(path, method, crowd.truth, [])
            print(describe(f"loupe aggregate --method {method}", mine), flush=True)
            theirs = None
            if have_ck and (method != "glad" or args.labels <= args.ck_glad_labels):
                theirs = run_crowdkit(path, method, crowd.truth)
                print(describe(f"crowd-kit {method}", theirs), flush=True)
            results[method] = (mine, theirs)
        if "mv" in methods:
            lowest = loupe(path, "mv", crowd.truth, ["--ties", "lowest"])
            print(describe("loupe aggregate --method mv --ties lowest", lowest), flush=True)
            rand = loupe(path, "mv", crowd.truth, ["--ties", "random"])
            print(describe("loupe aggregate --method mv --ties random", rand), flush=True)
        if "ds" in methods:
            stages(path)
        if "mv" in methods:
            fit_only_mv(crowd, have_ck)
        if "glad" in methods and have_ck and args.labels > args.ck_glad_labels:
            small, small_crowd = make_csv(args.ck_glad_labels, Path(tmp))
            mine = loupe(small, "glad", small_crowd.truth, [])
            name = f"loupe aggregate --method glad ({args.ck_glad_labels:,} answers)"
            print(describe(name, mine), flush=True)
            theirs = run_crowdkit(small, "glad", small_crowd.truth)
            print(describe(f"crowd-kit glad ({args.ck_glad_labels:,} answers)", theirs))
            results["glad (smaller CSV)"] = (mine, theirs)
    print("\nratios, crowd-kit / loupe (> 1: Loupe faster):")
    for method, (mine, theirs) in results.items():
        if theirs is None:
            continue
        fit_only = theirs.inner.get("fit_s", float("nan"))
        print(
            f"  {method}: whole process wall {theirs.wall_s / mine.wall_s:.1f}x, "
            f"CPU {theirs.cpu_s / mine.cpu_s:.1f}x; crowd-kit fit alone vs Loupe's whole "
            f"process (wall) {fit_only / mine.wall_s:.1f}x; "
            f"accuracy {mine.accuracy - theirs.accuracy:+.4f}"
        )


if __name__ == "__main__":
    main()
