"""Plain functions that set up the contributor pages' situations (shared with the browser
tests): a project of each task type, a label waiting for review, an escalated item, a
qualification test, reputation evidence and model versions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import Person

from loupe.db.database import Database
from loupe.db.loop_models import ModelVersionRecord
from loupe.db.models import utcnow
from loupe.services.labelling import escalations, labels, tasks
from loupe.services.people import standing
from loupe.services.quality import qualifications

LABELS = [{"key": "call"}, {"key": "music"}, {"key": "navigate"}]

SCHEMAS: dict[str, dict[str, Any]] = {
    "single_choice": {"task": {"type": "single_choice", "labels": LABELS}},
    "multi_choice": {
        "task": {
            "type": "multi_choice",
            "labels": [{"key": "food"}, {"key": "travel"}, {"key": "work"}],
        }
    },
    "free_text": {
        "task": {
            "type": "free_text",
            "mode": "post_edit",
            "source_field": "draft",
            "target_language": "de",
        }
    },
    "pairwise": {"task": {"type": "pairwise", "a_field": "a", "b_field": "b"}},
    "spans": {
        "task": {
            "type": "spans",
            "labels": [{"key": "LOC", "description": "a place"}, {"key": "ORG"}],
        }
    },
}

ROWS: dict[str, list[dict[str, Any]]] = {
    "single_choice": [{"id": "s1", "text": "ring Bo back"}, {"id": "s2", "text": "next song"}],
    "multi_choice": [
        {"id": "m1", "text": "book a table near the office"},
        {"id": "m2", "text": "train to Lyon"},
    ],
    "free_text": [
        {"id": "f1", "text": "Good morning, how are you?", "draft": "Guten Morgen, wie gehts du?"},
        {"id": "f2", "text": "See you tomorrow.", "draft": "Bis morgen."},
    ],
    "pairwise": [
        {
            "id": "p1",
            "text": "Suggest a name for a cat.",
            "a": "Whiskers",
            "b": "I cannot help with that.",
        },
        {"id": "p2", "text": "What is 2 + 2?", "a": "5", "b": "4"},
    ],
    "spans": [
        {"id": "n1", "text": "Trains from Berlin to Paris run daily."},
        {"id": "n2", "text": "Acme opened an office in Oslo."},
    ],
}

# A right answer to each type's first row.
ANSWERS: dict[str, Any] = {
    "single_choice": "call",
    "multi_choice": ["food", "work"],
    "free_text": "Guten Morgen, wie geht es dir?",
    "pairwise": "a",
    "spans": [{"start": 12, "end": 18, "label": "LOC"}, {"start": 22, "end": 27, "label": "LOC"}],
}


def reviewed(schema: dict[str, Any], *, show_other_labels: bool = False) -> dict[str, Any]:
    """``schema`` with every label queued for one review."""
    return {**schema, "review": {"rate": 1.0, "show_other_labels": show_other_labels}}


def label_next(db: Database, person: Person, project: int, answer: Any) -> tuple[int, int]:
    """``person`` takes the next task and labels it; returns (item id, label id)."""
    with db.transaction() as session:
        task = tasks.next_task(session, person.actor, project, lease_seconds=600)
        assert task is not None
        saved = labels.submit_label(session, person.actor, project, task.item_id, answer)
        return task.item_id, saved.label.id


def flag_next(db: Database, person: Person, project: int, reason: str) -> int:
    """``person`` takes the next task and flags it for an expert; returns the item id."""
    with db.transaction() as session:
        task = tasks.next_task(session, person.actor, project, lease_seconds=600)
        assert task is not None
        escalations.flag_item(session, person.actor, project, task.item_id, reason=reason)
        return task.item_id


def pass_up(db: Database, expert: Person, project: int, reason: str) -> int:
    """``expert`` takes the next escalated item and passes it to the adjudicator."""
    with db.transaction() as session:
        task = escalations.next_expert_task(session, expert.actor, project, lease_seconds=600)
        assert task is not None
        escalations.resolve_escalation(session, expert.actor, project, task.item_id, pass_up=reason)
        return task.item_id


def make_test(
    db: Database, manager: Person, project: int, questions: list[dict[str, Any]], **options: Any
) -> int:
    """A qualification test (level 1 in ``general`` unless ``options`` say otherwise)."""
    settings: dict[str, Any] = {"name": "Intents basics", "domain": "general", "level": 1}
    settings.update(options)
    with db.transaction() as session:
        test = qualifications.create_test(
            session, manager.actor, project, questions=questions, **settings
        )
        return test.id


def earn_trust(db: Database, person: Person, domain: str = "general", n: int = 20) -> None:
    """``n`` right gold answers: enough for the trusted tier (which unlocks reviewing)."""
    now = utcnow()
    with db.transaction() as session:
        for i in range(n):
            standing.record_evidence(
                session,
                user_id=person.id,
                domain=domain,
                project_id=None,
                kind="gold",
                success=1.0,
                ref=f"gold:item:{1000 + i}",
                now=now - timedelta(minutes=n - i),
            )


def add_model_versions(db: Database, project: int, curve: list[tuple[int, float, float]]) -> None:
    """Model versions along a learning curve of (items, accuracy, control accuracy)."""
    with db.transaction() as session:
        for version, (n, accuracy, control) in enumerate(curve, 1):
            session.add(
                ModelVersionRecord(
                    project_id=project,
                    version=version,
                    trainer="tfidf_logreg",
                    metrics={"accuracy": accuracy, "macro_f1": accuracy},
                    control_metrics={"accuracy": control},
                    n_control=n // 4,
                    training_ids=list(range(n)),
                    training_hash="0" * 64,
                    gold_set="0" * 64,
                    n_labels=n,
                    cost_minor=5 * n,
                    currency="EUR",
                    promoted=version == len(curve),
                )
            )
