"""The dashboard's figures are the API's: progress (``GET /progress``) and agreement
(``GET /quality``, one definition stated on both), on a project in the model loop."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.factories import make_project, make_user
from tests.loop_helpers import add_gold, configure, prediction
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.model_loop.predictions import ingest_predictions
from loupe.services.quality.agreement import AGREEMENT_DEFINITION


def _figure(page: str, name: str) -> str:
    found = re.search(rf'<dd id="fig-{name}">([^<]*)</dd>', page)
    assert found, name
    return found.group(1)


def test_dashboard_figures_match_the_api(app_client: TestClient, db: Database) -> None:
    ann, bea = make_user(db, "ann"), make_user(db, "bea")
    boss = make_user(db, "boss", "manager")
    project = make_project(
        db, overlap=2, members={ann: "annotator", bea: "annotator", boss: "manager"}
    )
    configure(db, project, audit_share=0.0, label_share=0.5)
    add_gold(db, project, n_per_label=1)
    # Half the traffic is confident (resolved by the model), half goes to people.
    rows = [prediction(i, p=0.98 if i % 2 else 0.34) for i in range(10)]
    with db.transaction() as session:
        ingest_predictions(session, Actor.system(), project, rows)
    for person, answers in ((ann, ["call"] * 5), (bea, ["call", "call", "music"])):
        for answer in answers:
            with db.transaction() as session:
                task = next_task(session, person.actor, project, lease_seconds=60)
                assert task is not None
                submit_label(session, person.actor, project, task.item_id, answer)

    progress = app_client.get(f"/api/v1/projects/{project}/progress", headers=boss.headers)
    assert progress.status_code == 200, progress.text
    figures = progress.json()
    # 5 resolved by the model, 3 labelled twice (settled), 2 with one label of 2 (waiting).
    assert (figures["model_resolved"], figures["settled"], figures["waiting"]) == (5, 3, 2)
    assert (figures["gold"], figures["withheld"], figures["items"]) == (3, 0, 13)
    assert (figures["labelled"], figures["labels"]) == (5, 8)
    assert figures["cost"] == {}  # a manager sees it; nothing is paid here
    quality = app_client.get(f"/api/v1/projects/{project}/quality", headers=boss.headers).json()
    agreement = figures["agreement"]
    assert agreement["definition"] == quality["agreement_definition"] == AGREEMENT_DEFINITION
    assert agreement["fleiss_kappa"] == quality["fleiss_kappa"]
    assert agreement["krippendorff_alpha"] == quality["krippendorff_alpha"]
    assert (agreement["labels"], agreement["items"]) == (quality["n_labels"], 3)
    assert quality["n_items_paired"] == 3

    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/dashboard", headers=HTML)
    assert page.status_code == 200
    text = page.text
    for name, key in (("items", "items"), ("model-resolved", "model_resolved"),
                      ("settled", "settled"), ("waiting", "waiting"), ("gold", "gold"),
                      ("labelled", "labelled"), ("labels", "labels")):  # fmt: skip
        assert _figure(text, name) == str(figures[key]), name
    assert _figure(text, "kappa") == f"{agreement['fleiss_kappa']:.3f}"
    assert _figure(text, "alpha") == f"{agreement['krippendorff_alpha']:.3f}"
    assert _figure(text, "agreement-items") == "3"
    assert _figure(text, "agreement-labels") == str(quality["n_labels"])
    assert AGREEMENT_DEFINITION.replace("'", "&#39;") in text
    assert _figure(text, "cost") == "nothing spent"
    assert (
        "Of the 10 items to answer (gold checks aside): 50.0 % resolved by the model with no "
        "human label, 30.0 % labelled by people and settled, 20.0 % waiting for people."
    ) in text
    assert "None" not in text  # an unpaid project: no "0.00 None … each"


def test_progress_needs_a_member_who_may_read_labels(app_client: TestClient, db: Database) -> None:
    ann, outsider = make_user(db, "ann"), make_user(db, "out")
    project = make_project(db, members={ann: "annotator"})
    url = f"/api/v1/projects/{project}/progress"
    assert app_client.get(url).status_code == 401
    assert app_client.get(url, headers=ann.headers).status_code == 403
    assert app_client.get(url, headers=outsider.headers).status_code in (403, 404)
    assert app_client.get("/api/v1/projects/0/progress", headers=ann.headers).status_code == 422
