"""The recognizers (their patterns, ``phonenumbers``, the name lists) load on first use,
not when the web app or the privacy package is imported (issue #18: cold start)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHECK = """
import json, sys
import loupe.privacy, loupe.privacy.scanner, loupe.services.compliance.gate, loupe.web.app
before = sorted(m for m in ("phonenumbers", "loupe.privacy.detectors.names") if m in sys.modules)
from loupe.privacy import DETECTORS, Scanner
scan = Scanner().scan("call Maria Schmidt at +49 30 1234567")
after = sorted(m for m in ("phonenumbers", "loupe.privacy.detectors.names") if m in sys.modules)
print(json.dumps({"before": before, "after": after, "types": [d.type for d in scan.spans],
                  "detectors": len(DETECTORS)}))
"""


def test_importing_the_app_does_not_load_the_recognizers() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["before"] == []
    assert seen["after"] == ["loupe.privacy.detectors.names", "phonenumbers"]
    assert seen["types"] == ["PERSON", "PHONE"] and seen["detectors"] == 14


def test_an_unknown_attribute_of_the_packages_is_an_attribute_error() -> None:
    import loupe.privacy
    import loupe.privacy.detectors

    with pytest.raises(AttributeError):
        _ = loupe.privacy.NOPE
    with pytest.raises(AttributeError):
        _ = loupe.privacy.detectors.NOPE
