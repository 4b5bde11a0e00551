"""Value generators for the independent privacy corpus (see ``independent.py``).

Written from public knowledge of real-world formats only: card networks' IIN ranges and
lengths with a valid Luhn digit, ISO 13616 IBANs with valid mod-97 check digits and each
country's BBAN length, national telephone numbering plans and their usual printings, the
SSA and HMRC rules for SSNs and National Insurance numbers, IPv4/IPv6 and MAC notations.
Person names, streets and cities come from ``mimesis`` in many locales; the shapes that
people actually write (initials, particles, hyphens, "Last, First", two family names)
are built here. Every function takes an explicit ``random.Random``.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from mimesis import Address, Locale, Person
from mimesis.enums import Gender

NAME_LOCALES: tuple[str, ...] = (
    "en", "en-gb", "de", "fr", "es", "it", "nl", "pl", "hu", "sv", "da", "pt",
    "en-au", "en-ca", "de-at", "de-ch", "nl-be", "cs", "fi", "no", "sk", "hr", "pt-br",
)  # fmt: skip


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _group(s: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, i = [], 0
    for size in sizes:
        if i >= len(s):
            break
        parts.append(s[i : i + size])
        i += size
    if i < len(s):
        parts.append(s[i:])
    return sep.join(parts)


# --- payment cards -------------------------------------------------------------------


def luhn_complete(body: str) -> str:
    """Append the Luhn check digit to ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_complete(number[:-1]) == number


# (network, weight, prefix chooser, lengths)
_CARD_NETWORKS: list[tuple[str, float, Callable[[random.Random], str], tuple[int, ...]]] = [
    ("visa16", 30, lambda r: "4", (16,)),
    ("visa13", 2, lambda r: "4", (13,)),
    ("visa19", 2, lambda r: "4", (19,)),
    ("mc51", 16, lambda r: str(r.randint(51, 55)), (16,)),
    ("mc2", 6, lambda r: str(r.randint(2221, 2720)), (16,)),
    ("amex", 9, lambda r: r.choice(["34", "37"]), (15,)),
    (
        "discover",
        5,
        lambda r: r.choice(
            ["6011", str(r.randint(644, 649)), "65", str(r.randint(622126, 622925))]
        ),
        (16, 16, 16, 19),
    ),
    ("diners", 4, lambda r: r.choice(["36", "38", "39", str(r.randint(300, 305))]), (14,)),
    ("jcb", 4, lambda r: str(r.randint(3528, 3589)), (16, 16, 16, 19)),
    ("jcb15", 2, lambda r: r.choice(["2131", "1800"]), (15,)),
    (
        "maestro",
        5,
        lambda r: r.choice(
            ["5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"]
        ),
        (12, 13, 15, 16, 16, 16, 18, 19),
    ),
    ("unionpay", 5, lambda r: "62" + str(r.randint(0, 9)), (16, 16, 17, 18, 19)),
    ("mir", 3, lambda r: str(r.randint(2200, 2204)), (16,)),
]


def card_number(rng: random.Random) -> str:
    """A Luhn-valid card number of a weighted network, printed as people print it."""
    net = rng.choices(_CARD_NETWORKS, weights=[w for _, w, _, _ in _CARD_NETWORKS])[0]
    name, _, prefix_of, lengths = net
    length = rng.choice(lengths)
    prefix = prefix_of(rng)
    number = luhn_complete(prefix + _digits(rng, length - len(prefix) - 1))
    sep = rng.choices([" ", "-", "", "  "], weights=[55, 15, 28, 2])[0]
    if not sep:
        return number
    if length == 15 and name == "amex":
        sizes: tuple[int, ...] = (4, 6, 5)
    elif length == 14:
        sizes = (4, 6, 4)
    elif length == 15:
        sizes = rng.choice([(4, 4, 4, 3), (4, 6, 5)])
    elif length == 19:
        sizes = rng.choice([(4, 4, 4, 4, 3), (6, 13)])
    elif length == 13:
        sizes = rng.choice([(4, 4, 5), (4, 3, 3, 3)])
    else:
        sizes = (4, 4, 4, 4)
    return _group(number, sizes, sep)


# --- IBAN ------------------------------------------------------------------------------

