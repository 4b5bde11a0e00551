"""The dashboard's escalation queue, learning curve and cost per accurate label."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.factories import add_rows, grant_level, make_project, make_rate_card, make_user
from tests.web.ui.scenarios import ROWS, add_model_versions, flag_next, pass_up
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.services.access import Actor
from loupe.services.payments.label_costs import cost_per_accurate_label
from loupe.services.payments.ledger_keys import init_keys
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/payments"


def test_the_escalation_queue_lists_stage_reason_age_and_a_link(
    app_client: TestClient, db: Database
) -> None:
    ann, doc, boss = make_user(db, "ann"), make_user(db, "doc"), make_user(db, "boss", "manager")
    project = make_project(db, members={ann: "annotator", doc: "annotator", boss: "manager"})
    add_rows(db, project, ROWS["single_choice"])
    grant_level(db, doc, "general", 3)
    first = flag_next(db, ann, project, "sounds like a medical emergency")
    pass_up(db, doc, project, "not sure either")
    second = flag_next(db, ann, project, "two intents at once")
    sign_in(app_client, db, boss)
    page = app_client.get(f"/projects/{project}/dashboard", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert '<dd id="fig-escalated">2</dd>' in text
    assert '<dd id="fig-expert-stage">1</dd>' in text
    assert '<dd id="fig-adjudicator-stage">1</dd>' in text
    rows = re.findall(r"<tr><td>#(\d+)</td><td>(\w+)</td><td>([^<]*)</td><td>(\d+ min)</td>", text)
    assert [(int(i), stage) for i, stage, _, _ in rows] == [
        (first, "adjudicator"),
        (second, "expert"),
    ]
    assert "flagged: sounds like a medical emergency; expert: not sure either" in rows[0][2]
    assert f'href="/projects/{project}/expert?stage=adjudicator&amp;item={first}"' in text
    assert 'href="/projects/1/dashboard" aria-current="page"' in text  # the project nav
    # Regression (issue #15): the tab showed no count of the work waiting behind it.
    assert 'href="/projects/1/expert">Adjudicate <span class="count" data-waiting="1">1' in text


def test_the_learning_curve_draws_strategy_and_control_with_a_table(
    app_client: TestClient, db: Database
) -> None:
    boss = make_user(db, "boss", "manager")
    project = make_project(db, members={boss: "manager"})
    add_model_versions(db, project, [(40, 0.62, 0.55), (80, 0.74, 0.63), (160, 0.86, 0.71)])
    sign_in(app_client, db, boss)
    text = app_client.get(f"/projects/{project}/dashboard", headers=HTML).text
    chart = re.search(r'<svg class="chart line-chart".*?</svg>', text, re.S)
    assert chart
    svg = chart.group(0)
    assert 'aria-labelledby="curve-title" aria-describedby="curve-desc"' in svg
    assert svg.count("<polyline") == 2  # the strategy and the control
    assert "selection strategy — v3: 86.0 %" in svg and "random control — v3: 71.0 %" in svg
    assert "Latest, v3: 86.0 % with 160 items; the control 71.0 % with 40." in text
    table = re.search(r'<table id="curve-table">.*?</table>', text, re.S)
    assert table
    assert "<td>v3 (promoted)</td>" in table.group(0) and "8.00 EUR" in table.group(0)


def test_no_curve_and_no_queue_say_so(app_client: TestClient, db: Database) -> None:
    boss = make_user(db, "boss", "manager")
    project = make_project(db, members={boss: "manager"})
    sign_in(app_client, db, boss)
    text = app_client.get(f"/projects/{project}/dashboard", headers=HTML).text
    assert "No model version yet" in text
    assert "Nothing is escalated" in text
    assert "Nothing spent in the last 14 days: this project pays nothing" in text
    assert "None" not in text


def test_cost_per_accurate_label_for_those_who_manage_payments(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, key_dir=tmp_path / "keys", ledger_origin=ORIGIN)
    init_keys(tmp_path / "keys", origin=ORIGIN)
    maya, ben = make_user(db, "maya"), make_user(db, "ben")
    boss, rev = make_user(db, "boss", "manager"), make_user(db, "rev")
    project = make_project(
        db,
        overlap=2,
        members={maya: "annotator", ben: "annotator", boss: "manager", rev: "reviewer"},
    )
    add_rows(db, project, [{"id": f"u{i}", "text": f"play song {i}"} for i in range(3)])
    make_rate_card(db, project)
    with TestClient(create_app(settings)) as client:
        # 6 labels at 5 cents: two items agreed on, one split (its consensus takes one side).
        answers = {maya: ["music", "music", "call"], ben: ["music", "music", "navigate"]}
        for person, given in answers.items():
            for item, answer in enumerate(given, 1):
                task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=person.headers)
                assert task.json()["task"]["item_id"] == item
                response = client.post(
                    f"/api/v1/projects/{project}/items/{item}/labels",
                    json={"answer": answer},
                    headers=person.headers,
                )
                assert response.status_code == 201, response.text
        sign_in(client, db, boss)
        text = client.get(f"/projects/{project}/dashboard", headers=HTML).text
        client.cookies.clear()
        sign_in(client, db, rev)
        reviewer_view = client.get(f"/projects/{project}/dashboard", headers=HTML).text
    assert "Cost per accurate label (EUR)" in text
    with db.transaction(readonly=True) as session:
        costs = cost_per_accurate_label(session, Actor.system(), project)
    today = costs.days[-1]
    assert (today.spent_minor, today.labels, today.settled, today.accurate) == (30, 6, 6, 5)
    assert today.per_accurate_minor == 6.0
    assert "0.30 EUR for 5 accurate labels, 0.06 EUR each" in text
    row = '<td class="num">0.30</td><td class="num">6</td><td class="num">6</td><td class="num">5</td>'
    assert f'{row}<td class="num">0.06</td>' in text
    assert text.count('class="chart line-chart"') == 1  # no model yet: only the cost chart
    assert "Cost per accurate label" not in reviewer_view  # reviewers do not manage payments
