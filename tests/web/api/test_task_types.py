"""The richer task types end to end over HTTP: submit, consensus, review, export, ranking."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from tests.factories import Person, add_rows, make_project, make_user, snapshot

from loupe.db.database import Database


def serve(client: TestClient, project: int, item: int, person: Person) -> None:
    """``person`` asks for the next task, which must be ``item``: a label needs the lease
    its item was served with."""
    task = client.post(f"/api/v1/projects/{project}/tasks/next", headers=person.headers)
    assert task.status_code == 200, task.text
    assert task.json()["task"]["item_id"] == item


def submit(
    client: TestClient,
    project: int,
    item: int,
    person: Person,
    answer: Any,
    *,
    served: bool = False,
) -> Any:
    """``person`` is served ``item`` (unless ``served`` already) and submits ``answer``."""
    if not served:
        serve(client, project, item, person)
    return client.post(
        f"/api/v1/projects/{project}/items/{item}/labels",
        json={"answer": answer},
        headers=person.headers,
    )


def consensus(client: TestClient, project: int, manager: Person) -> dict[str, Any]:
    body = client.get(
        f"/api/v1/projects/{project}/export?kind=items&format=jsonl", headers=manager.headers
    ).text
    return {row["id"]: row for row in map(json.loads, body.splitlines())}


def people(db: Database, n: int) -> tuple[Person, list[Person]]:
    return make_user(db, "mgr", "manager"), [make_user(db, f"p{i}") for i in range(n)]


def test_spans_are_checked_against_the_text_and_agreed_span_by_span(
    app_client: TestClient, db: Database
) -> None:
    mgr, (a, b, c) = people(db, 3)
    config = {"task": {"type": "spans", "labels": [{"key": "PER"}, {"key": "LOC"}]}}
    project = make_project(
        db, config=config, overlap=3,
        members={mgr: "manager", a: "annotator", b: "annotator", c: "annotator"},
    )  # fmt: skip
    add_rows(db, project, [{"id": "s1", "text": "call Anna in Paris"}])
    serve(app_client, project, 1, a)
    before = snapshot(db)
    too_long = submit(
        app_client, project, 1, a, [{"start": 5, "end": 99, "label": "PER"}], served=True
    )
    assert too_long.status_code == 422
    assert "end" in too_long.json()["error"]["message"]
    assert snapshot(db) == before
    anna, paris = {"start": 5, "end": 9, "label": "PER"}, {"start": 13, "end": 18, "label": "LOC"}
    assert submit(app_client, project, 1, a, [paris, anna]).status_code == 201
    assert submit(app_client, project, 1, b, [anna]).status_code == 201
    assert submit(app_client, project, 1, c, [anna, paris]).status_code == 201
    row = consensus(app_client, project, mgr)["s1"]
    assert row["answer"] == [anna, paris]  # each span kept by at least half of the three


def test_free_text_follows_the_reviewers(app_client: TestClient, db: Database) -> None:
    mgr, (a, b, rev) = people(db, 3)
    config = {
        "task": {"type": "free_text", "mode": "translation", "target_language": "de"},
        "review": {"rate": 1.0},
    }
    project = make_project(
        db, config=config, overlap=2,
        members={mgr: "manager", a: "annotator", b: "annotator", rev: "reviewer"},
    )  # fmt: skip
    add_rows(db, project, [{"id": "t1", "text": "call my mother"}])
    first = submit(app_client, project, 1, a, "  Ruf meine Mutter an ")
    assert first.status_code == 201 and first.json()["answer"] == "Ruf meine Mutter an"
    second = submit(app_client, project, 1, b, "Rufe meine Mama")
    assert second.status_code == 201
    for label, verdict in ((first.json()["id"], "accept"), (second.json()["id"], "reject")):
        reviewed = app_client.post(
            f"/api/v1/projects/{project}/labels/{label}/reviews",
            json={"verdict": verdict, "reason": "" if verdict == "accept" else "too casual"},
            headers=rev.headers,
        )
        assert reviewed.status_code == 201, reviewed.text
    row = consensus(app_client, project, mgr)["t1"]
    assert row["answer"] == "Ruf meine Mutter an"
    settled = app_client.get(
        f"/api/v1/projects/{project}/export?kind=consensus&format=jsonl", headers=mgr.headers
    ).json()
    assert settled["method"] == "review"


def test_pairwise_votes_per_item_and_ranks_systems(app_client: TestClient, db: Database) -> None:
    mgr, raters = people(db, 3)
    config = {"task": {"type": "pairwise", "a_field": "a", "b_field": "b"}}
    project = make_project(
        db, config=config, overlap=3,
        members={mgr: "manager", **dict.fromkeys(raters, "annotator")},
    )  # fmt: skip
    rows = [
        {"id": f"q{i}", "text": f"prompt {i}", "a": "answer one", "b": "answer two",
         "metadata": {"a_model": "v2", "b_model": "v1"}}
        for i in range(4)
    ]  # fmt: skip
    add_rows(db, project, rows)
    bad = submit(app_client, project, 1, raters[0], "c")
    assert bad.status_code == 422
    for item in range(1, 5):
        for n, rater in enumerate(raters):
            answer = "a" if n < 2 or item == 4 else "tie"
            assert submit(app_client, project, item, rater, answer).status_code == 201
    assert consensus(app_client, project, mgr)["q1"]["answer"] == "a"
    ranking = app_client.get(f"/api/v1/projects/{project}/preferences", headers=mgr.headers)
    assert ranking.status_code == 200
    body = ranking.json()
    assert [s["name"] for s in body["systems"]] == ["v2", "v1"]
    assert body["n_comparisons"] == 12
    assert body["systems"][0]["wins"] == 10.5  # 9 wins and 3 ties of 12
    outsider = make_user(db, "outsider")
    denied = app_client.get(f"/api/v1/projects/{project}/preferences", headers=outsider.headers)
    assert denied.status_code == 403


def test_a_ranking_needs_a_pairwise_project(app_client: TestClient, db: Database) -> None:
    mgr, _ = people(db, 0)
    project = make_project(db, members={mgr: "manager"})
    response = app_client.get(f"/api/v1/projects/{project}/preferences", headers=mgr.headers)
    assert response.status_code == 422
    assert "not a pairwise project" in response.json()["error"]["message"]


def test_personal_data_typed_into_a_free_text_answer_is_redacted(
    app_client: TestClient, db: Database
) -> None:
    mgr, (a,) = people(db, 1)
    config = {"task": {"type": "free_text", "mode": "transcription"}}
    project = make_project(db, config=config, members={mgr: "manager", a: "annotator"})
    add_rows(db, project, [{"id": "v1", "text": "[audio 3 s]"}])
    typed = "call me on +44 20 7946 0958 or mail jo@example.com"
    response = submit(app_client, project, 1, a, typed)
    assert response.status_code == 201
    stored = response.json()["answer"]
    assert "7946" not in stored and "jo@example.com" not in stored
    assert "[PHONE]" in stored and "[EMAIL]" in stored
    again = submit(app_client, project, 1, a, typed, served=True)  # idempotent after redaction
    assert again.status_code == 200


def test_boxes_are_checked_against_the_image_and_fused(
    app_client: TestClient, db: Database
) -> None:
    from tests.factories import add_media

    mgr, (a, b, c) = people(db, 3)
    config = {"task": {"type": "boxes", "labels": [{"key": "cup"}, {"key": "sign"}]}}
    project = make_project(
        db, config=config, overlap=3,
        members={mgr: "manager", a: "annotator", b: "annotator", c: "annotator"},
    )  # fmt: skip
    add_rows(db, project, [{"id": "f1", "text": "a frame"}])
    add_media(db, 1, size=(640, 480))
    serve(app_client, project, 1, a)
    before = snapshot(db)
    for bad, fragment in (
        ([{"x": 600, "y": 0, "w": 60, "h": 10, "label": "cup"}], "outside the 640x480 image"),
        ([{"x": 0, "y": 0, "w": 1, "h": 10, "label": "cup"}], "at least 2 px"),
        ([{"x": 0, "y": 0, "w": 5, "h": 10, "label": "dog"}], "'dog' is not a box label"),
        ({"x": 0}, "send a list of boxes"),
    ):
        response = submit(app_client, project, 1, a, bad, served=True)
        assert response.status_code == 422, response.text
        assert fragment in response.json()["error"]["message"]
    assert snapshot(db) == before
    cup = {"x": 10, "y": 10, "w": 100, "h": 50, "label": "cup"}
    moved = {**cup, "x": 14}
    assert submit(app_client, project, 1, a, [cup], served=True).status_code == 201
    assert submit(app_client, project, 1, b, [moved]).status_code == 201
    assert submit(app_client, project, 1, c, []).status_code == 201
    row = consensus(app_client, project, mgr)["f1"]
    assert row["answer"] == [{"x": 12.0, "y": 10.0, "w": 100.0, "h": 50.0, "label": "cup"}]


def test_segments_are_checked_against_the_audio_and_fused(
    app_client: TestClient, db: Database
) -> None:
    from tests.factories import add_media

    mgr, (a, b, c) = people(db, 3)
    config = {"task": {"type": "segments", "labels": [{"key": "wake"}, {"key": "noise"}]}}
    project = make_project(
        db, config=config, overlap=3,
        members={mgr: "manager", a: "annotator", b: "annotator", c: "annotator"},
    )  # fmt: skip
    add_rows(db, project, [{"id": "r1", "text": "hey loupe"}])
    add_media(db, 1, field="audio", kind="audio", mime="audio/wav", duration_ms=3000)
    serve(app_client, project, 1, a)
    before = snapshot(db)
    wake = {"start": 0.5, "end": 1.0, "label": "wake"}
    for bad, fragment in (
        ([{"start": 2.5, "end": 3.2, "label": "wake"}], "outside the 3 s of audio"),
        ([{"start": 1.0, "end": 1.02, "label": "wake"}], "at least 0.05 s"),
        ([{"start": 0, "end": 1, "label": "dog"}], "'dog' is not a segment label"),
        ([wake, {**wake, "label": "noise"}], "overlap"),
        ({"start": 0}, "send a list of segments"),
    ):
        response = submit(app_client, project, 1, a, bad, served=True)
        assert response.status_code == 422, response.text
        assert fragment in response.json()["error"]["message"]
    assert snapshot(db) == before
    assert submit(app_client, project, 1, a, [wake], served=True).status_code == 201
    late = {**wake, "start": 0.6, "end": 1.1}
    assert submit(app_client, project, 1, b, [late]).status_code == 201
    assert submit(app_client, project, 1, c, []).status_code == 201
    row = consensus(app_client, project, mgr)["r1"]
    assert row["answer"] == [{"start": 0.55, "end": 1.05, "label": "wake"}]


def test_transcripts_are_fused_and_reviewers_withdraw_the_rejected(
    app_client: TestClient, db: Database
) -> None:
    mgr, (a, b, c, rev) = people(db, 4)
    config = {
        "task": {"type": "free_text", "mode": "post_edit", "source_field": "asr"},
        "review": {"rate": 1.0},
    }
    project = make_project(
        db, config=config, overlap=3,
        members={mgr: "manager", a: "annotator", b: "annotator", c: "annotator",
                 rev: "reviewer"},
    )  # fmt: skip
    add_rows(db, project, [{"id": "t1", "text": "turn on the lights", "asr": "turn of the lice"}])
    labels = [
        submit(app_client, project, 1, person, text).json()["id"]
        for person, text in (
            (a, "Turn on the lights."),
            (b, "turn on the light"),
            (c, "turn off the lights please"),
        )
    ]
    fused = app_client.get(
        f"/api/v1/projects/{project}/export?kind=consensus&format=jsonl", headers=mgr.headers
    ).json()
    # Each word as most weight wrote it: "lights." ties "lights" and a's answer weighs most.
    assert (fused["answer"], fused["method"]) == ("turn on the lights.", "transcript")
    # The reviewer rejects the first: it is withdrawn, and the two left are fused again.
    reviewed = app_client.post(
        f"/api/v1/projects/{project}/labels/{labels[0]}/reviews",
        json={"verdict": "reject", "reason": "punctuation"},
        headers=rev.headers,
    )
    assert reviewed.status_code == 201, reviewed.text
    again = app_client.get(
        f"/api/v1/projects/{project}/export?kind=consensus&format=jsonl", headers=mgr.headers
    ).json()
    assert (again["n_labels"], again["method"]) == (2, "transcript")
    assert again["answer"] in ("turn on the light", "turn off the lights please")
