from __future__ import annotations

import time
from itertools import pairwise

import pytest

from loupe.privacy import Detection, Scanner
from loupe.privacy import scanner as scanner_module
from loupe.privacy.scanner import LONGEST, MARGIN, MAX_CHARS, WINDOW, windows

SCANNER = Scanner()
FILLER = [
    "the",
    "weekly",
    "report",
    "was",
    "sent",
    "again",
    "after",
    "lunch",
    "and",
    "nobody",
    "read",
    "it",
    "so",
    "we",
    "went",
    "back",
    "to",
    "the",
    "usual",
    "plan",
    "of",
    "waiting",
    "for",
    "the",
    "next",
    "meeting",
    "on",
    "the",
    "shared",
    "calendar",
]
IDENTIFIERS = [
    ("ana.ruiz@correo.es", "EMAIL"),
    ("+44 20 7946 0958", "PHONE"),
    ("4111 1111 1111 1111", "CREDIT_CARD"),
    ("DE89 3704 0044 0532 0130 00", "IBAN"),
    ("123-45-6789", "US_SSN"),
]
# Where identifiers are put: across the edges of the first windows and of their margins.
EDGES = sorted(
    {
        p
        for start, end in list(windows(3 * WINDOW))[:2]
        for p in (start, start + MARGIN, end - MARGIN, end)
    }
    - {0}
)


def long_text(words: int) -> tuple[str, list[tuple[int, int, str]]]:
    """About ``words`` words of filler with identifiers every ~250 words and across edges."""
    parts: list[str] = []
    gold: list[tuple[int, int, str]] = []
    length = 0
    edges = sorted(EDGES)
    count = 0

    def put(value: str, kind: str) -> None:
        nonlocal length
        parts.append(value + " ")
        gold.append((length, length + len(value), kind))
        length += len(value) + 1

    while count < words:
        if edges and length >= edges[0] - 12:
            parts.append(" " * (edges[0] - 6 - length))  # start 6 characters before the edge
            length = edges[0] - 6
            value, kind = IDENTIFIERS[len(gold) % len(IDENTIFIERS)]
            put(value, kind)
            edges.pop(0)
        elif count % 250 == 125:
            value, kind = IDENTIFIERS[len(gold) % len(IDENTIFIERS)]
            put(value, kind)
        word = FILLER[count % len(FILLER)]
        parts.append(word + " ")
        length += len(word) + 1
        count += 1
    return "".join(parts), gold


def test_a_five_thousand_word_text_is_shown_with_every_identifier_found() -> None:
    text, gold = long_text(5000)
    assert len(text) > 3 * WINDOW
    scan = SCANNER.scan(text)
    assert (scan.verdict, scan.reason) == ("show", None)
    found = {(d.start, d.end, d.type) for d in scan.spans}
    assert set(gold) <= found
    straddling = [g for g in gold if any(g[0] < e <= g[1] - 1 for e in EDGES)]
    assert len(straddling) == len(EDGES)


def test_chunked_scan_matches_a_whole_text_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = long_text(3000)
    chunked = SCANNER.detect(text)
    monkeypatch.setattr(scanner_module, "WINDOW", 10**9)
    assert SCANNER.detect(text) == chunked


def test_an_identifier_longer_than_the_overlap_is_still_covered() -> None:
    url = "https://example.org/" + "a" * (2 * LONGEST)
    prefix = "x " * ((WINDOW - LONGEST) // 2)
    text = prefix + url + " done"
    spans = SCANNER.detect(text)
    start = text.index(url)
    covered = [d for d in spans if d.overlaps(Detection(start, start + len(url), "URL", 1.0))]
    assert covered
    assert min(d.start for d in covered) <= start
    assert max(d.end for d in covered) >= start + len(url)


def test_the_verdict_reads_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_clock() -> float:
        raise AssertionError("the scanner must not read the clock")

    for name in ("perf_counter", "monotonic", "time", "process_time"):
        monkeypatch.setattr(time, name, no_clock)
    text, gold = long_text(800)
    scan = SCANNER.scan(text)
    assert scan.verdict == "show"
    assert len(scan.spans) >= len(gold)


def test_only_size_withholds() -> None:
    assert MAX_CHARS >= 1_000_000
    assert Scanner().max_chars == MAX_CHARS
    scan = Scanner(max_chars=10).scan("x" * 11)
    assert (scan.verdict, scan.reason, scan.spans) == ("withhold", "too_long", ())
    assert Scanner(max_chars=11).scan("x" * 11).verdict == "show"


def test_windows_cover_the_text_with_the_promised_overlap() -> None:
    assert list(windows(0)) == [(0, 0)]
    assert list(windows(WINDOW)) == [(0, WINDOW)]
    spans = list(windows(5 * WINDOW + 17))
    assert spans[0][0] == 0
    assert spans[-1][1] == 5 * WINDOW + 17
    for (_, end), (start, _) in pairwise(spans):
        assert end - start == LONGEST + 2 * MARGIN
