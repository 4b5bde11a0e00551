"""CPU and memory of one candidate-new-intents clustering, a baseline tree against this one.

    git archive HEAD src | tar -x -C /tmp/loupe-base       # the tree before a change
    .venv/bin/python bench/selection/bench_new_intents_cpu.py --baseline /tmp/loupe-base/src

The input is ``bench_new_intents.py``'s set B (CLINC150 test split: 20 held-out intents'
utterances, 300 wrongly flagged known-intent requests and 200 ``oos`` rows, 1,100 flagged
requests; 2,200 known texts), what the service clusters for a project page. Each tree runs
:func:`loupe.selection.new_intents.find_new_intents` with the service's defaults in a child
process of the same interpreter (``PYTHONPATH`` set to the tree), trees alternating; a child
imports first and then times the call alone. Printed: CPU seconds of the call, the child's
peak RSS, and a digest of the clusters (names, members, examples), which must match.
Skips with a message without ``../shared/data/intents``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
sys.path.insert(0, str(HERE))


def child(path: Path) -> None:
    from loupe.selection.new_intents import find_new_intents

    data = json.loads(path.read_text())
    started = time.process_time()
    found = find_new_intents(data["texts"], [1.0] * len(data["texts"]), data["known"])
    cpu = time.process_time() - started
    digest = hashlib.sha256(
        json.dumps([[c.name, c.members, c.examples] for c in found]).encode()
    ).hexdigest()[:12]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu": cpu, "rss": peak, "clusters": len(found), "digest": digest}))


def set_b() -> tuple[list[str], list[str]]:
    """``bench_new_intents.py``'s set B flagged requests and its known texts."""
    from bench_new_intents import SEED, _flagged, clinc

    rng = np.random.default_rng(SEED)
    data = clinc(rng)
    _flagged(data.splits["validation"], data.sets["A"], data.known, rng)  # drawn first there
    texts, _ = _flagged(data.splits["test"], data.sets["B"], data.known, rng)
    return texts, data.known_texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=False)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    from intents import available

    missing = available()
    if missing:
        print(missing)
        return 0
    texts, known = set_b()
    data = Path(tempfile.mkdtemp()) / "set_b.json"
    data.write_text(json.dumps({"texts": texts, "known": known}))
    trees = {"this tree": SRC}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
    print(f"{len(texts)} flagged requests, {len(known)} known texts; load {os.getloadavg()[0]:.1f}")
    seen: dict[str, list[dict[str, float | str]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name in trees if r % 2 == 0 else reversed(list(trees)):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(data)],
                env={**os.environ, "PYTHONPATH": str(trees[name])},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            seen[name].append(json.loads(out.strip().splitlines()[-1]))
    for name, runs in seen.items():
        cpu = sorted(float(run["cpu"]) for run in runs)
        rss = sorted(float(run["rss"]) for run in runs)
        digests = {str(run["digest"]) for run in runs}
        print(
            f"{name:<10} CPU {cpu[len(cpu) // 2]:.2f} s ({cpu[0]:.2f}-{cpu[-1]:.2f}), peak RSS "
            f"{rss[len(rss) // 2]:.0f} MiB, {runs[0]['clusters']} clusters, digest {digests}"
        )
    all_digests = {str(run["digest"]) for runs in seen.values() for run in runs}
    print("same clusters in every run" if len(all_digests) == 1 else "CLUSTERS DIFFER")
    return 0 if len(all_digests) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
