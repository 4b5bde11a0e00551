"""An independent evaluation corpus for Loupe's personal-data detectors.

Text nobody who tuned the detectors wrote: the templates and value generators here were
written by a separate engineer who did not read ``loupe.privacy`` or the other corpora
under ``bench/privacy``. They imitate what people say to a smart-glasses assistant
("call maria lopez", "text Nicole that I'm late"), support chats, forms, e-mails and
notes, in English and ten other European languages, with names from ``mimesis`` (not
Faker, whose lists the detectors use) in 23 locales and structured identifiers printed the
way people print them (``independent_values.py``). About 20% of items carry no personal
data at all, only look-alikes: order and tracking numbers, versions and builds, barcodes,
event dates, prices, meeting IDs, product, brand and place names, capitalised words.

Two splits are frozen (same seed, same ``mimesis`` version => same text, checked by
``tests/privacy/test_independent_corpus.py`` against the digests below):

* ``dev``: seed 101, 1,500 items; may be inspected by whoever tunes the detectors;
* ``holdout``: seed 202, 1,500 items; scored only, never inspected for tuning.

Labels: PERSON, EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, UK_NINO, IP_ADDRESS,
MAC_ADDRESS, STREET_ADDRESS, DATE_OF_BIRTH. Spans are exact character offsets of the
value (no titles, no possessive 's, no surrounding brackets).

>>> items = generate(seed=1, n=3)
>>> all(item.text[s.start : s.end] for item in items for s in item.spans)
True
"""

from __future__ import annotations

import hashlib
import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from bench.privacy import independent_values as v

LABELS: tuple[str, ...] = (
    "PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "UK_NINO", "IP_ADDRESS",
    "MAC_ADDRESS", "STREET_ADDRESS", "DATE_OF_BIRTH",
)  # fmt: skip
STRUCTURED: frozenset[str] = frozenset(LABELS) - {"PERSON", "STREET_ADDRESS", "DATE_OF_BIRTH"}
SPLITS: dict[str, tuple[int, int]] = {"dev": (101, 1500), "holdout": (202, 1500)}
# sha256 of the split's items (see ``digest``); a change here means the split moved.
DIGESTS: dict[str, str] = {
    "dev": "a2caa7b28eb3e0312da925ec3d7d1d2d0e3900ad5f62250565cae2f8ea1bf661",
    "holdout": "443db2ec553a21dace465e961a21732233aeeda11692e7304e962732bb0257e1",
}
NEGATIVE_SHARE = 0.2


class Span(NamedTuple):
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Item:
    text: str
    spans: list[Span]
    genre: str  # voice, chat, form, email, note, or negative
    lang: str


# --- templates -------------------------------------------------------------------------
# Each line: "genre|template". Slots in braces; entity slots carry a gold span.

