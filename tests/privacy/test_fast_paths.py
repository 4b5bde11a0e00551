"""The gate's faster scan finds exactly what the plain one finds (issue 18).

Each fast path here (a trie for a pre-check's words, the lower-case search of ASCII
text with shielded placeholders, digits counted once per text, the person recognizer's
per-word memory and its cheaper token loops) is compared with the plain code it
replaced, kept below as the reference, on the texts of the import benchmark and on
texts hypothesis builds from the pieces each fast path turns on.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.privacy.detectors import (
    addresses,
    base,
    contact,
    dates,
    financial,
    health,
    name_shape,
    names,
    national_ids,
    phone,
)
from loupe.privacy.detectors.base import (
    SHIELD,
    AsciiFold,
    any_of,
    digit_count,
    has_cjk,
    literals,
    longest_unspaced,
    shielded,
)
from loupe.privacy.detectors.gazetteer import PARTICLES
from loupe.privacy.detectors.names import PersonNameDetector
from loupe.privacy.detectors.word_frequencies import COMMON, WordFrequencies
from loupe.privacy.spans import Detection

DETECTOR = PersonNameDetector()

# Pieces that meet the fast paths' edges: capitals, initials, particles, possessives,
# hyphens, calling verbs before lower-case names, places, placeholders and their
# shield, non-ASCII letters, CJK, digits and the pre-checks' cue words.
PIECES = [
    "Maria", "Lopez", "Maria Lopez", "maria", "justine", "aimon", "gutierrez", "soto",
    "Zebulon", "Quarrington", "Jaskulski", "Anna", "Piotr", "E.", "J.R.", "J", "A", "I",
    "van", "de la", "Le Bihan", "bin", "Maria's", "Anna\u2019s", "Bob's", "A's",
    "Jean-Baptiste", "Parry-Quarrington", "Schiller-Allee", "anne-marie", "Union Station",
    "San Pietro Vernotico", "Acme GmbH", "call", "Call", "ring til", "text", "tell",
    "remind me to", "to", "and", "with", "Dr", "Mrs.", "Cheers,", "Dear", "said",
    "lives in Kiel", "Paris", "Monday", "the station", "LinkedIn", "SQLite", "McDonald",
    "Ségolène", "Grüße", "王伟", "昨天", "说", "[PERSON]", "[PERSON_2]", SHIELD * 8,
    "55", "12:30", "1961", "12/03/1961", "aged 93", "110", "MRN", "account", "s/n",
    "plate", "Reg.", "Kennzeichen", "matrícula", "车牌", "\u017f", "\u212a", "\u0130",
]  # fmt: skip
SEPARATORS = ["", " ", " ", " ", ", ", ". ", "-", "'", "\n", "!"]

texts = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), min_size=1, max_size=10
).map(lambda parts: "".join(p + s for p, s in parts)) | st.text(max_size=40)


def _import_utterances(n: int) -> list[str]:
    bench = Path(__file__).resolve().parents[2] / "bench" / "compliance"
    sys.path.insert(0, str(bench))
    try:
        import bench_import  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(bench))
    rng = random.Random(7)
    return [bench_import.utterance(rng, i) for i in range(n)]


# -- the person recognizer as it was ------------------------------------------------


def _reference_runs(text: str, tokens: list[names.Token]) -> Iterator[list[names.Token]]:
    i = 0
    while i < len(tokens):
        if not (
            names._capitalised(tokens[i][2])
            or names._initial_before_name(text, tokens, i, lead=True)
        ):
            i += 1
            continue
        run = [tokens[i]]
        j = i + 1
        while j < len(tokens) and len([t for t in run if names._capitalised(t[2])]) < 4:
            if names._gap(text, run[-1], tokens[j]) is None:
                break
            word = tokens[j][2]
            if (
                names._capitalised(word)
                or (word.lower() in PARTICLES and names._particle_leads_to_name(text, tokens, j))
                or names._initial_before_name(text, tokens, j, lead=False)
            ):
                run.append(tokens[j])
            else:
                break
            j += 1
        i = j
        yield run


def _reference_latin(
    det: PersonNameDetector, text: str, words: list[tuple[int, str]]
) -> Iterator[Detection]:
    tokens = [names._unpossessive(start, word) for start, word in words]
    scored: list[tuple[names._Candidate, float | None]] = []
    last_end = -1
    for run in _reference_runs(text, tokens):
        cand = det._candidate(text, run)
        if cand is None:
            continue
        listed_with = (
            last_end >= 0 and names._COORDINATION.fullmatch(text[last_end : cand.start]) is not None
        )
        score = det._score(text, cand, listed_with=listed_with)
        if score is not None:
            last_end = cand.end
        scored.append((cand, score))
    for k in range(len(scored) - 2, -1, -1):
        (cand, score), (after, after_score) = scored[k], scored[k + 1]
        if (
            score is None
            and after_score is not None
            and names._COORDINATION.fullmatch(text[cand.end : after.start])
            and not names._SIGN_OFF.found(text[: after.start])
            and det._plausible(cand.words)
        ):
            scored[k] = (cand, 0.7)
    for cand, score in scored:
        if score is not None:
            yield Detection(cand.start, cand.end, "PERSON", score)


def _reference_lower_case(
    det: PersonNameDetector, text: str, words: list[tuple[int, str]]
) -> Iterator[Detection]:
    tokens = [(start, start + len(word), word) for start, word in words]
    k = 0
    while k < len(tokens):
        start = tokens[k][0]
        if (
            k == 0
            or not tokens[k][2].islower()
            or tokens[k - 1][2].lower() not in names._LOWER_CUE_ENDS
            or not names._LOWER_CUE.found(text[max(0, start - 40) : start])
        ):
            k += 1
            continue
        end = None
        j = k
        while j < len(tokens) and j - k < 3 and det._lower_name(tokens[j][2]):
            if j > k and text[tokens[j - 1][1] : tokens[j][0]] != " ":
                break
            end = tokens[j][1]
            j += 1
            if j + 1 < len(tokens) and tokens[j][2] == "and" and det._lower_name(tokens[j + 1][2]):
                yield Detection(start, end, "PERSON", 0.7)
                start, end, k = tokens[j + 1][0], tokens[j + 1][1], j + 1
                j = k + 1
        if end is not None:
            yield Detection(start, end, "PERSON", 0.7)
        k = max(j, k + 1)


def _reference_detect(det: PersonNameDetector, text: str) -> list[Detection]:
    """What the recognizer found before the fast paths: nothing remembered, every token
    visited, the Unicode token pattern and the case-insensitive cue patterns throughout."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(det, "_kind", lambda w, common=COMMON: det._look_up(w, common))
        patch.setattr(det, "_lower_name", det._reads_as_name)
        patch.setattr(names, "name_shaped", name_shape.name_shaped)
        patch.setattr(names, "_names_a_place", names._names_a_place.__wrapped__)
        patch.setattr(AsciiFold, "found", lambda self, text: bool(self.pattern.search(text)))
        words = [(m.start(), m.group()) for m in names._TOKEN.finditer(text)]
        found: list[Detection] = []
        if not text.islower():
            found += _reference_latin(det, text, words)
        found += _reference_lower_case(det, text, words)
        if has_cjk(text):
            found += det._cjk(text)
        return found


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_the_person_recognizer_finds_what_it_found_before(text: str) -> None:
    assert list(DETECTOR.detect(text)) == _reference_detect(DETECTOR, text)
    view = shielded(text)  # as the scanner and the redactor's re-scan give it
    assert list(DETECTOR.detect(view)) == _reference_detect(DETECTOR, view)


