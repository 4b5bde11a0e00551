"""Deterministic synthetic utterances with known identifier spans, in six locales.

Values are produced from the published formats (numbering plans, IBAN and ID
check digits) by code written independently of the recognizers; person names
come from two lists: names that are in Loupe's gazetteer and a held-out list
that is checked to be disjoint from it. Negatives are sentences full of numbers
that are not identifiers (order numbers, prices, versions, ISBNs).

    python bench/privacy/generate.py --seed 7 --n 2000 [--split main|blind|fresh|fresh2] > /tmp/privacy.jsonl

The ``fresh`` split's templates, held-out names and negatives are in ``fresh.py``,
the ``fresh2`` split's in ``fresh2.py``.
"""

from __future__ import annotations

# Data tables of multilingual sentences: long lines and full-width punctuation are the point.
import argparse
import ipaddress
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from fresh import FRESH, FRESH_HELD_OUT, FRESH_NEGATIVES
from fresh2 import FRESH2, FRESH2_HELD_OUT, FRESH2_NEGATIVES, fresh2_person

from loupe.privacy.checksums import luhn_valid
from loupe.privacy.detectors.gazetteer import FAMILY_NAMES, GIVEN_NAMES, PARTICLES

LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "zh-CN")

# Held-out names: none of these is in the gazetteer (asserted below).
HELD_OUT: dict[str, tuple[list[str], list[str]]] = {
    "en-US": (["Brantley", "Kinsley", "Everett", "Maddox", "Delilah", "Rowan", "Tatum", "Jolene"],
              ["Whitfield", "Blackwood", "Kowalczuk", "Prescott", "Hargrove", "Ashworth", "Dunleavy"]),
    "en-GB": (["Tamsin", "Rupert", "Ottilie", "Crispin", "Saoirse", "Hamish", "Peregrine"],
              ["Fairweather", "Thistlewood", "Pennington", "Abernethy", "Cholmondeley", "Wetherby"]),
    "de-DE": (["Wiebke", "Hauke", "Gesine", "Volker", "Ortrun", "Detlef", "Friedhelm", "Swantje"],
              ["Brockmöller", "Habicht", "Quandt", "Eichhorst", "Wendland", "Tiedemann", "Rübsam"]),
    "fr-FR": (["Gwenaëlle", "Anatole", "Ségolène", "Aymeric", "Clothilde", "Fulbert", "Solène"],
              ["Kerjean", "Villeneuve", "Lacombe", "Daguerre", "Beaulieu", "Montvallon", "Pelletier"]),
    "es-ES": (["Itziar", "Begoña", "Iñaki", "Ainhoa", "Leocadio", "Maite", "Eulalia", "Fermín"],
              ["Etxeberria", "Urquijo", "Zubizarreta", "Olabarrieta", "Barrenechea", "Quintanilla"]),
    "zh-CN": (["浩然", "梓萱", "子墨", "若曦", "一诺"], ["欧阳", "诸葛", "尹", "牛", "柴"]),
}  # fmt: skip
IN_GAZ_ZH = (["伟", "芳", "秀英", "建国", "丽", "强"], ["王", "李", "张", "刘", "陈"])


@dataclass
class Item:
    text: str
    spans: list[tuple[int, int, str]]
    locale: str
    name_sources: list[str]  # "gazetteer" or "held_out", one per PERSON span in order


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return next(body + d for d in string.digits if luhn_valid(body + d))


