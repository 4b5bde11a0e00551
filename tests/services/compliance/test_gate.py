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
from loupe.services.compliance.gate import PrivacyGate, RedactedText, gate_data, redact_text
from loupe.services.compliance.privacy_settings import set_privacy

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
    # A withheld item keeps none of its metadata: keys may hold personal data too.
    assert result.metadata == {"withheld": "[WITHHELD]"}


def test_metadata_keys_are_gated_like_values() -> None:
    """Regression (#12): only values were scanned; a key holding an email reached people."""
    result = _gate({"text": "play jazz"}, {EMAIL: 1, "by": {f"ring {PHONE}": "x"}})
    assert result.metadata == {"[EMAIL]": 1, "by": {"ring [PHONE]": "x"}}
    assert set(result.detected) == {"EMAIL", "PHONE"}
    assert result.spans["metadata.[EMAIL]#key"] == [[0, 22, 0, 7, "EMAIL"]]
    assert result.spans["metadata.by.ring [PHONE]#key"] == [[5, 21, 5, 12, "PHONE"]]


def test_span_map_paths_hold_no_content() -> None:
    """Regression: the span map is stored unsealed beside the vault (``item_vaults.spans``)
    and its paths were built from the keys as given, so a key holding an email or a phone
    number sat in the database in clear (``metadata.canary.fox@example.org#key``)."""
    data = {"text": "hi", "contact": {EMAIL: {"note": f"ring {PHONE}"}}}
    result = _gate(data, {EMAIL: f"ring {PHONE}", "by": [{PHONE: EMAIL}]})
    paths = " ".join(result.spans)
    assert EMAIL not in paths and "7946" not in paths
    assert set(result.spans) == {
        "contact.[EMAIL]#key",
        "contact.[EMAIL].note",
        "metadata.[EMAIL]#key",
        "metadata.[EMAIL]",
        "metadata.by.0.[PHONE]#key",
        "metadata.by.0.[PHONE]",
    }


def test_keys_that_redact_alike_are_kept_apart() -> None:
    result = _gate({"text": "hi"}, {EMAIL: 1, "ana@example.org": 2})
    assert result.metadata == {"[EMAIL]": 1, "[EMAIL]#2": 2}
    # Each key's spans are under the name it is shown by.
    assert result.spans["metadata.[EMAIL]#key"] == [[0, 22, 0, 7, "EMAIL"]]
    assert result.spans["metadata.[EMAIL]#2#key"] == [[0, 15, 0, 7, "EMAIL"]]


def test_prediction_and_gold_values_are_gated() -> None:
    """Regression (#12): ``gold`` and ``prediction`` were deliberately left unscanned."""
    metadata = {"prediction": f"call {PHONE}", "gold": {"answer": EMAIL}}
    result = _gate({"text": "hi"}, metadata)
    assert result.metadata == {"prediction": "call [PHONE]", "gold": {"answer": "[EMAIL]"}}


def test_external_ids_holding_personal_data_are_gated_and_stay_unique() -> None:
    gate = PrivacyGate()
    ids = gate.external_ids([f"user/{EMAIL}", "user/ana@example.org", "utt-17", "utt-17"])
    assert ids["utt-17"] == "utt-17"
    first, second = ids[f"user/{EMAIL}"], ids["user/ana@example.org"]
    assert first.startswith("user/[EMAIL]~") and second.startswith("user/[EMAIL]~")
    assert first != second and EMAIL not in first
    # Deterministic (imports stay idempotent) and a gated id gates to itself.
    assert gate.external_ids([f"user/{EMAIL}"]) == {f"user/{EMAIL}": first}
    assert gate.external_ids([first]) == {first: first}
    # Keyed: another key (another installation) gives another pseudonym.
    assert PrivacyGate().external_ids([f"user/{EMAIL}"])[f"user/{EMAIL}"] != first


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
    assert result.metadata == {"withheld": "[WITHHELD]"}


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


