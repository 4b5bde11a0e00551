"""A corpus of identifiers as a speech recogniser writes them: spoken, not typed.

A voice assistant's transcript reads "my number is oh seven seven double oh nine hundred
one two three" and "send it to ana dot garcia at gmail dot com": lower case, no digits,
no "@". Typed text hides the same identifiers on purpose: "ana(at)example(dot)org".
This corpus holds such utterances (English, lower case, no punctuation) with gold spans
over the whole identifier, in the format of ``independent.py`` so that
``independent_eval.py --corpus spoken`` scores it the same way.

Two splits with disjoint templates, names and domains:

* ``dev``: seed 31, 600 items; written first and may be inspected by whoever tunes the
  detectors;
* ``holdout``: seed 32, 600 items; written at the same time, before any detector code
  for spoken forms existed; scored only, never inspected. Caveat, as for the other
  corpora: the same session wrote it and then the detectors, so it is independent of the
  tuning data, not of its author's idea of how people speak.

About a quarter of the items are negatives full of number words and of "at" and "dot"
that are not identifiers (timers, quantities, times, counts, scores, order and flight
numbers, a countdown).

>>> items = split("dev")
>>> all(item.text[s.start : s.end] for item in items for s in item.spans)
True
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

from bench.privacy.independent import Item, Span

SPLITS: dict[str, tuple[int, int]] = {"dev": (31, 600), "holdout": (32, 600)}
NEGATIVE_SHARE = 0.25

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SMALL = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
          "fifteen", "twenty", "thirty", "forty five"]  # fmt: skip


@dataclass(frozen=True)
class _Split:
    given: tuple[str, ...]
    family: tuple[str, ...]
    domains: tuple[str, ...]
    tlds: tuple[str, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


_DEV = _Split(
    given=(
        "john",
        "maria",
        "david",
        "sarah",
        "michael",
        "anna",
        "james",
        "emma",
        "robert",
        "laura",
        "oliver",
        "chloe",
    ),
    family=(
        "smith",
        "garcia",
        "brown",
        "lopez",
        "miller",
        "wilson",
        "taylor",
        "clark",
        "novak",
        "fischer",
    ),
    domains=("gmail", "outlook", "yahoo", "hotmail", "acme", "northwind"),
    tlds=("com", "org", "net", "co dot uk", "de"),
    positive=(
        "my number is {phone}",
        "call {phone}",
        "save {phone} as {given}s number",
        "text {given} my new number {phone}",
        "pay with my card {card}",
        "the card number is {card} expiry oh four twenty seven",
        "my social security number is {ssn}",
        "email {email} the photos",
        "send the receipt to {email}",
        "my email address is {email}",
        "contact me at {typed_email}",
        "call {given} {family}",
        "tell {given} i'm running late",
        "text {given} {family} that dinner is at eight",
    ),
    negative=(
        "set a timer for {small} minutes",
        "add {small} eggs and {small} apples to my list",
        "turn the volume up to {small}",
        "wake me up at {small} thirty",
        "play track {small} on the album",
        "what is {small} times {small}",
        "buy the polka dot dress at the mall",
        "meet me at the station at {small}",
        "track my order {order}",
        "the score was {digit} {digit} at half time",
        "is flight b a {short} on time",
        "look at that dot on the map",
    ),
)

_HOLDOUT = _Split(
    given=(
        "peter",
        "linda",
        "thomas",
        "susan",
        "daniel",
        "karen",
        "paul",
        "helen",
        "mark",
        "grace",
        "lucas",
        "amelia",
    ),
    family=(
        "johnson",
        "martinez",
        "davis",
        "anderson",
        "white",
        "harris",
        "young",
        "king",
        "kowalski",
        "moreau",
    ),
    domains=("icloud", "proton", "aol", "globex", "initech", "example"),
    tlds=("com", "org", "net", "io", "fr"),
    positive=(
        "you can reach me on {phone}",
        "ring {phone} and ask for {given}",
        "charge {card} for the tickets",
        "card {card} please",
        "ssn {ssn}",
        "it's {email}",
        "write to {email} tonight",
        "forward the invoice to {email}",
        "reply to {typed_email} when you can",
        "message {given} {family} about the party",
        "ring {given} back",
        "phone {given} and say thanks",
        "is {phone} still {given}s number",
        "book it on my card {card} and send the ticket to {email}",
    ),
    negative=(
        "count down from ten nine eight seven six five four three two one",
        "one two three four five six testing the microphone",
        "which bus goes to the airport the {short} or the {short}",
        "i'm in room {short}",
        "read chapter {small} section {small}",
        "remind me at {small} fifteen to stretch",
        "the pin pad at the store is broken",
        "where is the nearest atm",
        "the meeting is at {small} in room {digit} {digit}",
        "we need {small} chairs and {small} tables at the venue",
        "reorder item {order} from last week",
        "connect the dots at the end of the page",
    ),
)

_BY_NAME = {"dev": _DEV, "holdout": _HOLDOUT}
_SLOT = re.compile(r"\{(\w+)\}")


def _luhn_complete(digits: list[int]) -> list[int]:
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return [*digits, (10 - total % 10) % 10]


def _speak(digits: str, rng: random.Random, groups: tuple[int, ...]) -> str:
    """Digits read out group by group, with "oh" or "zero", and "double"/"triple"."""
    zero = rng.choice(["zero", "oh"])
    out: list[str] = []
    pos = 0
    for size in groups:
        group = digits[pos : pos + size]
        pos += size
        words: list[str] = []
        i = 0
        while i < len(group):
            d = group[i]
            word = zero if d == "0" else _WORDS[int(d)]
            run = len(group[i:]) - len(group[i:].lstrip(d))
            if run >= 3 and rng.random() < 0.5:
                words.append(f"triple {word}")
                i += 3
            elif run >= 2 and rng.random() < 0.5:
                words.append(f"double {word}")
                i += 2
            else:
                words.append(word)
                i += 1
        out.append(" ".join(words))
    return " ".join(out)


class _Builder:
    def __init__(self, rng: random.Random, spec: _Split) -> None:
        self.rng, self.spec = rng, spec
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def literal(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def entity(self, text: str, label: str) -> None:
        self.spans.append(Span(self.length, self.length + len(text), label))
        self.literal(text)

    def fill(self, slot: str) -> None:
        rng, spec = self.rng, self.spec
        if slot == "phone":
            self.entity(self._phone(), "PHONE")
        elif slot == "card":
            digits = _luhn_complete([4, *(rng.randrange(10) for _ in range(14))])
            self.entity(_speak("".join(map(str, digits)), rng, (4, 4, 4, 4)), "CREDIT_CARD")
        elif slot == "ssn":
            digits = f"{rng.randint(101, 665)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}"
            self.entity(_speak(digits, rng, (3, 2, 4)), "US_SSN")
        elif slot == "email":
            self.entity(self._email(spoken=True), "EMAIL")
        elif slot == "typed_email":
            self.entity(self._email(spoken=False), "EMAIL")
        elif slot in ("given", "family"):
            self.entity(rng.choice(getattr(spec, slot)), "PERSON")
        elif slot == "small":
            self.literal(rng.choice(_SMALL))
        elif slot == "digit":
            self.literal(rng.choice(_WORDS))
        elif slot == "short":
            self.literal(_speak(str(rng.randint(100, 9999)), rng, (4,)))
        elif slot == "order":
            self.literal(_speak(str(rng.randint(10**7, 10**8 - 1)), rng, (4, 4)))
        else:
            raise KeyError(slot)

    def _phone(self) -> str:
        rng = self.rng
        kind = rng.choice(["uk", "us", "intl"])
        if kind == "uk":
            digits = "07" + "".join(str(rng.randrange(10)) for _ in range(9))
            return _speak(digits, rng, (5, 6))
        if kind == "us":
            digits = str(rng.randint(201, 989)) + "".join(str(rng.randrange(10)) for _ in range(7))
            return _speak(digits, rng, (3, 3, 4))
        digits = "7" + "".join(str(rng.randrange(10)) for _ in range(9))
        return "plus four four " + _speak(digits, rng, (4, 3, 3))

    def _email(self, *, spoken: bool) -> str:
        rng, spec = self.rng, self.spec
        given, family = rng.choice(spec.given), rng.choice(spec.family)
        domain, tld = rng.choice(spec.domains), rng.choice(spec.tlds)
        if spoken:
            local = rng.choice([given, f"{given} dot {family}", f"{given} underscore {family}",
                                f"{given}{family}"])  # fmt: skip
            return f"{local} at {domain} dot {tld}"
        tld = tld.replace(" dot ", ".")
        return rng.choice(
            [
                f"{given}.{family}(at){domain}(dot){tld}",
                f"{given} [at] {domain} [dot] {tld}",
                f"{given}_{family} at {domain}.{tld}",
                f"{given} AT {domain} DOT {tld}",
            ]
        )

    def build(self, template: str) -> Item:
        pos = 0
        for m in _SLOT.finditer(template):
            self.literal(template[pos : m.start()])
            self.fill(m.group(1))
            pos = m.end()
        self.literal(template[pos:])
        text = "".join(self.parts)
        genre = "voice" if self.spans else "negative"
        return Item(text=text, spans=self.spans, genre=genre, lang="en")


def generate(name: str, seed: int, n: int) -> list[Item]:
    spec = _BY_NAME[name]
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        negative = rng.random() < NEGATIVE_SHARE
        template = rng.choice(spec.negative if negative else spec.positive)
        items.append(_Builder(rng, spec).build(template))
    return items


@cache
def split(name: str) -> tuple[Item, ...]:
    """The ``dev`` or ``holdout`` split."""
    seed, n = SPLITS[name]
    return tuple(generate(name, seed, n))
