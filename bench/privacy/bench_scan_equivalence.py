"""Same detections, less CPU: the scanner of a baseline tree and of this checkout, compared.

    .venv/bin/python bench/privacy/bench_scan_equivalence.py --baseline /tmp/loupe-base/src

Builds one corpus: the synthetic evaluation splits (``generate.py``: main, blind, fresh,
fresh2), the independent corpus (dev and holdout), the utterances of
``bench/compliance/bench_import.py`` and a few thousand texts cut and glued from all of
them (so identifiers meet each other and the edges of a text). Each tree then scans every
text and redacts it under both policies, in a subprocess of its own (the tree first on
``PYTHONPATH``), and the bench checks that both trees give the same spans, verdicts and
redactions for every text, then prints each tree's CPU seconds. Exit status 1 on any
difference. (The baseline is made by ``git archive HEAD src | tar -x -C /tmp/loupe-base``
before a change.)
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
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys, time
sys.path.append(sys.argv[3])
from loupe.privacy import Scanner
from loupe.privacy.redaction import Redactor
texts = json.load(open(sys.argv[1]))
scanner = Scanner()
redactors = [Redactor(scanner, policy=p) for p in ("placeholder", "pseudonym")]
scanner.scan("warm up Maria Lopez +44 20 7946 0958")
out = []
started = time.process_time()
for text in texts:
    scan = scanner.scan(text)
    spans = [[s.start, s.end, s.type, round(s.score, 6)] for s in scan.spans]
    out.append([scan.verdict, scan.reason, spans, [r.redact(text).text for r in redactors]])
cpu = time.process_time() - started
json.dump({"cpu": cpu, "results": out, "module": Scanner.__module__}, open(sys.argv[2], "w"))
"""


def corpus(items: int, seed: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench" / "privacy"))
    sys.path.insert(0, str(ROOT / "bench" / "compliance"))
    sys.path.insert(0, str(ROOT))
    import bench_import
    from bench.privacy.independent_eval import split  # type: ignore[attr-defined]
    from generate import SPLITS, generate

    texts: list[str] = []
    for name in SPLITS:
        texts += [item.text for item in generate(seed, items, split=name)]
    for name in ("dev", "holdout"):
        texts += [item.text for item in split(name)]
    rng = random.Random(seed)
    texts += [bench_import.utterance(rng, i) for i in range(items)]
    # Pieces glued together: identifiers next to other identifiers and at text edges.
    for _ in range(items):
        a, b = rng.choice(texts), rng.choice(texts)
        texts.append(
            a[rng.randrange(len(a) + 1) :]
            + rng.choice(["", " ", ", "])
            + b[: rng.randrange(len(b) + 1)]
        )
    return texts


def run(tree: Path, texts_file: Path, out: Path) -> tuple[float, list[Any]]:
    """(CPU seconds, per-text results) of scanning and redacting with the tree's code."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, "-c", CHILD, str(texts_file), str(out), str(ROOT)], env=env, check=True
    )
    result = json.loads(out.read_text())
    return float(result["cpu"]), list(result["results"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--items", type=int, default=3000, help="texts per generated split")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    texts = corpus(args.items, args.seed)
    work = Path(tempfile.mkdtemp(prefix="loupe-scan-eq-"))
    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts))
    print(f"texts={len(texts)} load={os.getloadavg()[0]:.1f}")
    status = 0
    for _ in range(args.rounds):
        base_cpu, base = run(args.baseline.resolve(), texts_file, work / "base.json")
        this_cpu, this = run(ROOT / "src", texts_file, work / "this.json")
        diff = [i for i, (a, b) in enumerate(zip(base, this, strict=True)) if a != b]
        print(
            f"baseline cpu_s={base_cpu:.2f}  this cpu_s={this_cpu:.2f}  "
            f"ratio={base_cpu / this_cpu:.2f}  differences={len(diff)}"
        )
        for i in diff[:10]:
            print(f"  {texts[i]!r}\n    baseline {base[i]}\n    this     {this[i]}")
        status = status or (1 if diff else 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