def card(rng: random.Random, _: str) -> str:
    kind = rng.choice(["visa", "mc", "amex", "visa13", "mc2"])
    if kind == "amex":
        n = _luhn_complete(rng.choice(["34", "37"]), 15, rng)
        sep = rng.choice([" ", "-", ""])
        return sep.join([n[:4], n[4:10], n[10:]])
    prefix = {"visa": "4", "visa13": "4", "mc": str(rng.randint(51, 55)), "mc2": "2221"}[kind]
    n = _luhn_complete(prefix, 13 if kind == "visa13" else 16, rng)
    if kind == "visa13":
        return n
    sep = rng.choice([" ", "-", "", " "])
    return sep.join(n[i : i + 4] for i in range(0, 16, 4))


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def iban(rng: random.Random, locale: str) -> str:
    d = lambda k: "".join(rng.choice(string.digits) for _ in range(k))  # noqa: E731
    country = {"de-DE": "DE", "en-GB": "GB", "fr-FR": "FR", "es-ES": "ES"}.get(
        locale, rng.choice(["DE", "FR", "ES", "GB", "NL", "IT"])
    )
    bban = {
        "DE": lambda: d(18),
        "GB": lambda: rng.choice(["NWBK", "BARC", "LOYD", "MIDL"]) + d(14),
        "FR": lambda: d(23),
        "ES": lambda: d(20),
        "NL": lambda: rng.choice(["ABNA", "INGB", "RABO"]) + d(10),
        "IT": lambda: rng.choice(string.ascii_uppercase) + d(22),
    }[country]()
    value = _iban(country, bban)
    if rng.random() < 0.6:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def phone(rng: random.Random, locale: str) -> str:
    d = lambda k: "".join(rng.choice(string.digits) for _ in range(k))  # noqa: E731
    intl = rng.random() < 0.4
    if locale == "en-US":
        area = rng.choice(["212", "415", "312", "617", "206", "303", "512", "646", "702"])
        ex = str(rng.randint(2, 9)) + d(2)
        line = d(4)
        return rng.choice([f"({area}) {ex}-{line}", f"{area}-{ex}-{line}", f"+1 {area} {ex} {line}",
                           f"{area}.{ex}.{line}"])  # fmt: skip
    if locale == "en-GB":
        mob = "7" + rng.choice("1234579") + d(2)
        rest = d(6)
        return (
            f"+44 {mob} {rest}" if intl else rng.choice([f"0{mob} {rest}", f"020 7{d(3)} {d(4)}"])
        )
    if locale == "de-DE":
        if rng.random() < 0.5:
            mob = "1" + rng.choice(["51", "52", "57", "60", "62", "70", "71", "76"])
            return f"+49 {mob} {d(8)}" if intl else f"0{mob} {d(8)}"
        return f"+49 30 {d(7)}" if intl else rng.choice([f"030 {d(7)}", f"089/{d(7)}"])
    if locale == "fr-FR":
        # 06, 07 3x-9x (mobile) and 01 (Paris) are the allocated ranges used here.
        first = rng.choice(["6", "7", "1"])
        lead = str(rng.randint(3, 9)) + d(1) if first == "7" else d(2)
        groups = " ".join([lead, *(d(2) for _ in range(3))])
        return f"+33 {first} {groups}" if intl else rng.choice([f"0{first} {groups}",
                                                                 f"0{first}.{groups.replace(' ', '.')}"])  # fmt: skip
    if locale == "es-ES":
        first = rng.choice(["6", "7", "91"])
        num = first + d(9 - len(first))
        fmt = (
            f"{num[:3]} {num[3:5]} {num[5:7]} {num[7:]}"
            if rng.random() < 0.5
            else f"{num[:3]} {num[3:6]} {num[6:]}"
        )
        return f"+34 {fmt}" if intl else fmt
    mob = "1" + rng.choice(["38", "39", "50", "58", "86", "88", "36"])
    return (
        f"+86 {mob} {d(4)} {d(4)}" if intl else rng.choice([f"{mob}{d(8)}", f"{mob}-{d(4)}-{d(4)}"])
    )


def email(rng: random.Random, locale: str) -> str:
    user = rng.choice(["j.doe", "maria_s", "kwang88", "info", "l.dupont", "p.garcia2",
                       "anna-m", "tom.b+news", "zhang.wei", "x9y8"])  # fmt: skip
    domain = {"de-DE": ["web.de", "gmx.de", "firma.de"], "fr-FR": ["orange.fr", "laposte.net"],
              "es-ES": ["correo.es", "telefonica.es"], "zh-CN": ["qq.com", "163.com"],
              "en-GB": ["btinternet.com", "nhs.net", "company.co.uk"]}.get(
        locale, ["gmail.com", "example.org", "mail.acme.io"])  # fmt: skip
    return f"{user}@{rng.choice(domain)}"


def ip(rng: random.Random, _: str) -> str:
    if rng.random() < 0.7:
        return str(ipaddress.IPv4Address(rng.randint(0x0B000000, 0xDF000000)))
    return str(ipaddress.IPv6Address(rng.getrandbits(64) << 64 if rng.random() < 0.5 else
                                     (0x20010DB8 << 96) | rng.getrandbits(32)))  # fmt: skip


