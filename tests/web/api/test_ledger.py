from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.factories import (
    RATE_CARD,
    Person,
    add_items,
    hold,
    make_project,
    make_rate_card,
    make_user,
    snapshot,
)
from tests.web.ui.signin import sign_in

from loupe.db.database import Database
from loupe.ledger.entries import contributor_pseudonym, item_digest
from loupe.ledger.verify import (
    hash_leaf,
    verify_checkpoint,
    verify_consistency,
    verify_entry_in_checkpoint,
)
from loupe.services.access import Actor
from loupe.services.payments import earnings
from loupe.services.payments.ledger_keys import LedgerConfig, LedgerKeys, init_keys
from loupe.settings import Settings

ORIGIN = "test.loupe/payments"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        lease_seconds=600,
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
    )


@pytest.fixture
def keys(settings: Settings) -> LedgerKeys:
    assert settings.key_dir is not None
    return init_keys(settings.key_dir, origin=ORIGIN)


def _root_at(db: Database, size: int) -> str:
    with db.transaction(readonly=True) as session:
        root = session.execute(
            text("SELECT root_hash FROM ledger_checkpoints WHERE size = :size"), {"size": size}
        ).scalar_one()
    return bytes(root).hex()


def _paying_project(db: Database, client: TestClient, annotator: Person, n: int = 2) -> int:
    project = make_project(db, members={annotator: "annotator"})
    add_items(db, project, n)
    make_rate_card(db, project)
    for item in range(1, n + 1):
        hold(db, annotator, project, item)
        response = client.post(
            f"/api/v1/projects/{project}/items/{item}/labels",
            json={"answer": "call"},
            headers=annotator.headers,
        )
        assert response.status_code == 201
    return project


def test_labels_earn_and_the_wallet_proves_them(
    app_client: TestClient, db: Database, keys: LedgerKeys
) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    _paying_project(db, app_client, ann)
    created = app_client.post("/api/v1/ledger/checkpoint", headers=admin.headers)
    assert created.status_code == 201
    checkpoint = created.json()
    assert checkpoint == {
        "size": 2,
        "root_hash": checkpoint["root_hash"],
        "note": checkpoint["note"],
        "key_name": ORIGIN,
        "key_hash": f"{keys.signer.key_hash:08x}",
        "created_at": checkpoint["created_at"],
        "verifier_keys": [keys.signer.verifier_key],
        "cosigners": [],
        "latest_size": 2,
    }
    assert app_client.get("/api/v1/ledger/checkpoint", headers=ann.headers).json() == checkpoint

    wallet = app_client.get("/api/v1/wallet", headers=ann.headers)
    assert wallet.status_code == 200
    body = wallet.json()
    pseudonym = contributor_pseudonym(str(ann.id), secret=keys.secret)
    assert body["contributor"] == pseudonym
    assert body["checkpoint"] == checkpoint
    assert body["balances"] == [
        {
            "currency": "EUR",
            "earned_minor": 10,
            "paid_out_minor": 0,
            "balance_minor": 10,
            "owed_back_minor": 0,
        }
    ]
    assert body["next_after"] is None
    first = body["entries"][0]
    assert first == {
        "index": 0,
        "kind": "earning",
        "amount_minor": 5,
        "currency": "EUR",
        "rule": "label.accepted",
        "rate_card_version": first["rate_card_version"],
        "corrects": None,
        "item": item_digest("1", secret=keys.secret),
        "timestamp": first["timestamp"],
        "payout_id": None,
        "created_at": first["created_at"],
        "leaf": first["leaf"],
        "leaf_hash": hash_leaf(first["leaf"].encode()).hex(),
        "proof": first["proof"],
        "pending": None,
    }
    assert json.loads(first["leaf"])["contributor"] == pseudonym
    for entry in body["entries"]:
        verify_entry_in_checkpoint(
            entry["leaf"].encode(),
            index=entry["index"],
            proof=[bytes.fromhex(node) for node in entry["proof"]],
            note=checkpoint["note"],
            verifiers=checkpoint["verifier_keys"],
            origin=ORIGIN,
        )
    page = app_client.get("/api/v1/wallet?limit=1", headers=ann.headers).json()
    assert [e["index"] for e in page["entries"]] == [0]
    assert page["next_after"] == 0
    rest = app_client.get("/api/v1/wallet?after=0", headers=ann.headers).json()
    assert [e["index"] for e in rest["entries"]] == [1]


