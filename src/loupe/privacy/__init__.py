"""The privacy gate's pure domain: detect identifiers, redact them, shred subjects' keys.

>>> from loupe.privacy import Redactor
>>> Redactor().redact("call Maria Schmidt at +49 30 1234567").text
'call [PERSON] at [PHONE]'

Image functions live in :mod:`loupe.privacy.images` (the ``loupe[images]`` extra)
and are not imported here.
"""

from typing import TYPE_CHECKING

from loupe.privacy.detectors import Detector
from loupe.privacy.keyring import SubjectKeyring
from loupe.privacy.redaction import POLICIES, Policy, Redaction, Redactor, SpanMapping, redact_spans
from loupe.privacy.scanner import Scan, Scanner, Verdict
from loupe.privacy.spans import Detection, resolve_overlaps

__all__ = [
    "DETECTORS",
    "POLICIES",
    "Detection",
    "Detector",
    "Policy",
    "Redaction",
    "Redactor",
    "Scan",
    "Scanner",
    "SpanMapping",
    "SubjectKeyring",
    "Verdict",
    "redact_spans",
    "resolve_overlaps",
]

if TYPE_CHECKING:
    from loupe.privacy.detectors import DETECTORS


def __getattr__(name: str) -> object:
    """``DETECTORS`` is built on first use (see :mod:`loupe.privacy.detectors`)."""
    if name == "DETECTORS":
        from loupe.privacy import detectors

        return detectors.DETECTORS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
