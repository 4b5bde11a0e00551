"""Precision and recall per type on the synthetic set, plus throughput.

    python bench/privacy/evaluate.py --seed 7 --n 2000 [--split main|blind|fresh|fresh2]
        [--without-faker] [--without-wordfreq]

A prediction is a true positive under *overlap* matching when it has the same
type as a gold span and shares at least one character with it; *exact* matching
also requires identical offsets. Both are printed; recall targets are judged on
overlap. National-ID subtypes are scored separately.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import SPLITS, _check_held_out, generate

from loupe.privacy import Scanner
from loupe.privacy.detectors.name_lists import NameLists, name_lists
from loupe.privacy.detectors.word_frequencies import word_frequencies


def _listed(name: str, lists: NameLists) -> bool:
    """Whether the recognizer's lists (Loupe's + faker's) hold some word of ``name``."""
    if all("\u4e00" <= ch <= "\u9fff" for ch in name):
        return name[:2] in lists.cjk_surnames or name[:1] in lists.cjk_surnames
    return any(w in lists.given or w in lists.family for w in name.split())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--split", choices=SPLITS, default="main")
    parser.add_argument("--without-faker", action="store_true", help="Loupe's own name lists only")
    parser.add_argument("--without-wordfreq", action="store_true", help="no word frequencies")
    args = parser.parse_args()
    if args.without_faker:
        sys.modules["faker"] = None  # type: ignore[assignment]  # makes `import faker` fail
    if args.without_wordfreq:
        sys.modules["wordfreq"] = None  # type: ignore[assignment]
    _check_held_out()
    items = generate(args.seed, args.n, split=args.split)
    lists = name_lists()
    scanner = Scanner()
    scanner.scan("warm up +49 30 1234567")
    t0 = time.perf_counter()
    predictions = [scanner.detect(item.text) for item in items]
    elapsed = time.perf_counter() - t0
    tp, fp, fn, tp_exact = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    names = Counter[str]()
    for item, preds in zip(items, predictions, strict=True):
        matched: set[int] = set()
        sources = iter(item.name_sources)
        for start, end, kind in item.spans:
            hit = [
                k for k, p in enumerate(preds) if p.type == kind and p.start < end and start < p.end
            ]
            if hit:
                tp[kind] += 1
                matched.update(hit)
                if any(preds[k].start == start and preds[k].end == end for k in hit):
                    tp_exact[kind] += 1
            else:
                fn[kind] += 1
            if kind == "PERSON":
                source = next(sources)
                keys = {source}
                if source == "held_out":
                    listed = _listed(item.text[start:end], lists)
                    keys.add("held_out_listed" if listed else "held_out_unlisted")
                for key in keys:
                    names[f"{key}_total"] += 1
                    names[f"{key}_found"] += bool(hit)
        for k, p in enumerate(preds):
            if k not in matched:
                fp[p.type] += 1
    print(f"items: {len(items)}  seed: {args.seed}  throughput: {len(items) / elapsed:.0f} items/s")
    print(f"{'type':24} {'gold':>5} {'P':>6} {'R':>6} {'R_exact':>8} {'FP':>4}")
    for kind in sorted(set(tp) | set(fn) | set(fp)):
        gold = tp[kind] + fn[kind]
        p = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else float("nan")
        r = tp[kind] / gold if gold else float("nan")
        re_ = tp_exact[kind] / gold if gold else float("nan")
        print(f"{kind:24} {gold:5d} {p:6.3f} {r:6.3f} {re_:8.3f} {fp[kind]:4d}")
    print(f"name lists: {', '.join(lists.sources)}; word frequencies: {word_frequencies().source}")
    for src in ("gazetteer", "held_out", "held_out_listed", "held_out_unlisted"):
        total = names[f"{src}_total"]
        if total:
            print(f"PERSON recall ({src}): {names[f'{src}_found'] / total:.3f} of {total}")


if __name__ == "__main__":
    main()
