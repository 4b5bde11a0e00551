"""The wallet page hands the browser what it needs to pin keys and check witnesses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from tests.factories import make_user
from tests.web.ui.signin import sign_in

from loupe.db.database import Database
from loupe.ledger.witness import CosignerSigner
from loupe.services.payments.ledger_keys import init_keys
from loupe.settings import Settings
from loupe.web.app import create_app

ORIGIN = "test.loupe/payments"


def _checkpoint_data(settings: Settings, db: Database) -> dict[str, object]:
    maya = make_user(db, "maya")
    with TestClient(create_app(settings)) as client:
        sign_in(client, db, maya)
        page = client.get("/wallet")
    assert page.status_code == 200
    assert 'id="keys-file"' in page.text and 'id="key-warning"' in page.text
    found = re.search(
        r'<script type="application/json" id="checkpoint-data">(.*?)</script>', page.text
    )
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_wallet_offers_the_servers_witness_keys_as_pin_candidates(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    keys = init_keys(tmp_path / "keys", origin=ORIGIN)
    witness = CosignerSigner.generate("union.example/w1")
    witnesses = tmp_path / "witnesses.txt"
    witnesses.write_text(f"# ours\n{witness.verifier_key} http://127.0.0.1:8700\n")
    settings = Settings(
        database_url=database_url,
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
        ledger_witnesses_file=witnesses,
    )
    data = _checkpoint_data(settings, db)
    assert data == {
        "note": None,
        "verifier_keys": [],
        "origin": ORIGIN,
        "witness_keys": [witness.verifier_key],
        "after": None,
        "limit": 100,
    }
    assert keys.verifier_keys  # no checkpoint yet: nothing to verify or pin


def test_a_broken_witnesses_file_does_not_take_the_wallet_down(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    init_keys(tmp_path / "keys", origin=ORIGIN)
    witnesses = tmp_path / "witnesses.txt"
    witnesses.write_text("not a key\n")
    settings = Settings(
        database_url=database_url,
        key_dir=tmp_path / "keys",
        ledger_origin=ORIGIN,
        ledger_witnesses_file=witnesses,
    )
    assert _checkpoint_data(settings, db)["witness_keys"] == []


def test_an_origin_with_markup_stays_inside_the_data_block(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    # The block was json.dumps(...) | safe: a "</script>" in the origin (a key name may
    # hold one) closed it early, put the rest into the page as markup and broke the
    # wallet's checks (the script could no longer parse its data).
    origin = "test.loupe/</script><img/src=x/class=pwn>"
    init_keys(tmp_path / "keys", origin=origin)
    settings = Settings(database_url=database_url, key_dir=tmp_path / "keys", ledger_origin=origin)
    data = _checkpoint_data(settings, db)
    assert data["origin"] == origin