def test_an_email_shaped_id_never_reaches_people_or_exports(db: Database) -> None:
    """Regression (#12): an email-shaped external id reached an uncleared annotator
    through ``tasks/next``, reviewers through the items list, and exports."""
    from tests.factories import add_rows, make_user

    from loupe.formats import parse_item
    from loupe.services.compliance.vault import Vault
    from loupe.services.labelling.tasks import next_task
    from loupe.services.projects.exports import iter_export
    from loupe.services.projects.items import insert_items, list_items
    from loupe.services.quality.gold import set_gold

    annotator = make_user(db, "ann")
    project = make_project(db, members={annotator: "annotator"})
    gate = PrivacyGate(vault=Vault(bytes(range(32))))
    row = {"id": EMAIL, "text": "play jazz", "metadata": {f"by {PHONE}": True}}
    with db.transaction() as session:
        record = parse_item(row, where="test", text_field="text")
        first = insert_items(session, Actor.system(), project, [record], gate=gate)
        again = insert_items(session, Actor.system(), project, [record], gate=gate)
    assert (first.created, again.created) == (1, 0)  # still idempotent by id
    with db.transaction() as session:
        task = next_task(session, annotator.actor, project, lease_seconds=60)
        assert task is not None and EMAIL not in task.external_id
        assert task.external_id.startswith("[EMAIL]~")
        listed = list_items(session, Actor.system(), project, after_id=0, limit=10)
        assert [EMAIL not in item.external_id for item in listed] == [True]
        assert str(listed[0].meta) == "{'by [PHONE]': True}"
        exported = list(iter_export(session, project, "items", chunk_size=10))
        assert EMAIL not in str(exported) and "7946" not in str(exported)
        # The importer still names the item by the id it knows.
        assert set_gold(session, Actor.system(), project, [(EMAIL, "call")], gate=gate) == 1
    add_rows(db, project, [{"id": "utt-1", "text": "call mum"}])
    with db.engine.connect() as connection:
        ids = [r[0] for r in connection.exec_driver_sql("SELECT external_id FROM items")]
    assert "utt-1" in ids and EMAIL not in str(ids)


def test_data_field_names_are_gated_even_when_the_item_is_withheld() -> None:
    result = _gate({"text": "hi", EMAIL: "x"}, {})
    assert result.data == {"text": "hi", "[EMAIL]": "x"}
    withheld = _gate({"text": f"call {PHONE}", EMAIL: {"a": 1}}, {}, policy="withhold")
    assert withheld.data == {"text": "[WITHHELD]", "[WITHHELD]": "[WITHHELD]"}


def test_gated_ids_survive_a_restart_and_a_master_key_rotation(tmp_path: Any) -> None:
    from loupe.services.compliance.gate import gate_for
    from loupe.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db", key_dir=tmp_path / "keys")
    first = gate_for(settings).external_ids([EMAIL])[EMAIL]
    (tmp_path / "keys" / "privacy-master.key").unlink()  # a new master key, as a rotation
    assert gate_for(settings).external_ids([EMAIL])[EMAIL] == first
    other = Settings(database_url=f"sqlite:///{tmp_path}/y.db", key_dir=tmp_path / "other")
    assert gate_for(other).external_ids([EMAIL])[EMAIL] != first


def test_gate_results_survive_the_trip_to_and_from_a_pool_worker() -> None:
    """Results come back from the gate's process pool pickled (with a cheap reduce)."""
    import pickle

    from loupe.services.compliance.gate import PrivacyGate

    (result,) = PrivacyGate().check(
        [{"text": "call Maria at +44 20 7946 0958"}], policy="placeholder", metadata=[{"k": 1}]
    )
    back = pickle.loads(pickle.dumps(result))
    assert back == result and back.detected == result.detected
    assert type(back).__name__ == "GateResult" and back.metadata == {"k": 1}
