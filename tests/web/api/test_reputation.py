from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import Person, grant_level, make_user, snapshot

from loupe.db.database import Database
from loupe.db.models import utcnow
from loupe.reputation import Evidence, assign_tier, score
from loupe.services.people.standing import POLICY, record_evidence

# (domain, kind, success, age) of each piece of evidence, oldest first.
HISTORY: list[tuple[str, str, float, timedelta]] = [
    *[("medical", "gold", 1.0, timedelta(hours=40 - n)) for n in range(30)],
    ("general", "review_received", 0.0, timedelta(days=1)),
]


def _record(db: Database, person: Person, now: datetime) -> dict[str, list[Evidence]]:
    by_domain: dict[str, list[Evidence]] = {}
    for n, (domain, kind, success, age) in enumerate(HISTORY):
        at = now - age
        with db.transaction() as session:
            record_evidence(session, user_id=person.id, domain=domain, project_id=None,
                            kind=kind, success=success, ref=f"{kind}:{n}", now=at)  # fmt: skip
        evidence = Evidence(kind=kind, success=success, at=at, ref=f"{kind}:{n}")  # type: ignore[arg-type]
        by_domain.setdefault(domain, []).append(evidence)
    return by_domain


def _expected(
    person: Person, domain: str, history: list[Evidence], level: int, *, at: datetime
) -> dict[str, Any]:
    """What the endpoint should say, computed by the reputation model itself."""
    rep = score(history, now=at, policy=POLICY)
    tier = assign_tier(rep, domain_level=level, policy=POLICY)
    return {
        "user_id": person.id,
        "domain": domain,
        "mean": pytest.approx(rep.mean, rel=1e-6),
        "lower": pytest.approx(rep.lower, rel=1e-6),
        "upper": pytest.approx(rep.upper, rel=1e-6),
        "alpha": pytest.approx(rep.alpha, rel=1e-6),
        "beta": pytest.approx(rep.beta, rel=1e-6),
        "effective_n": pytest.approx(rep.effective_n, rel=1e-6),
        "tier": tier.tier,
        "tier_rule": tier.rule,
        "unlocks": [
            n
            for n, on in (
                ("review", tier.unlocks.review),
                ("expert_tasks", tier.unlocks.expert_tasks),
            )
            if on
        ],
        "pay_multiplier_bp": tier.unlocks.pay_multiplier_bp,
        "contributions": None,
    }


def test_my_reputation_is_computed_from_its_evidence(app_client: TestClient, db: Database) -> None:
    ann = make_user(db, "ann")
    grant_level(db, ann, "medical", 3)
    history = _record(db, ann, utcnow())
    got = app_client.get("/api/v1/me/reputation", headers=ann.headers)
    assert got.status_code == 200
    now = utcnow()
    assert got.json() == [
        _expected(ann, "general", history["general"], 0, at=now),
        _expected(ann, "medical", history["medical"], 3, at=now),
    ]
    general, medical = got.json()
    assert (general["tier"], general["unlocks"], general["pay_multiplier_bp"]) == ("new", [], 10000)
    assert (medical["tier"], medical["unlocks"]) == ("expert", ["review", "expert_tasks"])
    assert medical["tier_rule"].startswith("expert: lower bound at least")
    assert medical["lower"] < medical["mean"] < medical["upper"]


def test_explain_lists_every_input_with_its_decayed_weight(
    app_client: TestClient, db: Database
) -> None:
    ann = make_user(db, "ann")
    history = _record(db, ann, utcnow())
    got = app_client.get(
        "/api/v1/me/reputation?explain=true&domain=general", headers=ann.headers
    ).json()
    assert [row["domain"] for row in got] == ["general"]
    (contribution,) = got[0]["contributions"]
    assert contribution.pop("at") == history["general"][0].at.isoformat().replace("+00:00", "Z")
    assert contribution.pop("decayed_weight") < 1.0  # a day old, so it counts a little less
    assert contribution == {"kind": "review_received", "ref": "review_received:30",
                            "success": 0.0, "weight": 1.0}  # fmt: skip
    medical = app_client.get(
        "/api/v1/me/reputation?explain=true&domain=medical", headers=ann.headers
    ).json()
    assert [c["ref"] for c in medical[0]["contributions"]] == [f"gold:{n}" for n in range(30)]
    assert app_client.get("/api/v1/me/reputation?domain=legal", headers=ann.headers).json() == []
    # The same numbers, in the same order, every time they are asked for.
    again = app_client.get(
        "/api/v1/me/reputation?explain=true&domain=medical", headers=ann.headers
    ).json()
    assert [c["ref"] for c in again[0]["contributions"]] == [f"gold:{n}" for n in range(30)]
    assert again[0]["alpha"] == pytest.approx(medical[0]["alpha"], rel=1e-6)


def test_a_newcomer_has_no_reputation_yet(app_client: TestClient, db: Database) -> None:
    ann = make_user(db, "ann")
    assert app_client.get("/api/v1/me/reputation", headers=ann.headers).json() == []
    url = f"/api/v1/users/{ann.id}/reputation"
    assert app_client.get(url, headers=ann.headers).json() == []


def test_managers_auditors_and_oneself_read_a_reputation(
    app_client: TestClient, db: Database
) -> None:
    ann, other = make_user(db, "ann"), make_user(db, "other")
    manager, auditor = make_user(db, "mgr", "manager"), make_user(db, "aud", "auditor")
    admin, reviewer = make_user(db, "root", "admin"), make_user(db, "rev", "reviewer")
    _record(db, ann, utcnow())
    url = f"/api/v1/users/{ann.id}/reputation?explain=true"
    mine = app_client.get(url, headers=ann.headers)
    assert mine.status_code == 200
    assert [row["domain"] for row in mine.json()] == ["general", "medical"]
    for reader in (manager, auditor, admin):
        got = app_client.get(url, headers=reader.headers)
        assert got.status_code == 200, reader.username
        assert [row["domain"] for row in got.json()] == ["general", "medical"]
        assert len(got.json()[1]["contributions"]) == 30
    before = snapshot(db)
    assert app_client.get(url).status_code == 401
    assert app_client.get("/api/v1/me/reputation").status_code == 401
    for stranger in (other, reviewer):
        refused = app_client.get(url, headers=stranger.headers)
        assert refused.status_code == 403, stranger.username
        assert refused.json()["error"]["details"]["action"] == "reputation.read"
        assert "gold" not in refused.text
    missing = app_client.get("/api/v1/users/9999/reputation", headers=manager.headers)
    assert missing.status_code == 404
    assert "user 9999 does not exist" in missing.json()["error"]["message"]
    # Someone else's id is refused before it is looked up: no probing who exists.
    assert app_client.get("/api/v1/users/9999/reputation", headers=other.headers).status_code == 403
    for query, field in [
        (f"/api/v1/users/{ann.id}/reputation?explain=maybe", "explain"),
        (f"/api/v1/users/{ann.id}/reputation?domain={'x' * 33}", "domain"),
        ("/api/v1/users/0/reputation", "user_id"),
        ("/api/v1/users/me/reputation", "user_id"),
        ("/api/v1/me/reputation?explain=2", "explain"),
    ]:
        bad = app_client.get(query, headers=manager.headers)
        assert bad.status_code == 422, query
        assert bad.json()["error"]["message"].startswith(field), bad.json()
    assert snapshot(db) == before
