from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.factories import Person, make_project, make_user, snapshot

from loupe.db.database import Database

# Answer keys that appear nowhere else, so a leak of an answer is easy to spot.
SCHEMA: dict[str, Any] = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "ans_alpha"}, {"key": "ans_beta"}, {"key": "ans_gamma"}],
    }
}
ANSWERS = ["ans_alpha", "ans_beta", "ans_gamma", "ans_beta"]
BODY: dict[str, Any] = {
    "name": "medical basics",
    "domain": "medical",
    "level": 2,
    "pass_mark": 0.75,
    "max_attempts": 2,
    "retry_after_hours": 12,
    "valid_days": 90,
    "questions": [
        {"data": {"text": f"question {i}"}, "answer": answer} for i, answer in enumerate(ANSWERS)
    ],
}


def _setup(db: Database) -> tuple[Person, Person, Person, int]:
    manager, ann, outsider = (
        make_user(db, "mgr", "manager"),
        make_user(db, "ann"),
        make_user(db, "x"),
    )
    project = make_project(db, members={manager: "manager", ann: "annotator"}, config=SCHEMA)
    return manager, ann, outsider, project


def _create(client: TestClient, manager: Person, project: int) -> int:
    created = client.post(
        f"/api/v1/projects/{project}/qualifications", json=BODY, headers=manager.headers
    )
    assert created.status_code == 201, created.text
    test_id: int = created.json()["id"]
    return test_id


def test_create_and_list(app_client: TestClient, db: Database) -> None:
    manager, ann, outsider, project = _setup(db)
    url = f"/api/v1/projects/{project}/qualifications"
    created = app_client.post(url, json=BODY, headers=manager.headers)
    assert created.status_code == 201
    body = created.json()
    assert body.pop("created_at")
    assert body == {
        "id": body["id"],
        "project_id": project,
        "name": "medical basics",
        "domain": "medical",
        "level": 2,
        "pass_mark": 0.75,
        "max_attempts": 2,
        "retry_after_hours": 12,
        "valid_days": 90,
        "n_questions": 4,
    }
    listed = app_client.get(url, headers=ann.headers)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [body["id"]]
    assert "ans_" not in listed.text
    assert app_client.get(url).status_code == 401
    assert app_client.get(url, headers=outsider.headers).status_code == 403
    assert (
        app_client.get("/api/v1/projects/999/qualifications", headers=manager.headers).status_code
        == 404
    )


def test_create_refuses_and_changes_nothing(app_client: TestClient, db: Database) -> None:
    manager, ann, _, project = _setup(db)
    url = f"/api/v1/projects/{project}/qualifications"
    _create(app_client, manager, project)
    before = snapshot(db)
    assert app_client.post(url, json=BODY).status_code == 401
    assert app_client.post(url, json=BODY, headers=ann.headers).status_code == 403
    duplicate = app_client.post(url, json=BODY, headers=manager.headers)
    assert duplicate.status_code == 409
    questions = BODY["questions"]
    for change, field in [
        ({"questions": questions[:2]}, "questions"),
        (
            {"questions": [*questions[:2], {"data": {"text": "q"}, "answer": "dance"}]},
            "questions[2].answer",
        ),
        (
            {"questions": [*questions[:2], {"data": {"title": "q"}, "answer": "ans_beta"}]},
            "questions[2].data",
        ),
        ({"questions": [*questions[:2], {"data": {"text": "q"}}]}, "questions.2.answer"),
        ({"domain": "Medical!"}, "domain"),
        ({"domain": "tel-02079460958"}, "domain"),
        ({"level": 9}, "level"),
        ({"pass_mark": 0}, "pass_mark"),
        ({"pass_mark": "most"}, "pass_mark"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"retry_after_hours": -1}, "retry_after_hours"),
        ({"valid_days": 0}, "valid_days"),
        ({"name": ""}, "name"),
        ({"shuffle": True}, "shuffle"),
    ]:
        bad = app_client.post(
            url, json=BODY | change | {"name": change.get("name", "other")}, headers=manager.headers
        )
        assert bad.status_code == 422, (change, bad.text)
        assert bad.json()["error"]["message"].startswith(field), bad.json()
    assert snapshot(db) == before


def test_take_a_test_pass_and_earn_the_level(app_client: TestClient, db: Database) -> None:
    manager, ann, _, project = _setup(db)
    test = _create(app_client, manager, project)
    url = f"/api/v1/projects/{project}/qualifications/{test}/attempts"
    started = app_client.post(url, headers=ann.headers)
    assert started.status_code == 201
    attempt = started.json()
    assert "ans_" not in started.text
    assert set(attempt) == {"id", "test_id", "user_id", "started_at", "questions"}
    assert (attempt["test_id"], attempt["user_id"]) == (test, ann.id)
    assert sorted(q["index"] for q in attempt["questions"]) == [0, 1, 2, 3]
    assert {q["index"]: q["data"]["text"] for q in attempt["questions"]} == {
        i: f"question {i}" for i in range(4)
    }
    again = app_client.post(url, headers=ann.headers)
    assert again.status_code == 200
    assert again.json() == attempt
    answers = {str(i): answer for i, answer in enumerate(ANSWERS)}
    answers["3"] = "ans_alpha"  # one wrong: 3/4 = the pass mark
    graded = app_client.post(
        f"{url}/{attempt['id']}", json={"answers": answers}, headers=ann.headers
    )
    assert graded.status_code == 200
    result = graded.json()
    assert result.pop("level_expires_at")
    assert result == {
        "attempt_id": attempt["id"],
        "test_id": test,
        "passed": True,
        "n_correct": 3,
        "n_total": 4,
        "score": 0.75,
        "pass_mark": 0.75,
        "domain": "medical",
        "level": 2,
        "attempts_left": 0,
        "retry_after": None,
    }
    profile = app_client.get("/api/v1/me/profile", headers=ann.headers).json()
    assert [(d["domain"], d["level"], d["source"]) for d in profile["domains"]] == [
        ("medical", 2, f"qualification:{test}")
    ]
    assert profile["qualifications"][0]["passed"] is True
    assert "ans_" not in app_client.get("/api/v1/me/profile", headers=ann.headers).text
    closed = app_client.post(url, headers=ann.headers)
    assert closed.status_code == 409
    assert "already qualified" in closed.json()["error"]["message"]