_EN = r"""
voice|hey glasses, call {given}
voice|call {full} on mobile
voice|text {given} that i'm running ten minutes late
voice|send a message to {full} saying the keys are under the mat
voice|remind me to email {family} about the {word} at {time}
voice|what did {given} say in her last message
voice|read my messages from {full}
voice|dial {phone}
voice|call {phone}
voice|call {phone} please
voice|save {phone} as {given}'s new number
voice|add {email} to {given}'s contact
voice|navigate to {addr}
voice|take me to {addr_full}
voice|share my eta with {given} and {given}
voice|who is this oh that's {full} from {company}
voice|note {given} from {city} wants the {product} back by {weekday}
voice|take a picture and send it to {given}
voice|start a video call with {full}
voice|forward this to {given}
voice|block {mac} on the home network
voice|connect to the camera at {ip4}
voice|remember {given}'s birthday is {dob}
voice|pay {given} back {price}
voice|how far is {given}'s place from here
voice|reply to {given} ok see you at {time}
voice|ask {family} if the {product} is still for sale
voice|set a reminder to call {full} tomorrow at {time}
voice|send {given} my location
voice|what's {given}'s number
voice|my card number is {card}
voice|email {email} the photos from {city}
chat|Hi, my name is {full} and I was charged twice on my card {card}.
chat|The card number is {card}, expiry {expiry}.
chat|Can you refund to {iban} please? Account holder {full}.
chat|My email is {email} but I never received the confirmation for order {order}.
chat|Please call me back on {phone}, ideally after {time}.
chat|Order {order} still hasn't arrived. Tracking says {tracking}. Shipping to {addr_full}.
chat|I moved, new address is {addr_full}.
chat|It's {given} again. Any news on ticket {ticket}?
chat|The router's MAC is {mac} and it keeps getting {ip4} instead of a static IP.
chat|Login attempts from {ip} — wasn't me. Account: {email}
chat|For verification: SSN {ssn}, date of birth {dob}.
chat|My national insurance number is {nino}, employer is {company}.
chat|{family} from your billing team said I'd get a refund of {price}.
chat|Spoke to {given} yesterday, she said {version} fixes the crash on my {product}.
chat|Please update the payout IBAN to {iban}
chat|hi its {given} lol my number is {phone} text me
chat|Can you check why my IPv6 {ip6} is blocked?
chat|I paid with {card} on {edate} and the {product} never came.
chat|Hello, this is {full}. My SSN is {ssn} and the form keeps rejecting it.
chat|NI no. {nino} — is that enough, or do you need my DOB too? It's {dob}.
chat|You can reach my wife {given} at {phone} or {email}.
chat|please send the replacement to {addr_full}, attn {full}
chat|Agent {given} closed my case without fixing anything.
chat|transfer {price} from {iban} to {iban} today
chat|my old phone was {phone}, new one is {phone}
chat|Our device {serial} ({mac}) shows up as {ip4} on the {brand} dashboard.
form|Name: {full}\nEmail: {email}\nPhone: {phone}
form|First name: {given}\nLast name: {family}\nDate of birth: {dob}\nAddress: {addr_full}
form|Applicant: {full} | DOB: {dob} | SSN: {ssn}
form|Employee: {full}\nNI number: {nino}\nBank: {iban}
form|Cardholder: {full}\nCard no.: {card}\nExp: {expiry}\nCVV: {cvv}
form|Device: {product}\nSerial: {serial}\nMAC: {mac}\nLast IP: {ip}\nOwner: {full}
form|Contact person: {full} ({email}, {phone})
form|Emergency contact: {full}, tel. {phone}
form|Shipping address\n{full}\n{addr_full}\n{phone}
form|Account holder: {full}; IBAN: {iban}; reference {invoice}
form|Patient: {full}\nD.O.B. {dob}\nGP: Dr {family}
form|Guest: {full}, room {room}, arrival {edate}, mobile {phone}
form|Tax ID (SSN): {ssn}\nName: {full}\nAddress: {addr_full}
form|Reg. {order} / {full} / {email} / {ip}
email|Hi {given},\n\n{family} said the report is late again. Can we talk on {weekday}?\n\nThanks,\n{given}
email|Dear Mr {family},\n\nplease find attached invoice {invoice} for {price}. Payment to {iban}.\n\nKind regards\n{full}\n{company}\n{phone}
email|Hello team, {full} is joining us on {edate}. Her email is {email}.
email|FYI, {given} is out until {weekday}; ping {given} for anything urgent.
email|Thanks {given}! Looping in {full} ({email}).
email|-----Original Message-----\nFrom: {full} <{email}>\nSent: {edate} {time}\nTo: {email}\nSubject: {word} {word}
email|Can you ask {family} whether the {product} order ({order}) shipped?
email|Hi all, {family} will cover for {given} this week. Call {phone} if the server at {ip4} goes down.
email|{given}, your new badge is ready. Pick it up at {addr}.
email|Best regards,\n{full}\nHead of {word}, {company}\nM: {phone}\nE: {email}
email|Sorry for the delay, {given}. {family} and I are still waiting on the {brand} quote.
email|Dear {full},\nYour account {email} was accessed from {ip} on {edate}.
email|{family} said the {word} review moves to {month}.
note|mtg w/ {full} re {month} budget
note|{family} out until {weekday}
note|call back {given} — {phone}
note|{given}'s new address: {addr}
note|lunch with {given} and {given} at {brand}
note|ask {family} about {ticket}
note|printer {mac} / {ip4}
note|{given} bday {dob}
note|{full} {phone} {email}
note|TODO: send {given} the {product} manual, v{version}
note|NINO {nino} ({full})
note|card {card} exp {expiry}
note|rent -> {iban} ({family})
note|{full} said {city} office closes {edate}
note|server {ip6} owned by {family}
chat|Charge it to {card} please, same as last time.
chat|Why was {card} declined? I have funds.
voice|use card {card} for the tickets
form|Card: {card}  Name on card: {full}
note|visa {card}
email|The company card is {card} (exp {expiry}), billing address {addr_full}.
chat|I typed {card} but the site says it's invalid
chat|My SSN: {ssn}
form|SSN {ssn}  DOB {dob}
email|Hi {given}, payroll still needs your social security number. Mine was {ssn} if you need the format.
note|{family} ssn {ssn}
chat|I think my social is {ssn} but I'm not sure about the last digits.
chat|my NI number is {nino}
form|National Insurance No: {nino}\nSurname: {family}\nForename(s): {given}
email|Dear {given},\nHMRC needs your National Insurance number ({nino}) before {edate}.
voice|my national insurance number is {nino}
chat|Wi-Fi keeps dropping, adapter MAC {mac}.
note|whitelist {mac}, {mac}
form|Hostname: {word}-{num}\nMAC: {mac}\nIPv4: {ip4}\nIPv6: {ip6}
email|The DHCP lease for {mac} ({ip4}) belongs to {full}'s laptop.
chat|Connection refused from {ip}. Is my IP banned?
note|vpn exit {ip4}, home {ip6}
"""

