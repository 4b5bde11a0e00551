"""Re-fits off the writer lock (issue 18): a snapshot, the fit with no transaction open,
short write transactions, and nothing newer than the snapshot overwritten."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from tests.factories import Person, add_items, hold_in, make_project, make_user
from typer.testing import CliRunner

from loupe.aggregation import AGGREGATORS
from loupe.cli import app
from loupe.db.database import Database
from loupe.db.engine import READONLY_OPTION
from loupe.db.models import Consensus, Label
from loupe.db.quality_models import QualityState, WorkerSkill
from loupe.errors import Conflict, InvalidInput
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.undo import undo_label
from loupe.services.quality import refits
from loupe.web.refitter import refit_due_projects

CONFIG = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
    },
    "quality": {"refit_every": 5},
}
TRUTH = ["call", "music", "navigate"]
N_ITEMS = 12


def _crowd(db: Database, *, name: str = "intents") -> tuple[int, list[Person], Person]:
    """12 items labelled by three good annotators and a bad one; ``late`` has not
    labelled yet (a member, for labels given during a fit)."""
    people = [make_user(db, f"{name}-good{i}") for i in range(3)]
    bad = make_user(db, f"{name}-bad")
    late = make_user(db, f"{name}-late")
    members = dict.fromkeys([*people, bad, late], "annotator")
    project = make_project(db, name=name, overlap=5, members=members, config=CONFIG)
    add_items(db, project, N_ITEMS)
    with db.transaction() as session:
        first = _first_item(session, project)
        for offset in range(N_ITEMS):
            item = first + offset
            for person in people:
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, TRUTH[offset % 3])
            hold_in(session, bad.id, project, item)
            submit_label(session, bad.actor, project, item, TRUTH[(offset + 1) % 3])
    return project, [*people, bad], late


def _first_item(session: Any, project: int) -> int:
    from loupe.db.models import Item

    return int(session.scalar(select(Item.id).where(Item.project_id == project).order_by(Item.id)))


def _consensus(db: Database, project: int) -> dict[int, tuple[Any, ...]]:
    with db.transaction(readonly=True) as session:
        rows = session.execute(
            select(
                Consensus.item_id,
                Consensus.answer,
                Consensus.support,
                Consensus.n_labels,
                Consensus.confidence,
                Consensus.method,
                Consensus.updated_at,
            ).where(Consensus.project_id == project)
        ).all()
    return {row.item_id: tuple(row[1:]) for row in rows}


def _during_fit(monkeypatch: pytest.MonkeyPatch, work: Callable[[], None]) -> None:
    """Run ``work`` when the aggregator starts fitting: after the labels were read,
    before anything is written."""
    original = AGGREGATORS["ds"]

    class Hooked:
        def __init__(self, **kwargs: Any) -> None:
            self._model = original(**kwargs)

        def fit(self, *args: Any, **kwargs: Any) -> Any:
            work()
            self._model.fit(*args, **kwargs)
            return self

        def __getattr__(self, name: str) -> Any:
            return getattr(self._model, name)

    monkeypatch.setitem(AGGREGATORS, "ds", Hooked)


@contextmanager
def _transactions(db: Database) -> Iterator[list[str]]:
    """Each transaction begun and ended on ``db`` while inside, in order:
    ``begin-read``, ``begin-write``, ``end``."""
    seen: list[str] = []

    def begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get(READONLY_OPTION)
        seen.append("begin-read" if readonly else "begin-write")

    def end(connection: Any) -> None:
        seen.append("end")

    event.listen(db.engine, "begin", begin)
    event.listen(db.engine, "commit", end)
    event.listen(db.engine, "rollback", end)
    try:
        yield seen
    finally:
        event.remove(db.engine, "begin", begin)
        event.remove(db.engine, "commit", end)
        event.remove(db.engine, "rollback", end)


def _open(seen: list[str]) -> int:
    return sum(1 for step in seen if step.startswith("begin")) - seen.count("end")


def test_labels_given_during_the_fit_keep_their_consensus(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background refit reads a snapshot, and a label submitted (or undone) before
    it writes is neither lost nor overwritten by the fit that never saw it. On the old
    path the fit held the writer, so the submit could not run (SQLite) or its consensus
    was overwritten (PostgreSQL)."""
    project, people, late = _crowd(db)
    with db.transaction(readonly=True) as session:
        first = _first_item(session, project)
    added, undone = first + 4, first + 5
    after: dict[int, tuple[Any, ...]] = {}

    def meanwhile() -> None:
        with db.transaction() as session:
            hold_in(session, late.id, project, added)
            submit_label(session, late.actor, project, added, "navigate")
        with db.transaction() as session:
            undo_label(
                session, people[0].actor, project, undone, grace_seconds=10**9, lease_seconds=60
            )
        current = _consensus(db, project)
        after.update({added: current[added], undone: current[undone]})

    _during_fit(monkeypatch, meanwhile)
    assert refit_due_projects(db) == [project]
    consensus = _consensus(db, project)
    assert consensus[added] == after[added]  # the submit's own consensus, 5 labels
    assert consensus[added][2] == 5
    assert consensus[undone] == after[undone]
    assert consensus[undone][2] == 3
    fitted = set(consensus) - {added, undone}
    assert {consensus[item][4] for item in fitted} == {"ds"}
    with db.transaction(readonly=True) as session:
        assert session.scalar(
            select(Label.id).where(Label.item_id == added, Label.user_id == late.id)
        )
        state = session.get(QualityState, project)
        assert state is not None
        assert state.labels_at_fit == 4 * N_ITEMS  # what the fit read
        assert state.fitting_since is None


