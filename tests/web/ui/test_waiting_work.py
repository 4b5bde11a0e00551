"""Counts of waiting escalated work on the expert tabs, the project nav and home cards
(issue #15: an expert who also adjudicates saw "nothing waiting" on the expert tab while
an item waited on the adjudicator tab)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from tests.factories import add_rows, grant_level, make_project, make_user
from tests.web.ui.scenarios import ROWS, flag_next, pass_up
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.services.labelling.escalations import WaitingWork, waiting_work


def _stage(text: str) -> str:
    found = re.search(r'<script type="application/json" id="expert-config">(.*?)</script>', text)
    assert found
    return str(json.loads(found.group(1))["stage"])


def test_an_expert_who_adjudicates_sees_counts_and_lands_where_work_waits(
    app_client: TestClient, db: Database
) -> None:
    ann, doc = make_user(db, "ann"), make_user(db, "doc")
    boss = make_user(db, "boss", "manager")
    project = make_project(db, members={ann: "annotator", doc: "annotator", boss: "manager"})
    add_rows(db, project, ROWS["single_choice"])
    grant_level(db, doc, "general", 3)
    grant_level(db, boss, "general", 3)  # an expert and the project's adjudicator
    flag_next(db, ann, project, "two intents at once")
    pass_up(db, doc, project, "not sure either")  # now it waits for the adjudicator

    with db.transaction(readonly=True) as session:
        assert waiting_work(session, boss.actor, project) == WaitingWork(expert=0, adjudicator=1)
        assert waiting_work(session, doc.actor, project) == WaitingWork(expert=0, adjudicator=None)
        assert waiting_work(session, ann.actor, project) == WaitingWork(None, None)

    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/expert", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert _stage(text) == "adjudicator"  # not the empty expert stage
    assert re.search(r'id="tab-expert"[^>]*>Expert stage <span class="count">0<', text)
    assert re.search(r'id="tab-adjudicator"[^>]*>Adjudicator stage <span class="count">1<', text)
    assert '<span class="count" data-waiting="1">1' in text  # the project nav
    home = app_client.get("/", headers=HTML).text
    assert re.search(rf'id="expert-{project}"[^>]*>Expert queue <span class="count">0<', home)
    assert re.search(rf'id="adjudicate-{project}"[^>]*>Adjudicate <span class="count">1<', home)

    # Once an item waits at the expert stage too, the expert tab opens first again.
    flag_next(db, ann, project, "which intent?")
    text = app_client.get(f"/projects/{project}/expert", headers=HTML).text
    assert _stage(text) == "expert"
    assert re.search(r'id="tab-expert"[^>]*>Expert stage <span class="count">1<', text)