# country: BBAN pattern (n = digit, a = upper letter, c = alphanumeric), print grouping by 4
_IBAN_BBAN: dict[str, str] = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "IE": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "ES": "n" * 20,
    "IT": "a" + "n" * 10 + "c" * 12,
    "NL": "aaaa" + "n" * 10,
    "BE": "n" * 12,
    "AT": "n" * 16,
    "CH": "n" * 5 + "c" * 12,
    "PL": "n" * 24,
    "HU": "n" * 24,
    "SE": "n" * 20,
    "DK": "n" * 14,
    "FI": "n" * 14,
    "NO": "n" * 11,
    "PT": "n" * 21,
    "LU": "nnn" + "c" * 13,
    "CZ": "n" * 20,
}
_IBAN_WEIGHTS: dict[str, float] = {
    "DE": 14, "GB": 10, "FR": 10, "ES": 8, "IT": 8, "NL": 8, "BE": 4, "AT": 4, "CH": 4,
    "PL": 5, "HU": 3, "SE": 3, "DK": 3, "FI": 2, "NO": 2, "PT": 4, "IE": 3, "LU": 2, "CZ": 2,
}  # fmt: skip
_BANK_CODES = ("NWBK", "BARC", "HBUK", "LOYD", "MIDL", "ABNA", "RABO", "INGB", "AIBK", "BOFI")


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def iban(rng: random.Random, country: str | None = None) -> str:
    if country is None:
        countries = list(_IBAN_WEIGHTS)
        country = rng.choices(countries, weights=[_IBAN_WEIGHTS[c] for c in countries])[0]
    pattern = _IBAN_BBAN[country]
    alphabet = {
        "n": string.digits,
        "a": string.ascii_uppercase,
        "c": string.digits + string.ascii_uppercase,
    }
    bban = "".join(rng.choice(alphabet[kind]) for kind in pattern)
    if country in ("GB", "IE"):
        bban = rng.choice(_BANK_CODES) + bban[4:]
    elif country == "NL":
        bban = rng.choice(["ABNA", "RABO", "INGB", "SNSB", "TRIO"]) + bban[4:]
    compact = country + iban_check_digits(country, bban) + bban
    style = rng.random()
    if style < 0.6:
        return _group(compact, (4,) * 9, " ")
    if style < 0.97:
        return compact
    return _group(compact, (4,) * 9, " ").lower()


# --- national identifiers --------------------------------------------------------------


def us_ssn(rng: random.Random) -> str:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    sep = rng.choices(["-", " ", ""], weights=[80, 12, 8])[0]
    return _group(number, (3, 2, 4), sep)


_NINO_FIRST = [c for c in string.ascii_uppercase if c not in "DFIQUV"]
_NINO_SECOND = [c for c in string.ascii_uppercase if c not in "DFIOQUV"]
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def uk_nino(rng: random.Random) -> str:
    prefix = "GB"
    while prefix in _NINO_BAD_PREFIX:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
    digits = _digits(rng, 6)
    suffix = rng.choice("ABCD")
    style = rng.random()
    if style < 0.45:
        out = f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    elif style < 0.85:
        out = f"{prefix}{digits}{suffix}"
    else:
        out = f"{prefix} {digits} {suffix}"
    return out.lower() if rng.random() < 0.05 else out


# --- network ---------------------------------------------------------------------------


