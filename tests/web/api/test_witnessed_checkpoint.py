"""With witnesses configured, contributors are served the newest checkpoint the witnesses
cosigned, not one signed a moment ago: its proofs verify with the quorum, and the entries
after it are pending until the next checkpoint is cosigned (issue #14).

Two real witnesses run in-process on loopback (``tests.services.payments.test_witnesses.Running``,
listening before the test starts). The background loop is off here: each test cosigns
with :func:`cosign_latest` itself, so "before" and "after" cosigning are exact moments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.factories import add_items, hold, make_project, make_rate_card, make_user, snapshot
from tests.services.payments.test_witnesses import Running
from typer.testing import CliRunner

from loupe.cli import app as cli_app
from loupe.db.database import Database
from loupe.ledger.verify import (
    VerificationError,
    verify_consistency,
    verify_cosigned_checkpoint,
    verify_entry_in_checkpoint,
)
from loupe.ledger.witness import Witness
from loupe.services.payments.ledger import PENDING_WITNESSES
from loupe.services.payments.ledger_keys import LedgerKeys, init_keys
from loupe.services.payments.witnesses import cosign_latest, load_witnesses
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/payments"


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
    (tmp_path / "witnesses.conf").write_text(
        "".join(f"{w.witness.verifier_key} {w.url}\n" for w in witnesses)
    )
    yield witnesses
    for item in witnesses:
        item.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, keys: LedgerKeys) -> Settings:
    return Settings(
        database_url=database_url,
        lease_seconds=600,
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
        ledger_checkpoint_every=2,
        ledger_witnesses_file=tmp_path / "witnesses.conf",
        ledger_cosign_interval_seconds=0,  # no background loop: the tests cosign
    )


@pytest.fixture
def client(settings: Settings, running: list[Running]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


class Log:
    """A contributor earning through the API, and what a careful contributor checks."""

    def __init__(
        self, db: Database, client: TestClient, settings: Settings, keys: LedgerKeys
    ) -> None:
        self.db, self.client, self.settings, self.keys = db, client, settings, keys
        self.ann = make_user(db, "ann")
        self.admin = make_user(db, "root", "admin")
        self.project = make_project(db, members={self.ann: "annotator"})
        add_items(db, self.project, 20)
        make_rate_card(db, self.project)
        self.next_item = 1
        assert settings.ledger_witnesses_file is not None
        self.endpoints = load_witnesses(settings.ledger_witnesses_file)
        self.witness_keys = [w.verifier.to_key() for w in self.endpoints]

    def label(self, n: int) -> None:
        for _ in range(n):
            item, self.next_item = self.next_item, self.next_item + 1
            hold(self.db, self.ann, self.project, item)
            response = self.client.post(
                f"/api/v1/projects/{self.project}/items/{item}/labels",
                json={"answer": "call"},
                headers=self.ann.headers,
            )
            assert response.status_code == 201, response.text

    def cosign(self) -> list[bool]:
        done = cosign_latest(self.db, self.endpoints)
        return [outcome.cosigned for outcome in done.outcomes]

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.ann.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def check(self, body: dict[str, Any], quorum: int) -> tuple[int, list[int], list[int]]:
        """Verify a wallet answer as the wallet page does: (size, proven, pending)."""
        note = body["checkpoint"]["note"]
        cosigned = verify_cosigned_checkpoint(
            note, [self.keys.signer.verifier_key], self.witness_keys, quorum=quorum
        )
        proven, pending = [], []
        for entry in body["entries"]:
            if entry["proof"] is None:
                assert entry["pending"] == PENDING_WITNESSES
                assert entry["index"] >= cosigned.checkpoint.size
                pending.append(entry["index"])
                continue
            assert entry["pending"] is None
            verify_entry_in_checkpoint(
                entry["leaf"].encode(),
                index=entry["index"],
                proof=[bytes.fromhex(node) for node in entry["proof"]],
                note=note,
                verifiers=[self.keys.signer.verifier_key],
            )
            proven.append(entry["index"])
        return cosigned.checkpoint.size, proven, pending


@pytest.fixture
def log(db: Database, client: TestClient, settings: Settings, keys: LedgerKeys) -> Log:
    return Log(db, client, settings, keys)


def test_a_checkpoint_is_served_once_cosigned_and_newer_entries_are_pending(log: Log) -> None:
    log.label(2)  # the server signs the checkpoint of 2 entries
    assert log.cosign() == [True, True]
    log.label(2)  # ... and of 4, not cosigned yet

    served = log.get("/api/v1/ledger/checkpoint")
    assert (served["size"], served["latest_size"]) == (2, 4)
    assert served["cosigners"] == ["w1.example", "w2.example"]
    assert log.check(log.get("/api/v1/wallet"), quorum=2) == (2, [0, 1], [2, 3])
    # Auditors' default proofs are against the same checkpoint.
    proof = log.client.get("/api/v1/ledger/proof/inclusion?index=1", headers=log.admin.headers)
    assert proof.json()["tree_size"] == 2
    # Operators can still see the latest.
    latest = log.get("/api/v1/ledger/checkpoint?latest=true")
    assert (latest["size"], latest["cosigners"]) == (4, [])
    with pytest.raises(VerificationError, match="only 0 of"):
        verify_cosigned_checkpoint(
            latest["note"], [log.keys.signer.verifier_key], log.witness_keys, quorum=1
        )

    assert log.cosign() == [True, True]
    served = log.get("/api/v1/ledger/checkpoint")
    assert (served["size"], served["latest_size"]) == (4, 4)
    assert log.check(log.get("/api/v1/wallet"), quorum=2) == (4, [0, 1, 2, 3], [])


def test_the_wallet_is_never_served_an_older_checkpoint_than_it_verified(log: Log) -> None:
    log.label(2)
    assert log.cosign() == [True, True]
    log.label(2)
    # A wallet that verified the uncosigned checkpoint of 4 (it requires no quorum) is not
    # sent back to 2, which its rollback check would refuse.
    body = log.get("/api/v1/wallet?since=4")
    assert log.check(body, quorum=0) == (4, [0, 1, 2, 3], [])
    assert body["consistency"] is None
    # From a smaller remembered size it gets the consistency proof it needs.
    body = log.get("/api/v1/wallet?since=1")
    assert body["checkpoint"]["size"] == 2
    consistency = body["consistency"]
    assert (consistency["first"], consistency["second"]) == (1, 2)
    with log.db.transaction(readonly=True) as session:
        first = session.execute(
            text("SELECT leaf_hash FROM ledger_entries WHERE idx = 0")
        ).scalar_one()
    verify_consistency(
        1,
        2,
        [bytes.fromhex(node) for node in consistency["path"]],
        bytes(first),
        bytes.fromhex(body["checkpoint"]["root_hash"]),
    )
    # The same rule for GET /ledger/checkpoint and the default consistency proof.
    assert log.get("/api/v1/ledger/checkpoint?since=3")["size"] == 4
    assert log.get("/api/v1/ledger/proof/consistency?first=1")["second"] == 2
    # A size beyond every checkpoint (a rollback): the latest, for the client to refuse.
    assert log.get("/api/v1/ledger/checkpoint?since=99")["size"] == 4


def test_while_a_witness_is_down_the_quorum_picks_the_checkpoint(
    log: Log, running: list[Running]
) -> None:
    log.label(2)
    assert log.cosign() == [True, True]
    running[1].stop()
    log.label(2)
    assert log.cosign() == [True, False]  # w2 is down: only w1 cosigned 4

    # By default: the newest cosigned by all configured witnesses.
    served = log.get("/api/v1/ledger/checkpoint")
    assert (served["size"], served["cosigners"]) == (2, ["w1.example", "w2.example"])
    assert log.check(log.get("/api/v1/wallet"), quorum=2) == (2, [0, 1], [2, 3])
    # A contributor who needs one cosignature gets the newer one.
    served = log.get("/api/v1/ledger/checkpoint?quorum=1")
    assert (served["size"], served["cosigners"]) == (4, ["w1.example"])
    assert log.check(log.get("/api/v1/wallet?quorum=1"), quorum=1) == (4, [0, 1, 2, 3], [])


def test_proofs_file_marks_entries_after_the_witnessed_checkpoint_pending(
    log: Log, running: list[Running], settings: Settings, tmp_path: Path
) -> None:
    log.label(2)
    assert log.cosign() == [True, True]
    running[1].stop()
    log.label(1)  # not covered by any checkpoint: `prove` signs one, only w1 cosigns it
    out = tmp_path / "proofs.json"
    env = {
        "LOUPE_KEY_DIR": str(settings.key_dir),
        "LOUPE_LEDGER_WITNESSES_FILE": str(settings.ledger_witnesses_file),
    }
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["ledger", "prove", "ann", "-o", str(out), "--database-url", settings.database_url],
        env=env,
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["tree_size"] == 2
    assert [e.get("pending") for e in document["entries"]] == [None, None, PENDING_WITNESSES]

    (tmp_path / "log.pub").write_text(log.keys.signer.verifier_key + "\n")
    (tmp_path / "mine.txt").write_text("".join(k + "\n" for k in log.witness_keys))
    args = ["ledger", "check-proof", str(out), "--key", str(tmp_path / "log.pub")]
    args += ["--witnesses", str(tmp_path / "mine.txt"), "--quorum", "2"]
    result = runner.invoke(cli_app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "all 2 entries are in the signed log" in result.output
    assert "1 entries pending" in result.output


def test_bad_parameters_change_nothing(log: Log, db: Database) -> None:
    log.label(2)
    before = snapshot(db)
    assert log.client.get("/api/v1/ledger/checkpoint").status_code == 401
    for query in ("quorum=0", "since=-1", "latest=maybe"):
        response = log.client.get(f"/api/v1/ledger/checkpoint?{query}", headers=log.ann.headers)
        assert response.status_code == 422, query
    assert log.client.get("/api/v1/wallet?quorum=0", headers=log.ann.headers).status_code == 422
    # Nothing cosigned yet: the latest is served, as without witnesses.
    served = log.get("/api/v1/ledger/checkpoint")
    assert (served["size"], served["cosigners"]) == (2, [])
    assert snapshot(db) == before


def test_when_no_checkpoint_has_the_quorum_the_one_with_most_cosignatures_is_served(
    log: Log, running: list[Running]
) -> None:
    running[1].stop()
    log.label(2)
    assert log.cosign() == [True, False]  # 2: cosigned by w1 only
    running[0].stop()
    log.label(2)
    assert log.cosign() == [False, False]  # 4: by none
    served = log.get("/api/v1/ledger/checkpoint")
    assert (served["size"], served["cosigners"], served["latest_size"]) == (2, ["w1.example"], 4)
    assert log.check(log.get("/api/v1/wallet"), quorum=1) == (2, [0, 1], [2, 3])