def test_the_person_recognizer_finds_what_it_found_before_in_the_import_benchmark() -> None:
    utterances = _import_utterances(400)
    for text in utterances:
        assert list(DETECTOR.detect(text)) == _reference_detect(DETECTOR, text), text
    # Some of them name people, in capitals and in lower case.
    assert sum(bool(list(DETECTOR.detect(t))) for t in utterances) > 50


@pytest.mark.parametrize(
    "text",
    [
        "call justine and aimon tomorrow",
        "ring til sten",
        "Cheers, Zebulon Quarrington",
        "Dr. J.R. Hartley's notes",
        "lunch with Maria Lopez and Zebulon",
        "Zebulon and Maria Lopez came",
        "ping [PERSON], then call justine",
        "E. Magnusson, Szabina J Gelencs\u00e9r",
        "Anna\u2019s keys",
        "昨天尹若曦来过",
    ],
)
def test_known_names_are_found_alike(text: str) -> None:
    found = list(DETECTOR.detect(text))
    assert found and found == _reference_detect(DETECTOR, text)


@pytest.mark.parametrize(
    "text", ["avenue Victor Hugo", "Union Station", "Purple Rain", "call me at 5", ""]
)
def test_what_is_no_name_is_passed_over_alike(text: str) -> None:
    assert list(DETECTOR.detect(text)) == _reference_detect(DETECTOR, text) == []