def test_wallet_failures(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann = make_user(db, "ann")
    before = snapshot(db)
    assert app_client.get("/api/v1/wallet").status_code == 401
    assert app_client.get("/api/v1/wallet?limit=0", headers=ann.headers).status_code == 422
    assert app_client.get("/api/v1/wallet?after=-1", headers=ann.headers).status_code == 422
    empty = app_client.get("/api/v1/wallet", headers=ann.headers).json()
    assert empty == {
        "contributor": None,
        "checkpoint": None,
        "balances": [],
        "entries": [],
        "next_after": None,
        "consistency": None,
    }
    assert snapshot(db) == before


def test_checkpoint_endpoints(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    before = snapshot(db)
    assert app_client.get("/api/v1/ledger/checkpoint").status_code == 401
    none_yet = app_client.get("/api/v1/ledger/checkpoint", headers=ann.headers)
    assert none_yet.status_code == 409
    assert none_yet.json()["error"]["details"] == {"reason": "no_checkpoint"}
    assert app_client.post("/api/v1/ledger/checkpoint").status_code == 401
    assert app_client.post("/api/v1/ledger/checkpoint", headers=ann.headers).status_code == 403
    assert snapshot(db) == before
    assert app_client.post("/api/v1/ledger/checkpoint", headers=admin.headers).status_code == 201


def test_inclusion_proof_endpoint(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann, auditor = make_user(db, "ann"), make_user(db, "aud", "auditor")
    admin = make_user(db, "root", "admin")
    _paying_project(db, app_client, ann, n=3)
    note = app_client.post("/api/v1/ledger/checkpoint", headers=admin.headers).json()["note"]
    response = app_client.get("/api/v1/ledger/proof/inclusion?index=2", headers=auditor.headers)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "index": 2,
        "tree_size": 3,
        "leaf": body["leaf"],
        "leaf_hash": hash_leaf(body["leaf"].encode()).hex(),
        "path": body["path"],
        "root_hash": body["root_hash"],
    }
    assert len(body["path"]) == 1
    verify_entry_in_checkpoint(
        body["leaf"].encode(),
        index=2,
        proof=[bytes.fromhex(p) for p in body["path"]],
        note=note,
        verifiers=keys.verifier_keys,
    )
    older = app_client.get(
        "/api/v1/ledger/proof/inclusion?index=0&tree_size=1", headers=auditor.headers
    ).json()
    assert older["path"] == []
    assert older["root_hash"] == older["leaf_hash"]
    before = snapshot(db)
    url = "/api/v1/ledger/proof/inclusion"
    assert app_client.get(f"{url}?index=0").status_code == 401
    assert app_client.get(f"{url}?index=0", headers=ann.headers).status_code == 403
    for query in ("", "?index=-1", "?index=x", "?index=3", "?index=0&tree_size=9"):
        response = app_client.get(url + query, headers=auditor.headers)
        assert response.status_code == 422, query
    assert app_client.get(f"{url}?index=2&tree_size=2", headers=auditor.headers).json()["error"][
        "details"
    ] == {"field": "index", "index": 2, "size": 2}
    assert snapshot(db) == before


def test_consistency_proof_endpoint(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    _paying_project(db, app_client, ann, n=5)
    app_client.post("/api/v1/ledger/checkpoint", headers=admin.headers)
    url = "/api/v1/ledger/proof/consistency"
    response = app_client.get(f"{url}?first=3", headers=ann.headers)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "first": 3,
        "second": 5,
        "path": body["path"],
        "first_root": body["first_root"],
        "second_root": body["second_root"],
    }
    verify_consistency(
        3,
        5,
        [bytes.fromhex(p) for p in body["path"]],
        bytes.fromhex(body["first_root"]),
        bytes.fromhex(body["second_root"]),
    )
    before = snapshot(db)
    # Every role may read the log's head and its consistency: there is no 403 case.
    assert app_client.get(f"{url}?first=3").status_code == 401
    for query in ("", "?first=0", "?first=6", "?first=4&second=3", "?first=1&second=99"):
        assert app_client.get(url + query, headers=ann.headers).status_code == 422, query
    assert snapshot(db) == before


UNITS = {"per_box_minor": 0, "per_audio_second_minor": 0}


def test_rate_card_endpoints(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    stranger = make_user(db, "stranger")
    project = make_project(db, members={manager: "manager", ann: "annotator"})
    url = f"/api/v1/projects/{project}/rate-cards"
    created = app_client.post(url, json=RATE_CARD, headers=manager.headers)
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": 1,
        "project_id": project,
        "version": 1,
        "currency": "EUR",
        "card": {
            "currency": "EUR",
            "rates": [  # per box and per audio second: 0 unless the card prices them
                {"task_type": "*", "domain": "*", "tier": "*", "amount_minor": 5} | UNITS,
                {"task_type": "*", "domain": "medical", "tier": "*", "amount_minor": 12} | UNITS,
                {"task_type": "*", "domain": "*", "tier": "reviewer", "amount_minor": 7} | UNITS,
            ],
            "quality_multipliers_bp": {"label.accepted": 10000},
            "bonuses_minor": {"expert": 20, "review": 3},
            "reputation_multipliers": True,
        },
        "created_by": manager.id,
        "created_at": body["created_at"],
    }
    listed = app_client.get(url, headers=ann.headers)
    assert listed.status_code == 200
    assert listed.json() == [body]
    before = snapshot(db)
    assert app_client.post(url, json=RATE_CARD).status_code == 401
    assert app_client.post(url, json=RATE_CARD, headers=ann.headers).status_code == 403
    assert app_client.get(url, headers=stranger.headers).status_code == 403
    for bad, field in [
        ({**RATE_CARD, "currency": "euro"}, "currency"),
        ({**RATE_CARD, "rates": []}, "rates"),
        ({**RATE_CARD, "rates": [{"amount_minor": -1}]}, "rates.0.amount_minor"),
        ({**RATE_CARD, "quality_multipliers_bp": {"Bad Rule": 1}}, "quality_multipliers_bp"),
        ({**RATE_CARD, "surprise": 1}, "surprise"),
    ]:
        response = app_client.post(url, json=bad, headers=manager.headers)
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"]["field"] == field
    assert app_client.post(url, content=b"[", headers=manager.headers).status_code == 422
    assert snapshot(db) == before


def test_bonus_endpoint(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    manager, ann = make_user(db, "mgr", "manager"), make_user(db, "ann")
    project = make_project(db, members={manager: "manager", ann: "annotator"})
    make_rate_card(db, project)
    url = f"/api/v1/projects/{project}/bonuses"
    body = {"user_id": ann.id, "bonus": "review"}
    created = app_client.post(url, json=body, headers=manager.headers)
    assert created.status_code == 201
    assert created.json() == {"index": 0}
    before = snapshot(db)
    assert app_client.post(url, json=body).status_code == 401
    assert app_client.post(url, json=body, headers=ann.headers).status_code == 403
    for bad in ({"user_id": ann.id, "bonus": "gold"}, {"user_id": 0, "bonus": "x"}, {}):
        assert app_client.post(url, json=bad, headers=manager.headers).status_code == 422, bad
    assert snapshot(db) == before


def test_payout_endpoints(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    manager = make_user(db, "mgr", "manager")
    _paying_project(db, app_client, ann, n=2)
    created = app_client.post(
        "/api/v1/payouts", json={"currency": "EUR", "minimum_minor": 10}, headers=admin.headers
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": 1,
        "currency": "EUR",
        "total_minor": 10,
        "n_entries": 1,
        "created_by": admin.id,
        "created_at": body["created_at"],
    }
    assert app_client.get("/api/v1/payouts", headers=admin.headers).json() == [body]
    exported = app_client.get("/api/v1/payouts/1/export", headers=admin.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    pseudonym = contributor_pseudonym(str(ann.id), secret=keys.secret)
    root = _root_at(db, 3)  # the checkpoint the payout published over its entry 2
    assert exported.text.splitlines() == [
        "payout_id,entry_index,user_id,username,display_name,contributor,amount_minor,currency,"
        "tree_size,root_hash",
        f"1,2,{ann.id},ann,ann,{pseudonym},10,EUR,3,{root}",
    ]
    wallet = app_client.get("/api/v1/wallet", headers=ann.headers).json()
    assert wallet["balances"] == [
        {
            "currency": "EUR",
            "earned_minor": 10,
            "paid_out_minor": 10,
            "balance_minor": 0,
            "owed_back_minor": 0,
        }
    ]
    assert wallet["entries"][-1]["kind"] == "payout"
    assert wallet["entries"][-1]["payout_id"] == 1
    assert wallet["entries"][-1]["proof"] is not None  # a payout publishes a checkpoint
    before = snapshot(db)
    payload = {"currency": "EUR"}
    assert app_client.post("/api/v1/payouts", json=payload).status_code == 401
    assert (
        app_client.post("/api/v1/payouts", json=payload, headers=manager.headers).status_code == 403
    )
    assert app_client.get("/api/v1/payouts", headers=manager.headers).status_code == 403
    assert app_client.get("/api/v1/payouts/1/export", headers=ann.headers).status_code == 403
    assert app_client.get("/api/v1/payouts/9/export", headers=admin.headers).status_code == 404
    for bad in ({"currency": "eur"}, {"currency": "EUR", "minimum_minor": 0}, {}):
        response = app_client.post("/api/v1/payouts", json=bad, headers=admin.headers)
        assert response.status_code == 422, bad
    nothing = app_client.post("/api/v1/payouts", json=payload, headers=admin.headers)
    assert nothing.status_code == 409
    assert snapshot(db) == before


def test_correction_endpoint(app_client: TestClient, db: Database, keys: LedgerKeys) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    _paying_project(db, app_client, ann, n=1)
    url = "/api/v1/ledger/corrections"
    body = {"index": 0, "amount_minor": -2, "reason": "overpaid"}
    created = app_client.post(url, json=body, headers=admin.headers)
    assert created.status_code == 201
    assert created.json() == {"index": 1}
    entries = app_client.get("/api/v1/wallet", headers=ann.headers).json()["entries"]
    assert (entries[1]["kind"], entries[1]["corrects"], entries[1]["rule"]) == (
        "correction",
        0,
        "correction.overpaid",
    )
    before = snapshot(db)
    assert app_client.post(url, json=body).status_code == 401
    assert app_client.post(url, json=body, headers=ann.headers).status_code == 403
    for bad in (
        {**body, "amount_minor": 0},
        {**body, "reason": "Not Ok"},
        {**body, "index": -1},
        {"index": 0},
    ):
        assert app_client.post(url, json=bad, headers=admin.headers).status_code == 422, bad
    assert app_client.post(url, json={**body, "index": 7}, headers=admin.headers).status_code == 404
    assert snapshot(db) == before


def test_paying_projects_refuse_labels_without_keys(app_client: TestClient, db: Database) -> None:
    ann = make_user(db, "ann")
    project = make_project(db, members={ann: "annotator"})
    add_items(db, project, 1)
    make_rate_card(db, project)
    hold(db, ann, project, 1)
    before = snapshot(db)
    response = app_client.post(
        f"/api/v1/projects/{project}/items/1/labels",
        json={"answer": "call"},
        headers=ann.headers,
    )
    assert response.status_code == 409
    assert "LOUPE_KEY_DIR" in response.json()["error"]["message"]
    assert snapshot(db) == before


PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"


def _children(element: ET.Element) -> list[str]:
    return [child.tag.removeprefix(PAIN) for child in element]


def test_payout_file_endpoint_csv_and_pain001(
    app_client: TestClient, db: Database, keys: LedgerKeys
) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    _paying_project(db, app_client, ann, n=2)
    assert (
        app_client.post("/api/v1/payouts", json={"currency": "EUR"}, headers=admin.headers)
    ).status_code == 201
    root = _root_at(db, 3)
    url = "/api/v1/payouts/1/export"
    xml = app_client.get(url, params={"format": "pain001"}, headers=admin.headers)
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    document = ET.fromstring(xml.content)
    assert document.tag == f"{PAIN}Document"
    (initiation,) = document
    # The element order of the pain.001.001.09 schema (CustomerCreditTransferInitiationV09).
    assert _children(initiation) == ["GrpHdr", "PmtInf", "SplmtryData"]
    header, info = initiation[0], initiation[1]
    assert _children(header) == ["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]
    assert header.findtext(f"{PAIN}CtrlSum") == "0.10"
    assert _children(info) == [
        "PmtInfId",
        "PmtMtd",
        "NbOfTxs",
        "CtrlSum",
        "ReqdExctnDt",
        "Dbtr",
        "DbtrAcct",
        "DbtrAgt",
        "CdtTrfTxInf",
    ]
    (transfer,) = info.findall(f"{PAIN}CdtTrfTxInf")
    assert _children(transfer) == ["PmtId", "Amt", "Cdtr", "CdtrAcct", "RmtInf"]
    amount = transfer.find(f"{PAIN}Amt/{PAIN}InstdAmt")
    assert amount is not None
    assert (amount.text, amount.get("Ccy")) == ("0.10", "EUR")
    assert transfer.findtext(f"{PAIN}Cdtr/{PAIN}Nm") == "ann"
    assert transfer.findtext(f"{PAIN}CdtrAcct/{PAIN}Id/{PAIN}Othr/{PAIN}Id") == "NOTPROVIDED"
    assert transfer.findtext(f"{PAIN}RmtInf/{PAIN}Ustrd") == (
        f"Loupe payout 1 entry 2 log size 3 root {root}"
    )
    note = initiation.findtext(
        f"{PAIN}SplmtryData/{PAIN}Envlp/{{urn:loupe:ledger:checkpoint:1}}"
        "Checkpoint/{urn:loupe:ledger:checkpoint:1}SignedNote"
    )
    assert note is not None
    assert verify_checkpoint(note, keys.verifier_keys).root_hash.hex() == root
    csv = app_client.get(url, params={"format": "csv"}, headers=admin.headers)
    assert csv.status_code == 200
    assert csv.text.splitlines()[1].endswith(f",10,EUR,3,{root}")
    before = snapshot(db)
    assert app_client.get(url).status_code == 401
    assert app_client.get(url, headers=ann.headers).status_code == 403
    assert app_client.get("/api/v1/payouts/9/export", headers=admin.headers).status_code == 404
    for bad in ({"format": "pdf"}, {"format": ""}):
        assert app_client.get(url, params=bad, headers=admin.headers).status_code == 422, bad
    assert app_client.get("/api/v1/payouts/0/export", headers=admin.headers).status_code == 422
    with db.transaction() as session:
        session.execute(text("UPDATE ledger_entries SET delta_minor = -99 WHERE idx = 2"))
    tampered = app_client.get(url, params={"format": "pain001"}, headers=admin.headers)
    assert tampered.status_code == 409
    assert "entry 2" in tampered.json()["error"]["message"]
    assert snapshot(db) == before


def test_the_wallet_shows_what_is_owed_back(
    app_client: TestClient, db: Database, keys: LedgerKeys
) -> None:
    ann, admin = make_user(db, "ann"), make_user(db, "root", "admin")
    _paying_project(db, app_client, ann, n=2)
    app_client.post("/api/v1/payouts", json={"currency": "EUR"}, headers=admin.headers)
    with db.transaction() as session:
        cfg = LedgerConfig(keys=keys)
        earnings.decide_label(session, Actor.system(), cfg, 1, "label.rejected")
    wallet = app_client.get("/api/v1/wallet", headers=ann.headers).json()
    assert wallet["balances"] == [
        {
            "currency": "EUR",
            "earned_minor": 5,
            "paid_out_minor": 10,
            "balance_minor": -5,
            "owed_back_minor": 5,
        }
    ]
    sign_in(app_client, db, ann)
    page = app_client.get("/wallet")
    assert page.status_code == 200
    assert "owed back: 0.05 EUR" in page.text
    with db.transaction() as session:
        session.execute(text("UPDATE ledger_entries SET delta_minor = 500 WHERE idx = 0"))
    refused = app_client.get("/api/v1/wallet", headers=ann.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"index": 0, "columns": ["delta_minor"]}