def test_the_fit_holds_no_transaction_and_writes_in_short_ones(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _, _ = _crowd(db)
    with _transactions(db) as seen:
        open_at_fit: list[int] = []
        _during_fit(monkeypatch, lambda: open_at_fit.append(_open(seen)))
        report = refits.refit_in_steps(db, project, batch=5)
    assert open_at_fit == [0]  # no transaction, read or write, spans the fit
    # the claim; the snapshot; ceil(12 / 5) consensus batches; skills and state
    writes = [step for step in seen if step.startswith("begin")]
    assert writes == ["begin-write", "begin-read"] + ["begin-write"] * 4
    assert _open(seen) == 0
    fit_at = seen.index("begin-read") + 2  # the snapshot's begin and end
    assert seen[fit_at:] == ["begin-write", "end"] * 4  # nothing spans another
    assert report.n_labels == 4 * N_ITEMS
    assert report.n_items == N_ITEMS
    assert report.n_kept == 0


def test_without_writes_meanwhile_the_steps_store_what_one_transaction_does(
    db: Database,
) -> None:
    """Known answer: the three good annotators outvote the bad one on every item, and
    the stepped refit stores the same consensus and skills as :func:`refits.refit`."""
    one, _, _ = _crowd(db, name="one")
    steps, _, _ = _crowd(db, name="steps")
    with db.transaction() as session:
        whole = refits.refit(session, one)
    stepped = refits.refit_in_steps(db, steps, batch=5)
    assert (whole.n_labels, whole.n_items, whole.n_workers) == (48, 12, 4)
    assert (stepped.n_labels, stepped.n_items, stepped.n_workers) == (48, 12, 4)
    a, b = _consensus(db, one), _consensus(db, steps)
    ranked_a = [row[:4] for _, row in sorted(a.items())]
    ranked_b = [row[:4] for _, row in sorted(b.items())]
    assert ranked_a == ranked_b
    assert [row[0] for row in ranked_a] == [TRUTH[i % 3] for i in range(N_ITEMS)]
    assert all(row[1:3] == (3, 4) for row in ranked_a)
    assert {row[4] for row in a.values()} == {row[4] for row in b.values()} == {"ds"}
    for x, y in zip(ranked_a, ranked_b, strict=True):
        assert x[3] == pytest.approx(y[3])
    with db.transaction(readonly=True) as session:
        skills = {
            project: sorted(
                (round(skill.accuracy, 9), skill.n_labels)
                for skill in session.scalars(
                    select(WorkerSkill).where(WorkerSkill.project_id == project)
                )
            )
            for project in (one, steps)
        }
    assert skills[one] == skills[steps]
    assert len(skills[one]) == 4


def test_refit_in_steps_claims_and_a_failed_fit_releases(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _, _ = _crowd(db)
    with db.transaction() as session:
        assert refits.claim_refit(session, project)
    with pytest.raises(Conflict, match="re-fitted already"):
        refits.refit_in_steps(db, project)
    with db.transaction() as session:
        refits.release_refit(session, project)

    def failing() -> None:
        raise InvalidInput("the aggregator failed")

    _during_fit(monkeypatch, failing)
    with pytest.raises(InvalidInput):
        refits.refit_in_steps(db, project)
    with db.transaction(readonly=True) as session:
        state = session.get(QualityState, project)
        assert state is not None
        assert state.fitting_since is None
        assert state.labels_at_fit == 0


def test_cli_refit_runs_the_steps(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _crowd(db)
    steps: list[int] = []
    original = refits.refit_in_steps

    def counting(*args: Any, **kwargs: Any) -> refits.RefitReport:
        steps.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(refits, "refit_in_steps", counting)
    result = CliRunner().invoke(app, ["quality", "refit", "intents", "--database-url", db.url])
    assert result.exit_code == 0, result.output
    assert "ds: 48 labels, 12 items, 4 annotators" in result.output
    assert steps == [1]
