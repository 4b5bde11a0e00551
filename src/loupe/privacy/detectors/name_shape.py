"""What a single word looks like: name-shaped, surname-shaped, or neither.

These are the signals left when no list holds a word. A family name is often
recognisable by how it ends: a patronymic ("-son", "-ez", "-ov"), a Slavic form
("-ski", "-wicz", "-enko"), an occupational or regional ending ("-mann", "-ier",
"-poulos", "-oglu"); or by how it begins ("Mc", "Mac", "O'", "Fitz"). Ordinary
words end the same way ("season", "premier", "dossier"), so a suffix only counts
for a word that is *not* common in any shipped language; the caller checks that.

>>> name_shaped("McCreadie"), name_shaped("SQLite")
(True, False)
>>> surname_shaped("Petrenko"), surname_shaped("Zebulon")
(True, False)
"""

from __future__ import annotations

import re

__all__ = ["SURNAME_SUFFIXES", "name_shaped", "surname_shaped"]

# Textbook endings of family names: English and Scandinavian patronymics, Spanish
# patronymics, Polish, East and South Slavic forms, Romanian, Greek, Turkish, Armenian,
# Georgian, German occupational names, Italian diminutives, French and Japanese endings.
SURNAME_SUFFIXES: tuple[str, ...] = (
    "son", "sen", "sson", "qvist", "kvist", "quist", "ström", "gren", "ez", "az", "iz", "oz",
    "ski", "ska", "cki", "cka", "wicz", "czyk",
    "ov", "ova", "ová", "ev", "eva", "enko", "vić", "vic", "ić",
    "escu", "eanu", "poulos", "akis", "idis", "oglu", "oğlu", "yan", "ian", "shvili", "dze",
    "mann", "meier", "meyer", "berger", "huber",
    "ini", "elli", "etti", "ucci",
    "ier", "eau", "aud", "ault",
    "moto", "mura", "kawa",
)  # fmt: skip

# Gaelic and Norman prefixes: "McCreadie", "MacLeod", "O'Neil", "Fitzgerald".
_SURNAME_PREFIX = re.compile(r"^(?:(?:Mc|Mac|O['\u2019])[A-Z]|Fitz[a-z]{3,})")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Fitz)(?=[A-Z])")
_PARTS = re.compile(r"['\u2019\-]")
# A suffix must leave a stem: "Son" or "Ian" alone is a given name, not a surname shape.
_MIN_STEM = 3


def name_shaped(word: str) -> bool:
    """Capitalised like a name: "Anne-Marie", "O'Neil", "McDonald", not "SQLite", "CPU-bound"."""
    for k, part in enumerate(_PARTS.split(word)):
        if k == 0:
            part = _NAME_PREFIX.sub("", part)
        if any(ch.isupper() for ch in part[1:]):
            return False
    return True


def surname_shaped(word: str) -> bool:
    """Whether ``word`` begins or ends like a family name ("Jaskulski", "McCreadie")."""
    if _SURNAME_PREFIX.match(word):
        return True
    lower = word.lower()
    return any(
        lower.endswith(suffix) and len(lower) - len(suffix) >= _MIN_STEM
        for suffix in SURNAME_SUFFIXES
    )
