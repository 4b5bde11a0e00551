"""Recognizers, and the registry that names them.

Why not Microsoft Presidio: ``presidio-analyzer`` imports spaCy (about 1.1 s and
~100 MB RSS before any model), its default engine tries to download a spaCy
model at start-up (it fails offline), and without a model its recognizers are
the same regex-and-checksum approach used here. Its pattern recognizers also
cover fewer of the locales and HIPAA identifiers Loupe needs (no Chinese
resident ID, NIR, codice fiscale check, VIN, MBI, addresses). So Loupe keeps its
own recognizers on :mod:`re` and ``phonenumbers``; see docs/benchmarks-privacy.md
for the measured comparison.

The registry is built on first use: importing this package (or ``Scanner``) does
not compile the recognizers' patterns, so a server that never scans does not pay
for them at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loupe.privacy.detectors.base import Detector

__all__ = ["DETECTORS", "Detector"]

if TYPE_CHECKING:
    DETECTORS: dict[str, type[Detector]]


def __getattr__(name: str) -> object:
    if name != "DETECTORS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    registry = _registry()
    globals()["DETECTORS"] = registry
    return registry


def _registry() -> dict[str, type[Detector]]:
    from loupe.privacy.detectors.addresses import AddressDetector
    from loupe.privacy.detectors.contact import (
        EmailDetector,
        IpAddressDetector,
        MacAddressDetector,
        UrlDetector,
    )
    from loupe.privacy.detectors.dates import AgeDetector, DateDetector
    from loupe.privacy.detectors.financial import CreditCardDetector, IbanDetector
    from loupe.privacy.detectors.health import HealthIdentifierDetector, VehicleDetector
    from loupe.privacy.detectors.names import PersonNameDetector
    from loupe.privacy.detectors.national_ids import NationalIdDetector
    from loupe.privacy.detectors.phone import PhoneDetector

    return {
        cls.name: cls
        for cls in (
            AddressDetector,
            AgeDetector,
            CreditCardDetector,
            DateDetector,
            EmailDetector,
            HealthIdentifierDetector,
            IbanDetector,
            IpAddressDetector,
            MacAddressDetector,
            NationalIdDetector,
            PersonNameDetector,
            PhoneDetector,
            UrlDetector,
            VehicleDetector,
        )
    }
