"""Person names from a gazetteer, capitalisation and context, with no downloaded model.

A candidate is a run of capitalised words (allowing particles such as "van",
"de la", "bin") or, in Chinese, a family-name character followed by one or two
given-name characters. Evidence is then added up:

* a title right before it ("Dr", "Mrs", "Herr", "Mme", "Sra.") is nearly decisive;
* a strong cue before it ("call", "text", "my name is", "ruf … an",
  "je m'appelle", "llama a", "给…打电话") makes any capitalised run a name;
* a given name from :mod:`~loupe.privacy.detectors.gazetteer` followed by a
  capitalised word is a name; a known family name after an unknown first word
  is likely one;
* a lone given name counts only when it is not also an everyday word
  ("Will", "May", "Rose").

Weak cues ("with", "and", "mit") alone are not enough: they precede companies
and places as often as people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.detectors.gazetteer import (
    AMBIGUOUS_GIVEN,
    CJK_GIVEN_CHARS,
    CJK_SURNAMES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    NOT_NAMES,
    ORG_WORDS,
    PARTICLES,
    TITLE_WORDS,
)
from loupe.privacy.spans import Detection

__all__ = ["PersonNameDetector"]

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_TITLE = re.compile(
    r"(?:\b(?:mr|mrs|ms|miss|mx|dr|prof|professor|sir|dame|lord|lady|herr|herrn|frau|fr|hr|"
    r"m|mme|mlle|monsieur|madame|mademoiselle|sr|sra|srta|señor|señora|señorita|don|doña|dott|"
    r"dottssa|sig|signor|signora|doctor|doktor|docteur|dra|nurse|uncle|aunt|tante|onkel|tía|"
    r"tío|tio|tia)\.?\s+)$",
    re.IGNORECASE,
)
_STRONG_CUE = re.compile(
    r"(?:\b(?:call|calling|text|texting|message|messaging|email|e-mail|mail|ring|phone|ask|"
    r"tell|remind|meet|meeting with|invite|ping|contact|dear|hi|hello|hey|thanks|thank you|"
    r"my name is|name is|name's|i'm|i am|this is|it's|named|called|name:|patient|patient:|"
    r"signed|regards,|cc:|attn:?|from:|to:|spoke to|spoke with|talked to|married|wife|"
    r"seen by|treated by|referred by|surname|first name|last name|nachname|vorname|prénom|"
    r"apellido|(?:móvil|teléfono|correo|número|movil|telefono) de|(?:handy|telefon|nummer) von|"
    r"termin mit|treffen mit|rendez-vous avec|cita con|reunión con|"
    r"husband|son|daughter|mother|father|brother|sister|friend|colleague|manager|"
    r"ruf|rufe|anrufen|schreib|schreibe|nachricht an|frag|sag|erinnere|ich heiße|"
    r"mein name ist|ich bin|hier ist|hallo|liebe|lieber|sehr geehrte|sehr geehrter|"
    r"appelle|appeler|écris à|écris|envoie un message à|message à|dis à|demande à|rappelle|"
    r"je m'appelle|mon nom est|je suis|c'est|bonjour|salut|cher|chère|"
    r"llama a|llamar a|escribe a|manda un mensaje a|mensaje a|dile a|pregunta a|recuérdale a|"
    r"me llamo|mi nombre es|soy|habla|hola|querido|querida|estimado|estimada)[\s,:]*)$",
    re.IGNORECASE,
)
_AFTER_CUE = re.compile(
    r"^(?:'s\b|\u2019s\b|,? (?:at|on|unter|au|al|sur) [+(]?\d[\d \-/.]{5,}|\s?\(\d|"
    r",? (?:said|says|wrote|called|texted|asked|will|would|lives|lived|works|wants|needs|has|"
    r"hat angerufen|wohnt|arbeitet|kommt|a appelé|habite|vit|travaille|llamó|vive|trabaja)\b)",
    re.IGNORECASE,
)
_HOUSE_NUMBER = re.compile(r"\d[a-zA-Z]?,? $")
_CJK_BRACKETED = re.compile(
    r"(?:给|告诉|联系|通知|提醒|问问)([\u4e00-\u9fff]{2,3}?)"
    r"(?=打电话|发短信|发消息|发微信|明天|今天|后天|女士|先生|小姐|\uff0c|\u3002|\uff01|$)"
)
_CJK_STOP = frozenset(
    "的了在是和与跟给打发说先女小医老吗呢吧啊就也都很还要会能去来到对把被让从向问请我你他她它们这那个"
)
_CJK_CUE = re.compile(
    r"(?:给|叫|联系|告诉|问|找|和|跟|与|请|是|患者|姓名[:\uff1a]?|病人|致|通知|提醒|收件人[:\uff1a]?)$"
)
_CJK_SUFFIX = re.compile(
    r"^(?:先生|女士|小姐|医生|大夫|老师|经理|教授|同学|律师|护士|打电话|发短信|发消息|发微信|"
    r"的电话|的手机|的邮箱|说|来电|回电)"
)


class PersonNameDetector:
    """Person names in Latin script and Chinese.

    >>> t = "call Maria Schmidt at +49 30 1234567"
    >>> [t[d.start : d.end] for d in PersonNameDetector().detect(t)]
    ['Maria Schmidt']
    """

    name: ClassVar[str] = "person"
    types: ClassVar[tuple[str, ...]] = ("PERSON",)

    def detect(self, text: str) -> Iterator[Detection]:
        yield from self._latin(text)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            yield from self._cjk(text)

    def _latin(self, text: str) -> Iterator[Detection]:
        tokens = [_unpossessive(m.start(), m.group()) for m in _TOKEN.finditer(text)]
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
            yield from self._score_run(text, run)

    def _score_run(self, text: str, run: list[tuple[int, int, str]]) -> Iterator[Detection]:
        # Drop leading capitalised function words ("Call", "Dear", "Herr") and cut at the
        # first one inside the run.
        while run and (run[0][2] in NOT_NAMES or run[0][2].lower().rstrip(".") in TITLE_WORDS):
            run = run[1:]
        for k, tok in enumerate(run):
            if tok[2] in NOT_NAMES or tok[2] in ORG_WORDS:
                if tok[2] in ORG_WORDS:
                    return
                run = run[:k]
                break
        while run and run[-1][2].lower() in PARTICLES:
            run = run[:-1]
        if not run:
            return
        words = [t[2] for t in run if t[2].lower() not in PARTICLES]
        start, end = run[0][0], run[-1][1]
        before = text[max(0, start - 40) : start]
        if _HOUSE_NUMBER.search(before):
            return  # "55 Victoria Gardens": a street, not a person
        after = text[end : end + 20]
        n = len(words)
        known_given = [w in GIVEN_NAMES for w in words]
        known_family = [w in FAMILY_NAMES for w in words]
        if _TITLE.search(before):
            score = 0.9
        elif _STRONG_CUE.search(before) or _AFTER_CUE.match(after):
            score = 0.85 if n >= 2 or known_given[0] or known_family[0] else 0.7
        elif n >= 2 and (known_given[0] or (known_family[0] and known_given[1])):
            score = 0.85
        elif n >= 2 and known_family[-1]:
            score = 0.7
        elif (n >= 2 and any(known_given)) or (
            n == 1 and known_given[0] and words[0] not in AMBIGUOUS_GIVEN
        ):
            score = 0.6
        else:
            return
        yield Detection(start, end, "PERSON", score)

    @staticmethod
    def _cjk(text: str) -> Iterator[Detection]:
        # A name fenced by a strong cue on both sides needs no family-name list.
        for m in _CJK_BRACKETED.finditer(text):
            yield Detection(m.start(1), m.end(1), "PERSON", 0.75)
        i = 0
        while i < len(text):
            surname = text[i : i + 2] if text[i : i + 2] in CJK_SURNAMES else text[i]
            if surname not in CJK_SURNAMES:
                i += 1
                continue
            g = i + len(surname)
            if g >= len(text) or not _is_cjk(text[g]) or text[g] in _CJK_STOP:
                i += 1
                continue
            end = g + 1
            if end < len(text) and text[end] in CJK_GIVEN_CHARS and text[end] not in _CJK_STOP:
                end += 1
            if _CJK_CUE.search(text[max(0, i - 6) : i]) or _CJK_SUFFIX.match(text[end : end + 4]):
                yield Detection(i, end, "PERSON", 0.85)
                i = end
            else:
                i += 1


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


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and not word.isupper()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