def mac(rng: random.Random, _: str) -> str:
    octets = [f"{rng.randint(0, 255):02x}" for _ in range(6)]
    sep = rng.choice([":", "-"])
    value = sep.join(octets)
    return value.upper() if rng.random() < 0.5 else value


def ssn(rng: random.Random, _: str) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def cn_id(rng: random.Random, _: str) -> str:
    region = rng.choice(["110105", "310104", "440305", "510107"])
    body = f"{region}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def nino(rng: random.Random, _: str) -> str:
    prefix = rng.choice(["AB", "JK", "WP", "CE", "NA", "ZX"])
    d = f"{rng.randint(0, 999999):06d}"
    return rng.choice(
        [
            f"{prefix}{d}{rng.choice('ABCD')}",
            f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}",
        ]
    )


def dni(rng: random.Random, _: str) -> str:
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    if rng.random() < 0.7:
        n = rng.randint(10_000_000, 99_999_999)
        return f"{n}{letters[n % 23]}"
    p = rng.choice("XYZ")
    n = rng.randint(0, 9_999_999)
    return f"{p}{n:07d}{letters[int(str('XYZ'.index(p)) + f'{n:07d}') % 23]}"


def dob(rng: random.Random, locale: str) -> str:
    y, m, dd = rng.randint(1935, 2006), rng.randint(1, 12), rng.randint(1, 28)
    months = {"en": ["January", "March", "May", "July", "October", "December"],
              "de": ["Januar", "März", "Mai", "Juli", "Oktober", "Dezember"],
              "fr": ["janvier", "mars", "mai", "juillet", "octobre", "décembre"],
              "es": ["enero", "marzo", "mayo", "julio", "octubre", "diciembre"]}  # fmt: skip
    lang = locale[:2]
    if lang == "zh":
        return f"{y}年{m}月{dd}日"
    if lang == "en":
        return rng.choice([f"{m:02d}/{dd:02d}/{y}" if locale == "en-US" else f"{dd:02d}/{m:02d}/{y}",
                           f"{rng.choice(months['en'])} {dd}, {y}", f"{dd} {rng.choice(months['en'])} {y}",
                           f"{y}-{m:02d}-{dd:02d}"])  # fmt: skip
    if lang == "de":
        return rng.choice([f"{dd:02d}.{m:02d}.{y}", f"{dd}. {rng.choice(months['de'])} {y}"])
    if lang == "fr":
        return rng.choice([f"{dd:02d}/{m:02d}/{y}", f"{dd} {rng.choice(months['fr'])} {y}"])
    return rng.choice([f"{dd:02d}/{m:02d}/{y}", f"{dd} de {rng.choice(months['es'])} de {y}"])


def address(rng: random.Random, locale: str) -> str:
    n = rng.randint(1, 240)
    if locale == "en-US":
        street = rng.choice(["Maple", "Lakeview", "Old Mill", "Sycamore", "Cedar Ridge", "Willow"])
        kind = rng.choice(["Street", "Ave", "Road", "Drive", "Lane", "Blvd", "Court"])
        city = rng.choice(["Portland, OR 97205", "Austin, TX 78701", "Columbus, OH 43004"])
        return rng.choice([f"{n} {street} {kind}", f"{n} {street} {kind}, {city}"])
    if locale == "en-GB":
        street = rng.choice(["Mill", "Station", "Church", "Victoria", "Kingsley", "Orchard"])
        kind = rng.choice(["Road", "Lane", "Street", "Close", "Crescent", "Gardens"])
        town = rng.choice(["Leeds LS1 4AP", "Bristol BS8 1TH", "York YO1 7HH"])
        return rng.choice([f"{n} {street} {kind}", f"{n} {street} {kind}, {town}"])
    if locale == "de-DE":
        street = rng.choice(["Lindenstraße", "Goethestr.", "Am Mühlbach", "Schillerweg", "Kirchplatz",
                             "Bahnhofstraße", "Rosenallee"])  # fmt: skip
        town = rng.choice(["10115 Berlin", "80331 München", "50667 Köln"])
        return rng.choice([f"{street} {n}", f"{street} {n}, {town}"])
    if locale == "fr-FR":
        street = rng.choice(["rue de la République", "avenue Victor Hugo", "boulevard Voltaire",
                             "place du Marché", "rue des Lilas", "chemin des Vignes"])  # fmt: skip
        town = rng.choice(["75011 Paris", "69002 Lyon", "13001 Marseille"])
        return rng.choice([f"{n} {street}", f"{n} {street}, {town}", f"{n} bis {street}"])
    if locale == "es-ES":
        street = rng.choice(["Calle Mayor", "Avenida de América", "Calle de Serrano", "Paseo del Prado",
                             "Plaza de España", "Calle Real"])  # fmt: skip
        town = rng.choice(["28001 Madrid", "08002 Barcelona", "46001 Valencia"])
        return rng.choice([f"{street} {n}", f"{street}, {n}", f"{street} {n}, {town}"])
    city = rng.choice(["北京市朝阳区", "上海市浦东新区", "广州市天河区", "成都市武侯区"])
    road = rng.choice(["建国路", "世纪大道", "天河路", "人民南路", "中山东一路"])
    return rng.choice(
        [f"{city}{road}{n}号", f"{city}{road}{n}号{rng.randint(1, 20)}栋{rng.randint(101, 999)}室"]
    )