def ipv4(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return f"192.168.{rng.randint(0, 10)}.{rng.randint(2, 254)}"
    if kind < 0.35:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if kind < 0.4:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    first = rng.choice([n for n in range(1, 224) if n not in (10, 127)])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:
        groups = ["fe80", "0", "0", "0"] + [f"{rng.randint(0, 0xFFFF):x}" for _ in range(4)]
    else:
        groups = [rng.choice(["2001", "2a02", "2a01", "2600", "2607", "2804", "2c0f", "2400"])]
        groups += [f"{rng.randint(0, 0xFFFF):x}" for _ in range(7)]
        if rng.random() < 0.5:  # provider prefixes leave zero runs that get compressed
            start = rng.randint(2, 5)
            for i in range(start, start + rng.randint(2, 3)):
                groups[i] = "0"
    if rng.random() < 0.15:
        text = ":".join(g.zfill(4) for g in groups)
    else:
        # RFC 5952: compress the longest run of two or more zero groups
        best, best_len, i = -1, 1, 0
        while i < 8:
            if groups[i] == "0":
                j = i
                while j < 8 and groups[j] == "0":
                    j += 1
                if j - i > best_len:
                    best, best_len = i, j - i
                i = j
            else:
                i += 1
        if best >= 0:
            text = ":".join(groups[:best]) + "::" + ":".join(groups[best + best_len :])
        else:
            text = ":".join(groups)
    return text.upper() if rng.random() < 0.1 else text


def mac_address(rng: random.Random) -> str:
    octets = [rng.randint(0, 255) for _ in range(6)]
    octets[0] &= 0xFE
    hexs = [f"{o:02x}" for o in octets]
    style = rng.random()
    upper = rng.random() < 0.55
    if style < 0.5:
        out = ":".join(hexs)
    elif style < 0.8:
        out = "-".join(hexs)
    elif style < 0.93:
        flat = "".join(hexs)
        out = ".".join([flat[0:4], flat[4:8], flat[8:12]])
        upper = upper and rng.random() < 0.3
    else:
        out = "".join(hexs)
    return out.upper() if upper else out


# --- telephone -------------------------------------------------------------------------

_US_AREAS = [
    "201",
    "202",
    "203",
    "206",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "224",
    "267",
    "301",
    "303",
    "305",
    "310",
    "312",
    "313",
    "314",
    "317",
    "323",
    "347",
    "404",
    "407",
    "408",
    "410",
    "412",
    "415",
    "425",
    "469",
    "480",
    "503",
    "504",
    "508",
    "510",
    "512",
    "513",
    "571",
    "602",
    "608",
    "612",
    "614",
    "615",
    "617",
    "619",
    "626",
    "646",
    "650",
    "702",
    "703",
    "704",
    "713",
    "718",
    "720",
    "773",
    "786",
    "801",
    "813",
    "818",
    "832",
    "847",
    "857",
    "858",
    "904",
    "917",
    "919",
    "929",
    "949",
    "954",
    "971",
    "972",
    "984",
    "416",
    "604",
    "514",
    "613",
    "403",
    "780",
]


def _ext(rng: random.Random) -> str:
    n = str(rng.randint(1, 9999))
    return rng.choice([f" ext. {n}", f" x{n}", f" ext {n}", f" x {n}", f", ext. {n}", f" #{n}"])


def _us(rng: random.Random) -> str:
    area = rng.choice(_US_AREAS) if rng.random() < 0.93 else _digits(rng, 3)
    ex = f"{rng.randint(2, 9)}{_digits(rng, 2)}"
    line = _digits(rng, 4)
    fmt = rng.choices(range(8), weights=[24, 20, 10, 8, 10, 8, 6, 4])[0]
    out = [
        f"({area}) {ex}-{line}",
        f"{area}-{ex}-{line}",
        f"{area}.{ex}.{line}",
        f"+1 {area} {ex} {line}",
        f"+1-{area}-{ex}-{line}",
        f"+1 ({area}) {ex}-{line}",
        f"1-{area}-{ex}-{line}",
        f"{area}{ex}{line}",
    ][fmt]
    return out + _ext(rng) if rng.random() < 0.08 else out


def _uk(rng: random.Random) -> str:
    if rng.random() < 0.6:
        mob = f"7{rng.choice('3456789')}{_digits(rng, 2)}"
        rest = _digits(rng, 6)
        return rng.choice(
            [
                f"0{mob} {rest}",
                f"0{mob} {rest[:3]} {rest[3:]}",
                f"+44 {mob} {rest}",
                f"+44{mob} {rest[:3]} {rest[3:]}",
                f"+44 (0){mob} {rest}",
                f"0{mob}{rest}",
            ]
        )
    areas: list[tuple[str, int]] = [
        ("20", 8), ("121", 7), ("161", 7), ("131", 7), ("113", 7), ("1632", 6)
    ]  # fmt: skip
    area, length = rng.choice(areas)
    num = _digits(rng, length)
    split = 4 if length == 8 else 3
    body = f"{num[:split]} {num[split:]}"
    out = rng.choice([f"0{area} {body}", f"+44 {area} {body}", f"+44 (0){area} {body}"])
    return out + _ext(rng) if rng.random() < 0.1 else out


def _de(rng: random.Random) -> str:
    if rng.random() < 0.55:
        pre = rng.choice(["151", "152", "157", "159", "160", "162", "163", "170", "171", "172",
                          "173", "174", "175", "176", "177", "178", "179"])  # fmt: skip
        num = _digits(rng, 7 if pre in ("151", "160", "170", "171", "175") else 8)
        return rng.choice(
            [f"0{pre} {num}", f"+49 {pre} {num}", f"0{pre}/{num}", f"0{pre}-{num}",
             f"+49 (0){pre} {num}", f"+49{pre}{num}", f"0{pre} {num[:3]} {num[3:]}"]
        )  # fmt: skip
    area = rng.choice(["30", "40", "89", "69", "221", "211", "711", "341", "351", "511", "911"])
    num = _digits(rng, 10 - len(area))
    out = rng.choice([f"0{area} {num}", f"0{area}/{num}", f"+49 {area} {num}",
                      f"+49 (0){area} {num}", f"0{area}-{num}"])  # fmt: skip
    return out + f"-{rng.randint(10, 999)}" if rng.random() < 0.12 else out


def _fr(rng: random.Random) -> str:
    first = rng.choice(["6", "7", "1", "2", "3", "4", "5", "9"])
    pairs = [_digits(rng, 2) for _ in range(4)]
    style = rng.random()
    if style < 0.45:
        return f"0{first} " + " ".join(pairs)
    if style < 0.6:
        return f"0{first}." + ".".join(pairs)
    if style < 0.8:
        return f"+33 {first} " + " ".join(pairs)
    if style < 0.9:
        return f"+33 (0){first} " + " ".join(pairs)
    return f"0{first}" + "".join(pairs)


def _ch(rng: random.Random) -> str:
    pre = rng.choice(["76", "77", "78", "79", "44", "43", "22", "31", "61", "96"])
    a, b, c = _digits(rng, 3), _digits(rng, 2), _digits(rng, 2)
    return rng.choice(
        [f"+41 {pre} {a} {b} {c}", f"0{pre} {a} {b} {c}", f"+41 (0){pre} {a} {b} {c}"]
    )


def _es(rng: random.Random) -> str:
    num = rng.choice("6679") + _digits(rng, 8)
    return rng.choice(
        [f"+34 {_group(num, (3, 3, 3), ' ')}", _group(num, (3, 3, 3), " "),
         f"+34 {_group(num, (3, 2, 2, 2), ' ')}", num, f"+34{num}"]
    )  # fmt: skip


def _it(rng: random.Random) -> str:
    if rng.random() < 0.7:
        num = "3" + rng.choice("234789") + _digits(rng, 8)
        return rng.choice([f"+39 {num[:3]} {num[3:6]} {num[6:]}", f"{num[:3]} {num[3:]}",
                           f"+39 {num[:3]} {num[3:]}", num, f"{num[:3]}-{num[3:]}"])  # fmt: skip
    area = "0" + rng.choice(["2", "6", "11", "55", "81"])
    num = _digits(rng, 10 - len(area))
    return rng.choice([f"{area} {num[:4]} {num[4:]}", f"+39 {area} {num}", f"{area}/{num}"])


def _nl(rng: random.Random) -> str:
    if rng.random() < 0.6:
        num = _digits(rng, 8)
        return rng.choice([f"06-{num}", f"06 {num}", f"+31 6 {num}", f"+31 (0)6 {num}",
                           f"06 {_group(num, (2, 2, 2, 2), ' ')}", f"+316{num}"])  # fmt: skip
    area = rng.choice(["20", "10", "70", "30", "40", "50"])
    num = _digits(rng, 7)
    return rng.choice([f"0{area}-{num}", f"0{area} {num[:3]} {num[3:]}", f"+31 {area} {num}"])


def _pl(rng: random.Random) -> str:
    num = rng.choice("5678") + _digits(rng, 8)
    return rng.choice([f"+48 {_group(num, (3, 3, 3), ' ')}", _group(num, (3, 3, 3), "-"),
                       _group(num, (3, 3, 3), " "), f"+48{num}"])  # fmt: skip


def _hu(rng: random.Random) -> str:
    if rng.random() < 0.7:
        pre, num = rng.choice(["20", "30", "70", "31"]), _digits(rng, 7)
        return rng.choice([f"+36 {pre} {num[:3]} {num[3:]}", f"06 {pre} {num[:3]} {num[3:]}",
                           f"06-{pre}-{num[:3]}-{num[3:]}", f"+36{pre}{num}",
                           f"06 ({pre}) {num[:3]} {num[3:]}"])  # fmt: skip
    num = _digits(rng, 7)
    return rng.choice([f"06-1-{num[:3]}-{num[3:]}", f"+36 1 {num[:3]} {num[3:]}"])


def _se(rng: random.Random) -> str:
    if rng.random() < 0.7:
        pre, n = rng.choice(["70", "72", "73", "76", "79"]), _digits(rng, 7)
        return rng.choice([f"0{pre}-{n[:3]} {n[3:5]} {n[5:]}", f"+46 {pre} {n[:3]} {n[3:5]} {n[5:]}",
                           f"0{pre} {n[:3]} {n[3:5]} {n[5:]}", f"+46{pre}{n}"])  # fmt: skip
    n = _digits(rng, 8)
    return rng.choice([f"08-{n[:3]} {n[3:6]} {n[6:]}", f"+46 8 {n[:3]} {n[3:6]} {n[6:]}"])


def _dk(rng: random.Random) -> str:
    pairs = [rng.choice("2345678") + _digits(rng, 1)] + [_digits(rng, 2) for _ in range(3)]
    return rng.choice(["+45 " + " ".join(pairs), " ".join(pairs), "+45" + "".join(pairs)])


def _pt(rng: random.Random) -> str:
    num = "9" + rng.choice("1236") + _digits(rng, 7)
    return rng.choice([f"+351 {_group(num, (3, 3, 3), ' ')}", _group(num, (3, 3, 3), " "),
                       f"+351{num}", f"(+351) {_group(num, (3, 3, 3), ' ')}"])  # fmt: skip


def _at(rng: random.Random) -> str:
    pre, n = rng.choice(["664", "660", "676", "699", "650"]), _digits(rng, 7)
    return rng.choice([f"+43 {pre} {n}", f"0{pre} {n}", f"+43 (0){pre} {n[:3]} {n[3:]}"])


def _be(rng: random.Random) -> str:
    n = _digits(rng, 6)
    pre = rng.choice(["470", "471", "472", "475", "477", "478", "479", "486", "496"])
    return rng.choice([f"+32 {pre} {n[:2]} {n[2:4]} {n[4:]}", f"0{pre} {n[:2]} {n[2:4]} {n[4:]}",
                       f"0{pre}/{n[:2]}.{n[2:4]}.{n[4:]}"])  # fmt: skip


def _ie(rng: random.Random) -> str:
    pre, n = rng.choice(["83", "85", "86", "87", "89"]), _digits(rng, 7)
    return rng.choice([f"+353 {pre} {n[:3]} {n[3:]}", f"0{pre} {n[:3]} {n[3:]}"])


def _au(rng: random.Random) -> str:
    n = _digits(rng, 8)
    return rng.choice([f"04{n[:2]} {n[2:5]} {n[5:]}", f"+61 4{n[:2]} {n[2:5]} {n[5:]}",
                       f"(02) {n[:4]} {n[4:]}"])  # fmt: skip


PHONE_BY_COUNTRY: dict[str, Callable[[random.Random], str]] = {
    "us": _us, "gb": _uk, "de": _de, "fr": _fr, "ch": _ch, "es": _es, "it": _it, "nl": _nl,
    "pl": _pl, "hu": _hu, "se": _se, "dk": _dk, "pt": _pt, "at": _at, "be": _be, "ie": _ie,
    "au": _au,
}  # fmt: skip
_PHONE_WEIGHTS = {
    "us": 24, "gb": 14, "de": 12, "fr": 9, "ch": 3, "es": 5, "it": 5, "nl": 5, "pl": 4, "hu": 3,
    "se": 3, "dk": 2, "pt": 3, "at": 2, "be": 2, "ie": 2, "au": 2,
}  # fmt: skip
LANG_COUNTRY = {"en": "us", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl",
                "pl": "pl", "hu": "hu", "sv": "se", "da": "dk", "pt": "pt"}  # fmt: skip


def phone(rng: random.Random, *, lang: str = "en") -> str:
    home = LANG_COUNTRY.get(lang, "us")
    if lang != "en" and rng.random() < 0.7:
        return PHONE_BY_COUNTRY[home](rng)
    countries = list(_PHONE_WEIGHTS)
    country = rng.choices(countries, weights=[_PHONE_WEIGHTS[c] for c in countries])[0]
    return PHONE_BY_COUNTRY[country](rng)


# --- people, addresses, e-mail ---------------------------------------------------------

_PARTICLES = {
    "nl": ["van", "van der", "de", "van den", "ter", "van de"],
    "nl-be": ["Van", "De", "Vanden", "Van der"],
    "de": ["von", "von der", "zu"],
    "de-at": ["von"],
    "fr": ["de", "du", "Le", "de la", "d'"],
    "it": ["Di", "De", "Lo", "La", "D'"],
    "es": ["de", "del", "de la"],
    "pt": ["da", "dos", "de"],
    "pt-br": ["da", "dos"],
    "en": ["O'", "Mc", "Mac", "St. "],
    "en-gb": ["O'", "Mc", "Mac"],
}


@dataclass
class NameSource:
    """mimesis providers per locale, seeded from one ``random.Random``."""

    rng: random.Random
    _people: dict[str, Person] = field(default_factory=dict)
    _addresses: dict[str, Address] = field(default_factory=dict)

    def person(self, loc: str) -> Person:
        if loc not in self._people:
            self._people[loc] = Person(Locale(loc), seed=self.rng.getrandbits(32))
        return self._people[loc]

    def address(self, loc: str) -> Address:
        if loc not in self._addresses:
            self._addresses[loc] = Address(Locale(loc), seed=self.rng.getrandbits(32))
        return self._addresses[loc]


@dataclass(frozen=True)
class Name:
    given: str
    family: str
    text: str  # the form written in the sentence


def _clean(s: str) -> str:
    return " ".join(s.split())


def make_name(rng: random.Random, src: NameSource, loc: str) -> Name:
    """A person's name in one of the shapes people write."""
    p = src.person(loc)
    gender = rng.choice([Gender.FEMALE, Gender.MALE])
    given = _clean(p.first_name(gender))
    family = _clean(p.last_name(gender))
    r = rng.random()
    if r < 0.5:
        text = f"{given} {family}"
    elif r < 0.58:
        mid = _clean(p.first_name(rng.choice([Gender.FEMALE, Gender.MALE])))[0]
        text = f"{given} {mid}{rng.choice(['.', '', '.'])} {family}"
    elif r < 0.64:
        mid = _clean(p.first_name(gender))[0]
        text = rng.choice(
            [f"{given[0]}. {family}", f"{given[0]}. {mid}. {family}", f"{given[0]}.{mid}. {family}"]
        )
    elif r < 0.71:
        if rng.random() < 0.5:
            other = _clean(p.first_name(gender))
            given = f"{given}-{other}"
            text = f"{given} {family}"
        else:
            family = f"{family}-{_clean(p.last_name(gender))}"
            text = f"{given} {family}"
    elif r < 0.79 and loc in _PARTICLES:
        part = rng.choice(_PARTICLES[loc])
        joined = part.endswith(("'", "Mc", "Mac", ". "))
        base = family if not joined else family.capitalize()
        family = f"{part}{base}" if joined else f"{part} {base}"
        text = f"{given} {family}"
    elif r < 0.84:
        text = f"{family}, {given}"
    elif r < 0.9 or (loc in ("es", "pt", "pt-br") and r < 0.97):
        family = f"{family} {_clean(p.last_name(gender))}"
        text = f"{given} {family}"
    else:
        text = f"{given} {_clean(p.first_name(gender))} {family}"
    return Name(given=given, family=family, text=text)


_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "ł": "l", "Ł": "L",
                       "đ": "d", "Đ": "D", "ı": "i", "œ": "oe", "'": ""})  # fmt: skip