_NEG_EN = r"""
Your order {order} has shipped. Tracking number: {tracking}.
Meeting ID: {meeting} Passcode: {passcode}
Version {version} fixes a crash on {product} devices.
Invoice {invoice} total {price}, due {edate}.
Flight {flight} departs {city} at {time} on {edate}.
Build {build} is rolling out to {percent} of users.
The {brand} {product} costs {price} in {city}.
Scan the barcode {ean} at the self-checkout.
ISBN {isbn}, second edition, {price}.
Card ending in {last4} was declined, please try another payment method.
Commit {hex} reverts {hex} on the {word} branch.
Ticket {ticket} is blocked by {ticket}.
Set the colour to {colour} and the font size to 14.
Tomorrow in {city}: {temp}, {percent} chance of rain.
remind me to water the plants on {weekday} at {time}
what's the weather like in {city} on {edate}
{word} {word} is scheduled for {month}.
Happy New Year from the {company} Team!
Please Read Before Posting: Rules Updated {edate}
Order Total: {price} | Items: {num} | Ref: {order}
Serial number {serial}, firmware {version}.
The train from {city} to {city} leaves from platform {num}.
Call centre hours: Monday to Friday, 9:00–17:30.
Use code {promo} for {percent} off your next {brand} order.
UUID {uuid} failed checksum.
Part no. {partno}, qty {num}, unit price {price}.
Timecode {timecode}: cut here.
Room {room}, Building {letter}, Floor {num}.
Total distance 12.4 km, elevation gain 340 m, time {timecode}.
Download {product} {version} (build {build}) from the {brand} store.
Windows build {winbuild} needs KB{kb}.
Chapter {num}: {word} and {word}
The {city} Marathon takes place on {edate}.
play the new album by {band}
how many calories in a {food}
turn the volume down
what's on my calendar for {weekday}
open {brand} and start a {num} minute timer
take a photo
translate where is the station into {language}
navigate to the nearest {place}
Quarterly Report: {word} {word} up {percent}
Track parcel {tracking} — out for delivery.
Reference {invoice}, amount {price}, value date {edate}.
Your {brand} verification code is {passcode}.
Firmware {version} for {product} (model {partno}) released {edate}.
{company} shares closed at {price} on {edate}.
Gate {letter}{num}, boarding {time}, seat {seat}.
The {product} battery lasts {num} hours; price drops to {price} on {edate}.
Stock keeping unit {ean}, bin {room}.
Pay {price} by {edate} using reference {order}.
Release Notes {version}: Dark Mode, Faster Sync, New Widgets
Welcome to {city}! Visit the Old Town and the {word} Museum.
ping latency {num} ms, packet loss {percent}, uptime {timecode}
Checksum {hex}, size {num} MB, published {edate}.
lot {partno} expires {expiry}, batch {order}
"""

