"""Score ``loupe.privacy.Scanner`` on the independent corpus (``independent.py``).

Run: ``.venv/bin/python bench/privacy/independent_eval.py --split dev`` (or ``holdout``).
``--misses N`` prints up to N missed gold spans with their text, on ``dev`` only: the
holdout split is scored, never inspected, so the script refuses ``--misses`` there.

Only the public API is used: ``Scanner().detect(text)`` and each detection's ``start``,
``end`` and ``type``.

Matching. A gold span is found when a prediction of a matching type shares at least one
character with it. Loupe's type names need not equal the corpus labels: a prediction
counts for the first label (in this order) whose key it contains, as a substring of the
upper-cased type name or, for the short keys marked *, as a whole ``_``-separated word:

=============== ==========================================================
label            prediction types that count for it
=============== ==========================================================
EMAIL            ...EMAIL...
IP_ADDRESS       IP* or IPV4*/IPV6* as a word, ...IP_ADDRESS...
MAC_ADDRESS      ...MAC...
IBAN             ...IBAN...
US_SSN           ...SSN...
UK_NINO          ...NINO..., ...NATIONAL_INSURANCE...
CREDIT_CARD      ...CARD...
PHONE            ...PHONE..., ...TELEPHONE...
DATE_OF_BIRTH    ...BIRTH..., DOB*, DATE*
STREET_ADDRESS   ...ADDRESS..., ...STREET..., ...LOCATION...
PERSON           ...PERSON..., NAME*
=============== ==========================================================

(So a generic DATE detection on a date of birth counts as finding it; on an event date it
counts against DATE_OF_BIRTH precision.) Other types (e.g. DEVICE_ID) map to no label;
they are counted, and their characters enter character precision.

Figures: per label, gold count, recall and precision (a prediction mapped to the label is
correct when it overlaps a gold span of that label); recall over all structured
identifiers (every label but PERSON, STREET_ADDRESS and DATE_OF_BIRTH); PERSON recall;
and character precision: characters inside any prediction that are also inside some gold
span (any label), over characters inside any prediction.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.privacy.independent import LABELS, STRUCTURED, Item, split

_KEYS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # label, substrings, whole words
    ("EMAIL", ("EMAIL",), ()),
    ("IP_ADDRESS", ("IP_ADDRESS",), ("IP", "IPV4", "IPV6")),
    ("MAC_ADDRESS", ("MAC",), ()),
    ("IBAN", ("IBAN",), ()),
    ("US_SSN", ("SSN",), ()),
    ("UK_NINO", ("NINO", "NATIONAL_INSURANCE"), ()),
    ("CREDIT_CARD", ("CARD",), ()),
    ("PHONE", ("PHONE",), ()),
    ("DATE_OF_BIRTH", ("BIRTH",), ("DOB", "DATE")),
    ("STREET_ADDRESS", ("ADDRESS", "STREET", "LOCATION"), ()),
    ("PERSON", ("PERSON",), ("NAME",)),
)


def label_of(prediction_type: str) -> str | None:
    """The corpus label a Loupe detection type counts for, or None."""
    upper = prediction_type.upper()
    words = set(re.split(r"[^A-Z0-9]+", upper))
    for label, substrings, whole in _KEYS:
        if any(s in upper for s in substrings) or words & set(whole):
            return label
    return None


@dataclass
class Scores:
    gold: Counter[str]
    found: Counter[str]
    predicted: Counter[str]
    correct: Counter[str]
    unmapped: int
    pred_chars: int
    pred_chars_in_gold: int
    misses: list[tuple[Item, int, int, str]]

    def recall(self, labels: frozenset[str] | set[str]) -> float:
        gold = sum(self.gold[label] for label in labels)
        return sum(self.found[label] for label in labels) / gold if gold else float("nan")

    def precision(self, label: str) -> float:
        n = self.predicted[label]
        return self.correct[label] / n if n else float("nan")

    @property
    def char_precision(self) -> float:
        return self.pred_chars_in_gold / self.pred_chars if self.pred_chars else float("nan")


class Detected(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def type(self) -> str: ...


def score(
    items: Sequence[Item], *, detect: Callable[[str], Sequence[Detected]] | None = None
) -> Scores:
    """Score ``detect`` (by default ``Scanner().detect``) on ``items``."""
    if detect is None:
        from loupe.privacy import Scanner

        detect = Scanner().detect
    s = Scores(Counter(), Counter(), Counter(), Counter(), 0, 0, 0, [])
    for item in items:
        predictions = [(d.start, d.end, label_of(d.type)) for d in detect(item.text)]
        gold_chars: set[int] = set()
        for g in item.spans:
            gold_chars.update(range(g.start, g.end))
            s.gold[g.type] += 1
            if any(lab == g.type and a < g.end and g.start < b for a, b, lab in predictions):
                s.found[g.type] += 1
            else:
                s.misses.append((item, g.start, g.end, g.type))
        pred_chars: set[int] = set()
        for a, b, lab in predictions:
            pred_chars.update(range(a, b))
            if lab is None:
                s.unmapped += 1
                continue
            s.predicted[lab] += 1
            if any(g.type == lab and a < g.end and g.start < b for g in item.spans):
                s.correct[lab] += 1
        s.pred_chars += len(pred_chars)
        s.pred_chars_in_gold += len(pred_chars & gold_chars)
    return s


def _pct(x: float) -> str:
    return "   n/a" if x != x else f"{100 * x:5.1f}%"


def report(name: str, s: Scores) -> str:
    lines = [f"split {name}: {sum(s.gold.values())} gold spans", ""]
    lines.append(f"{'label':<16}{'gold':>6}{'recall':>9}{'pred':>7}{'precision':>11}")
    for label in LABELS:
        lines.append(
            f"{label:<16}{s.gold[label]:>6}{_pct(s.recall({label})):>9}"
            f"{s.predicted[label]:>7}{_pct(s.precision(label)):>11}"
        )
    lines += [
        "",
        f"structured identifiers recall  {_pct(s.recall(STRUCTURED))}",
        f"PERSON recall                  {_pct(s.recall({'PERSON'}))}",
        f"character precision            {_pct(s.char_precision)}",
        f"predictions of unmapped types  {s.unmapped}",
    ]
    return "\n".join(lines)


def as_json(name: str, s: Scores) -> str:
    per_label = {
        label: {
            "gold": s.gold[label],
            "recall": round(s.recall({label}), 4),
            "predicted": s.predicted[label],
            "precision": round(s.precision(label), 4) if s.predicted[label] else None,
        }
        for label in LABELS
    }
    return json.dumps(
        {
            "split": name,
            "structured_recall": round(s.recall(STRUCTURED), 4),
            "person_recall": round(s.recall({"PERSON"}), 4),
            "char_precision": round(s.char_precision, 4),
            "unmapped_predictions": s.unmapped,
            "per_label": per_label,
        },
        sort_keys=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=["dev", "holdout"], default="dev")
    parser.add_argument(
        "--corpus",
        choices=["independent", "spoken"],
        default="independent",
        help="spoken: identifiers as a speech recogniser writes them (spoken.py)",
    )
    parser.add_argument("--misses", type=int, default=0, metavar="N", help="dev only")
    args = parser.parse_args(argv)
    if args.misses and args.split == "holdout":
        parser.error("--misses is refused on the holdout split: it is never inspected")
    if args.corpus == "spoken":
        from bench.privacy.spoken import split as spoken_split

        items = spoken_split(args.split)
    else:
        items = split(args.split)
    s = score(items)
    print(report(f"{args.split} ({args.corpus})", s))
    print(as_json(args.split, s))
    if args.misses:
        print(f"\nfirst {min(args.misses, len(s.misses))} of {len(s.misses)} misses:")
        for item, a, b, label in s.misses[: args.misses]:
            print(f"  {label:<15} {item.text[a:b]!r:<40} in {item.text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