def ascii_fold(s: str) -> str:
    folded = unicodedata.normalize("NFKD", s.translate(_FOLD)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch in "-")


_MAIL_DOMAINS = {
    "en": ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "aol.com",
           "proton.me", "fastmail.com", "comcast.net"],
    "en-gb": ["btinternet.com", "yahoo.co.uk", "sky.com", "hotmail.co.uk", "gmail.com"],
    "de": ["gmx.de", "web.de", "t-online.de", "posteo.de", "gmail.com", "freenet.de"],
    "fr": ["orange.fr", "free.fr", "laposte.net", "sfr.fr", "gmail.com", "wanadoo.fr"],
    "es": ["gmail.com", "hotmail.es", "telefonica.net", "yahoo.es"],
    "it": ["libero.it", "virgilio.it", "tiscali.it", "gmail.com", "alice.it"],
    "nl": ["ziggo.nl", "kpnmail.nl", "hetnet.nl", "gmail.com", "xs4all.nl"],
    "pl": ["wp.pl", "onet.pl", "o2.pl", "interia.pl", "gmail.com"],
    "hu": ["freemail.hu", "citromail.hu", "gmail.com", "t-online.hu"],
    "sv": ["telia.com", "hotmail.se", "gmail.com", "bredband.net"],
    "da": ["mail.dk", "jubii.dk", "gmail.com", "stofanet.dk"],
    "pt": ["sapo.pt", "gmail.com", "iol.pt", "netcabo.pt"],
}  # fmt: skip
_WORK_DOMAINS = [
    "acme-corp.com", "mail.eng.northwind.io", "students.uni-heidelberg.de", "cs.ox.ac.uk",
    "hr.contoso.co.uk", "sales.fabrikam.net", "kundenservice.stadtwerke-ulm.de",
    "eu.support.globex.com", "univ-lyon1.fr", "polimi.it", "tudelft.nl", "uw.edu.pl",
    "mail.bme.hu", "kth.se", "ku.dk", "ulisboa.pt", "nhs.net", "lists.debian.org",
]  # fmt: skip


