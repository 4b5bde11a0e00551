"""Audio in the live loop: segments checked against the audio and fused, transcripts fused
word by word as the live consensus, gold by IoU and by WER, pay per audio second."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from tests.factories import add_items, add_media, count, hold_in, make_project, make_user

from loupe.aggregation.transcripts import transcript_words
from loupe.db.database import Database
from loupe.errors import InvalidInput
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.quality.gold import set_gold

LABELS = [{"key": "wake"}, {"key": "noise"}]


def seg(start: float, end: float, label: str = "wake") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def _project(
    db: Database, people: list[Any], *, task: dict[str, Any] | None = None, overlap: int = 3,
    name: str = "audio", **policy: Any,
) -> int:  # fmt: skip
    task = task or {"type": "segments", "labels": LABELS}
    config = {"task": task, "quality": policy}
    if task["type"] == "free_text":
        config["media"] = ["audio"]
    project = make_project(
        db, name=name, overlap=overlap, members=dict.fromkeys(people, "annotator"), config=config
    )
    add_items(db, project, 2)
    with db.engine.connect() as connection:
        items = connection.execute(
            text("SELECT id FROM items WHERE project_id = :p ORDER BY id"), {"p": project}
        ).scalars()
        ids = list(items)
    for item in ids:
        add_media(
            db, item, field="audio", kind="audio", mime="audio/wav", duration_ms=4250,
            data=b"RIFF" + f"{item}".encode(),
        )  # fmt: skip
    return project


TRANSCRIBE = {"type": "free_text", "mode": "transcription"}


def _consensus(db: Database) -> tuple[Any, int, int, float, str]:
    from loupe.db.models import Consensus

    with db.transaction(readonly=True) as session:
        row = session.get(Consensus, 1)
        assert row is not None
        return row.answer, row.support, row.n_labels, row.confidence, row.method


def _complete(db: Database, item: int = 1) -> bool:
    with db.engine.connect() as connection:
        value = connection.execute(
            text("SELECT is_complete FROM items WHERE id = :i"), {"i": item}
        ).scalar()
    return value in (1, True)


def _submit_all(db: Database, project: int, people: list[Any], answers: list[Any]) -> None:
    with db.transaction() as session:
        for person, answer in zip(people, answers, strict=True):
            hold_in(session, person.id, project, 1)
            submit_label(session, person.actor, project, 1, answer)


# --- segments --------------------------------------------------------------------------------


def test_segments_are_checked_against_the_audio_duration(db: Database) -> None:
    ann = make_user(db, "ann")
    project = _project(db, [ann])
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
    with db.transaction() as session, pytest.raises(InvalidInput, match=r"outside the 4\.25 s"):
        submit_label(session, ann.actor, project, 1, [seg(4.0, 4.5)])
    assert count(db, "labels") == 0
    with db.transaction() as session:
        done = submit_label(session, ann.actor, project, 1, [seg(3.0, 4.29), seg(0, 1, "noise")])
    assert done.label.answer == [seg(0.0, 1.0, "noise"), seg(3.0, 4.25)]


def test_live_consensus_fuses_segments(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people)
    answers = [
        [seg(0.5, 1.5), seg(2.0, 4.0, "noise")],
        [seg(0.7, 1.5), seg(2.2, 4.0, "noise")],
        [seg(0.6, 1.6, "noise")],
    ]
    _submit_all(db, project, people, answers)
    answer, support, n_labels, confidence, method = _consensus(db)
    assert answer == [seg(0.6, 1.53), seg(2.1, 4.0, "noise")]  # the wake word: 2 votes to 1
    assert (support, n_labels, method) == (2, 3, "segments")
    assert 0.5 < confidence < 1.0
    assert _complete(db)


def test_dynamic_overlap_stops_when_segments_agree(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, dynamic_overlap=True, target=0.9, min_labels=1)
    _submit_all(db, project, people[:1], [[seg(1.0, 2.0)]])
    assert not _complete(db)  # one label agrees with itself
    _submit_all(db, project, people[1:2], [[seg(1.0, 2.0)]])
    assert _complete(db)


def test_segment_gold_scores_by_iou(db: Database) -> None:
    good, poor = make_user(db, "good"), make_user(db, "poor")
    project = _project(db, [good, poor])
    with db.transaction() as session, pytest.raises(InvalidInput, match="outside"):
        set_gold(session, Actor.system(), project, [("u0", [seg(4.0, 5.0)])])
    assert count(db, "gold_answers") == 0
    gold = [seg(0.5, 1.5), seg(2.0, 4.0, "noise")]
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", gold)])
    with db.transaction() as session:
        hold_in(session, good.id, project, 1)
        hold_in(session, poor.id, project, 1)
        close = [seg(0.55, 1.5), seg(2.1, 4.0, "noise")]
        assert submit_label(session, good.actor, project, 1, close).gold.correct  # type: ignore[union-attr]
        wrong = [seg(0.55, 1.5), seg(2.1, 4.0, "wake")]  # F1 0.5 < 0.8
        assert not submit_label(session, poor.actor, project, 1, wrong).gold.correct  # type: ignore[union-attr]


def test_consensus_evidence_for_segments_is_the_f1_against_the_fused_ones(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people)
    wake = seg(1.0, 2.0)
    _submit_all(db, project, people, [[wake], [wake], [wake, seg(3.0, 4.0, "noise")]])
    with db.engine.connect() as connection:
        evidence: dict[int, float] = dict(
            connection.execute(
                text("SELECT user_id, success FROM reputation_events WHERE kind = 'consensus'")
            ).all()
        )
    assert evidence == pytest.approx({people[0].id: 1.0, people[1].id: 1.0, people[2].id: 2 / 3})


def test_rate_cards_pay_per_audio_second(db: Database, tmp_path: Any) -> None:
    from tests.factories import make_rate_card

    from loupe.services.payments import earnings
    from loupe.services.payments.ledger_keys import LedgerConfig, init_keys

    cfg = LedgerConfig(keys=init_keys(tmp_path / "keys", origin="test.loupe/audio"))
    ann, bob = make_user(db, "ann"), make_user(db, "bob")
    project = _project(db, [ann, bob], task=TRANSCRIBE)
    card = {"currency": "EUR", "rates": [{"amount_minor": 1, "per_audio_second_minor": 2}]}
    make_rate_card(db, project, card)
    with db.transaction() as session:
        hold_in(session, ann.id, project, 1)
        submit_label(session, ann.actor, project, 1, "hey loupe", ledger=cfg)
    with db.transaction(readonly=True) as session:
        owed = earnings.balances(session, ann.id, secret=cfg.keys.secret)
    assert owed == [earnings.Balance("EUR", 10, 0, 10)]  # 1 + 2 x 4.25 s, rounded up


# --- transcripts -----------------------------------------------------------------------------


def test_live_consensus_of_transcripts_is_their_fusion(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, task=TRANSCRIBE)
    texts = [
        "Turn on the kitchen lights.",
        "turn on the kitchen light",
        "turn of the kitchen lights",
    ]
    _submit_all(db, project, people, texts)
    answer, support, n_labels, confidence, method = _consensus(db)
    # Word by word, each word by two of three: an answer none of them gave.
    assert transcript_words(answer) == ["turn", "on", "the", "kitchen", "lights"]
    assert (support, n_labels, method) == (1, 3, "transcript")  # only the first within 10%
    assert 0.8 < confidence < 1.0  # settled: reputation evidence is recorded
    with db.engine.connect() as connection:
        evidence: dict[int, float] = dict(
            connection.execute(
                text("SELECT user_id, success FROM reputation_events WHERE kind = 'consensus'")
            ).all()
        )
    # 1 - WER against the fused transcript.
    assert evidence == pytest.approx({people[0].id: 1.0, people[1].id: 0.8, people[2].id: 0.8})


def test_transcript_evidence_is_one_minus_the_word_error_rate(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, task=TRANSCRIBE)
    words = "please set a timer for ten minutes"
    _submit_all(db, project, people, [words, words.capitalize() + ".", words + " now"])
    answer, _, _, confidence, _ = _consensus(db)
    assert answer == words and confidence >= 0.8
    with db.engine.connect() as connection:
        evidence: dict[int, float] = dict(
            connection.execute(
                text("SELECT user_id, success FROM reputation_events WHERE kind = 'consensus'")
            ).all()
        )
    assert evidence == pytest.approx({people[0].id: 1.0, people[1].id: 1.0, people[2].id: 6 / 7})


def test_dynamic_overlap_stops_when_transcripts_agree(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, task=TRANSCRIBE, dynamic_overlap=True, target=0.9)
    _submit_all(db, project, people[:1], ["what time is it"])
    assert not _complete(db)
    _submit_all(db, project, people[1:2], ["What time is it?"])
    assert _complete(db)  # two transcripts agree word for word: confidence 1.0
    assert _consensus(db)[1:] == (2, 2, 1.0, "transcript")


def test_dynamic_overlap_goes_on_while_transcripts_disagree(db: Database) -> None:
    people = [make_user(db, f"p{i}") for i in range(3)]
    project = _project(db, people, task=TRANSCRIBE, dynamic_overlap=True, target=0.9)
    _submit_all(db, project, people[:2], ["call my mother", "call my brother now"])
    assert not _complete(db)
    _submit_all(db, project, people[2:], ["fall by other"])
    assert _complete(db)  # the overlap is reached: escalated
    assert count(db, "escalations") == 1


def test_transcript_gold_passes_within_the_wer_threshold(db: Database) -> None:
    good, poor, lax = make_user(db, "good"), make_user(db, "poor"), make_user(db, "lax")
    project = _project(db, [good, poor, lax], task=TRANSCRIBE, gold_max_wer=0.1)
    gold = "set an alarm for seven thirty tomorrow morning please now"  # 10 words
    with db.transaction() as session:
        set_gold(session, Actor.system(), project, [("u0", gold)])
    with db.transaction() as session:
        for person in (good, poor):
            hold_in(session, person.id, project, 1)
        one_off = "Set an alarm for 7 thirty tomorrow morning, please now."  # WER 0.1
        assert submit_label(session, good.actor, project, 1, one_off).gold.correct  # type: ignore[union-attr]
        two_off = "set an alarm for 7 30 tomorrow morning please now"  # WER 0.2
        assert not submit_label(session, poor.actor, project, 1, two_off).gold.correct  # type: ignore[union-attr]


def test_transcript_gold_threshold_is_a_policy_knob() -> None:
    from pydantic import ValidationError

    from loupe.label_schema import QualityPolicy

    assert QualityPolicy().gold_max_wer == 0.1
    with pytest.raises(ValidationError):
        QualityPolicy(gold_max_wer=1.5)


def test_translations_still_follow_the_reviewers(db: Database) -> None:
    """Only transcription and post-editing are fused: a translation keeps its review vote."""
    people = [make_user(db, f"p{i}") for i in range(2)]
    project = _project(db, people, task={"type": "free_text", "mode": "translation"}, overlap=2)
    _submit_all(db, project, people, ["Ruf meine Mutter an", "ruf meine mutter an"])
    assert _consensus(db)[4] == "mv"


def test_an_adjudicated_answer_agrees_with_crowd_segments_and_transcripts_near_it(
    db: Database,
) -> None:
    from loupe.services.labelling.escalations import flag_item, resolve_escalation

    near, far, boss = make_user(db, "near"), make_user(db, "far"), make_user(db, "boss")
    projects = [
        _project(db, [near, far]),
        _project(db, [near, far], task=TRANSCRIBE, name="transcripts"),
    ]
    crowd = [
        ([seg(1.05, 2.0)], [seg(3.0, 4.0)], [seg(1.0, 2.0)]),
        ("Turn it off, please.", "play some music", "turn it off please"),
    ]
    for project, (close, other, decided) in zip(projects, crowd, strict=True):
        with db.transaction() as session:
            session.execute(
                text(
                    "INSERT INTO memberships (project_id, user_id, role, created_at) "
                    "VALUES (:p, :u, 'manager', CURRENT_TIMESTAMP)"
                ),
                {"p": project, "u": boss.id},
            )
        item = 1 if project == projects[0] else 3
        with db.transaction() as session:
            for person, answer in ((near, close), (far, other)):
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, answer)
            flag_item(session, near.actor, project, item, reason="unsure")
        with db.transaction() as session:
            resolve_escalation(session, boss.actor, project, item, answer=decided)
        with db.engine.connect() as connection:
            evidence = dict(
                connection.execute(
                    text(
                        "SELECT user_id, success FROM reputation_events "
                        "WHERE kind = 'consensus' AND ref = :ref"
                    ),
                    {"ref": f"escalation:item:{item}"},
                ).all()
            )
        assert evidence == {near.id: 1.0, far.id: 0.0}
