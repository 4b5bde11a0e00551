"""Street addresses in US/UK, German, French, Spanish and Chinese conventions.

Each convention is one pattern anchored on a street-type word ("Street",
"-straße", "rue", "Calle", "路") plus a house number, optionally extended by a
unit and a postcode with a town. Addresses without a street-type word
("Piccadilly 12") are not found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.detectors.base import any_of, digit_count, has_cjk, literals
from loupe.privacy.spans import Detection

__all__ = ["AddressDetector"]

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019.-]*"
_EN_TYPES = (
    r"street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|court|"
    r"ct\.?|way|place|pl\.?|terrace|parkway|pkwy\.?|highway|hwy\.?|close|crescent|gardens|"
    r"square|sq\.?|mews|grove|row|hill|park|walk|circle|cir\.?|trail|view"
)
_TOWN = r"[A-ZÀ-Ö][a-zà-ÿ'\u2019-]+"
_US_STATE = r"[A-Z]{2}"
_EN = re.compile(
    r"(?<![\w\u2591])\d{1,5}[A-Za-z]?\s(?:(?:" + _CAP + r"|\d+(?:st|nd|rd|th))\s){1,4}"
    r"(?i:" + _EN_TYPES + r")(?![\w])(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?\s(?:apt\.?|apartment|suite|ste\.?|unit|flat|#)\s?[\w-]{1,6})?"
    r"(?:,\s" + _TOWN + r"(?:\s" + _TOWN + r"){0,2}"
    r"(?:,?\s" + _US_STATE + r"\s\d{5}(?:-\d{4})?"
    r"|\s[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})?)?",  # ", Springfield, IL 62704" | ", London NW1 6XE"
)
_DE_SUFFIXES = r"straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|steig|pfad"
_DE_LEADS = r"Am|An der|Auf der|Im|In der|Zum|Zur"
_DE = re.compile(
    r"(?<![\w\u2591])(?:[A-ZÄÖÜ][\wäöüß-]*(?:" + _DE_SUFFIXES + r")|(?:" + _DE_LEADS + r")"
    r"\s[A-ZÄÖÜ][\wäöüß-]+)"
    r"\s\d{1,4}\s?[a-zA-Z]?(?:,\s\d{5}\s[A-ZÄÖÜ][\wäöüß-]+(?:\s(?:am|an der)\s[A-ZÄÖÜ][\w]+)?)?"
    r"(?![\w])",
)
_FR_TYPES = (
    r"rue|avenue|av\.|boulevard|bd|place|chemin|impasse|allée|allee|quai|route|cours|passage|"
    r"square|faubourg|rond-point"
)
_FR = re.compile(
    r"(?<![\w\u2591])\d{1,4}(?:\s?(?:bis|ter))?,?\s(?:" + _FR_TYPES + r")"
    r"(?:\s(?:de|du|des|de la|de l'|d'|la|le|les|l')?\s?[A-ZÀ-Ü][\w'\u2019-]*){1,4}"
    r"(?:,\s\d{5}\s[A-ZÀ-Ü][\w'\u2019-]*(?:[\s-][A-ZÀ-Ü][\w'\u2019-]*){0,2})?",
)
_ES_TYPES = (
    r"Calle|C/|Avenida|Avda\.?|Av\.|Plaza|Pza\.?|Paseo|Pº|Camino|Carretera|Ctra\.?|Ronda|"
    r"Travesía|Rambla|Glorieta|Vía|Via"
)
_ES = re.compile(
    r"(?<![\w\u2591])(?:" + _ES_TYPES + r")\s"
    r"(?:(?:de|del|de la|de los|de las|la|el|los|las)\s)?[A-ZÁÉÍÓÚÑ][\wáéíóúñü'-]*"
    r"(?:\s(?:(?:de|del|de la|y)\s)?[A-ZÁÉÍÓÚÑ][\wáéíóúñü'-]*){0,3},?\s(?:nº\s?|n\.º\s?|núm\.\s?)?"
    r"\d{1,4}(?:,?\s\d+º\s?[A-Z]?)?(?:,\s\d{5}\s[A-ZÁÉÍÓÚÑ][\wáéíóúñü-]*(?:\s[A-ZÁÉÍÓÚÑ][\w]*)?)?",
)
_ZH = re.compile(
    r"(?:[\u4e00-\u9fff]{2,6}?(?:省|自治区))?(?:[\u4e00-\u9fff]{2,6}?市)?(?:[\u4e00-\u9fff]{1,6}?[区县])?"
    r"[\u4e00-\u9fff]{1,8}?(?:路|街|大道|大街|巷|胡同|道)\d{1,5}号"
    r"(?:(?:\d{1,4}(?:栋|幢|号楼))?(?:\d{1,2}单元)?(?:\d{1,5}室)?)"
)
# Pre-checks, one per pattern, of what it cannot match without (in the pattern's case):
# a house number before a capitalised word or a number; a street word.
_PRECHECKS = (
    (_EN, re.compile(r"\d[A-Za-z]?\s[A-ZÀ-ÖØ-Þ\d]")),
    (_DE, re.compile(any_of(literals(f"{_DE_SUFFIXES}|{_DE_LEADS}")))),
    (_FR, re.compile(any_of(literals(_FR_TYPES)))),
    (_ES, re.compile(any_of(literals(_ES_TYPES)))),
)
# Chinese has no spaces: trim whatever lead-in the lazy pattern swallowed.
_ZH_LEAD = re.compile(r"^.*(?:在|是|于|到|址|住|寄|\uff1a|:|\uff0c|,)")


class AddressDetector:
    """Street addresses, with house number, optional unit and postcode/town.

    >>> [d.type for d in AddressDetector().detect("send it to 12 rue de la Paix, 75002 Paris")]
    ['STREET_ADDRESS']
    """

    name: ClassVar[str] = "address"
    types: ClassVar[tuple[str, ...]] = ("STREET_ADDRESS",)

    def detect(self, text: str) -> Iterator[Detection]:
        if digit_count(text) == 0:
            return  # every pattern needs a house number (or a Chinese 号 number)
        for pattern, needed in _PRECHECKS:
            if needed.search(text) is None:
                continue
            for m in pattern.finditer(text):
                end = m.end()
                while end > m.start() and text[end - 1] in ".,":
                    end -= 1
                yield Detection(m.start(), end, "STREET_ADDRESS", 0.8)
        if has_cjk(text):
            for m in _ZH.finditer(text):
                start = m.start()
                lead = _ZH_LEAD.match(m.group())
                if lead:
                    start += lead.end()
                if m.end() - start >= 4:
                    yield Detection(start, m.end(), "STREET_ADDRESS", 0.8)