_LANG_TEMPLATES: dict[str, str] = {
    "de": r"""
voice|ruf {given} an
voice|schreib {full} dass ich später komme
voice|navigiere zur {addr}
voice|ruf {phone} an
chat|Hallo, ich bin {full}, meine IBAN ist {iban}.
chat|Bitte rufen Sie mich unter {phone} zurück.
chat|Meine E-Mail: {email}, Bestellnummer {order}.
chat|Neue Adresse: {addr_full}
form|Name: {full}\nGeburtsdatum: {dob}\nAnschrift: {addr_full}\nTelefon: {phone}
form|Kontoinhaber: {full}\nIBAN: {iban}\nVerwendungszweck: {invoice}
email|Hallo {given},\n{family} meinte, der Bericht kommt erst am {weekday}.\nViele Grüße\n{given}
email|Sehr geehrte Frau {family},\nanbei die Rechnung {invoice}.\nMit freundlichen Grüßen\n{full}\nTel. {phone}
note|{family} bis {weekday} im Urlaub
note|{given} Geb. {dob}
chat|Kartennummer {card}, gültig bis {expiry}
""",
    "fr": r"""
voice|appelle {given}
voice|envoie un message à {full} pour dire que j'arrive
voice|appelle le {phone}
chat|Bonjour, je m'appelle {full}, mon numéro est le {phone}.
chat|Mon adresse e-mail est {email}.
chat|Merci de rembourser sur l'IBAN {iban}.
form|Nom : {family}\nPrénom : {given}\nNé(e) le : {dob}\nAdresse : {addr_full}
form|Titulaire : {full} – IBAN {iban}
email|Bonjour {given},\n{family} dit que le rapport est en retard.\nCordialement,\n{full}
email|Chère Madame {family},\nvotre commande {order} est partie.\n{full}, {phone}
note|rdv avec {full} {weekday} {time}
note|{given} : {phone}
chat|Ma carte {card} a été débitée deux fois.
""",
    "es": r"""
voice|llama a {given}
voice|manda un mensaje a {full} que llego tarde
chat|Hola, soy {full} y mi teléfono es {phone}.
chat|Mi correo es {email}, pedido {order}.
chat|Por favor, devuelvan el importe a {iban}.
form|Nombre: {full}\nFecha de nacimiento: {dob}\nDirección: {addr_full}
email|Hola {given},\n{family} dice que el informe llega tarde.\nSaludos,\n{full}
note|{given} cumple {dob}
note|llamar a {full} al {phone}
""",
    "it": r"""
voice|chiama {given}
voice|scrivi a {full} che arrivo tra dieci minuti
chat|Buongiorno, sono {full}, il mio numero è {phone}.
chat|La mia email è {email}.
chat|Rimborso sull'IBAN {iban}, intestato a {full}.
form|Cognome: {family}\nNome: {given}\nData di nascita: {dob}\nIndirizzo: {addr_full}
email|Ciao {given},\n{family} dice che il report è in ritardo.\nA presto,\n{given}
note|chiamare {family} per il {product}
""",
    "nl": r"""
voice|bel {given}
voice|stuur {full} een bericht dat ik later kom
chat|Hoi, ik ben {full}, mijn nummer is {phone}.
chat|Mijn e-mailadres is {email}.
chat|Graag terugstorten op {iban}.
form|Naam: {full}\nGeboortedatum: {dob}\nAdres: {addr_full}
email|Hoi {given},\n{family} zegt dat het rapport te laat is.\nGroet,\n{given}
note|{family} tot {weekday} afwezig
""",
    "pl": r"""
voice|zadzwoń do {given}
chat|Dzień dobry, nazywam się {full}, mój numer to {phone}.
chat|Proszę o zwrot na konto {iban}.
form|Imię i nazwisko: {full}\nData urodzenia: {dob}\nAdres: {addr_full}
email|Cześć {given},\n{family} mówi, że raport się spóźni.\nPozdrawiam,\n{full}
note|{given} tel. {phone}
""",
    "hu": r"""
voice|hívd fel {given}t
chat|Jó napot, {full} vagyok, a számom {phone}.
chat|Kérem, utalják vissza a {iban} számlára.
form|Név: {full}\nSzületési dátum: {dob}\nCím: {addr_full}
email|Szia {given},\n{family} szerint a jelentés késik.\nÜdv,\n{full}
note|{full} {email}
""",
    "sv": r"""
voice|ring {given}
chat|Hej, jag heter {full} och mitt nummer är {phone}.
chat|Min e-post är {email}.
form|Namn: {full}\nFödelsedatum: {dob}\nAdress: {addr_full}
email|Hej {given},\n{family} säger att rapporten är sen.\nMvh\n{full}
note|{family} ledig till {weekday}
""",
    "da": r"""
voice|ring til {given}
chat|Hej, jeg hedder {full}, mit nummer er {phone}.
form|Navn: {full}\nFødselsdato: {dob}\nAdresse: {addr_full}
email|Hej {given},\n{family} siger, at rapporten er forsinket.\nVenlig hilsen\n{full}
note|{given}: {email}
""",
    "pt": r"""
voice|liga para {given}
chat|Olá, chamo-me {full} e o meu número é {phone}.
chat|Reembolso para o IBAN {iban}, por favor.
form|Nome: {full}\nData de nascimento: {dob}\nMorada: {addr_full}
email|Olá {given},\n{family} diz que o relatório está atrasado.\nCumprimentos,\n{full}
note|{given} {phone}
""",
}

