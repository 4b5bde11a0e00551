"""What the gate flags in speech transcripts that hold no identifier of a living person.

    .venv/bin/python bench/privacy/transcripts_negatives.py [--baseline /tmp/loupe-base/src]

The texts are the ground-truth transcripts of CrowdSpeech's dev-clean and dev-other
recordings (LibriSpeech audiobooks: 5,567 lower-case sentences without digits, full of
number words, "at" and "dot"), read from ``../shared/data/transcripts/``; the script
exits, saying why, where they are absent. Nobody who wrote Loupe's detectors wrote
them, and nothing was tuned on them. They hold no phone, card, e-mail or other
structured identifier, so every such detection is a false positive; PERSON detections
are counted but not judged (the books name their characters).

Printed per tree (this checkout, and with ``--baseline SRC`` a tree made by
``git archive HEAD src | tar -x -C /tmp/loupe-base`` before a change, each in its own
process): detections per type, and up to ``--show`` examples of each structured one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "transcripts"
FILES = ("crowdspeech-dev-clean-gt.txt", "crowdspeech-dev-other-gt.txt")

CHILD = r"""
import json, sys
from collections import Counter
from loupe.privacy import Scanner
texts = json.load(sys.stdin)
scanner = Scanner()
counts, examples = Counter(), {}
for text in texts:
    for d in scanner.detect(text):
        counts[d.type] += 1
        if d.type != "PERSON":
            examples.setdefault(d.type, []).append(text[max(0, d.start - 30) : d.end + 30])
print(json.dumps({"counts": counts, "examples": examples}))
"""


def load() -> list[str]:
    texts = []
    for name in FILES:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            _, _, text = line.partition("\t")
            if text:
                texts.append(text)
    return texts


def run(tree: Path, texts: list[str]) -> dict[str, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(texts),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, dict[str, object]] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--show", type=int, default=3)
    args = parser.parse_args()
    if not all((DATA / name).exists() for name in FILES):
        raise SystemExit(f"skipped: the CrowdSpeech transcripts are not in {DATA}")
    texts = load()
    print(f"{len(texts)} ground-truth transcripts (LibriSpeech dev-clean + dev-other)")
    trees = [("this", ROOT / "src")]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    for label, tree in trees:
        result = run(tree, texts)
        counts = result["counts"]
        structured = sum(int(n) for t, n in counts.items() if t != "PERSON")  # type: ignore[call-overload]
        print(f"\n{label}: {structured} structured detections (all false), "
              f"{counts.get('PERSON', 0)} PERSON; by type: {dict(sorted(counts.items()))}")  # fmt: skip
        for kind, shown in sorted(result["examples"].items()):
            for example in shown[: args.show]:  # type: ignore[index]
                print(f"  {kind:<16} ...{example}...")


if __name__ == "__main__":
    main()
