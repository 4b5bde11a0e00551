from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from tests.factories import make_project

from loupe.db.database import Database
from loupe.privacy import Redactor, Scanner
from loupe.privacy.detectors.base import Detector
from loupe.privacy.spans import Detection
from loupe.services.access import Actor
from loupe.services.gate import PrivacyGate, RedactedText, gate_data, redact_text
from loupe.services.privacy import set_privacy

PHONE = "+44 20 7946 0958"
EMAIL = "canary.fox@example.org"
SCANNER = Scanner()
REDACTORS = {p: Redactor(SCANNER, policy=p) for p in ("placeholder", "pseudonym")}


def _gate(data: dict[str, Any], metadata: dict[str, Any], policy: Any = "placeholder") -> Any:
    return gate_data(data, scanner=SCANNER, redactors=REDACTORS, policy=policy, metadata=metadata)


def test_metadata_strings_are_redacted_through_objects_and_lists() -> None:
    metadata = {
        "note": f"caller left {PHONE}",
        "contact": {"email": EMAIL, "tags": ["vip", f"ring {PHONE}"]},
        "count": 3,
        "prediction": {"label": "call", "confidence": 0.9, "model_version": "v1"},
        "gold": True,
    }
    result = _gate({"text": "play some jazz"}, metadata)
    assert result.withheld_reason is None
    assert result.data == {"text": "play some jazz"}
    assert result.metadata == {
        "note": "caller left [PHONE]",
        "contact": {"email": "[EMAIL]", "tags": ["vip", "ring [PHONE]"]},
        "count": 3,
        "prediction": {"label": "call", "confidence": 0.9, "model_version": "v1"},
        "gold": True,
    }
    assert result.detected == ("EMAIL", "PHONE")
    assert sorted(result.spans) == [
        "metadata.contact.email",
        "metadata.contact.tags.1",
        "metadata.note",
    ]
    assert result.spans["metadata.note"] == [[12, 28, 12, 19, "PHONE"]]


def test_nested_data_strings_are_redacted_too() -> None:
    result = _gate({"text": "hi", "caller": {"phone": PHONE}}, {})
    assert result.data == {"text": "hi", "caller": {"phone": "[PHONE]"}}
    assert list(result.spans) == ["caller.phone"]


def test_metadata_detection_withholds_under_the_withhold_policy() -> None:
    result = _gate({"text": "play jazz"}, {"note": EMAIL, "gold": False}, policy="withhold")
    assert result.withheld_reason == "policy"
    assert result.data == {"text": "[WITHHELD]"}
    assert result.metadata == {"note": "[WITHHELD]", "gold": False}


class _Broken:
    name: ClassVar[str] = "broken"
    types: ClassVar[tuple[str, ...]] = ("X",)

    def detect(self, text: str) -> Iterator[Detection]:
        if "boom" in text:
            raise RuntimeError("detector failed")
        return iter(())


def test_a_failing_scan_of_metadata_withholds_the_item() -> None:
    scanner = Scanner()
    broken: Detector = _Broken()
    scanner.detectors.append(broken)
    redactors = {p: Redactor(scanner, policy=p) for p in ("placeholder", "pseudonym")}
    result = gate_data(
        {"text": "fine"},
        scanner=scanner,
        redactors=redactors,
        policy="placeholder",
        metadata={"note": "boom", "min_level": 2},
    )
    assert result.withheld_reason == "error"
    assert result.metadata == {"note": "[WITHHELD]", "min_level": 2}


def test_the_pool_path_gates_metadata_as_well() -> None:
    rows = [{"text": f"item {i}"} for i in range(1_000)]
    metas = [{"note": f"call {PHONE}"} for _ in rows]
    with PrivacyGate(workers=2) as gate:
        results = gate.check(rows, policy="placeholder", metadata=metas)
    assert {r.metadata["note"] for r in results} == {"call [PHONE]"}


@pytest.mark.parametrize(
    ("policy", "gate", "expected"),
    [
        ("placeholder", True, RedactedText("ring [PHONE]", True, False, ("PHONE",), [[5, 21, 5, 12, "PHONE"]])),
        ("pseudonym", True, RedactedText("ring [PHONE_1]", True, False, ("PHONE",), [[5, 21, 5, 14, "PHONE"]])),
        ("withhold", True, RedactedText("[WITHHELD]", True, True, ("PHONE",), [])),
        ("placeholder", False, RedactedText(f"ring {PHONE}", False, False, (), [])),
    ],
)  # fmt: skip
def test_redact_text_follows_the_project_policy(
    db: Database, policy: str, gate: bool, expected: RedactedText
) -> None:
    project = make_project(db)
    with db.transaction() as session:
        set_privacy(session, Actor.system(), project, policy=policy, gate=gate)
    with db.transaction(readonly=True) as session:
        assert redact_text(session, project, f"ring {PHONE}") == expected
        clean = redact_text(session, project, "translate: good morning")
    assert clean == RedactedText("translate: good morning", False, False, (), [])
