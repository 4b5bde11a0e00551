"""Measure `loupe import` items/s on 100k short, mostly unique utterances, gate off and on.

    .venv/bin/python bench/compliance/bench_import.py [--items 100000] [--modes off,1,0]
        [--baseline /tmp/loupe-base/src] [--rounds 1]

The file is generated with a fixed seed: assistant-style requests built from templates,
a small built-in list of names, places, times and numbers, and about 5% with a phone
number or an e-mail address, so nearly every text is distinct (no memoisation can inflate
the figures). Modes: ``off`` (the project's gate off), ``1`` (gate on, in the importing
process), ``0`` (gate on, a process per core). With ``--baseline SRC`` (a tree made by
``git archive HEAD src | tar -x -C /tmp/loupe-base`` before a change), each mode runs the
baseline and then this checkout on the same file, back to back, and prints items/s and
the CPU seconds of the command and its children for both.
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

HERE = Path(__file__).resolve().parents[2] / "src"

NAMES = [
    "Maria", "John", "Aisha", "Wei", "Olga", "Pedro", "Fatima", "Liam", "Sofia", "Kenji",
    "Emma Brown", "Lucas Silva", "Nina Petrova", "Omar Haddad", "Chloe Martin", "Ravi Patel",
]  # fmt: skip
PLACES = [
    "the station", "Paris", "the office", "home", "the airport", "Berlin", "the gym",
    "the dentist", "Lisbon", "the supermarket", "Tokyo", "the library", "school",
]  # fmt: skip
THINGS = [
    "the jazz playlist", "the lights", "the heating", "some coffee", "a taxi", "the news",
    "my shopping list", "the weather", "a table for two", "the alarm", "my podcast",
]  # fmt: skip
TEMPLATES = [
    "call {name} when I get to {place}",
    "remind me to buy {n} eggs at {time}",
    "text {name} that I will be at {place} by {time}",
    "play {thing} in the kitchen",
    "navigate to {place} avoiding tolls",
    "what's the weather in {place} on {day}",
    "set an alarm for {time} on {day}",
    "turn on {thing} in {n} minutes",
    "book {thing} at {place} for {n} people",
    "how long does it take to get to {place} from {place2}",
    "add {n} bananas and {thing} to my list",
    "tell {name} I'm running {n} minutes late",
    "open {thing} and turn the volume to {n}",
    "send {name} the photos from {place}",
    "what time does {place} close on {day}",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
OPENERS = ["", "", "hey, ", "please ", "can you ", "ok so ", "quickly ", "could you "]
CLOSERS = ["", "", " please", " thanks", " tomorrow", " tonight", " again", " right now"]


def clause(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(
        name=rng.choice(NAMES),
        place=rng.choice(PLACES),
        place2=rng.choice(PLACES),
        thing=rng.choice(THINGS),
        time=f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])}",
        day=rng.choice(DAYS),
        n=rng.randint(2, 60),
    )


def utterance(rng: random.Random, i: int) -> str:
    text = rng.choice(OPENERS) + clause(rng)
    if rng.random() < 0.3:
        text += " and then " + clause(rng)
    text += rng.choice(CLOSERS)
    roll = rng.random()
    if roll < 0.03:
        text += f", my number is +44 20 7946 {rng.randint(0, 9999):04d}"
    elif roll < 0.05:
        text += f" and copy {rng.choice(NAMES).split()[0].lower()}{i}@example.org"
    return text


def write_file(path: Path, n: int) -> int:
    rng = random.Random(7)
    texts = set()
    with path.open("w") as f:
        for i in range(n):
            text = utterance(rng, i)
            texts.add(text)
            f.write(json.dumps({"id": f"u{i}", "text": text}) + "\n")
    return len(texts)


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mode(tree: Path, mode: str, src: Path, work: Path, label: str) -> tuple[float, float]:
    db = work / f"{label}-{mode}.db"
    db.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "LOUPE_DATABASE_URL": f"sqlite:///{db}",
        "LOUPE_KEY_DIR": str(work / "keys"),
    }
    py = sys.executable
    create = [py, "-m", "loupe", "projects", "create", "p", "--labels", "a,b"]
    subprocess.run(create, env=env, check=True, capture_output=True)
    args: list[str] = []
    if mode == "off":
        code = (
            "from loupe.db.database import Database\n"
            "from loupe.services.compliance.privacy_settings import set_privacy\n"
            "from loupe.services.access import Actor\nimport os\n"
            "db=Database(os.environ['LOUPE_DATABASE_URL'])\n"
            "with db.transaction() as s: set_privacy(s, Actor.system(), 1, gate=False)\n"
        )
        subprocess.run([py, "-c", code], env=env, check=True)
    else:
        args = ["--workers", mode]
    cpu0, t0 = cpu_children(), time.perf_counter()
    r = subprocess.run(
        [py, "-m", "loupe", "import", "p", str(src), *args], env=env, capture_output=True, text=True
    )
    dt, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    if r.returncode:
        raise SystemExit(f"{label} mode={mode} failed: {r.stderr[-2000:]}")
    return dt, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--modes", default="off,1,0")
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loupe-bench-import-"))
    src = work / "u.jsonl"
    distinct = write_file(src, args.items)
    load = os.getloadavg()[0]
    print(f"items={args.items} distinct texts={distinct} cpus={os.cpu_count()} load={load:.1f}")
    trees = [("this", HERE)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    for _ in range(args.rounds):
        for mode in args.modes.split(","):
            for label, tree in trees:
                dt, cpu = run_mode(tree, mode, src, work, label)
                print(
                    f"{label:>8} mode={mode:>3} seconds={dt:6.1f} items/s={args.items / dt:7,.0f} "
                    f"cpu_s={cpu:6.1f} load={os.getloadavg()[0]:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
