"""A deterministic generator of smart-glasses assistant requests.

Templates and slot values were written for Loupe. Each utterance carries the
intent it was generated from, so demos and tests know the right answer.

>>> rows = list(generate(3, seed=1))
>>> len(rows), sorted(rows[0])
(3, ['domain', 'id', 'intent', 'language', 'text'])
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

__all__ = ["INTENTS", "generate"]

NAMES = ["Maya", "Tomás", "Aiko", "Priya", "Jonas", "Léa", "Omar", "Grace", "Mateo", "Ingrid"]
SONGS = [
    "something mellow",
    "the new Arlo album",
    "jazz for focus",
    "my running mix",
    "lo-fi beats",
]
PLACES = ["the nearest pharmacy", "Platform 4", "the museum entrance", "home", "the hotel lobby"]
LANGS = ["Spanish", "Japanese", "French", "German", "Hindi", "Portuguese"]
ITEMS = ["AA batteries", "a phone charger", "oat milk", "sunscreen", "a birthday card"]

TEMPLATES: dict[str, list[str]] = {
    "call": ["call {name}", "ring {name} on speaker", "start a video call with {name}"],
    "message": ["text {name} that I'm running late", "send {name} a message: on my way"],
    "play_music": ["play {song}", "put on {song}", "turn the music up and play {song}"],
    "capture_photo": ["take a photo", "snap a picture of this", "capture what I'm looking at"],
    "capture_video": ["start recording a video", "record the next thirty seconds"],
    "translate": ["translate this sign into {lang}", "what is she saying in {lang}?"],
    "navigate": ["take me to {place}", "how do I walk to {place}", "navigate to {place}"],
    "pay": ["pay for this with my card", "tap to pay the coffee", "split the bill with {name}"],
    "shop": ["add {item} to my cart", "order {item}", "find {item} nearby"],
    "out_of_scope": [
        "what's the meaning of life",
        "book me a flight to the moon",
        "how many grams of ibuprofen can I take with my blood pressure pills",
        "can my landlord keep my deposit for a scratched floor",
    ],
}
INTENTS = sorted(TEMPLATES)
DOMAINS = {"out_of_scope": ["general", "medical", "legal"]}


def generate(n: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``n`` utterances as item rows: id, text, intent, language and domain."""
    rng = random.Random(seed)
    for index in range(n):
        intent = INTENTS[index % len(INTENTS)] if index < len(INTENTS) else rng.choice(INTENTS)
        template = rng.choice(TEMPLATES[intent])
        text = template.format(
            name=rng.choice(NAMES),
            song=rng.choice(SONGS),
            place=rng.choice(PLACES),
            lang=rng.choice(LANGS),
            item=rng.choice(ITEMS),
        )
        domain = "general"
        if intent in DOMAINS:
            domain = "medical" if "pills" in text else "legal" if "landlord" in text else "general"
        yield {
            "id": f"utt-{seed}-{index:06d}",
            "text": text,
            "intent": intent,
            "language": "en",
            "domain": domain,
        }
