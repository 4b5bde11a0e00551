"""Quality per contributor: the manager's sortable table, linked from the dashboard."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.factories import add_rows, make_project, make_rate_card, make_user, snapshot
from tests.web.ui.signin import HTML, sign_in

from loupe.db.contributor_models import Review
from loupe.db.database import Database
from loupe.db.models import Membership
from loupe.db.quality_models import GoldResult, WorkerSkill
from loupe.services.payments.ledger_keys import init_keys
from loupe.services.quality.gold import wilson_interval
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/quality"
PAUSE = "you answered 20 items in under a second each"


def _order(text: str) -> list[str]:
    return re.findall(r'<tr id="contributor-\d+">\s*<td>(\w+)</td>', text)


def test_each_contributor_has_gold_skill_agreement_reviews_pay_and_flags(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, key_dir=tmp_path / "keys", ledger_origin=ORIGIN)
    init_keys(tmp_path / "keys", origin=ORIGIN)
    maya, ben = make_user(db, "maya"), make_user(db, "ben")
    boss, rev, ann = make_user(db, "boss", "manager"), make_user(db, "rev"), make_user(db, "ann")
    project = make_project(
        db,
        overlap=2,
        members={
            maya: "annotator",
            ben: "annotator",
            boss: "manager",
            rev: "reviewer",
            ann: "annotator",
        },
    )
    add_rows(db, project, [{"id": f"u{i}", "text": f"play song {i}"} for i in range(3)])
    make_rate_card(db, project)
    with TestClient(create_app(settings)) as client:
        answers = {maya: ["music", "music", "call"], ben: ["music", "music", "navigate"]}
        for person, given in answers.items():
            for item, answer in enumerate(given, 1):
                client.post(f"/api/v1/projects/{project}/tasks/next", headers=person.headers)
                saved = client.post(
                    f"/api/v1/projects/{project}/items/{item}/labels",
                    json={"answer": answer},
                    headers=person.headers,
                )
                assert saved.status_code == 201, saved.text
        add_rows(db, project, [{"id": f"g{i}", "text": f"call mum {i}"} for i in range(10)])
        with db.transaction() as session:  # gold, the aggregator's skills, a review, a pause
            for person, right in ((maya, 9), (ben, 2)):
                session.add_all(
                    GoldResult(
                        project_id=project, item_id=4 + i, user_id=person.id, correct=i < right
                    )
                    for i in range(10)
                )
            session.add(WorkerSkill(project_id=project, user_id=maya.id, accuracy=0.91, n_labels=3))
            session.add(WorkerSkill(project_id=project, user_id=ben.id, accuracy=0.34, n_labels=3))
            session.add(
                Review(
                    project_id=project,
                    item_id=1,
                    labeller_id=maya.id,
                    reviewer_id=rev.id,
                    verdict="accept",
                    reviewed_answer="music",
                )
            )
            membership = session.get(Membership, (project, ben.id))
            assert membership is not None
            membership.paused_reason = PAUSE
        sign_in(client, db, boss)
        dashboard = client.get(f"/projects/{project}/dashboard", headers=HTML).text
        assert f'<a id="quality-link" href="/projects/{project}/quality">' in dashboard
        page = client.get(f"/projects/{project}/quality", headers=HTML)
        by_gold = client.get(f"/projects/{project}/quality?sort=gold&order=desc", headers=HTML)
        by_gold_up = client.get(f"/projects/{project}/quality?sort=gold&order=asc", headers=HTML)
        before = snapshot(db)
        bad = client.get(f"/projects/{project}/quality?sort=salary", headers=HTML)
        assert bad.status_code == 422
        assert snapshot(db) == before
        client.cookies.clear()
        sign_in(client, db, rev)
        reviewer_view = client.get(f"/projects/{project}/quality", headers=HTML)
        client.cookies.clear()
        sign_in(client, db, ann)
        refused = client.get(f"/projects/{project}/quality", headers=HTML)
        client.cookies.clear()
        signed_out = client.get(
            f"/projects/{project}/quality", headers=HTML, follow_redirects=False
        )
    assert page.status_code == 200
    text = page.text
    maya_row = re.search(rf'<tr id="contributor-{maya.id}">.*?</tr>', text, re.S)
    ben_row = re.search(rf'<tr id="contributor-{ben.id}">.*?</tr>', text, re.S)
    assert maya_row and ben_row
    low, high = wilson_interval(9, 10)
    assert f"90 % ({100 * low:.0f}–{100 * high:.0f} %) of 10" in maya_row.group(0)
    low, high = wilson_interval(2, 10)
    assert f"20 % ({100 * low:.0f}–{100 * high:.0f} %) of 10" in ben_row.group(0)
    assert '<td class="num skill">0.91</td>' in maya_row.group(0)
    assert '<td class="num skill">0.34</td>' in ben_row.group(0)
    # Item 3 split: its consensus took one side, so one of them agrees on 2 of 3.
    agreements = sorted(
        re.search(r'class="num agreement">([^<]*)<', row.group(0)).group(1)  # type: ignore[union-attr]
        for row in (maya_row, ben_row)
    )
    assert agreements == ["100 % of 3", "67 % of 3"]
    assert "1 (1 accepted)" in maya_row.group(0)
    assert '<td class="num reviews">–</td>' in ben_row.group(0)
    assert '<td class="num pay">0.15 EUR</td>' in maya_row.group(0)  # 3 labels at 5 cents
    assert PAUSE in ben_row.group(0) and "paused:" not in maya_row.group(0)
    assert f'href="/api/v1/users/{maya.id}/reputation?explain=true"' in text
    assert _order(text) == ["ann", "ben", "maya", "rev"]  # by name
    # Sorted by gold accuracy: contributors without gold answers last either way.
    assert _order(by_gold.text) == ["maya", "ben", "ann", "rev"]
    assert _order(by_gold_up.text) == ["ben", "maya", "ann", "rev"]
    assert 'aria-sort="descending"' in by_gold.text
    # Reviewers read labels but do not manage payments: no pay column.
    assert reviewer_view.status_code == 200
    assert 'class="num pay"' not in reviewer_view.text and PAUSE in reviewer_view.text
    assert refused.status_code == 403
    assert signed_out.status_code == 303
