from __future__ import annotations

from tests.factories import add_items, hold_in, make_project, make_user

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.quality import agreement, refits


def test_refit_learns_who_is_reliable_and_report_shows_agreement(db: Database) -> None:
    good = [make_user(db, f"good{i}") for i in range(3)]
    bad = make_user(db, "bad")
    people = [*good, bad]
    project = make_project(db, overlap=4, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 12)
    truth = ["call", "music", "navigate"]
    with db.transaction() as session:
        for item in range(1, 13):
            right = truth[item % 3]
            wrong = truth[(item + 1) % 3]
            for person in good:
                hold_in(session, person.id, project, item)
                submit_label(session, person.actor, project, item, right)
            hold_in(session, bad.id, project, item)
            submit_label(session, bad.actor, project, item, wrong)
    with db.transaction() as session:
        report = refits.refit(session, project)
    assert report.n_labels == 48
    assert report.n_workers == 4
    with db.transaction(readonly=True) as session:
        result = agreement.quality_report(session, Actor.system(), project)
    assert result.skills[bad.id] < 0.4 < 0.7 < min(result.skills[p.id] for p in good)
    assert result.n_items_labelled == 12
    assert result.krippendorff_alpha is not None
    assert 0.2 < result.krippendorff_alpha < 0.8
    assert len(result.pairwise) == 6
    assert set(result.fleiss_kappa_per_label) == {"call", "music", "navigate"}