def email(rng: random.Random, name: Name | None, *, lang: str = "en") -> str:
    if name is None or rng.random() < 0.12:
        local = rng.choice(["info", "office", "billing", "hello", "jobs", "contact"])
        local = local if rng.random() < 0.3 else ascii_fold(name.family if name else "kontakt")
        local = (local or "post").lower() + (str(rng.randint(1, 99)) if rng.random() < 0.5 else "")
    else:
        g = ascii_fold(name.given.split("-")[0]).lower() or "x"
        f = ascii_fold(name.family.replace(" ", "")).lower() or "y"
        local = rng.choice(
            [f"{g}.{f}", f"{g[0]}{f}", f"{g}_{f}", f"{g}{f}", f"{g}.{f}{rng.randint(1, 99)}",
             f"{g}{rng.randint(1960, 2009)}", f"{f}.{g}", f"{g[0]}.{f}", f"{g}-{f}", g]
        )  # fmt: skip
        if rng.random() < 0.08:
            local += "+" + rng.choice(["news", "shopping", "amazon", "spam", "work", "2024"])
    if rng.random() < 0.3:
        domain = rng.choice(_WORK_DOMAINS)
    else:
        domain = rng.choice(_MAIL_DOMAINS.get(lang, _MAIL_DOMAINS["en"]))
    out = f"{local}@{domain}"
    if rng.random() < 0.05:
        out = out.capitalize()
    return out