_NEG_OTHER: dict[str, str] = {
    "de": "Ihre Bestellung {order} wurde versandt.\nDie Rechnung {invoice} über {price} ist am {edate} fällig.\nZug ab {city} um {time}, Gleis {num}.\nVersion {version} behebt den Fehler im {product}.",
    "fr": "Votre commande {order} a été expédiée.\nFacture {invoice} : {price}, échéance le {edate}.\nLe train pour {city} part à {time}.",
    "es": "Su pedido {order} ha sido enviado.\nFactura {invoice}, importe {price}, vence el {edate}.",
    "it": "Il tuo ordine {order} è stato spedito.\nFattura {invoice}, importo {price}, scadenza {edate}.",
    "nl": "Je bestelling {order} is verzonden.\nFactuur {invoice}, bedrag {price}, vervaldatum {edate}.",
    "pl": "Zamówienie {order} zostało wysłane.\nFaktura {invoice} na kwotę {price}.",
    "hu": "A {order} számú rendelését feladtuk.\nSzámla {invoice}, összeg {price}.",
    "sv": "Din beställning {order} har skickats.\nFaktura {invoice}, belopp {price}.",
    "da": "Din ordre {order} er afsendt.\nFaktura {invoice}, beløb {price}.",
    "pt": "A sua encomenda {order} foi enviada.\nFatura {invoice}, valor {price}.",
}


def _parse(block: str) -> list[tuple[str, str]]:
    out = []
    for line in block.strip().splitlines():
        genre, template = line.split("|", 1)
        out.append((genre, template.replace("\\n", "\n")))
    return out


_POSITIVE: dict[str, list[tuple[str, str]]] = {"en": _parse(_EN)} | {
    lang: _parse(block) for lang, block in _LANG_TEMPLATES.items()
}
_NEGATIVE: dict[str, list[str]] = {"en": _NEG_EN.strip().splitlines()} | {
    lang: block.splitlines() for lang, block in _NEG_OTHER.items()
}
_LANG_WEIGHTS: dict[str, float] = {
    "en": 55, "de": 8, "fr": 6, "es": 5, "it": 5, "nl": 4, "pl": 4, "hu": 3, "sv": 3,
    "da": 3, "pt": 4,
}  # fmt: skip
_ADDRESS_LOCALE = {"en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl",
                   "pl": "pl", "hu": "hu", "sv": "sv", "da": "da", "pt": "pt"}  # fmt: skip

# --- look-alike values (no gold span) --------------------------------------------------

_WORDS = ("Budget", "Report", "Summer", "Launch", "Design", "Review", "Safety", "Winter",
          "Product", "Security", "Marketing", "Growth", "Roadmap", "Planning", "Quality",
          "Finance", "Garden", "Holiday", "Kitchen", "Migration", "Compliance")  # fmt: skip
_PRODUCTS = ("Pixel 8 Pro", "ThinkPad X1 Carbon", "Galaxy S23", "AirPods Pro", "Kindle Paperwhite",
             "PlayStation 5", "Surface Laptop 5", "Fairphone 5", "Ray-Ban Meta", "Echo Dot",
             "MacBook Air", "Roomba j7", "Nest Thermostat", "Quest 3", "Thermomix TM6")  # fmt: skip
_BRANDS = ("Spotify", "IKEA", "Lidl", "Starbucks", "Zalando", "Decathlon", "Uber", "Netflix",
           "Ben & Jerry's", "Hugo Boss", "Ford", "Dr. Martens", "Wells Fargo", "Tesco", "Aldi",
           "Booking.com", "Deliveroo", "Ryanair", "Boots")  # fmt: skip
_COMPANIES = ("Northwind Traders", "Globex", "Initech", "Acme Corp", "Stadtwerke Ulm",
              "Contoso Ltd", "Fabrikam GmbH", "Umbrella Health", "Hooli", "Vandelay Industries",
              "Siemens", "Philips", "Deutsche Bahn", "Santander")  # fmt: skip
_BANDS = ("Coldplay", "Daft Punk", "Radiohead", "ABBA", "Rammstein", "Arctic Monkeys")
_FOODS = ("banana", "croissant", "bagel", "avocado", "pretzel")
_PLACES = ("pharmacy", "petrol station", "coffee shop", "supermarket", "train station")
_LANGUAGES = ("french", "german", "spanish", "polish", "hungarian", "danish")
_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "sv": "måndag tisdag onsdag torsdag fredag lördag söndag",
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "hu": "január február március április május június július augusztus szeptember október november december",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}


def _d(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _ean13(rng: random.Random) -> str:
    body = rng.choice(["400", "401", "50", "30", "80", "590", "599", "73", "57"])
    body += _d(rng, 12 - len(body))
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
    return body + str(check)


def _isbn13(rng: random.Random) -> str:
    body = "978" + rng.choice(["3", "0", "1", "2", "88"])
    publisher = _d(rng, 3 if len(body) == 4 else 2)
    title = _d(rng, 12 - len(body) - len(publisher))
    digits = body + publisher + title
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10) % 10
    return f"{digits[:3]}-{body[3:]}-{publisher}-{title}-{check}"


