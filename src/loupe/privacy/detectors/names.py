"""Person names from name lists, capitalisation, word shape and context, with no model.

A candidate is a run of capitalised words (allowing particles such as "van",
"de la", "bin") or, in Chinese, a family-name character followed by one or two
given-name characters. Unlisted everyday words at either end of a run are
dropped ("LinkedIn", "Schick … Blumen"), and a run that is a known place or ends
in a place or organisation word ("San Pietro Vernotico", "Union Station", "Acme GmbH")
is never a person. Evidence is then added up:

* a title right before it ("Dr", "Mrs", "Herr", "Mme", "Sra.") is nearly decisive;
* a cue (:mod:`~loupe.privacy.detectors.name_cues`) — "call", "my name is",
  "ruf … an", "je m'appelle", "vi a", a greeting, a sign-off ("Cheers,",
  "Viele Grüße,"), or a verb after it ("… said", "… hat angerufen", "… m'a dit") —
  makes any capitalised run a name;
* a given name from :func:`~loupe.privacy.detectors.name_lists.name_lists`
  (Loupe's lists plus faker's, when installed) followed by a capitalised word is a
  name; a known family name after an unknown first word is likely one;
* a lone given name counts only when it is not also an everyday word or a place
  ("Will", "May", "Austin") and does not merely open the sentence;
* words no list holds are judged by their shape and frequency
  (:mod:`~loupe.privacy.detectors.name_shape`,
  :mod:`~loupe.privacy.detectors.word_frequencies`): two or more capitalised words
  of which none is an everyday word or a place are a name when at least one is
  rare or a listed name ("Zebulon Quarrington" — names are rare words, and
  "Purple Rain" or "Crédit Agricole" are made of common ones); a lone rare word is a
  name only as a vocative ("Zebulon, …", "…, Zebulon!"), in a list with a name, before a
  verb that people do ("… lives", "… wohnt"), or, when it ends like a family name
  ("-ski", "-mann", "-ez"), after "with"/"and";
* in Chinese, a family name that does not begin or end an everyday word, followed
  by one or two characters that do not begin one, standing between word
  boundaries ("昨天晚上范晓雯回家了") is a name even without a cue (when frequencies are
  available).

Weak cues ("with", "and", "mit") alone are not enough for a run that has no
other evidence: they precede companies and places as often as people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Literal

from loupe.privacy.detectors.base import AsciiFold, has_cjk
from loupe.privacy.detectors.gazetteer import (
    NOT_NAMES,
    ORG_WORDS,
    PARTICLES,
    PLACE_WORDS,
    TITLE_WORDS,
)
from loupe.privacy.detectors.name_cues import (
    AFTER_CUE,
    AFTER_PERSON_VERB,
    AFTER_WEAK,
    BEFORE_WEAK,
    CJK_AFTER,
    CJK_BEFORE,
    LOWER_CUE,
    SIGN_OFF,
    STREET_BEFORE,
    STRONG_CUE,
    TITLE,
)
from loupe.privacy.detectors.name_lists import NameLists, name_lists
from loupe.privacy.detectors.name_shape import name_shaped as _shaped
from loupe.privacy.detectors.name_shape import surname_shaped
from loupe.privacy.detectors.word_frequencies import COMMON, WordFrequencies, word_frequencies
from loupe.privacy.spans import Detection

__all__ = ["PersonNameDetector"]

# A pure function of the word, asked for the same words again and again.
name_shaped = lru_cache(maxsize=4_096)(_shaped)

# The cues searched in ASCII text as lower-case patterns (faster; same matches).
_LOWER_CUE, _SIGN_OFF, _STREET_BEFORE, _STRONG_CUE, _TITLE = map(
    AsciiFold, (LOWER_CUE, SIGN_OFF, STREET_BEFORE, STRONG_CUE, TITLE)
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
# The same tokens in ASCII text, where a letter is [A-Za-z]: a plain class is faster.
_ASCII_TOKEN = re.compile(r"[A-Za-z]+(?:['\-][A-Za-z]+)*")
_HOUSE_NUMBER = re.compile(r"\d[a-zA-Z]?,? $")
# Between two names in a list: "Anna and Piotr", "Anna, Piotr", "Anna und Piotr".
_COORDINATION = re.compile(r",? (?:and|und|et|y|e|&) |, ")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n¡¿]\s*)$")
# A vocative that closes a sentence: "See you soon, Zebulon!"
_VOCATIVE_BEFORE = re.compile(r", $")
_VOCATIVE_AFTER = re.compile(r"^\s*(?:[.!?\u2026]|$)")
_HYPHEN = re.compile(r"[\-\u2010\u2011]")
# After a name that opens a sentence as its subject: a lower-case word that is not a
# determiner or pronoun (those follow an imperative verb: "Cross the road").
_SUBJECT_AFTER = re.compile(
    r"^ (?!(?:the|a|an|my|your|our|their|his|her|its|this|that|these|those|all|some|me|"
    r"us|him|them|it|you|up|out|down|off|in|on|of|for|to|and|or|with|at|by|from|de|"
    r"du|del|la|le|les|der|die|das|und|et|y)\b)[a-zà-ÿ]"
)
# Before a place more often than a person: "nacida en Bilbao", "born in Jersey".
_LOCATIVE_BEFORE = re.compile(
    r"\b(?:in|en|im|à|au|aux|nach|near|de|del|da|di|à côté de)\s$", re.IGNORECASE
)
# A lone listed name opening a sentence that is more frequent than this is more often
# the word ("Love you").
_LONE_NAME_MAX_ZIPF = 5.5
# A listed name typed in lower case that is more frequent than this is the word ("call
# mom", "ring back").
_LOWER_NAME_MAX_ZIPF = 4.5
# ... except right after a verb that takes a person ("call john", "tell michael"), and
# for a listed family name after a given name ("call chloe brown"): there a listed name
# that is not a common word counts up to this frequency (a speech recogniser writes
# every name in lower case, the commonest ones included). "will", "may", "back" and
# "home" are common words (``lists.common``), so "the call will start" stays clean.
_CALLED_NAME_MAX_ZIPF = 5.6
_CALLING_VERBS = frozenset(["call", "ring", "text", "message", "phone", "ping", "tell", "ask"])
# The last word of each LOWER_CUE phrase: a cheap test before the regular expression.
_LOWER_CUE_ENDS = frozenset(
    [
        "call",
        "ring",
        "text",
        "message",
        "ping",
        "phone",
        "remind",
        "to",
        "with",
        "send",
        "chiama",
        "chiamare",
        "a",
        "para",
        "bel",
        "til",
        "till",
        "appelle",
        "ruf",
        "do",
        "ask",
        "tell",
        "pay",
        "note",
        "schreib",
        "schreibe",
        "à",
        "stuur",
        "that's",
    ]
)
_CJK_BRACKETED = re.compile(
    r"(?:给|告诉|联系|通知|提醒|问问)([\u4e00-\u9fff]{2,3}?)"
    r"(?=打电话|发短信|发消息|发微信|明天|今天|后天|女士|先生|小姐|\uff0c|\u3002|\uff01|$)"
)
_CJK_STOP = frozenset(
    "的了在是和与跟给打发说先女小医老吗呢吧啊就也都很还要会能去来到对把被让从向问请我你他她它们这那个"
)
# A two-character given name that is also a word ("建国") is taken unless the word
# is among the most frequent ("明天", "一起"): then the family name is alone.
_CJK_GIVEN_WORD_MAX = 5.0
# A family-name character inside a word this frequent is never a name, cue or not.
_CJK_EVERYDAY = 4.5
# After a cue ("Cordialement, Ségolène") only a more frequent word is taken for an
# everyday one; the same bar trims everyday words off the ends of a run.
_EVERYDAY_AFTER_CUE = 4.0

Kind = Literal["name", "ambiguous", "word", "place", "rare", "frequent"]
# Words a detector remembers the kind of (:meth:`PersonNameDetector._kind`), and
# whether they read as a name in lower case (:meth:`PersonNameDetector._lower_name`).
_KIND_CACHE = 4_096
Token = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    words: tuple[str, ...]  # without particles and initials
    initials: int = 0


class PersonNameDetector:
    """Person names in Latin script and Chinese.

    >>> t = "call Maria Schmidt at +49 30 1234567"
    >>> [t[d.start : d.end] for d in PersonNameDetector().detect(t)]
    ['Maria Schmidt']
    """

    name: ClassVar[str] = "person"
    types: ClassVar[tuple[str, ...]] = ("PERSON",)

    def __init__(self) -> None:
        # What the words looked up lately are (:meth:`_kind`, :meth:`_lower_name`): words
        # recur, and a look-up reads several lists. Bounded (emptied when full), and emptied
        # when the lists or frequencies are replaced.
        self._kinds: dict[tuple[str, float], Kind] = {}
        self._lower_names: dict[str, bool] = {}
        self.lists = name_lists()
        self.freq = word_frequencies()

    @property
    def lists(self) -> NameLists:
        """The name lists consulted."""
        return self._lists

    @lists.setter
    def lists(self, lists: NameLists) -> None:
        self._lists = lists
        self._kinds.clear()
        self._lower_names.clear()

    @property
    def freq(self) -> WordFrequencies:
        """The word frequencies consulted."""
        return self._freq

    @freq.setter
    def freq(self, freq: WordFrequencies) -> None:
        self._freq = freq
        self._kinds.clear()
        self._lower_names.clear()

    def detect(self, text: str) -> Iterator[Detection]:
        token = _ASCII_TOKEN if text.isascii() else _TOKEN
        words = [(m.start(), m.group()) for m in token.finditer(text)]
        if _may_be_capitalised(text):
            yield from self._latin(text, words)
        yield from self._lower_case(text, words)
        if has_cjk(text):
            yield from self._cjk(text)

    # -- Latin script ---------------------------------------------------------------

    def _latin(self, text: str, words: list[tuple[int, str]]) -> Iterator[Detection]:
        if "'s" in text or "\u2019s" in text:
            tokens = [_unpossessive(start, word) for start, word in words]
        else:  # no token ends in a possessive
            tokens = [(start, start + len(word), word) for start, word in words]
        scored: list[tuple[_Candidate, float | None]] = []
        last_end = -1  # where the previous name ended, for "Anna and Piotr"
        for run in _runs(text, tokens):
            cand = self._candidate(text, run)
            if cand is None:
                continue
            listed_with = (
                last_end >= 0 and _COORDINATION.fullmatch(text[last_end : cand.start]) is not None
            )
            score = self._score(text, cand, listed_with=listed_with)
            if score is not None:
                last_end = cand.end
            scored.append((cand, score))
        # A list read backwards: "Zebulon and Maria Lopez" — a plausible run just before a
        # name it is coordinated with is one too.
        for k in range(len(scored) - 2, -1, -1):
            (cand, score), (after, after_score) = scored[k], scored[k + 1]
            if (
                score is None
                and after_score is not None
                and _COORDINATION.fullmatch(text[cand.end : after.start])
                and not _SIGN_OFF.found(text[: after.start])
                and self._plausible(cand.words)
            ):
                scored[k] = (cand, 0.7)
        for cand, score in scored:
            if score is not None:
                yield Detection(cand.start, cand.end, "PERSON", score)

    def _lower_case(self, text: str, words: list[tuple[int, str]]) -> Iterator[Detection]:
        """Names typed in lower case after a calling verb ("call justine", "ring til sten").

        Up to three words that are each a listed name or a rare word, stopping at the
        first everyday word ("call aimon gutierrez soto on mobile"); "and" joins another.
        """
        # A name can only start at a lower-case word right after a cue's last word.
        cued = [
            k
            for k in range(1, len(words))
            if words[k - 1][1].lower() in _LOWER_CUE_ENDS and words[k][1].islower()
        ]
        if not cued:
            return
        tokens = [(start, start + len(word), word) for start, word in words]
        k = 0  # the first token not yet read as (part of) a name
        for cue_end in cued:
            if cue_end < k:
                continue
            k = cue_end
            start = tokens[k][0]
            # Without a name-like first word nothing is taken: that is checked first, as
            # it is the cheaper test (and remembered per word).
            first = tokens[k][2]
            called = words[k - 1][1].lower() in _CALLING_VERBS
            if not (
                self._lower_name(first) or (called and self._called_name(first, self.lists.given))
            ) or not _LOWER_CUE.found(text[max(0, start - 40) : start]):
                k += 1
                continue
            end = None
            j = k
            while (
                j < len(tokens)
                and j - k < 3
                and (
                    j == k  # the first word, read as a name above
                    or self._lower_name(tokens[j][2])
                    or self._called_name(tokens[j][2], self.lists.family)
                )
            ):
                if j > k and text[tokens[j - 1][1] : tokens[j][0]] != " ":
                    break
                end = tokens[j][1]
                j += 1
                if (
                    j + 1 < len(tokens)
                    and tokens[j][2] == "and"
                    and self._lower_name(tokens[j + 1][2])
                ):
                    yield Detection(start, end, "PERSON", 0.7)
                    start, end, k = tokens[j + 1][0], tokens[j + 1][1], j + 1
                    j = k + 1
            if end is not None:
                yield Detection(start, end, "PERSON", 0.7)
            k = max(j, k + 1)

    def _lower_name(self, word: str) -> bool:
        """Whether a lower-case word reads as a name: listed or rare, not an everyday word."""
        known = self._lower_names.get(word)
        if known is None:
            if len(self._lower_names) >= _KIND_CACHE:
                self._lower_names.clear()
            known = self._lower_names[word] = self._reads_as_name(word)
        return known

    def _called_name(self, word: str, listed: AbstractSet[str]) -> bool:
        """Whether a lower-case word in ``listed`` reads as a name where a name is expected:
        not a common word, and up to :data:`_CALLED_NAME_MAX_ZIPF`."""
        if not word.islower() or word in self.lists.common:
            return False
        title = word[0].upper() + word[1:]
        return (
            title in listed
            and title not in NOT_NAMES
            and self.freq.zipf(word) < _CALLED_NAME_MAX_ZIPF
        )

    def _reads_as_name(self, word: str) -> bool:
        if not word.islower() or len(word) < 2 or word in self.lists.common:
            return False
        title = word[0].upper() + word[1:]
        if title in NOT_NAMES:
            return False
        zipf = self.freq.zipf(word)
        if title in self.lists.given or title in self.lists.family:
            return zipf < _LOWER_NAME_MAX_ZIPF
        parts = [p for p in _HYPHEN.split(word) if p]
        if len(parts) > 1:
            return all(self._lower_name(p) for p in parts)
        return self.freq.source is not None and zipf < 2.5

    def _candidate(self, text: str, run: list[Token]) -> _Candidate | None:
        """The part of a capitalised run that could be a name, if any."""
        # Drop leading capitalised function words ("Call", "Dear", "Herr") and cut at the
        # first one inside the run, unless it is a particle between names ("Le Bihan").
        while run and (
            (run[0][2] in NOT_NAMES and not _is_initial(run[0][2]))
            or run[0][2].lower().rstrip(".") in TITLE_WORDS
        ):
            run = run[1:]
        for k, tok in enumerate(run):
            if _names_a_place(tok[2]):
                return None  # "Acme Corp", "Victoria Station", "Schiller-Allee"
            if (
                tok[2] in NOT_NAMES
                and not _is_initial(tok[2])
                and not (tok[2].lower() in PARTICLES and 0 < k < len(run) - 1)
            ):
                run = run[:k]
                break
        if len(run) > 1 and text[run[0][0] : run[-1][1]] in self.lists.places:
            return None  # "San Pietro Vernotico"
        # Everyday words and brand-like words at either end are not part of a name
        # ("LinkedIn Maria", "Schick Maria Blumen").
        while run and not _is_initial(run[0][2]) and self._edge_word(run[0][2]):
            run = run[1:]
        while run and (
            run[-1][2].lower() in PARTICLES
            or _is_initial(run[-1][2])
            or self._edge_word(run[-1][2])
        ):
            run = run[:-1]
        if not run:
            return None
        start, end = run[0][0], run[-1][1]
        before = text[max(0, start - 40) : start]
        if _HOUSE_NUMBER.search(before) or _STREET_BEFORE.found(before):
            return None  # "55 Victoria Gardens", "avenue Victor Hugo": a street
        words = tuple(t[2] for t in run if t[2].lower() not in PARTICLES and not _is_initial(t[2]))
        initials = sum(_is_initial(t[2]) for t in run)
        return _Candidate(start, end, words, initials) if words else None

    def _score(self, text: str, cand: _Candidate, *, listed_with: bool = False) -> float | None:
        lists = self.lists
        words = cand.words
        before = text[max(0, cand.start - 40) : cand.start]
        after = text[cand.end : cand.end + 24]
        n = len(words)
        given = [w in lists.given for w in words]
        family = [w in lists.family for w in words]
        plain = [w not in lists.ambiguous for w in words]
        listed = any((g or f) and p for g, f, p in zip(given, family, plain, strict=True))
        if _TITLE.found(before):
            return 0.9
        # Initials with a name-shaped word ("E. Magnusson", "Szabina J Gelencsér") make a
        # name unless a word is an everyday one or a place ("D.C. Comics").
        if (
            cand.initials
            and all(map(name_shaped, words))
            and not any(self._kind(w) in ("word", "place") for w in words)
        ):
            return 0.85 if listed else 0.7
        # A cue (or a name right before it: "Anna and Piotr") makes any name-shaped run
        # a name, but one everyday word or place stays one ("When called from ...").
        shaped = all(map(name_shaped, words))
        if (
            shaped
            and not all(
                self._kind(w, common=_EVERYDAY_AFTER_CUE) in ("word", "place") for w in words
            )
            and (
                listed_with
                or _STRONG_CUE.found(before)
                or _SIGN_OFF.found(before)
                or AFTER_CUE.match(after)
            )
        ):
            return 0.85 if n >= 2 or given[0] or family[0] else 0.7
        kinds = [self._kind(w) for w in words]
        # Without frequencies "rare" only means "not in faker's short word lists", which
        # is no evidence: the signals that rest on rarity are then off.
        rarity = self.freq.source is not None
        if AFTER_WEAK.match(after) and (
            listed
            or (rarity and n >= 2 and shaped and not any(k in ("word", "place") for k in kinds))
        ):
            return 0.85 if n >= 2 else 0.7
        if n >= 2 and given[0] and (plain[0] or (family[-1] and plain[-1])):
            return 0.85
        if n >= 2 and family[0] and given[1] and plain[1]:
            return 0.85  # "Schmidt Maria"
        if n >= 2 and family[-1] and plain[-1] and plain[0]:
            return 0.7
        if n >= 2 and any(g and p for g, p in zip(given, plain, strict=True)):
            return 0.6
        opens = _SENTENCE_START.search(before) is not None
        # A lone listed name ("Nicole", "Jensen") is a name mid-sentence; opening one it
        # needs a vocative comma ("Maria, ...") or to be the subject: a lower-case word,
        # not a determiner ("Cross the road"), follows, and it is not a very common word.
        if (
            n == 1
            and (given[0] or (family[0] and not _LOCATIVE_BEFORE.search(before)))
            and plain[0]
            and (
                not opens
                or after.startswith(",")
                or (
                    _SUBJECT_AFTER.match(after) is not None
                    and self.freq.zipf(words[0]) < _LONE_NAME_MAX_ZIPF
                )
            )
        ):
            return 0.6
        return self._shape_score(words, kinds, before, after, opens=opens) if shaped else None

    def _shape_score(
        self, words: tuple[str, ...], kinds: list[Kind], before: str, after: str, *, opens: bool
    ) -> float | None:
        """Evidence from words no list holds: their shape, rarity and position."""
        if any(k in ("word", "place") for k in kinds):
            return None
        if len(words) >= 2:
            # Names are rare words; titles, brands and places are mostly common ones.
            if self.freq.source is not None and any(k in ("rare", "name") for k in kinds):
                return 0.6 if opens else 0.7
            return None
        if kinds[0] == "name" and surname_shaped(words[0]) and BEFORE_WEAK.search(before):
            return 0.6  # "dinner with Lundqvist": a listed family name that looks like one
        if kinds[0] != "rare" or self.freq.source is None:
            return None
        if (opens and after.startswith(",")) or (
            _VOCATIVE_BEFORE.search(before) and _VOCATIVE_AFTER.match(after)
        ):
            return 0.6  # "Zebulon, kannst du …", "See you soon, Zebulon!"
        if AFTER_PERSON_VERB.match(after):
            return 0.6  # "Zebulon lives in Kiel"
        if surname_shaped(words[0]) and (BEFORE_WEAK.search(before) or AFTER_WEAK.match(after)):
            return 0.6  # "dinner with Jaskulski"
        return None

    def _kind(self, word: str, *, common: float = COMMON) -> Kind:
        """What a word is, for a name: listed, an everyday word, a place, rare or frequent.

        An unlisted word at least ``common`` frequent (Zipf) is an everyday word.
        """
        key = (word, common)
        kind = self._kinds.get(key)
        if kind is None:
            if len(self._kinds) >= _KIND_CACHE:
                self._kinds.clear()
            kind = self._kinds[key] = self._look_up(word, common)
        return kind

    def _look_up(self, word: str, common: float) -> Kind:
        lists = self.lists
        if word in lists.given or word in lists.family:
            return "ambiguous" if word in lists.ambiguous else "name"
        if word in lists.places:
            return "place"
        parts = [p for p in _HYPHEN.split(word) if len(p) > 1]
        if len(parts) > 1:
            # "Jean-Baptiste", "Parry-Quarrington": a name when no part is a word or place.
            kinds = [self._kind(p[0].upper() + p[1:], common=common) for p in parts]
            if any(k in ("word", "place") for k in kinds):
                return "word"
            return "name" if all(k == "name" for k in kinds) else "rare"
        if word.lower() in lists.common or self.freq.zipf(word) >= common:
            return "word"
        return "frequent" if self.freq.known(word) else "rare"

    def _edge_word(self, word: str) -> bool:
        """Whether a word at the edge of a run is not part of a name: everyday or odd-cased."""
        return not name_shaped(word) or self._kind(word, common=_EVERYDAY_AFTER_CUE) == "word"

    def _plausible(self, words: tuple[str, ...]) -> bool:
        """Could be a name: name-shaped, and each word rare or a listed name."""
        return all(map(name_shaped, words)) and all(
            self._kind(w) in ("rare", "name", "ambiguous") for w in words
        )

    # -- Chinese ----------------------------------------------------------------

    def _cjk(self, text: str) -> Iterator[Detection]:
        surnames = self.lists.cjk_surnames
        # A name fenced by a strong cue on both sides needs no family-name list.
        for m in _CJK_BRACKETED.finditer(text):
            yield Detection(m.start(1), m.end(1), "PERSON", 0.75)
        i = 0
        while i < len(text):
            surname = text[i : i + 2] if text[i : i + 2] in surnames else text[i]
            if surname not in surnames:
                i += 1
                continue
            g = i + len(surname)
            if (
                g >= len(text)
                or not _is_cjk(text[g])
                or text[g] in _CJK_STOP
                # "我马上打电话", "谢谢王伟": a family-name character inside an everyday word.
                or self._in_word(text, i, g, min_zipf=_CJK_EVERYDAY)
            ):
                i += 1
                continue
            end, score = self._cjk_end(text, i, g), 0.85
            if end is None:
                end, score = self._cjk_lexical_end(text, i, g), 0.6
            if end is not None:
                yield Detection(i, end, "PERSON", score)
                i = end
            else:
                i += 1

    def _cjk_end(self, text: str, i: int, g: int) -> int | None:
        """Where a name at ``i`` whose given name starts at ``g`` ends, if context makes it one.

        A cue after the name ("…说", "…先生") fixes its length, so a given-name
        character outside the list counts there; after a cue before it the words
        that follow set the length when frequencies are available, and otherwise
        only listed characters extend a one-character given name.
        """
        second = g + 1 < len(text) and _is_cjk(text[g + 1]) and text[g + 1] not in _CJK_STOP
        for end in (g + 2, g + 1) if second else (g + 1,):
            if CJK_AFTER.match(text[end : end + 4]):
                return end
        if CJK_BEFORE.search(text[max(0, i - 6) : i]):
            if self.freq.source is not None:
                return self._cjk_given_end(text, g, boundary=False)
            listed = second and text[g + 1] in self.lists.cjk_given_chars
            return g + 2 if listed else g + 1
        return None

    def _cjk_lexical_end(self, text: str, i: int, g: int) -> int | None:
        """Where a name at ``i`` ends when the words around it set it apart, if they do.

        Chinese is written without spaces; a name is what is left between known
        words. The family name must neither begin a word ("马上", "周末", "王府")
        nor end one ("国王"), and must follow a word boundary: the start of the
        text, punctuation, a function character or a known word.
        """
        freq = self.freq
        if (
            freq.source is None
            or text[i:g] in _CJK_STOP  # "和", "向", "于" are family names, rarely
            or self._in_word(text, i, g, min_zipf=3.0)
        ):
            return None
        if not (
            i == 0
            or not _is_cjk(text[i - 1])
            or text[i - 1] in _CJK_STOP
            or any(self._cjk_word(text[max(0, i - k) : i]) for k in (2, 3, 4))
            or CJK_BEFORE.search(text[max(0, i - 6) : i])
        ):
            return None
        return self._cjk_given_end(text, g)

    def _cjk_given_end(self, text: str, g: int, *, boundary: bool = True) -> int | None:
        """Where a given name starting at ``g`` ends, from the words after it.

        One or two characters, of which the first does not begin a word ("王明天"
        is 王 + 明天) unless the two are a word that is also a given name ("建国"),
        followed (with ``boundary``) by a word boundary. ``None`` without
        frequencies or when no such given name is there.
        """
        if self.freq.source is None:
            return None
        word = self._word_at(text, g)
        if word:
            if word != 2 or self.freq.zipf(text[g : g + 2]) >= _CJK_GIVEN_WORD_MAX:
                return None if boundary else g + 1
            end = g + 2
        else:
            end = g + 2 if self._second_given(text, g + 1) else g + 1
        if (
            not boundary
            or end >= len(text)
            or not _is_cjk(text[end])
            or text[end] in _CJK_STOP
            or self._word_at(text, end)
            or CJK_AFTER.match(text[end : end + 4])
        ):
            return end
        return None

    def _second_given(self, text: str, j: int) -> bool:
        """Whether the character at ``j`` is a given name's second, not the next word's first.

        It is not when it begins a word, unless the word that starts right after it
        is more frequent ("张秀英明天": 英 + 明天 beats 英明 + 天).
        """
        if j >= len(text) or not _is_cjk(text[j]) or text[j] in _CJK_STOP:
            return False
        word = self._word_at(text, j)
        if not word:
            return True
        rival = self._word_at(text, j + 1)
        return rival > 0 and self.freq.zipf(text[j + 1 : j + 1 + rival]) > self.freq.zipf(
            text[j : j + word]
        )

    def _in_word(self, text: str, i: int, g: int, *, min_zipf: float) -> bool:
        """Whether the family name ``text[i:g]`` begins or ends a word this frequent."""
        if self.freq.source is None:
            return False
        starting = (text[i:k] for k in range(g + 1, min(i + 4, len(text)) + 1))
        ending = (text[i - k : g] for k in (1, 2) if i - k >= 0)
        return any(
            self._cjk_word(chunk) and self.freq.zipf(chunk) >= min_zipf
            for chunk in (*starting, *ending)
        )

    def _word_at(self, text: str, j: int) -> int:
        """The length of the longest known word (2-4 characters) starting at ``j``, or 0."""
        for k in (4, 3, 2):
            if self._cjk_word(text[j : j + k]):
                return k
        return 0

    def _cjk_word(self, chunk: str) -> bool:
        return len(chunk) >= 2 and all(map(_is_cjk, chunk)) and self.freq.known(chunk)


def _runs(text: str, tokens: list[Token]) -> Iterator[list[Token]]:
    """Runs of capitalised words separated by single spaces, with particles and initials inside.

    An initial is a capital letter with a full stop ("E. Magnusson", "J.R. Hartley"),
    or without one between two words ("Szabina J Gelencsér").
    """
    i = 0  # the first token not yet in a run
    # Both a capitalised word and an initial start with a capital letter.
    for i_start in [k for k, token in enumerate(tokens) if token[2][0].isupper()]:
        if i_start < i:
            continue
        i = i_start
        first = tokens[i][2]
        if not (_capitalised(first) or _initial_before_name(text, tokens, i, lead=True)):
            continue
        run = [tokens[i]]
        capitals = int(_capitalised(first))
        j = i + 1
        while j < len(tokens) and capitals < 4:
            if _gap(text, run[-1], tokens[j]) is None:
                break
            word = tokens[j][2]
            if _capitalised(word):
                capitals += 1
            elif not (
                (word.lower() in PARTICLES and _particle_leads_to_name(text, tokens, j))
                or _initial_before_name(text, tokens, j, lead=False)
            ):
                break
            run.append(tokens[j])
            j += 1
        i = j
        yield run


def _gap(text: str, left: Token, right: Token) -> str | None:
    """The text between two tokens of a run, if they may belong to one name."""
    gap = text[left[1] : right[0]]
    if gap == " " or (_is_initial(left[2]) and gap in (". ", ".")):
        return gap
    return None


def _initial_before_name(text: str, tokens: list[Token], j: int, *, lead: bool) -> bool:
    """Whether the token at ``j`` is an initial followed, through initials, by a name-like word.

    A bare capital ("J") counts only inside a run and never as "A" or "I", which are
    words; one that ``lead``s a run needs its full stop.
    """
    word = tokens[j][2]
    if not _is_initial(word) or j + 1 >= len(tokens):
        return False
    dotted = text[tokens[j][1] : tokens[j][1] + 1] == "."
    if not dotted and (lead or word in "AI"):
        return False
    if _gap(text, tokens[j], tokens[j + 1]) is None:
        return False
    following = tokens[j + 1][2]
    return _capitalised(following) or _initial_before_name(text, tokens, j + 1, lead=lead)


def _is_initial(word: str) -> bool:
    return len(word) == 1 and word.isupper()


@lru_cache(maxsize=4_096)
def _names_a_place(word: str) -> bool:
    """An organisation or place head word, alone or ending a hyphenated one."""
    last = _HYPHEN.split(word)[-1]
    return word in ORG_WORDS or word in PLACE_WORDS or (last != word and last in PLACE_WORDS)


def _unpossessive(start: int, word: str) -> Token:
    """A token without a trailing possessive "'s", which is not part of the name."""
    if len(word) > 3 and word[-2] in "'\u2019" and word[-1] == "s":
        word = word[:-2]
    return (start, start + len(word), word)


def _particle_leads_to_name(text: str, tokens: list[Token], j: int) -> bool:
    """Whether the particle at ``j`` is followed, through more particles, by a capitalised word."""
    k = j + 1
    while k < len(tokens) and text[tokens[k - 1][1] : tokens[k][0]] == " ":
        word = tokens[k][2]
        if _capitalised(word):
            return True
        if word.lower() not in PARTICLES:
            return False
        k += 1
    return False


def _may_be_capitalised(text: str) -> bool:
    """False when ``text`` has no upper-case letter (a capitalised run or an initial
    needs one): all-lower-case text skips the Latin-script candidates."""
    return not text.islower()


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and not word.isupper()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
