"""Entries after the newest witnessed checkpoint show as pending in the wallet, not failed,
and verify once the witnesses cosigned the next checkpoint (issue #14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.browser.harness import MARKS, Site, chromium, person, serve, sign_in
from tests.factories import Person, make_project, make_rate_card

from loupe.ledger.merkle import MerkleLog
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.payments.earnings import grant_bonus
from loupe.services.payments.ledger_keys import ledger_config, load_keys
from loupe.services.payments.ledger_store import SqlTreeStore, add_cosignatures, latest_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Page

pytestmark = MARKS

SETTLED = (
    "['ok', 'bad'].some((c) => document.getElementById('checkpoint-status').classList.contains(c))"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    # Read per request: the file is written once the log key exists. No background loop:
    # the test cosigns itself.
    monkeypatch.setenv("LOUPE_LEDGER_WITNESSES_FILE", str(tmp_path / "witnesses.conf"))
    monkeypatch.setenv("LOUPE_LEDGER_COSIGN_INTERVAL_SECONDS", "0")
    with serve(tmp_path / "site") as running:
        yield running


def _pay(site: Site, maya: Person, project: int) -> None:
    """One bonus entry; the test server signs a checkpoint after each."""
    with site.db.transaction() as session:
        grant_bonus(
            session,
            Actor.system(),
            ledger_config(site.settings),
            project,
            user_id=maya.id,
            bonus="review",
        )


def _cosign(site: Site, witness: Witness, old_size: int) -> None:
    with site.db.transaction() as session:
        record = latest_checkpoint(session)
        assert record is not None
        proof: list[bytes] = []
        if 0 < old_size < record.size:
            log = MerkleLog(SqlTreeStore(session))
            proof = list(log.prove_consistency(old_size, record.size).path)
        lines = witness.add_checkpoint(old_size=old_size, proof=proof, note=record.note)
        add_cosignatures(session, record.id, lines)


def _verify(page: Page) -> str:
    page.goto(page.url)
    page.wait_for_function("document.body.dataset.walletReady === '1'")
    page.get_by_role("button", name="Verify my entries").click()
    page.wait_for_function(SETTLED)
    return page.locator("#checkpoint-status").inner_text()


def test_entries_after_the_witnessed_checkpoint_are_pending_not_failed(
    browser: Browser, site: Site, tmp_path: Path
) -> None:
    assert site.settings.key_dir is not None
    keys = load_keys(site.settings.key_dir)
    witness = Witness.init(
        tmp_path / "w1", name="union.example/w1", log_keys=[keys.signer.verifier_key]
    )
    (tmp_path / "witnesses.conf").write_text(f"{witness.verifier_key} http://127.0.0.1:9\n")
    maya = person(site, "maya")
    project = make_project(site.db, members={maya: "annotator"})
    make_rate_card(site.db, project)
    _pay(site, maya, project)
    _pay(site, maya, project)
    _cosign(site, witness, 0)  # the checkpoint of 2 entries
    _pay(site, maya, project)  # signed at 3, not cosigned yet

    page = sign_in(browser, site, maya)
    page.goto(f"{site.url}/wallet")
    page.wait_for_function("document.body.dataset.walletReady === '1'")
    keys_file = f"{keys.signer.verifier_key}\n{witness.verifier_key}\nquorum 1\n"
    upload: FilePayload = {
        "name": "keys.txt",
        "mimeType": "text/plain",
        "buffer": keys_file.encode(),
    }
    page.set_input_files("#keys-file", files=[upload])
    page.wait_for_function(
        "document.getElementById('import-status').textContent.startsWith('Imported')"
    )
    status = _verify(page)
    assert "Checkpoint of 2 entries" in status
    assert "cosigned by 1 of your 1 witnesses" in status
    assert "2 verified, 1 pending (not yet covered by a witnessed checkpoint" in status
    assert "0 failed" in status
    last = page.locator("#entries tbody tr").nth(2).locator(".verdict")
    assert last.inner_text() == "pending: not yet covered by a witnessed checkpoint"
    assert "pending" in (last.get_attribute("class") or "")
    assert "bad" not in (last.get_attribute("class") or "")

    _cosign(site, witness, 2)
    status = _verify(page)
    assert "Checkpoint of 3 entries" in status
    assert "consistent with the checkpoint of 2 entries you verified before" in status
    assert "3 verified, 0 failed" in status