def _event_date(rng: random.Random, lang: str) -> str:
    y, m, day = rng.randint(2023, 2027), rng.randint(1, 12), rng.randint(1, 28)
    months = _MONTHS.get(lang, _MONTHS["en"]).split()
    return rng.choice(
        [f"{y}-{m:02d}-{day:02d}", f"{day:02d}.{m:02d}.{y}", f"{day} {months[m - 1]} {y}",
         f"{m}/{day}/{y}", f"{day}/{m}/{y}", f"{months[m - 1]} {day}"]
    )  # fmt: skip


def _dob(rng: random.Random, lang: str) -> str:
    y, m, day = rng.randint(1938, 2008), rng.randint(1, 12), rng.randint(1, 28)
    months = _MONTHS.get(lang, _MONTHS["en"]).split()
    name = months[m - 1]
    if lang == "en":
        en = name if rng.random() < 0.8 else name[:3]
        return rng.choice(
            [f"{m:02d}/{day:02d}/{y}", f"{day:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{day:02d}",
             f"{day} {en} {y}", f"{en} {day}, {y}", f"{day}-{en[:3]}-{y}", f"{m}/{day}/{y % 100:02d}",
             f"{day}{'th' if day not in (1, 2, 3, 21, 22, 23) else ('st', 'nd', 'rd')[day % 10 - 1]} of {en} {y}"]
        )  # fmt: skip
    if lang in ("de", "da", "pl", "hu"):
        if lang == "hu":
            return rng.choice([f"{y}. {m:02d}. {day:02d}.", f"{y}. {name} {day}."])
        if lang == "pl":
            return rng.choice([f"{day:02d}.{m:02d}.{y}", f"{day} {name} {y}"])
        return rng.choice([f"{day:02d}.{m:02d}.{y}", f"{day}. {name} {y}", f"{day}.{m}.{y}"])
    if lang in ("es", "pt"):
        return rng.choice([f"{day:02d}/{m:02d}/{y}", f"{day} de {name} de {y}"])
    if lang == "sv":
        return rng.choice([f"{y}-{m:02d}-{day:02d}", f"{day} {name} {y}"])
    if lang == "nl":
        return rng.choice([f"{day:02d}-{m:02d}-{y}", f"{day} {name} {y}"])
    return rng.choice([f"{day:02d}/{m:02d}/{y}", f"{day} {name} {y}"])


def _tracking(rng: random.Random) -> str:
    alnum = string.ascii_uppercase + string.digits
    return rng.choice(
        [
            "1Z" + "".join(rng.choice(alnum) for _ in range(6)) + _d(rng, 10),
            "9400 " + " ".join(_d(rng, 4) for _ in range(4)) + " " + _d(rng, 2),
            _d(rng, 10),
            rng.choice(["LX", "RR", "CP", "JD"])
            + _d(rng, 9)
            + rng.choice(["DE", "GB", "FR", "CN"]),
            _d(rng, 14),
        ]
    )


def _order(rng: random.Random) -> str:
    return rng.choice(
        [f"#{_d(rng, 6)}", f"ORD-{rng.randint(2023, 2026)}-{_d(rng, 6)}",
         f"{_d(rng, 3)}-{_d(rng, 7)}-{_d(rng, 7)}", f"A{_d(rng, 8)}", f"{_d(rng, 10)}",
         f"#{rng.choice(string.ascii_uppercase)}-{_d(rng, 5)}"]
    )  # fmt: skip


def _price(rng: random.Random) -> str:
    amount = rng.choice(
        [rng.randint(1, 99) + 0.99, rng.randint(10, 2500) + 0.0, rng.randint(1, 90) + 0.5]
    )
    return rng.choice(
        [f"€{amount:,.2f}", f"${amount:,.2f}", f"£{amount:.2f}", f"{amount:.2f} €".replace(".", ","),
         f"CHF {amount:.0f}.-", f"{amount:.0f} kr", f"{amount:.0f} zł", f"{amount:,.0f} Ft"]
    )  # fmt: skip


def _version(rng: random.Random) -> str:
    a, b, c = rng.randint(1, 20), rng.randint(0, 30), rng.randint(0, 12)
    return rng.choice(
        [f"{a}.{b}.{c}", f"v{a}.{b}", f"{a}.{b}.{c}-beta.{rng.randint(1, 5)}", f"{a}.{b}"]
    )


