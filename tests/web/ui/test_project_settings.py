"""The project settings page (archive, unarchive, duplicate, delete) and the item page's
comments, through their HTML forms."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories import add_items, make_project, make_user, snapshot
from tests.web.ui.signin import HTML, sign_in

from loupe.db.database import Database
from loupe.db.models import Project


def test_a_manager_archives_duplicates_and_deletes_from_the_settings_page(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_items(db, project, 1)
    csrf = sign_in(app_client, db, manager)
    settings = app_client.get(f"/projects/{project}/settings", headers=HTML)
    assert settings.status_code == 200
    assert 'id="archive"' in settings.text and 'name="confirm"' in settings.text
    assert "payment log" in settings.text
    url = f"/projects/{project}/settings"
    before = snapshot(db)
    refused = app_client.post(f"{url}/archive", data={"csrf_token": "forged"}, headers=HTML)
    assert refused.status_code == 403
    assert snapshot(db) == before
    done = app_client.post(
        f"{url}/archive", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False
    )
    assert done.status_code == 303
    assert "Archived" in app_client.get(url, headers=HTML).text
    app_client.post(f"{url}/unarchive", data={"csrf_token": csrf}, headers=HTML)
    made = app_client.post(
        f"{url}/duplicate",
        data={"csrf_token": csrf, "name": "intents copy"},
        headers=HTML,
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    before = snapshot(db)
    wrong = app_client.post(
        f"{url}/delete", data={"csrf_token": csrf, "confirm": "nope"}, headers=HTML
    )
    assert wrong.status_code == 422 and "type the project" in wrong.text
    assert snapshot(db) == before
    deleted = app_client.post(
        f"{url}/delete",
        data={"csrf_token": csrf, "confirm": "intents"},
        headers=HTML,
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    with db.transaction(readonly=True) as session:
        assert session.get(Project, project) is None


def test_annotators_do_not_get_the_settings_page(app_client: TestClient, db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    csrf = sign_in(app_client, db, ann)
    assert app_client.get(f"/projects/{project}/settings", headers=HTML).status_code == 403
    before = snapshot(db)
    refused = app_client.post(
        f"/projects/{project}/settings/delete",
        data={"csrf_token": csrf, "confirm": "intents"},
        headers=HTML,
    )
    assert refused.status_code == 403
    assert snapshot(db) == before


def test_the_duplicate_form_is_only_for_those_who_may_create_projects(
    app_client: TestClient, db: Database
) -> None:
    # A project's manager whose own role is annotator was shown the form; it answered 403.
    lead = make_user(db, "lead")
    project = make_project(db, members={lead: "manager"})
    csrf = sign_in(app_client, db, lead)
    page = app_client.get(f"/projects/{project}/settings", headers=HTML)
    assert page.status_code == 200 and 'id="archive"' in page.text
    assert 'id="duplicate"' not in page.text and "/settings/duplicate" not in page.text
    before = snapshot(db)
    refused = app_client.post(
        f"/projects/{project}/settings/duplicate",
        data={"csrf_token": csrf, "name": "copy"},
        headers=HTML,
    )
    assert refused.status_code == 403 and snapshot(db) == before
    app_client.cookies.clear()
    manager = make_user(db, "mgr", "manager")
    theirs = make_project(db, name="theirs", members={manager: "manager"})
    sign_in(app_client, db, manager)
    assert 'id="duplicate"' in app_client.get(f"/projects/{theirs}/settings", headers=HTML).text


def test_the_item_page_lists_comments_and_takes_one_gated(
    app_client: TestClient, db: Database
) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_items(db, project, 1)
    csrf = sign_in(app_client, db, manager)
    url = f"/projects/{project}/items/1"
    empty = app_client.get(url, headers=HTML)
    assert empty.status_code == 200 and 'id="no-comments"' in empty.text
    posted = app_client.post(
        f"{url}/comments",
        data={"csrf_token": csrf, "body": "ring +44 20 7946 0958 about this"},
        headers=HTML,
    )
    assert posted.status_code == 200, posted.text
    assert "about this" in posted.text and "7946" not in posted.text
    assert "personal data redacted" in posted.text


def test_an_archived_project_stays_readable(app_client: TestClient, db: Database) -> None:
    manager = make_user(db, "mgr", "manager")
    project = make_project(db, members={manager: "manager"})
    add_items(db, project, 2)
    with db.transaction() as session:
        from loupe.services.access import Actor
        from loupe.services.projects.project_lifecycle import archive_project

        archive_project(session, Actor.system(), project)
    sign_in(app_client, db, manager)
    assert app_client.get(f"/projects/{project}/dashboard", headers=HTML).status_code == 200
    home = app_client.get("/", headers=HTML)
    assert 'id="archived-projects"' in home.text and f"/projects/{project}/settings" in home.text
    exported = app_client.get(
        f"/api/v1/projects/{project}/export?format=jsonl", headers=manager.headers
    )
    assert exported.status_code == 200, exported.text
    work = app_client.get(f"/projects/{project}/work", headers=HTML)
    assert work.status_code == 409 and "archived" in work.text
