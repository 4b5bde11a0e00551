"""Measure `PrivacyGate.check` alone on the import benchmark's utterances, baseline vs this tree.

    .venv/bin/python bench/compliance/bench_gate.py --baseline /tmp/loupe-base/src
        [--items 10000] [--rounds 3]

The texts are the first ``--items`` utterances of ``bench_import.py`` (the same seed, so
the same texts its file starts with). Each tree gates them in a process of its own (the
tree first on ``PYTHONPATH``), in one call, with no pool, under the ``placeholder``
policy; the trees alternate for ``--rounds`` rounds. Printed: CPU seconds of the call and
items per CPU second, per tree and round (CPU time, because the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, random, sys, time
sys.path.append(sys.argv[2])
import bench_import
from loupe.services.compliance.gate import PrivacyGate
rng = random.Random(7)
rows = [{"text": bench_import.utterance(rng, i)} for i in range(int(sys.argv[1]))]
gate = PrivacyGate()
gate.check(rows[:50], policy="placeholder")  # lists mapped, patterns compiled
started = time.process_time()
gate.check(rows, policy="placeholder")
print(json.dumps({"cpu": time.process_time() - started}))
"""


def run(tree: Path, items: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(items), str(ROOT / "bench" / "compliance")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.splitlines()[-1])["cpu"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = [("this", ROOT / "src")]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    print(f"items={args.items} load={os.getloadavg()[0]:.1f}")
    for _ in range(args.rounds):
        for label, tree in trees:
            cpu = run(tree, args.items)
            print(
                f"{label:>8} cpu_s={cpu:6.2f} items/s={args.items / cpu:7,.0f} "
                f"load={os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