def _house_number(rng: random.Random) -> str:
    n = str(int(rng.lognormvariate(2.3, 1.0)) % 300 + 1)
    return n + rng.choice("ab") if rng.random() < 0.06 else n


def street_address(rng: random.Random, src: NameSource, loc: str, *, full: bool) -> str:
    """A street line as written in ``loc``, optionally with postcode and town."""
    a = src.address(loc)
    num = _house_number(rng)
    if loc in ("en", "en-au", "en-ca", "en-gb"):
        street = f"{num} {_clean(a.street_name())} {a.street_suffix()}"
        if rng.random() < 0.12:
            street += rng.choice([f", Apt {rng.randint(1, 40)}{rng.choice('ABC')}",
                                  f" Apt {rng.randint(1, 12)}", f", Suite {rng.randint(100, 900)}"])  # fmt: skip
        if loc == "en-gb" and rng.random() < 0.15:
            street = f"Flat {rng.randint(1, 30)}, {street}"
    else:
        line = _clean(a.address())
        words = line.replace(",", "").split(" ")
        digits = [w for w in words if w.isdigit()]
        rest = " ".join(w for w in words if not w.isdigit())
        if not digits:
            rest = line
        if loc == "fr":
            street = f"{num}{rng.choice([' ', ', ', ' bis '])}{rest}"
        elif loc in ("es", "it"):
            street = f"{rest}, {num}"
        else:
            street = f"{rest} {num}"
    if not full:
        return street
    city = _clean(a.city())
    postal = _clean(a.postal_code())
    if loc == "en":
        return f"{street}, {city}, {a.state(abbr=True)} {postal}"
    if loc in ("en-gb", "en-au", "en-ca"):
        return f"{street}, {city} {postal}"
    return f"{street}, {postal} {city}"
