"""E-mail addresses, URLs, IP addresses and MAC addresses.

E-mail is checked by shape only (local part, dotted domain, alphabetic TLD of
2-24 letters); we deliberately do not consult a public-suffix list, which would
need a download or a stale snapshot and adds little for redaction.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import ClassVar

from loupe.privacy.detectors.base import has_cue
from loupe.privacy.spans import Detection

__all__ = ["EmailDetector", "IpAddressDetector", "MacAddressDetector", "UrlDetector"]

# Letters and digits of an address: ASCII, and the Latin, Greek and Cyrillic letters of
# internationalised addresses ("josé@correo.es"), which are also the look-alikes that
# hide an ASCII address from an ASCII pattern ("ana@ex\u0430mple.org" with a Cyrillic a).
# CJK is left out: it is written without spaces, so it would join the text around.
_LETTERS = r"A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_L = f"{_LETTERS}0-9"
_EMAIL = re.compile(
    rf"(?<![{_L}_.+-])[{_L}](?:[{_L}._%+-]{{0,63}})@"
    rf"(?:[{_L}](?:[{_L}-]{{0,61}}[{_L}])?\.){{1,8}}[{_LETTERS}]{{2,24}}"
    rf"(?![{_L}_-])"
)
_URL = re.compile(
    r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'\]\[\u2591]{2,2000}",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)»"
_IPV4 = re.compile(r"(?<![A-Za-z0-9_.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![A-Za-z0-9_]|\.\d)")
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![A-Za-z0-9_:])"
)
_MAC = re.compile(
    r"(?<![A-Za-z0-9_:-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![A-Za-z0-9_:-])"
)
_VERSION_CUE = re.compile(r"\b(?:version|v\.?|release|build|ver\.?|sdk|firmware)\s*$", re.I)
_IP_CUE = re.compile(r"\b(?:ip|ipv[46]|address|host|server|client|from|connect)", re.I)


class EmailDetector:
    """E-mail addresses.

    >>> [d.type for d in EmailDetector().detect("write to ana.ruiz@correo.es")]
    ['EMAIL']
    """

    name: ClassVar[str] = "email"
    types: ClassVar[tuple[str, ...]] = ("EMAIL",)

    def detect(self, text: str) -> Iterator[Detection]:
        if "@" not in text:
            return
        for m in _EMAIL.finditer(text):
            yield Detection(m.start(), m.end(), "EMAIL", 0.95)


class UrlDetector:
    """Web addresses with a scheme or a ``www.`` prefix (query strings often carry ids)."""

    name: ClassVar[str] = "url"
    types: ClassVar[tuple[str, ...]] = ("URL",)

    def detect(self, text: str) -> Iterator[Detection]:
        # Every match holds "://" or "www." (in any case: only "W" lower-cases to "w").
        if "://" not in text and "www." not in text.lower():
            return
        for m in _URL.finditer(text):
            end = m.end()
            while end > m.start() and text[end - 1] in _URL_TRAILING:
                end -= 1
            if end - m.start() > 8:
                yield Detection(m.start(), end, "URL", 0.85)


class IpAddressDetector:
    """IPv4 and IPv6 addresses, validated by :mod:`ipaddress`; version strings are skipped."""

    name: ClassVar[str] = "ip_address"
    types: ClassVar[tuple[str, ...]] = ("IP_ADDRESS",)

    def detect(self, text: str) -> Iterator[Detection]:
        if "." in text:
            for m in _IPV4.finditer(text):
                addr = m.group().split("/")[0]
                if any(len(o) > 1 and o[0] == "0" for o in addr.split(".")):
                    continue
                try:
                    ipaddress.IPv4Address(addr)
                except ValueError:
                    continue
                before = text[max(0, m.start() - 12) : m.start()]
                if _VERSION_CUE.search(before):
                    continue
                cue = has_cue(text, m.start(), m.end(), _IP_CUE)
                yield Detection(m.start(), m.end(), "IP_ADDRESS", 0.95 if cue else 0.85)
        if text.count(":") >= 2:
            for m in _IPV6.finditer(text):
                addr = m.group().split("/")[0]
                if "::" not in addr and addr.count(":") != 7:
                    continue
                if sum(ch.isalnum() for ch in addr) < 3:
                    continue
                try:
                    ipaddress.IPv6Address(addr)
                except ValueError:
                    continue
                yield Detection(m.start(), m.end(), "IP_ADDRESS", 0.9)


class MacAddressDetector:
    """EUI-48 hardware addresses: ``00:1A:2B:3C:4D:5E``, ``00-1a-…``, ``001a.2b3c.4d5e``."""

    name: ClassVar[str] = "mac_address"
    types: ClassVar[tuple[str, ...]] = ("MAC_ADDRESS",)

    def detect(self, text: str) -> Iterator[Detection]:
        # Five of one separator (":" or "-"), or two dots.
        if text.count(":") < 5 and text.count("-") < 5 and text.count(".") < 2:
            return
        for m in _MAC.finditer(text):
            yield Detection(m.start(), m.end(), "MAC_ADDRESS", 0.9)