def test_a_failure_means_waiting_and_answers_never_leak(
    app_client: TestClient, db: Database
) -> None:
    manager, ann, _, project = _setup(db)
    test = _create(app_client, manager, project)
    url = f"/api/v1/projects/{project}/qualifications/{test}/attempts"
    attempt = app_client.post(url, headers=ann.headers).json()
    graded = app_client.post(
        f"{url}/{attempt['id']}", json={"answers": {"0": "ans_gamma"}}, headers=ann.headers
    )
    assert graded.status_code == 200
    result = graded.json()
    assert (result["passed"], result["n_correct"], result["level"], result["attempts_left"]) == (
        False,
        0,
        0,
        1,
    )
    assert result["retry_after"] is not None
    assert "ans_" not in graded.text
    before = snapshot(db)
    wait = app_client.post(url, headers=ann.headers)
    assert wait.status_code == 409
    message = wait.json()["error"]["message"]
    assert message.startswith("you may retry qualification test 'medical basics' from ")
    assert result["retry_after"][:16] in message
    assert snapshot(db) == before


def test_attempts_refuse_and_change_nothing(app_client: TestClient, db: Database) -> None:
    manager, ann, outsider, project = _setup(db)
    other = make_user(db, "other")
    app_client.put(
        f"/api/v1/projects/{project}/members/{other.id}",
        json={"role": "annotator"},
        headers=manager.headers,
    )
    test = _create(app_client, manager, project)
    url = f"/api/v1/projects/{project}/qualifications/{test}/attempts"
    attempt = app_client.post(url, headers=ann.headers).json()
    submit = f"{url}/{attempt['id']}"
    before = snapshot(db)
    assert app_client.post(url).status_code == 401
    assert app_client.post(url, headers=outsider.headers).status_code == 403
    assert (
        app_client.post(
            f"/api/v1/projects/{project}/qualifications/999/attempts", headers=ann.headers
        ).status_code
        == 404
    )
    body = {"answers": {"0": "ans_alpha"}}
    assert app_client.post(submit, json=body).status_code == 401
    assert app_client.post(submit, json=body, headers=outsider.headers).status_code == 403
    stolen = app_client.post(submit, json=body, headers=other.headers)
    assert stolen.status_code == 403
    assert "is not yours" in stolen.json()["error"]["message"]
    assert app_client.post(f"{url}/999", json=body, headers=ann.headers).status_code == 404
    for bad, field in [
        ({"answers": {"1": "dance"}}, "answers.1"),
        ({"answers": {"4": "ans_alpha"}}, "answers"),
        ({"answers": {"first": "ans_alpha"}}, "answers.first"),
        ({"answers": ["ans_alpha"]}, "answers"),
        ({}, "answers"),
    ]:
        refused = app_client.post(submit, json=bad, headers=ann.headers)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["message"].startswith(field), refused.json()
    assert snapshot(db) == before
    assert app_client.post(submit, json=body, headers=ann.headers).status_code == 200
    graded_twice = app_client.post(submit, json=body, headers=ann.headers)
    assert graded_twice.status_code == 409
    assert "already graded" in graded_twice.json()["error"]["message"]


def test_question_data_passes_the_privacy_gate_before_contributors_see_it(
    app_client: TestClient, db: Database
) -> None:
    """A question is shown to every contributor who takes the test: personal data a
    manager pasted into it (a value, a nested string, a key) is redacted like an
    imported item's, and the attempt is graded on the text as shown."""
    manager, ann, _, project = _setup(db)
    email, phone = "canary.fox@example.org", "+44 20 7946 0958"
    body = {
        **BODY,
        "questions": [
            {
                "data": {"text": f"mail {email} ({i})", "caller": {phone: [f"ring {phone}"]}},
                "answer": answer,
            }
            for i, answer in enumerate(ANSWERS)
        ],
    }
    url = f"/api/v1/projects/{project}/qualifications"
    created = app_client.post(url, json=body, headers=manager.headers)
    assert created.status_code == 201, created.text
    attempt = app_client.post(f"{url}/{created.json()['id']}/attempts", headers=ann.headers)
    assert attempt.status_code == 201, attempt.text
    assert email not in attempt.text and phone not in attempt.text
    assert "+442079460958" not in attempt.text
    questions = {q["index"]: q["data"] for q in attempt.json()["questions"]}
    assert questions[0]["text"] == "mail [EMAIL] (0)"
    assert questions[0]["caller"] == {"[PHONE]": ["ring [PHONE]"]}
    answers = {str(index): ANSWERS[index] for index in questions}
    graded = app_client.post(
        f"{url}/{created.json()['id']}/attempts/{attempt.json()['id']}",
        json={"answers": answers},
        headers=ann.headers,
    )
    assert graded.status_code == 200, graded.text
    assert graded.json()["passed"] is True
