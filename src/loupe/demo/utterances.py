"""A deterministic generator of smart-glasses assistant requests (SIMULATED traffic).

Templates and slot values were written for Loupe; nothing is read from a corpus.
Each utterance carries the intent it was generated from, so demos and tests know
the right answer. Requests come in English, Spanish, German and French; some
carry personal data (names, phone numbers, card numbers) for the privacy gate to
redact; a long tail is out of scope: chit-chat, medical and legal questions, and
*novel* requests for skills the glasses do not have, whose share grows with
``drift`` (what a deployed assistant sees as its users discover it).

>>> rows = list(generate(3, seed=1))
>>> len(rows), sorted(rows[0])
(3, ['domain', 'id', 'intent', 'language', 'text'])
>>> [r["text"] for r in generate(2, seed=1)] == [r["text"] for r in generate(2, seed=1)]
True
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

__all__ = ["INTENTS", "LANGUAGES", "OUT_OF_SCOPE", "generate", "utterance"]

OUT_OF_SCOPE = "out_of_scope"
LANGUAGES = ("en", "es", "de", "fr")
LANGUAGE_WEIGHTS = (0.55, 0.2, 0.13, 0.12)

NAMES = [
    "Maya", "Tomás", "Aiko", "Priya", "Jonas", "Léa", "Omar", "Grace", "Mateo", "Ingrid",
    "Lucía", "Felix", "Chloé", "Sven", "Amara", "Diego",
]  # fmt: skip
SONGS = {
    "en": ["something mellow", "the new Arlo album", "jazz for focus", "my running mix",
           "lo-fi beats", "the song from yesterday"],
    "es": ["algo tranquilo", "mi lista para correr", "salsa clásica", "el último disco de Arlo"],
    "de": ["etwas Ruhiges", "meine Laufmusik", "klassische Musik", "das neue Album von Arlo"],
    "fr": ["quelque chose de calme", "ma playlist de course", "du jazz", "le nouvel album d'Arlo"],
}  # fmt: skip
PLACES = {
    "en": ["the nearest pharmacy", "Platform 4", "the museum entrance", "home", "the hotel lobby",
           "the closest coffee shop"],
    "es": ["la farmacia más cercana", "el andén 4", "la entrada del museo", "casa", "el hotel"],
    "de": ["die nächste Apotheke", "Gleis 4", "den Museumseingang", "nach Hause", "das Hotel"],
    "fr": ["la pharmacie la plus proche", "le quai 4", "l'entrée du musée", "la maison", "l'hôtel"],
}  # fmt: skip
TARGET_LANGS = {
    "en": ["Spanish", "Japanese", "French", "German", "Hindi", "Portuguese"],
    "es": ["inglés", "japonés", "francés", "alemán"],
    "de": ["Englische", "Japanische", "Französische", "Spanische"],
    "fr": ["anglais", "japonais", "espagnol", "allemand"],
}  # fmt: skip
GOODS = {
    "en": ["AA batteries", "a phone charger", "oat milk", "sunscreen", "a birthday card"],
    "es": ["pilas", "un cargador", "leche de avena", "protector solar"],
    "de": ["Batterien", "ein Ladekabel", "Hafermilch", "Sonnencreme"],
    "fr": ["des piles", "un chargeur", "du lait d'avoine", "de la crème solaire"],
}  # fmt: skip

# {name} {phone} {card} {song} {place} {lang} {item} are filled from the lists above.
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "call": {
        "en": ["call {name}", "ring {name} on speaker", "start a video call with {name}",
               "dial {phone}", "call {name} back", "phone {name} at {phone}"],
        "es": ["llama a {name}", "haz una videollamada con {name}", "marca el {phone}"],
        "de": ["ruf {name} an", "starte einen Videoanruf mit {name}", "wähle {phone}"],
        "fr": ["appelle {name}", "lance un appel vidéo avec {name}", "compose le {phone}"],
    },
    "message": {
        "en": ["text {name} that I'm running late", "send {name} a message: on my way",
               "reply to {name} with a thumbs up", "message {phone}: call me when you land",
               "tell {name} I'll be there in ten"],
        "es": ["manda un mensaje a {name}: llego tarde", "escribe a {name} que ya voy"],
        "de": ["schreib {name}, dass ich mich verspäte", "schick {name} eine Nachricht"],
        "fr": ["envoie un message à {name} : j'arrive", "écris à {name} que je suis en retard"],
    },
    "play_music": {
        "en": ["play {song}", "put on {song}", "turn the music up and play {song}",
               "shuffle {song}", "skip this track", "pause the music"],
        "es": ["pon {song}", "reproduce {song}", "sube el volumen de la música"],
        "de": ["spiel {song}", "mach {song} an", "nächstes Lied bitte"],
        "fr": ["joue {song}", "mets {song}", "passe à la chanson suivante"],
    },
    "capture_photo": {
        "en": ["take a photo", "snap a picture of this", "capture what I'm looking at",
               "take a picture of {name} and me"],
        "es": ["haz una foto", "saca una foto de esto"],
        "de": ["mach ein Foto", "fotografier das"],
        "fr": ["prends une photo", "photographie ça"],
    },
    "capture_video": {
        "en": ["start recording a video", "record the next thirty seconds", "film this",
               "stop the recording"],
        "es": ["graba un vídeo", "empieza a grabar"],
        "de": ["nimm ein Video auf", "starte die Aufnahme"],
        "fr": ["filme ça", "commence à enregistrer une vidéo"],
    },
    "translate": {
        "en": ["translate this sign into {lang}", "what is she saying in {lang}?",
               "how do I say thank you in {lang}", "live translate this conversation"],
        "es": ["traduce este cartel al {lang}", "¿cómo se dice gracias en {lang}?"],
        "de": ["übersetze das Schild ins {lang}", "was heißt danke auf {lang}?"],
        "fr": ["traduis ce panneau en {lang}", "comment dit-on merci en {lang} ?"],
    },
    "navigate": {
        "en": ["take me to {place}", "how do I walk to {place}", "navigate to {place}",
               "directions to {place}", "how far is {place}"],
        "es": ["llévame a {place}", "¿cómo llego a {place}?"],
        "de": ["bring mich zu {place}", "wie komme ich zu {place}?"],
        "fr": ["emmène-moi à {place}", "comment aller à {place} ?"],
    },
    "pay": {
        "en": ["pay for this with my card", "tap to pay the coffee", "split the bill with {name}",
               "pay with card {card}", "send {name} twenty dollars"],
        "es": ["paga esto con mi tarjeta", "paga con la tarjeta {card}"],
        "de": ["bezahl das mit meiner Karte", "zahl mit der Karte {card}"],
        "fr": ["paie ça avec ma carte", "paie avec la carte {card}"],
    },
    "shop": {
        "en": ["add {item} to my cart", "order {item}", "find {item} nearby",
               "reorder {item}", "is {item} cheaper online"],
        "es": ["añade {item} al carrito", "pide {item}"],
        "de": ["leg {item} in den Warenkorb", "bestell {item}"],
        "fr": ["ajoute {item} au panier", "commande {item}"],
    },
}  # fmt: skip

# Out of scope: (domain, templates by language). "novel" requests ask for skills the
# glasses lack; their share grows with drift.
OOS_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "general": {
        "en": ["what's the meaning of life", "tell me a joke", "who won the game last night",
               "book me a flight to the moon"],
        "es": ["cuéntame un chiste", "¿cuál es el sentido de la vida?"],
        "de": ["erzähl mir einen Witz", "wer hat gestern gewonnen?"],
        "fr": ["raconte-moi une blague", "quel est le sens de la vie ?"],
    },
    "medical": {
        "en": ["how many grams of ibuprofen can I take with my blood pressure pills",
               "is this mole on my arm cancer", "what dose of insulin should I inject",
               "can I drink alcohol on antibiotics"],
        "es": ["¿cuánto ibuprofeno puedo tomar con mis pastillas?", "¿este lunar es cáncer?"],
        "de": ["wie viel Ibuprofen darf ich mit meinen Tabletten nehmen?"],
        "fr": ["quelle dose d'insuline dois-je prendre ?"],
    },
    "legal": {
        "en": ["can my landlord keep my deposit for a scratched floor",
               "do I have to sign this non-compete", "can I sue my employer for unpaid overtime"],
        "es": ["¿puede mi casero quedarse con la fianza?"],
        "de": ["darf mein Vermieter die Kaution behalten?"],
        "fr": ["mon propriétaire peut-il garder ma caution ?"],
    },
    "novel": {
        "en": ["set a timer for ten minutes", "what's the weather tomorrow",
               "remind me to water the plants", "turn off the living room lights",
               "how many steps did I walk today", "order me a taxi to {place}",
               "scan this QR code", "what am I looking at"],
        "es": ["pon un temporizador de diez minutos", "¿qué tiempo hará mañana?",
               "apaga las luces del salón"],
        "de": ["stell einen Timer auf zehn Minuten", "wie wird das Wetter morgen?",
               "schalte das Licht im Wohnzimmer aus"],
        "fr": ["mets un minuteur de dix minutes", "quel temps fera-t-il demain ?",
               "éteins la lumière du salon"],
    },
}  # fmt: skip

PREFIXES = {
    "en": ["", "", "", "hey glasses, ", "ok glasses ", "please ", "could you "],
    "es": ["", "", "oye, ", "por favor, "],
    "de": ["", "", "hey, ", "bitte "],
    "fr": ["", "", "dis, ", "s'il te plaît, "],
}
INTENTS = sorted([*TEMPLATES, OUT_OF_SCOPE])


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def _phone(rng: random.Random) -> str:
    return f"+1 415 555 {rng.randrange(100, 200):04d}"


def _fill(template: str, language: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(NAMES),
        phone=_phone(rng),
        card=_luhn_card(rng),
        song=rng.choice(SONGS[language]),
        place=rng.choice(PLACES[language]),
        lang=rng.choice(TARGET_LANGS[language]),
        item=rng.choice(GOODS[language]),
    )


def utterance(intent: str, rng: random.Random, *, novel: bool = False) -> dict[str, Any]:
    """One request for ``intent`` (text, intent, language, domain) drawn with ``rng``."""
    language = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
    domain = "general"
    if intent == OUT_OF_SCOPE:
        kind = "novel" if novel else rng.choice(["general", "medical", "medical", "legal"])
        domain = kind if kind in ("medical", "legal") else "general"
        templates = OOS_TEMPLATES[kind]
    else:
        templates = TEMPLATES[intent]
    options = templates.get(language) or templates["en"]
    if language not in templates:
        language = "en"
    text = rng.choice(PREFIXES[language]) + _fill(rng.choice(options), language, rng)
    return {"text": text, "intent": intent, "language": language, "domain": domain}


def generate(
    n: int, *, seed: int = 0, drift: float = 0.0, oos_share: float = 0.15, prefix: str = "utt"
) -> Iterator[dict[str, Any]]:
    """``n`` utterances as item rows: id, text, intent, language and domain.

    ``oos_share`` of them are out of scope; of those, ``drift`` (0..1) are novel
    requests for skills the glasses lack.
    """
    rng = random.Random(seed)
    skills = [intent for intent in INTENTS if intent != OUT_OF_SCOPE]
    for index in range(n):
        if index < len(INTENTS):
            intent = INTENTS[index]  # every intent at least once
        else:
            intent = OUT_OF_SCOPE if rng.random() < oos_share else rng.choice(skills)
        novel = intent == OUT_OF_SCOPE and rng.random() < drift
        row = utterance(intent, rng, novel=novel)
        yield {"id": f"{prefix}-{seed}-{index:06d}", **row}
