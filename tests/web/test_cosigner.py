"""The server cosigns the checkpoints it signs while labels come in, in the background.

Witnesses run in-process on loopback; the server's cosigning loop runs every 50 ms.
Each test waits for what the loop should do by polling ``GET /api/v1/ledger/witnesses``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import Person, add_items, hold, make_project, make_rate_card, make_user
from tests.services.payments.test_witnesses import Running

from loupe.db.database import Database
from loupe.ledger.checkpoint import make_checkpoint, sign_checkpoint
from loupe.ledger.verify import verify_cosigned_checkpoint
from loupe.ledger.witness import Witness
from loupe.services.payments.ledger_keys import LedgerKeys, init_keys, load_keys
from loupe.services.payments.ledger_store import publish_checkpoint
from loupe.services.payments.witnesses import load_witnesses
from loupe.settings import Settings
from loupe.web.app import create_app
from loupe.web.cosigner import Cosigner

ORIGIN = "test.loupe/payments"
WAIT = 60.0  # seconds: only a guard against a hang; each wait ends as soon as it holds


@pytest.fixture
def keys(tmp_path: Path) -> LedgerKeys:
    return init_keys(tmp_path / "keys", origin=ORIGIN)


@pytest.fixture
def running(keys: LedgerKeys, tmp_path: Path) -> Iterator[list[Running]]:
    witnesses = [
        Running(
            Witness.init(
                tmp_path / f"w{n}", name=f"w{n}.example", log_keys=[keys.signer.verifier_key]
            )
        )
        for n in (1, 2)
    ]
    yield witnesses
    for item in witnesses:
        item.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, keys: LedgerKeys) -> Settings:
    return Settings(
        database_url=database_url,
        lease_seconds=600,
        key_dir=tmp_path / "keys",
        model_dir=tmp_path / "models",
        refit_interval_seconds=0,
        ledger_origin=ORIGIN,
        ledger_checkpoint_every=2,
        ledger_witnesses_file=tmp_path / "witnesses.conf",
        ledger_cosign_interval_seconds=0.05,
    )


@pytest.fixture
def client(settings: Settings, running: list[Running]) -> Iterator[TestClient]:
    assert settings.ledger_witnesses_file is not None
    settings.ledger_witnesses_file.write_text(
        "".join(f"{w.witness.verifier_key} {w.url}\n" for w in running)
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


class Labels:
    def __init__(self, db: Database, client: TestClient) -> None:
        self.db, self.client = db, client
        self.ann: Person = make_user(db, "ann")
        self.project = make_project(db, members={self.ann: "annotator"})
        add_items(db, self.project, 20)
        make_rate_card(db, self.project)
        self.next_item = 1

    def submit(self, n: int) -> None:
        for _ in range(n):
            item, self.next_item = self.next_item, self.next_item + 1
            hold(self.db, self.ann, self.project, item)
            response = self.client.post(
                f"/api/v1/projects/{self.project}/items/{item}/labels",
                json={"answer": "call"},
                headers=self.ann.headers,
            )
            assert response.status_code == 201, response.text

    def witnesses(self) -> dict[str, Any]:
        response = self.client.get("/api/v1/ledger/witnesses", headers=self.ann.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_for(self, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while not condition(body := self.witnesses()):
            assert time.monotonic() < deadline, f"still waiting; last seen {body}"
            time.sleep(0.02)
        return body


def _all_cosigned(size: int) -> Callable[[dict[str, Any]], bool]:
    return lambda body: (
        body["checkpoint_size"] == size and all(w["cosigned_latest"] for w in body["witnesses"])
    )


def test_checkpoints_signed_by_labels_get_cosigned(
    client: TestClient, db: Database, keys: LedgerKeys, running: list[Running]
) -> None:
    labels = Labels(db, client)
    labels.submit(2)  # the second label signs the checkpoint of size 2
    body = labels.wait_for(_all_cosigned(2))
    assert body["cosigning"] is True
    assert [(w["name"], w["cosigned_size"], w["failures"]) for w in body["witnesses"]] == [
        ("w1.example", 2, 0),
        ("w2.example", 2, 0),
    ]
    labels.submit(2)
    labels.wait_for(_all_cosigned(4))
    checkpoint = client.get("/api/v1/ledger/checkpoint", headers=labels.ann.headers).json()
    cosigned = verify_cosigned_checkpoint(
        checkpoint["note"],
        [keys.signer.verifier_key],
        [w.witness.verifier_key for w in running],
        quorum=2,
    )
    assert cosigned.checkpoint.size == 4
    assert [w.witness.state()[ORIGIN].size for w in running] == [4, 4]


def test_a_witness_that_is_down_blocks_nothing_and_cosigns_once_back(
    client: TestClient, db: Database, running: list[Running]
) -> None:
    labels = Labels(db, client)
    running[1].stop()
    labels.submit(2)  # every label is saved (201) while w2 is down
    body = labels.wait_for(lambda b: b["witnesses"][1]["failures"] >= 1)
    w1, w2 = body["witnesses"]
    assert w1["cosigned_latest"] and not w2["cosigned_latest"]
    assert w2["last_error"].startswith("unreachable")
    labels.submit(2)
    back = Running(running[1].witness, port=running[1].port)
    try:
        body = labels.wait_for(_all_cosigned(4))
        assert body["witnesses"][1]["failures"] == 0
        assert body["witnesses"][1]["last_error"] is None
    finally:
        back.stop()


def test_a_split_view_is_logged_and_shown(
    client: TestClient,
    db: Database,
    keys: LedgerKeys,
    running: list[Running],
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = sign_checkpoint(make_checkpoint(ORIGIN, 2, bytes(32)), [keys.signer])
    running[0].witness.add_checkpoint(old_size=0, proof=[], note=forged)
    labels = Labels(db, client)
    with caplog.at_level(logging.WARNING, logger="loupe.witnesses"):
        labels.submit(2)
        body = labels.wait_for(lambda b: b["witnesses"][0]["failures"] >= 1)
    w1, w2 = body["witnesses"]
    assert "split view" in w1["last_error"] and not w1["cosigned_latest"]
    assert w1["cosigned_size"] == 0
    assert w2["cosigned_latest"] or w2["failures"] == 0
    assert any(
        "witness w1.example did not cosign the checkpoint of size 2" in r.getMessage()
        and "split view" in r.getMessage()
        for r in caplog.records
    )


def test_witnesses_endpoint_needs_a_token_and_reports_no_witnesses(
    settings: Settings, db: Database
) -> None:
    plain = settings.model_copy(update={"ledger_witnesses_file": None})
    with TestClient(create_app(plain), raise_server_exceptions=False) as client:
        assert client.get("/api/v1/ledger/witnesses").status_code == 401
        bad = client.get("/api/v1/ledger/witnesses", headers={"Authorization": "Bearer x"})
        assert bad.status_code == 401
        ann = make_user(db, "ann")
        response = client.get("/api/v1/ledger/witnesses", headers=ann.headers)
    assert response.status_code == 200
    assert response.json() == {"checkpoint_size": None, "cosigning": False, "witnesses": []}


def test_an_unreadable_witnesses_file_stops_only_the_cosigning(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        labels = Labels(db, client)
        labels.submit(2)  # labelling goes on
        response = client.get("/api/v1/ledger/witnesses", headers=labels.ann.headers)
    assert response.status_code == 422
    assert "cannot read the witnesses file" in response.json()["error"]["message"]
    assert any("checkpoints will not be cosigned" in r.getMessage() for r in caplog.records)


def test_backoff_doubles_per_failure(db: Database, running: list[Running], tmp_path: Path) -> None:
    path = tmp_path / "witnesses.conf"
    path.write_text(f"{running[0].witness.verifier_key} {running[0].url}\n")
    now = [100.0]
    answers: list[int] = []

    def post(url: str, body: bytes) -> tuple[int, str, bytes]:
        answers.append(503)
        return 503, "text/plain", b"busy\n"

    cosigner = Cosigner(db, load_witnesses(path), interval=1.0, post=post, clock=lambda: now[0])
    # Nothing to cosign before the first checkpoint: no witness is asked.
    assert cosigner.run_once().outcomes == () and answers == []
    with db.transaction() as session:
        publish_checkpoint(session, load_keys(tmp_path / "keys"))
    asked_at = []
    for tick in range(12):
        now[0] = 100.0 + tick
        if cosigner.run_once().outcomes:
            asked_at.append(tick)
    assert asked_at == [0, 1, 3, 7]  # retries after 1, 2, 4 s (then 8 s)
    (status,) = cosigner.statuses()
    assert status.failures == 4 and status.last_error == "HTTP 503: busy"