def mrn(rng: random.Random, _: str) -> str:
    return rng.choice([f"{rng.randint(0, 99999999):08d}", f"MR{rng.randint(100000, 999999)}",
                       f"{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"])  # fmt: skip


def vin(rng: random.Random, _: str) -> str:
    from loupe.privacy.checksums import vin_valid

    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    while True:
        v = (
            "".join(rng.choice(alphabet) for _ in range(8))
            + "0"
            + "".join(rng.choice(alphabet) for _ in range(8))
        )
        for c in "0123456789X":
            cand = v[:8] + c + v[9:]
            if vin_valid(cand):
                return cand


def age(rng: random.Random, _: str) -> str:
    return str(rng.randint(90, 104))


GENERATORS: dict[str, Callable[[random.Random, str], str]] = {
    "CREDIT_CARD": card, "IBAN": iban, "PHONE": phone, "EMAIL": email, "IP_ADDRESS": ip,
    "MAC_ADDRESS": mac, "US_SSN": ssn, "CN_RESIDENT_ID": cn_id, "UK_NINO": nino, "ES_DNI": dni,
    "DATE_OF_BIRTH": dob, "STREET_ADDRESS": address, "MEDICAL_RECORD_NUMBER": mrn, "VIN": vin,
    "AGE_OVER_89": age,
}  # fmt: skip

