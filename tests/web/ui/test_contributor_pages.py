"""The contributor page (/me), qualification tests, and what no page ever shows."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.factories import add_rows, grant_level, make_project, make_user
from tests.web.api.privacy_fixtures import CANARIES, CANARY_TEXT
from tests.web.ui.scenarios import (
    earn_trust,
    flag_next,
    label_next,
    make_test,
    pass_up,
    reviewed,
)
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.services.access import Actor
from loupe.services.people import clearances, profiles

QUESTIONS = [
    {"data": {"text": "ring the office"}, "answer": "call"},
    {"data": {"text": "play jazz"}, "answer": "music"},
    {"data": {"text": "drive to the port"}, "answer": "navigate"},
]


def test_me_shows_profile_reputation_with_its_rule_and_evidence_and_tests(
    app_client: TestClient, db: Database
) -> None:
    maya, boss = make_user(db, "maya"), make_user(db, "boss", "manager")
    project = make_project(db, name="intents", members={maya: "annotator", boss: "manager"})
    make_test(db, boss, project, QUESTIONS)
    with db.transaction() as session:
        profiles.grant_domain(
            session, boss.actor, maya.id, "medical", 2, utcnow() + timedelta(days=30)
        )
        profiles.set_languages(session, maya.actor, maya.id, ["de", "pt-BR"])
        clearances.grant_clearance(
            session, Actor.system(), user_id=maya.id, project_id=project, sensitivity="health"
        )
    earn_trust(db, maya)
    sign_in(app_client, db, maya)
    page = app_client.get("/me", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert '<a href="/me" aria-current="page">My profile</a>' in text
    assert "<td>medical</td>" in text and "2 · advanced" in text and "a manager" in text
    assert '<dd id="languages">de, pt</dd>' in text
    assert "health data" in text
    assert '<span class="tier tier-trusted">trusted</span>' in text
    assert "trusted: lower bound at least 0.75" in text  # the rule that set it
    assert "reviewing others&#39; labels" in text  # what it unlocks
    assert "×1.10" in text
    assert text.count("<code>gold:item:") == 20  # every input, newest first
    assert "Intents basics" in text
    assert 'href="/projects/1/qualifications/1"' in text and "not taken yet" in text


def test_me_says_when_there_is_nothing_yet(app_client: TestClient, db: Database) -> None:
    sign_in(app_client, db, make_user(db, "maya"))
    text = app_client.get("/me").text
    assert "No domain levels yet" in text
    assert 'id="no-reputation"' in text
    assert "None of your projects has a qualification test." in text


def test_taking_a_qualification_test_through_its_page(app_client: TestClient, db: Database) -> None:
    maya, boss = make_user(db, "maya"), make_user(db, "boss", "manager")
    project = make_project(db, members={maya: "annotator", boss: "manager"})
    test = make_test(db, boss, project, QUESTIONS, pass_mark=1.0, retry_after_hours=6)
    csrf = sign_in(app_client, db, maya)
    page = app_client.get(f"/projects/{project}/qualifications/{test}", headers=HTML)
    assert page.status_code == 200
    assert "Start the test" in page.text and "100 % right" in page.text
    assert "/static/qualification.js" in page.text
    assert "ring the office" not in page.text  # the questions come with the attempt
    base = f"/api/v1/projects/{project}/qualifications/{test}/attempts"
    attempt = app_client.post(base, headers={"X-CSRF-Token": csrf}).json()
    # Two right, one wrong: "ring the office" is a call, not music.
    truth = {q["data"]["text"]: q["answer"] for q in QUESTIONS} | {"ring the office": "music"}
    answers = {str(q["index"]): truth[q["data"]["text"]] for q in attempt["questions"]}
    result = app_client.post(
        f"{base}/{attempt['id']}", json={"answers": answers}, headers={"X-CSRF-Token": csrf}
    ).json()
    assert result["passed"] is False and result["retry_after"] is not None
    me = app_client.get("/me").text
    assert re.search(r"not passed \(best score 67%\); 2 attempt\(s\) left, the next from", me)
    assert f'href="/projects/{project}/qualifications/{test}"' not in me  # not before the wait


def test_qualification_pages_refuse_who_may_not_take_them(
    app_client: TestClient, db: Database
) -> None:
    audrey, boss, maya = (
        make_user(db, "audrey"),
        make_user(db, "boss", "manager"),
        make_user(db, "maya"),
    )
    project = make_project(db, members={audrey: "auditor", boss: "manager", maya: "annotator"})
    test = make_test(db, boss, project, QUESTIONS)
    sign_in(app_client, db, audrey)
    refused = app_client.get(f"/projects/{project}/qualifications/{test}", headers=HTML)
    assert refused.status_code == 403 and "may not" in refused.text
    assert "Intents basics" not in app_client.get("/me").text
    app_client.cookies.clear()
    sign_in(app_client, db, maya)
    missing = app_client.get(f"/projects/{project}/qualifications/99", headers=HTML)
    assert missing.status_code == 404


def test_no_page_shows_an_uncleared_contributor_a_raw_identifier(
    app_client: TestClient, db: Database
) -> None:
    """The canaries go in through the gate; every page and helper a contributor uses to
    see items (workspace, review, expert queue, adjudication) shows what it left."""
    ann, rev = make_user(db, "ann"), make_user(db, "rev")
    doc, boss = make_user(db, "doc"), make_user(db, "boss", "manager")
    project = make_project(
        db,
        config=reviewed(
            {"task": {"type": "single_choice", "labels": [{"key": "call"}, {"key": "music"}]}}
        ),
        members={ann: "annotator", rev: "annotator", doc: "annotator", boss: "manager"},
        overlap=2,
    )
    add_rows(db, project, [{"id": f"c{i}", "text": CANARY_TEXT} for i in range(3)])
    grant_level(db, doc, "general", 3)
    earn_trust(db, rev)
    label_next(db, ann, project, "call")
    flag_next(db, ann, project, "needs a look")
    seen: dict[tuple[str, str], str] = {}
    pages = ["/", "/me", f"/projects/{project}/work", f"/projects/{project}/review"]
    helpers = [
        f"/projects/{project}/work/next",
        f"/api/v1/projects/{project}/reviews/next",
        f"/api/v1/projects/{project}/expert-tasks/next",
    ]
    for person in (ann, rev, doc):
        app_client.cookies.clear()
        csrf = sign_in(app_client, db, person)
        for path in [*pages, f"/projects/{project}/expert"]:
            seen[person.username, path] = app_client.get(path, headers=HTML).text
        for path in helpers:
            response = app_client.post(path, headers={"X-CSRF-Token": csrf})
            seen[person.username, path] = response.text
    pass_up(db, doc, project, "cannot tell")
    app_client.cookies.clear()
    sign_in(app_client, db, boss)
    for path in [f"/projects/{project}/dashboard", f"/projects/{project}/expert/adjudication"]:
        seen["boss", path] = app_client.get(path, headers=HTML).text
    joined = "\n".join(seen.values())
    assert "[EMAIL]" in joined  # the items were shown, as the gate left them
    assert json.loads(seen["rev", helpers[1]])["review"] is not None
    assert json.loads(seen["doc", helpers[2]])["task"] is not None
    assert json.loads(seen["boss", f"/projects/{project}/expert/adjudication"])["task"]
    for canary in CANARIES:
        assert canary not in joined
        assert canary.replace(" ", "") not in joined