_LOOKALIKE: dict[str, Callable[[random.Random, str], str]] = {
    "order": lambda r, lang: _order(r),
    "tracking": lambda r, lang: _tracking(r),
    "price": lambda r, lang: _price(r),
    "edate": _event_date,
    "time": lambda r, lang: r.choice(
        [
            f"{r.randint(7, 21)}:{r.choice(['00', '15', '30', '45'])}",
            f"{r.randint(1, 11)}pm",
            f"{r.randint(6, 11)} am",
            "noon",
            f"half past {r.randint(1, 11)}",
        ]
    ),
    "version": lambda r, lang: _version(r),
    "build": lambda r, lang: f"{r.randint(20, 26)}{r.choice('ABCDEFGH')}{r.randint(100, 5999)}",
    "winbuild": lambda r, lang: f"10.0.{r.randint(19041, 26100)}.{r.randint(100, 4999)}",
    "kb": lambda r, lang: str(r.randint(5000000, 5049999)),
    "product": lambda r, lang: r.choice(_PRODUCTS),
    "brand": lambda r, lang: r.choice(_BRANDS),
    "company": lambda r, lang: r.choice(_COMPANIES),
    "band": lambda r, lang: r.choice(_BANDS),
    "food": lambda r, lang: r.choice(_FOODS),
    "place": lambda r, lang: r.choice(_PLACES),
    "language": lambda r, lang: r.choice(_LANGUAGES),
    "word": lambda r, lang: r.choice(_WORDS),
    "weekday": lambda r, lang: r.choice(_WEEKDAYS.get(lang, _WEEKDAYS["en"]).split()),
    "month": lambda r, lang: r.choice(_MONTHS.get(lang, _MONTHS["en"]).split()).capitalize(),
    "ticket": lambda r, lang: r.choice(
        [
            f"INC{_d(r, 7)}",
            f"JIRA-{r.randint(100, 9999)}",
            f"#{_d(r, 5)}",
            f"SR-{r.randint(2023, 2026)}-{_d(r, 4)}",
        ]
    ),
    "ean": lambda r, lang: _ean13(r),
    "isbn": lambda r, lang: _isbn13(r),
    "serial": lambda r, lang: r.choice(
        [
            "C02" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(9)),
            f"SN-{_d(r, 4)}-{r.choice(string.ascii_uppercase)}{r.choice(string.ascii_uppercase)}{_d(r, 2)}",
            f"R5{_d(r, 2)}{r.choice(string.ascii_uppercase)}{_d(r, 6)}",
        ]
    ),
    "flight": lambda r, lang: (
        f"{r.choice(['LH', 'BA', 'U2', 'FR', 'AF', 'KL', 'SK', 'LO'])} {r.randint(100, 9999)}"
    ),
    "meeting": lambda r, lang: f"{_d(r, 3)} {_d(r, 4)} {_d(r, 4)}",
    "passcode": lambda r, lang: _d(r, 6),
    "invoice": lambda r, lang: r.choice(
        [
            f"INV-{r.randint(2023, 2026)}-{_d(r, 5)}",
            f"RE-{r.randint(2023, 2026)}/{_d(r, 4)}",
            f"F{_d(r, 8)}",
        ]
    ),
    "hex": lambda r, lang: "".join(
        r.choice("0123456789abcdef") for _ in range(r.choice([7, 8, 12, 40]))
    ),
    "uuid": lambda r, lang: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "last4": lambda r, lang: _d(r, 4),
    "percent": lambda r, lang: f"{r.randint(1, 95)}%",
    "temp": lambda r, lang: f"{r.randint(-5, 34)}°C",
    "promo": lambda r, lang: (
        r.choice(["SPRING", "WELCOME", "SAVE", "BLACKFRIDAY"]) + str(r.randint(5, 50))
    ),
    "partno": lambda r, lang: r.choice(
        [
            f"6ES7 {_d(r, 3)}-{_d(r, 1)}AG40-0XB0",
            f"{_d(r, 3)}-{_d(r, 4)}-{_d(r, 2)}",
            f"MX{_d(r, 4)}LL/A",
        ]
    ),
    "timecode": lambda r, lang: (
        f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        + (f":{r.randint(0, 24):02d}" if r.random() < 0.5 else "")
    ),
    "room": lambda r, lang: r.choice(
        [
            f"{r.randint(1, 6)}.{r.randint(1, 40):02d}",
            f"B{r.randint(100, 450)}",
            str(r.randint(101, 980)),
        ]
    ),
    "letter": lambda r, lang: r.choice("ABCDEFK"),
    "num": lambda r, lang: str(r.randint(2, 60)),
    "seat": lambda r, lang: f"{r.randint(1, 38)}{r.choice('ABCDEF')}",
    "colour": lambda r, lang: "#" + "".join(r.choice("0123456789ABCDEF") for _ in range(6)),
    "expiry": lambda r, lang: f"{r.randint(1, 12):02d}/{r.randint(25, 31)}",
    "cvv": lambda r, lang: _d(r, 3),
}


# --- the generator ---------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")