# Templates per locale: {TYPE} slots. Varied phrasing; not all carry cue words.
TEMPLATES: dict[str, list[str]] = {
    "en-US": [
        "call {PERSON} at {PHONE}",
        "text {PERSON} that I'm running late",
        "my card is {CREDIT_CARD}",
        "{PERSON} will join the standup tomorrow",
        "send the invoice to {EMAIL} please",
        "I was born on {DATE_OF_BIRTH} in Ohio",
        "ship it to {STREET_ADDRESS}",
        "the server at {IP_ADDRESS} keeps timing out",
        "SSN {US_SSN}, please update my file",
        "can you remind {PERSON} about the dentist",
        "reach me on {PHONE} after five",
        "pay with {CREDIT_CARD} exp 04/27",
        "patient MRN {MEDICAL_RECORD_NUMBER} was seen by {PERSON}",
        "the device {MAC_ADDRESS} is not on the allow list",
        "VIN {VIN} failed inspection",
        "a {AGE_OVER_89} year old woman presented with chest pain",
        "my social is {US_SSN}",
        "I had lunch with {PERSON} and {PERSON} yesterday",
        "{PERSON}'s email is {EMAIL}",
        "Dr. {PERSON} said my DOB {DATE_OF_BIRTH} is wrong in the chart",
    ],
    "en-GB": [
        "ring {PERSON} on {PHONE}",
        "my national insurance number is {NINO}",
        "pay it into {IBAN} by Friday",
        "{PERSON} lives at {STREET_ADDRESS}",
        "email {EMAIL} about the booking",
        "could you ask {PERSON} to call me back",
        "date of birth {DATE_OF_BIRTH}",
        "NI no. {NINO}, surname {PERSON}",
        "Mrs {PERSON} has moved to {STREET_ADDRESS}",
        "my mobile is {PHONE}",
        "card ending... actually the full number is {CREDIT_CARD}",
    ],
    "de-DE": [
        "ruf {PERSON} unter {PHONE} an",
        "meine IBAN ist {IBAN}",
        "Schreib {PERSON} eine Nachricht",
        "Ich wohne in der {STREET_ADDRESS}",
        "geboren am {DATE_OF_BIRTH} in Hamburg",
        "Termin mit {PERSON} am Montag verschieben",
        "Meine Handynummer lautet {PHONE}",
        "Bitte überweise das Geld an {IBAN}",
        "Herr {PERSON} wartet in der {STREET_ADDRESS}",
        "Die Mail von {EMAIL} ist angekommen",
        "Erinnere {PERSON} an die Rechnung",
    ],
    "fr-FR": [
        "appelle {PERSON} au {PHONE}",
        "mon IBAN est {IBAN}",
        "envoie un message à {PERSON}",
        "j'habite au {STREET_ADDRESS}",
        "née le {DATE_OF_BIRTH} à Lyon",
        "Mme {PERSON} attend au {STREET_ADDRESS}",
        "mon portable : {PHONE}",
        "écris à {EMAIL} pour confirmer",
        "dis à {PERSON} que je serai en retard",
        "virement sur {IBAN} demain",
    ],
    "es-ES": [
        "llama a {PERSON} al {PHONE}",
        "mi DNI es {ES_DNI}",
        "mi IBAN es {IBAN}",
        "vivo en {STREET_ADDRESS}",
        "nacida el {DATE_OF_BIRTH} en Bilbao",
        "manda un mensaje a {PERSON}",
        "el móvil de {PERSON} es {PHONE}",
        "escribe a {EMAIL} mañana",
        "el NIE {ES_DNI} está caducado",
        "Sra. {PERSON} no contesta",
    ],
    "zh-CN": [
        "给{PERSON}打电话，号码是{PHONE}",
        "我的身份证号是{CN_RESIDENT_ID}",
        "请联系{PERSON}女士",
        "我住在{STREET_ADDRESS}",
        "出生日期：{DATE_OF_BIRTH}",
        "把文件发到{EMAIL}",
        "告诉{PERSON}明天开会",
        "手机{PHONE}，请回电",
        "快递寄到{STREET_ADDRESS}",
        "身份证{CN_RESIDENT_ID}已登记",
    ],
}
# Written after the recognizers were tuned on TEMPLATES and never used for tuning:
# ``--split blind`` reports on these alone.
BLIND: dict[str, list[str]] = {
    "en-US": ["Quick note from {PERSON}: the wire went to {IBAN}", "{PERSON} and I drove up on Sunday",
              "Forward this to {PERSON} ({EMAIL}) before noon", "I think {PERSON} moved to {STREET_ADDRESS}"],
    "en-GB": ["Cheers, {PERSON}", "Spoke with {PERSON} from accounts, she's on {PHONE}"],
    "de-DE": ["Gestern hat {PERSON} angerufen, Nummer {PHONE}", "Viele Grüße, {PERSON}"],
    "fr-FR": ["Hier soir, {PERSON} m'a donné son numéro : {PHONE}", "Cordialement, {PERSON}"],
    "es-ES": ["Ayer vi a {PERSON} en la oficina", "Un saludo, {PERSON}"],
    "zh-CN": ["昨天{PERSON}来过，电话{PHONE}", "请把合同交给{PERSON}"],
}  # fmt: skip
NEGATIVES = [
    "order #{n8} shipped on Tuesday",
    "the invoice total is {n4},{n3}.{n2} EUR",
    "upgrade to version {v}",
    "room {n4} on floor 3",
    "ISBN 978-3-16-148410-0 is out of print",
    "the population was {n7} in 2020",
    "meeting moved to 10:30:00",
    "the score was 3-2 after {n2} minutes",
    "ticket {n10} is still open",
    "batch {n16} failed QA",
    "we sold {n6} units in Q3",
    "Bestellnummer {n8} wurde versendet",
    "la facture {n10} est payée",
    "el pedido {n9} llegó tarde",
    "订单号{n12}已发货",
    "temperature was 37.5 and pressure 120/80",
    "take 2 tablets 3 times a day",
    "New York and Paris are lovely in May",
    "Meeting with Acme Corp about the Q4 roadmap",
    "Berlin Hauptbahnhof is closed",
    "The Eiffel Tower is 330 metres tall",
    "lot {n5}-{n3} expires 2026",
    "coordinates 48.8584, 2.2945",
]


