"""Person names from name lists, capitalisation and context, with no downloaded model.

A candidate is a run of capitalised words (allowing particles such as "van",
"de la", "bin") or, in Chinese, a family-name character followed by one or two
given-name characters. Evidence is then added up:

* a title right before it ("Dr", "Mrs", "Herr", "Mme", "Sra.") is nearly decisive;
* a cue (:mod:`~loupe.privacy.detectors.name_cues`) — "call", "my name is",
  "ruf … an", "je m'appelle", "vi a", a greeting, a sign-off ("Cheers,",
  "Viele Grüße,"), or a verb after it ("… said", "… hat angerufen", "… m'a dit") —
  makes any capitalised run a name;
* a given name from :func:`~loupe.privacy.detectors.name_lists.name_lists`
  (Loupe's lists plus faker's, when installed) followed by a capitalised word is a
  name; a known family name after an unknown first word is likely one;
* a lone given name counts only when it is not also an everyday word or a place
  ("Will", "May", "Austin") and does not merely open the sentence.

A run ending in a place or organisation word ("Union Station", "Acme GmbH") is
never a person. Weak cues ("with", "and", "mit") alone are not enough: they
precede companies and places as often as people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.detectors.gazetteer import (
    NOT_NAMES,
    ORG_WORDS,
    PARTICLES,
    PLACE_WORDS,
    TITLE_WORDS,
)
from loupe.privacy.detectors.name_cues import (
    AFTER_CUE,
    AFTER_WEAK,
    CJK_AFTER,
    CJK_BEFORE,
    SIGN_OFF,
    STREET_BEFORE,
    STRONG_CUE,
    TITLE,
)
from loupe.privacy.detectors.name_lists import NameLists, name_lists
from loupe.privacy.spans import Detection

__all__ = ["PersonNameDetector"]

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_HOUSE_NUMBER = re.compile(r"\d[a-zA-Z]?,? $")
# Between two names in a list: "Anna and Piotr", "Anna, Piotr", "Anna und Piotr".
_COORDINATION = re.compile(r",? (?:and|und|et|y|e|&) |, ")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Fitz)(?=[A-Z])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n¡¿]\s*)$")
_CJK_BRACKETED = re.compile(
    r"(?:给|告诉|联系|通知|提醒|问问)([\u4e00-\u9fff]{2,3}?)"
    r"(?=打电话|发短信|发消息|发微信|明天|今天|后天|女士|先生|小姐|\uff0c|\u3002|\uff01|$)"
)
_CJK_STOP = frozenset(
    "的了在是和与跟给打发说先女小医老吗呢吧啊就也都很还要会能去来到对把被让从向问请我你他她它们这那个"
)


class PersonNameDetector:
    """Person names in Latin script and Chinese.

    >>> t = "call Maria Schmidt at +49 30 1234567"
    >>> [t[d.start : d.end] for d in PersonNameDetector().detect(t)]
    ['Maria Schmidt']
    """

    name: ClassVar[str] = "person"
    types: ClassVar[tuple[str, ...]] = ("PERSON",)

    def __init__(self) -> None:
        self.lists: NameLists = name_lists()

    def detect(self, text: str) -> Iterator[Detection]:
        yield from self._latin(text)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            yield from self._cjk(text)

    def _latin(self, text: str) -> Iterator[Detection]:
        tokens = [_unpossessive(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        last_end = -1  # where the previous name ended, for "Anna and Piotr"
        i = 0
        while i < len(tokens):
            if not _capitalised(tokens[i][2]):
                i += 1
                continue
            run = [tokens[i]]
            j = i + 1
            while j < len(tokens) and len([t for t in run if _capitalised(t[2])]) < 4:
                gap = text[run[-1][1] : tokens[j][0]]
                if gap != " ":
                    break
                word = tokens[j][2]
                if _capitalised(word) or (
                    word.lower() in PARTICLES and _particle_leads_to_name(text, tokens, j)
                ):
                    run.append(tokens[j])
                else:
                    break
                j += 1
            i = j
            for found in self._score_run(text, run, last_end):
                last_end = found.end
                yield found

    def _score_run(
        self, text: str, run: list[tuple[int, int, str]], last_end: int
    ) -> Iterator[Detection]:
        # Drop leading capitalised function words ("Call", "Dear", "Herr") and cut at the
        # first one inside the run.
        while run and (run[0][2] in NOT_NAMES or run[0][2].lower().rstrip(".") in TITLE_WORDS):
            run = run[1:]
        for k, tok in enumerate(run):
            if tok[2] in ORG_WORDS or tok[2] in PLACE_WORDS:
                return  # "Acme Corp", "Victoria Station": not a person
            if tok[2] in NOT_NAMES:
                run = run[:k]
                break
        while run and run[-1][2].lower() in PARTICLES:
            run = run[:-1]
        if not run:
            return
        words = [t[2] for t in run if t[2].lower() not in PARTICLES]
        start, end = run[0][0], run[-1][1]
        before = text[max(0, start - 40) : start]
        if _HOUSE_NUMBER.search(before) or STREET_BEFORE.search(before):
            return  # "55 Victoria Gardens", "avenue Victor Hugo": a street, not a person
        listed_with = last_end >= 0 and _COORDINATION.fullmatch(text[last_end:start]) is not None
        score = self._score(words, before, text[end : end + 24], listed_with=listed_with)
        if score is not None:
            yield Detection(start, end, "PERSON", score)

    def _score(
        self, words: list[str], before: str, after: str, *, listed_with: bool = False
    ) -> float | None:
        lists = self.lists
        n = len(words)
        given = [w in lists.given for w in words]
        family = [w in lists.family for w in words]
        plain = [w not in lists.ambiguous for w in words]
        listed = any((g or f) and p for g, f, p in zip(given, family, plain, strict=True))
        if TITLE.search(before):
            return 0.9
        # A cue (or a name right before it: "Anna and Piotr") makes any name-shaped run
        # a name, but one everyday word stays a word ("When called from ...").
        everyday = n == 1 and not (given[0] or family[0]) and words[0].lower() in lists.common
        if (
            not everyday
            and all(map(_name_shaped, words))
            and (
                listed_with
                or STRONG_CUE.search(before)
                or SIGN_OFF.search(before)
                or AFTER_CUE.match(after)
            )
        ):
            return 0.85 if n >= 2 or given[0] or family[0] else 0.7
        if listed and AFTER_WEAK.match(after):
            return 0.85 if n >= 2 else 0.7
        if n >= 2 and given[0] and (plain[0] or (family[-1] and plain[-1])):
            return 0.85
        if n >= 2 and family[0] and given[1] and plain[1]:
            return 0.85  # "Schmidt Maria"
        if n >= 2 and family[-1] and plain[-1] and plain[0]:
            return 0.7
        if n >= 2 and any(g and p for g, p in zip(given, plain, strict=True)):
            return 0.6
        # A lone name opening a sentence needs a vocative comma ("Maria, ...") or a verb.
        if (
            n == 1
            and given[0]
            and plain[0]
            and (not _SENTENCE_START.search(before) or after.startswith(","))
        ):
            return 0.6
        return None

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
            if g >= len(text) or not _is_cjk(text[g]) or text[g] in _CJK_STOP:
                i += 1
                continue
            end = self._cjk_end(text, i, g)
            if end is not None:
                yield Detection(i, end, "PERSON", 0.85)
                i = end
            else:
                i += 1

    def _cjk_end(self, text: str, i: int, g: int) -> int | None:
        """Where a name at ``i`` whose given name starts at ``g`` ends, if context makes it one.

        A cue after the name ("…说", "…先生") fixes its length, so a given-name
        character outside the list counts there; after a cue before it only listed
        characters extend a one-character given name.
        """
        second = g + 1 < len(text) and _is_cjk(text[g + 1]) and text[g + 1] not in _CJK_STOP
        for end in (g + 2, g + 1) if second else (g + 1,):
            if CJK_AFTER.match(text[end : end + 4]):
                return end
        if CJK_BEFORE.search(text[max(0, i - 6) : i]):
            listed = second and text[g + 1] in self.lists.cjk_given_chars
            return g + 2 if listed else g + 1
        return None


def _unpossessive(start: int, word: str) -> tuple[int, int, str]:
    """A token without a trailing possessive "'s", which is not part of the name."""
    if len(word) > 3 and word[-2] in "'\u2019" and word[-1] == "s":
        word = word[:-2]
    return (start, start + len(word), word)


def _particle_leads_to_name(text: str, tokens: list[tuple[int, int, str]], j: int) -> bool:
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


def _name_shaped(word: str) -> bool:
    """Capitalised like a name: "Anne-Marie", "O'Neil", "McDonald", not "SQLite", "CPU-bound"."""
    for k, part in enumerate(re.split(r"['\u2019\-]", word)):
        if k == 0:
            part = _NAME_PREFIX.sub("", part)
        if any(ch.isupper() for ch in part[1:]):
            return False
    return True


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and not word.isupper()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