class _Builder:
    def __init__(self, rng: random.Random, src: v.NameSource, lang: str, genre: str) -> None:
        self.rng, self.src, self.lang, self.genre = rng, src, lang, genre
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0
        self.last_name: v.Name | None = None
        self.lower_names = genre == "voice" and rng.random() < 0.6

    def literal(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def entity(self, value: str, label: str) -> None:
        start = self.length
        self.literal(value)
        assert "".join(self.parts)[start : self.length] == value
        assert value == value.strip() and value, value
        self.spans.append(Span(start, self.length, label))

    def name_locale(self) -> str:
        if self.lang == "en":
            if self.rng.random() < 0.55:
                return self.rng.choice(["en", "en", "en-gb", "en-au", "en-ca"])
            return self.rng.choice(v.NAME_LOCALES)
        if self.rng.random() < 0.7:
            return {"sv": "sv", "da": "da"}.get(self.lang, self.lang)
        return self.rng.choice(v.NAME_LOCALES)

    def name(self) -> v.Name:
        self.last_name = v.make_name(self.rng, self.src, self.name_locale())
        return self.last_name

    def person(self, text: str) -> None:
        self.entity(text.lower() if self.lower_names else text, "PERSON")

    def address_locale(self) -> str:
        if self.lang == "en":
            return self.rng.choices(["en", "en-gb", "de", "fr", "nl"], weights=[60, 30, 4, 3, 3])[0]
        return _ADDRESS_LOCALE[self.lang]

    def fill(self, slot: str) -> None:
        rng, lang = self.rng, self.lang
        if slot == "full":
            self.person(self.name().text)
        elif slot == "given":
            self.person(self.name().given)
        elif slot == "family":
            self.person(self.name().family)
        elif slot == "email":
            self.entity(v.email(rng, self.last_name or self.name(), lang=lang), "EMAIL")
        elif slot == "phone":
            self.entity(v.phone(rng, lang=lang), "PHONE")
        elif slot == "card":
            self.entity(v.card_number(rng), "CREDIT_CARD")
        elif slot == "iban":
            country = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "pl": "PL",
                       "hu": "HU", "sv": "SE", "da": "DK", "pt": "PT"}.get(lang)  # fmt: skip
            self.entity(v.iban(rng, country if rng.random() < 0.7 else None), "IBAN")
        elif slot == "ssn":
            self.entity(v.us_ssn(rng), "US_SSN")
        elif slot == "nino":
            self.entity(v.uk_nino(rng), "UK_NINO")
        elif slot in ("ip", "ip4", "ip6"):
            six = slot == "ip6" or (slot == "ip" and rng.random() < 0.35)
            self.entity(v.ipv6(rng) if six else v.ipv4(rng), "IP_ADDRESS")
        elif slot == "mac":
            self.entity(v.mac_address(rng), "MAC_ADDRESS")
        elif slot in ("addr", "addr_full"):
            full = slot == "addr_full" or rng.random() < 0.3
            text = v.street_address(rng, self.src, self.address_locale(), full=full)
            self.entity(text.lower() if self.lower_names else text, "STREET_ADDRESS")
        elif slot == "dob":
            self.entity(_dob(rng, lang), "DATE_OF_BIRTH")
        elif slot == "city":
            self.literal(self.src.address(self.address_locale()).city())
        else:
            self.literal(_LOOKALIKE[slot](rng, lang))

    def build(self, template: str) -> Item:
        pos = 0
        for m in _SLOT.finditer(template):
            self.literal(template[pos : m.start()])
            self.fill(m.group(1))
            pos = m.end()
        self.literal(template[pos:])
        text = "".join(self.parts)
        for s in self.spans:
            assert text[s.start : s.end].strip() == text[s.start : s.end]
        return Item(text=text, spans=self.spans, genre=self.genre, lang=self.lang)


def generate(seed: int, n: int) -> list[Item]:
    """``n`` items from ``seed``; ``generate(s, k)`` is a prefix of ``generate(s, k + m)``."""
    rng = random.Random(seed)
    src = v.NameSource(random.Random(rng.getrandbits(64)))
    langs = list(_LANG_WEIGHTS)
    items = []
    for _ in range(n):
        lang = rng.choices(langs, weights=[_LANG_WEIGHTS[lang] for lang in langs])[0]
        if rng.random() < NEGATIVE_SHARE:
            item = _Builder(rng, src, lang, "negative").build(rng.choice(_NEGATIVE[lang]))
            assert not item.spans
        else:
            genre, template = rng.choice(_POSITIVE[lang])
            item = _Builder(rng, src, lang, genre).build(template)
        items.append(item)
    return items


def digest(items: list[Item]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(item.text.encode())
        h.update(repr([tuple(s) for s in item.spans]).encode())
    return h.hexdigest()


@cache
def split(name: str) -> tuple[Item, ...]:
    """The frozen ``dev`` or ``holdout`` split."""
    seed, n = SPLITS[name]
    return tuple(generate(seed, n))