def _numbers(rng: random.Random) -> dict[str, str]:
    out = {f"n{k}": str(rng.randint(10 ** (k - 1), 10**k - 1)) for k in range(2, 17)}
    out["v"] = f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}"
    return out


def _person(
    rng: random.Random, locale: str, held_out: dict[str, tuple[list[str], list[str]]]
) -> tuple[str, str]:
    held = rng.random() < 0.5
    if locale == "zh-CN":
        given, family = held_out[locale] if held else IN_GAZ_ZH
        return rng.choice(family) + rng.choice(given), "held_out" if held else "gazetteer"
    if held:
        given, family = held_out[locale]
    else:
        given, family = sorted(GIVEN_NAMES), sorted(FAMILY_NAMES)
    style = rng.random()
    if style < 0.75:
        return f"{rng.choice(given)} {rng.choice(family)}", "held_out" if held else "gazetteer"
    return rng.choice(given), "held_out" if held else "gazetteer"


def _fill(
    template: str,
    rng: random.Random,
    locale: str,
    held_out: dict[str, tuple[list[str], list[str]]],
    *,
    split: str = "main",
) -> Item:
    text, spans, pos, sources = "", [], 0, []
    while (i := template.find("{", pos)) != -1:
        j = template.index("}", i)
        text += template[pos:i]
        slot = template[i + 1 : j]
        kind = {"NINO": "UK_NINO", "SURNAME": "PERSON"}.get(slot, slot)
        if kind == "PERSON":
            if split == "fresh2":
                value, source = fresh2_person(rng, locale, surname_only=slot == "SURNAME")
            else:
                value, source = _person(rng, locale, held_out)
            sources.append(source)
        else:
            value = GENERATORS[kind](rng, locale)
        spans.append((len(text), len(text) + len(value), kind))
        text += value
        pos = j + 1
    text += template[pos:]
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    return Item(text, spans, locale, sources)


SPLITS = ("main", "blind", "fresh", "fresh2")


def generate(seed: int, n: int, negatives: float = 0.2, *, split: str = "main") -> list[Item]:
    """``split``: ``main`` and ``blind`` (tuned on), ``fresh`` and ``fresh2`` (never tuned on)."""
    rng = random.Random(seed)
    templates = {"main": TEMPLATES, "blind": BLIND, "fresh": FRESH, "fresh2": FRESH2}[split]
    held_out = {"fresh": FRESH_HELD_OUT, "fresh2": FRESH2_HELD_OUT}.get(split, HELD_OUT)
    negative_templates = {"fresh": FRESH_NEGATIVES, "fresh2": FRESH2_NEGATIVES}.get(
        split, NEGATIVES
    )
    items = []
    for _ in range(n):
        if rng.random() < negatives:
            tpl = rng.choice(negative_templates)
            items.append(Item(tpl.format(**_numbers(rng)), [], "neg", []))
            continue
        locale = rng.choice(LOCALES)
        items.append(_fill(rng.choice(templates[locale]), rng, locale, held_out, split=split))
    return items


def _check_held_out() -> None:
    for lists in (HELD_OUT, FRESH_HELD_OUT, FRESH2_HELD_OUT):
        for given, family in (lists[loc] for loc in LOCALES if loc != "zh-CN"):
            # "Le Goff", "de la Fuente": the particles are not names of their own.
            words = {
                w for name in given + family for w in name.split() if w.lower() not in PARTICLES
            }
            clash = words & (FAMILY_NAMES | GIVEN_NAMES)
            assert not clash, f"held-out names leak into the gazetteer: {clash}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--split", choices=SPLITS, default="main")
    args = parser.parse_args()
    _check_held_out()
    for item in generate(args.seed, args.n, split=args.split):
        print(json.dumps(item.__dict__, ensure_ascii=False))


if __name__ == "__main__":
    main()