def test_ascii_tokens_are_the_unicode_tokens_of_ascii_text() -> None:
    text = "call Jean-Baptiste O'Neil's ex-wife_2 at 5pm, d'accord? -x- 'tis"
    assert [m.group() for m in names._ASCII_TOKEN.finditer(text)] == [
        m.group() for m in names._TOKEN.finditer(text)
    ]


@given(word=st.sampled_from(PIECES) | st.text(min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_remembered_word_kinds_are_the_looked_up_ones(word: str) -> None:
    for common in (COMMON, names._EVERYDAY_AFTER_CUE):
        assert DETECTOR._kind(word, common=common) == DETECTOR._look_up(word, common)
        assert DETECTOR._kind(word, common=common) == DETECTOR._look_up(word, common)
    assert DETECTOR._lower_name(word) == DETECTOR._reads_as_name(word)
    assert names.name_shaped(word) == name_shape.name_shaped(word)
    assert names._names_a_place(word) == names._names_a_place.__wrapped__(word)


def test_new_frequencies_or_lists_forget_the_remembered_kinds() -> None:
    detector = PersonNameDetector()
    if detector.freq.source is None:
        pytest.skip("wordfreq is not installed")
    assert detector._kind("Heizung") == "word"
    assert detector._lower_name("zebulon")
    detector.freq = WordFrequencies(MappingProxyType({}), None)
    assert detector._kind("Heizung") == "rare"
    assert not detector._lower_name("zebulon")
    detector.lists = detector.lists
    assert not detector._kinds and not detector._lower_names


def test_remembered_kinds_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_KIND_CACHE", 3)
    detector = PersonNameDetector()
    for word in ("Maria", "Heizung", "Zebulon", "Paris", "Quarrington", "Anna"):
        detector._kind(word)
        detector._lower_name(word.lower())
    assert len(detector._kinds) <= 3 and len(detector._lower_names) <= 3


# -- pre-checks ----------------------------------------------------------------------


def test_literals_spell_out_a_pattern_of_plain_words() -> None:
    assert literals(r"a/c|licen[cs]e|med\.? rec|护照号?") == [
        "a/c", "licence", "license", "med rec", "med. rec", "护照", "护照号",
    ]  # fmt: skip
    for pattern in (r"(?:a|b)c", r"a+", r"\bx", "a.c", "[a-c]", "x{2}"):
        with pytest.raises(ValueError, match="plain"):
            literals(pattern)


def test_any_of_lays_words_out_as_a_trie() -> None:
    assert any_of(["mrn", "acct", "account", "a/c"]) == "(?:a(?:/c|cc(?:ount|t))|mrn)"
    assert any_of(["reg", "reg."]) == "reg"  # the longer one is found where the shorter is
    with pytest.raises(ValueError, match="empty"):
        any_of(["a", ""])


@pytest.mark.parametrize(
    ("alternation", "fast"),
    [
        (health._CUE_ALTERNATION, health._ANY_CUE),
        (
            re.compile(r"(?<![A-Za-z0-9_])(?:" + health._PLATE_WORDS + r")|车牌号?(?:码)?", re.I),
            health._ANY_PLATE_WORD,
        ),
    ],
)
@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_a_pre_checks_trie_finds_a_cue_where_its_alternation_does(
    alternation: re.Pattern[str], fast: AsciiFold, text: str
) -> None:
    for piece in (text, text.upper(), text.title(), shielded(text)):
        found = fast.found(piece)
        assert found == bool(fast.pattern.search(piece))
        if fast is health._ANY_CUE:
            assert found == bool(alternation.search(piece))
        else:  # a cued plate needs a cue word; a cue word need not start a plate cue
            assert found or not alternation.search(piece)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_ascii_fold_finds_what_the_pattern_finds_in_shielded_text(text: str) -> None:
    from loupe.privacy.detectors.name_cues import LOWER_CUE, SIGN_OFF, STRONG_CUE, TITLE

    for pattern in (LOWER_CUE, SIGN_OFF, STRONG_CUE, TITLE, health._ANY_CUE.pattern):
        for piece in (text, f"{text}{SHIELD} ", f"{SHIELD * 3}{text.upper()}"):
            assert AsciiFold(pattern).found(piece) == bool(pattern.search(piece))


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_the_date_and_age_pre_checks_pass_every_text_their_patterns_match(text: str) -> None:
    if dates._DATE.search(text):
        assert dates._DATE_DIGITS.search(text)
    if dates._AGE.search(text):
        assert dates._AGE_DIGITS.search(text)


ADDRESS_PIECES = [
    "12", "221B", "5", "Baker", "Street", "St.", "rue", "de la", "Paix", "75002", "Paris",
    "Hauptstraße", "Lindenstr.", "Am", "Markt", "An der", "Calle", "Av.", "Avda.", "Mayor",
    "nº", "3º", "C/", "Pº", "北京市", "建国路", "88号", "\u00c9cole", "\u0661\u0662", "bis",
    "AB12 CDE", "AB-123-CD", "京A12345", "ab12cde", "https://x.org/a", "WWW.x.de", "ftp://h",
    "00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "aa:bb:cc:dd:ee:ff",
    "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "4111 1111 1111 1111",
    "1EG4-TE5-MK73", "1EG4TE5MK73", "49-015420-323751-8", ":", "-", ".",
    "RSSMRA85T10A562S", "1HGCM82633A004352", "\u017f", "\u212a", SHIELD, "0115", "496",
]  # fmt: skip
address_texts = st.lists(
    st.tuples(st.sampled_from(ADDRESS_PIECES), st.sampled_from(["", " ", ", ", "\n"])),
    min_size=1,
    max_size=10,
).map(lambda parts: "".join(p + s for p, s in parts))


@settings(max_examples=400, deadline=None)
@given(text=address_texts | texts)
def test_the_pre_checks_pass_every_text_their_patterns_match(text: str) -> None:
    for pattern, needed in addresses._PRECHECKS:
        if pattern.search(text):
            assert needed.search(text), pattern.pattern
    for (pattern, _), needed in zip(health._PLATE_FORMATS, health._PLATE_NEEDS, strict=True):
        if pattern.search(text):
            assert needed.search(text), pattern.pattern
    if health._VIN.search(text):
        assert longest_unspaced(text) >= health._VIN_LENGTH
    if national_ids._CF.search(text):
        assert longest_unspaced(text) >= national_ids._CF_LENGTH
    if contact._URL.search(text):
        assert "://" in text or "www." in text.lower()
    if contact._MAC.search(text):
        assert max(text.count(":"), text.count("-")) >= 5 or text.count(".") >= 2
    if financial._CARD.search(text):
        assert digit_count(text) >= financial._CARD_MIN_DIGITS
    if financial._IBAN.search(text):
        assert financial._IBAN_START.search(text)
    if health._MBI.search(text):
        assert digit_count(text) >= health._MBI_DIGITS
    if health._IMEI.search(text):
        assert digit_count(text) >= health._IMEI_DIGITS
    with pytest.MonkeyPatch.context() as patch:  # the phone recognizer, unchecked
        patch.setattr(phone, "digit_count", lambda text: sys.maxsize)
        if list(phone.PhoneDetector().detect(text)):
            assert digit_count(text) >= phone._MIN_DIGITS


def test_digits_are_counted_once_per_text_and_right_for_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: list[str] = []
    real = base._DIGIT

    class Counting:
        def findall(self, text: str) -> list[str]:
            counted.append(text)
            return real.findall(text)

    monkeypatch.setattr(base, "_DIGIT", Counting())
    first = "".join(["room 12", " at 9:30"])
    same = "".join(["room 12", " at 9:30"])  # equal, but another object
    assert [digit_count(t) for t in (first, first, "no digits", first, same)] == [5, 5, 0, 5, 5]
    assert counted == [first, "no digits", first, same]
    runs = [longest_unspaced(t) for t in (first, first, "", "a bb", same, "ab\u3000cde")]
    assert runs == [4, 4, 0, 2, 4, 3]
