"""The wallet trusts keys the browser pinned or the contributor imported, never the server's
word: a new log key, a rollback, a fork and a checkpoint short of the witness quorum are
reported in Chromium and never shown as verified (issue #14, pinned keys)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from tests.browser.harness import MARKS, ORIGIN, Site, chromium, person, serve, sign_in
from tests.factories import Person, make_project, make_rate_card

from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.payments.earnings import grant_bonus
from loupe.services.payments.ledger_keys import (
    SIGNER_FILE,
    VERIFIERS_FILE,
    ledger_config,
    load_keys,
)
from loupe.services.payments.ledger_store import add_cosignatures, latest_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS

TRUST = "loupe.wallet.trust"
SETTLED = (
    "['ok', 'bad'].some((c) => document.getElementById('checkpoint-status').classList.contains(c))"
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _project(site: Site, maya: Person) -> int:
    project = make_project(site.db, members={maya: "annotator"})
    make_rate_card(site.db, project)
    return project


def _pay(site: Site, maya: Person, project: int, n: int) -> None:
    """``n`` bonus entries; the test server signs a checkpoint after each."""
    config = ledger_config(site.settings)
    for _ in range(n):
        with site.db.transaction() as session:
            grant_bonus(session, Actor.system(), config, project, user_id=maya.id, bonus="review")


def _open_wallet(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/wallet")
    page.wait_for_function("document.body.dataset.walletReady === '1'")


def _verify(page: Page) -> str:
    page.get_by_role("button", name="Verify my entries").click()
    page.wait_for_function(SETTLED)
    return page.locator("#checkpoint-status").inner_text()


def _trust(page: Page) -> dict[str, Any]:
    stored = page.evaluate(f"localStorage.getItem('{TRUST}')")
    assert isinstance(stored, str)
    trust: dict[str, Any] = json.loads(stored)
    return trust


def _no_entry_verified(page: Page) -> bool:
    cells = page.locator("#entries tbody tr .verdict").all_inner_texts()
    return all("verified" not in cell for cell in cells)


def test_first_visit_pins_the_log_key_and_a_new_key_is_refused_loudly(
    browser: Browser, site: Site
) -> None:
    maya = person(site, "maya")
    project = _project(site, maya)
    _pay(site, maya, project, 2)
    keys = load_keys(site.settings.key_dir)
    page = sign_in(browser, site, maya)
    _open_wallet(page, site)
    trust = _trust(page)
    assert trust["log_keys"] == list(keys.verifier_keys)
    assert trust["source"] == "first visit"
    assert "Pinned (first visit)" in page.locator("#pinned-keys").inner_text()
    assert page.locator("#key-warning").is_hidden()
    status = _verify(page)
    assert "signature verified (Ed25519)" in status
    assert "2 verified, 0 failed" in status
    assert _trust(page)["last"]["size"] == 2

    # The server now presents (and signs with) a key of its own: a re-signed rewrite.
    rogue = NoteSigner.generate(ORIGIN)
    (site.settings.key_dir / SIGNER_FILE).write_text(rogue.to_key() + "\n")
    (site.settings.key_dir / VERIFIERS_FILE).write_text(rogue.verifier_key + "\n")
    _pay(site, maya, project, 1)
    _open_wallet(page, site)
    warning = page.get_by_role("alert")
    assert warning.is_visible()
    assert "log key(s) you have not pinned" in warning.inner_text()
    assert rogue.verifier_key in warning.inner_text()
    status = _verify(page)
    assert "Checkpoint failed" in status
    assert "no signature by a key you trust" in status
    assert "verified," not in status
    assert _no_entry_verified(page)
    trust = _trust(page)
    assert trust["log_keys"] == list(keys.verifier_keys)  # the pin did not move
    assert trust["last"]["size"] == 2


def test_rollback_and_forks_are_detected(browser: Browser, site: Site) -> None:
    maya = person(site, "maya")
    project = _project(site, maya)
    _pay(site, maya, project, 2)
    page = sign_in(browser, site, maya)
    _open_wallet(page, site)
    assert "2 verified, 0 failed" in _verify(page)

    # Growth is checked with the server's consistency proof against the remembered root.
    _pay(site, maya, project, 1)
    _open_wallet(page, site)
    status = _verify(page)
    assert "consistent with the checkpoint of 2 entries you verified before" in status
    assert "3 verified, 0 failed" in status
    assert _trust(page)["last"]["size"] == 3

    # A fork: a validly signed checkpoint of the same size with another root.
    keys = load_keys(site.settings.key_dir)
    forged = sign_checkpoint(make_checkpoint(ORIGIN, 3, b"\x07" * 32), [keys.signer])
    with site.db.transaction() as session:
        session.execute(
            text("UPDATE ledger_checkpoints SET note = :note WHERE size = 3"), {"note": forged}
        )
    _open_wallet(page, site)
    status = _verify(page)
    assert "fork: a checkpoint of 3 entries with another root" in status
    assert _no_entry_verified(page)

    # A rollback: the server shows an older checkpoint than the one this browser verified.
    with site.db.transaction() as session:
        session.execute(text("DELETE FROM ledger_checkpoints WHERE size = 3"))
    _open_wallet(page, site)
    status = _verify(page)
    assert "rollback: the server shows 2 entries" in status
    assert _no_entry_verified(page)
    assert _trust(page)["last"]["size"] == 3

    # A fork at an earlier size: the history this browser saw at size 1 is not a prefix of
    # the one the server extends now, so the consistency proof fails.
    page.evaluate(
        f"""() => {{ const t = JSON.parse(localStorage.getItem('{TRUST}'));
        t.last = {{size: 1, root: '{"ab" * 32}'}};
        localStorage.setItem('{TRUST}', JSON.stringify(t)); }}"""
    )
    _open_wallet(page, site)
    status = _verify(page)
    assert "fork: not consistent with the checkpoint of 1 entries" in status
    assert _no_entry_verified(page)


def test_imported_keys_require_the_witness_quorum(
    browser: Browser, site: Site, tmp_path: Path
) -> None:
    maya = person(site, "maya")
    project = _project(site, maya)
    _pay(site, maya, project, 2)
    keys = load_keys(site.settings.key_dir)
    witness = Witness.init(
        tmp_path / "w1", name="union.example/w1", log_keys=[keys.signer.verifier_key]
    )
    other = Witness.init(
        tmp_path / "w2", name="other.example/w2", log_keys=[keys.signer.verifier_key]
    )
    page = sign_in(browser, site, maya)
    _open_wallet(page, site)
    before = _trust(page)

    # A file that is not a keys file changes nothing.
    page.set_input_files(
        "#keys-file", files=[{"name": "junk.txt", "mimeType": "text/plain", "buffer": b"hello\n"}]
    )
    page.wait_for_function("document.getElementById('import-status').textContent !== ''")
    assert "Not imported" in page.locator("#import-status").inner_text()
    assert _trust(page) == before

    keys_file = (
        f"# from my union\n{keys.signer.verifier_key}\n"
        f"{witness.verifier_key} https://witness.union.example\nquorum 1\n"
    )
    page.set_input_files(
        "#keys-file",
        files=[{"name": "keys.txt", "mimeType": "text/plain", "buffer": keys_file.encode()}],
    )
    page.wait_for_function(
        "document.getElementById('import-status').textContent.startsWith('Imported')"
    )
    assert "1 log key(s) and 1 witness key(s)" in page.locator("#import-status").inner_text()
    trust = _trust(page)
    assert trust["log_keys"] == [keys.signer.verifier_key]
    assert trust["witness_keys"] == [witness.verifier_key]
    assert trust["quorum"] == 1
    assert trust["source"] == "imported from a file"

    # Signed by the log but not cosigned: not verified.
    status = _verify(page)
    assert "only 0 of your 1 witnesses cosigned" in status
    assert _no_entry_verified(page)

    # A cosignature by a witness the contributor did not choose does not count.
    with site.db.transaction() as session:
        record = latest_checkpoint(session)
        assert record is not None
        lines = other.add_checkpoint(old_size=0, proof=[], note=record.note, now=1700000000)
        add_cosignatures(session, record.id, lines)
    _open_wallet(page, site)
    assert "only 0 of your 1 witnesses cosigned" in _verify(page)

    with site.db.transaction() as session:
        record = latest_checkpoint(session)
        assert record is not None
        lines = witness.add_checkpoint(old_size=0, proof=[], note=record.note, now=1700000000)
        add_cosignatures(session, record.id, lines)
    _open_wallet(page, site)
    status = _verify(page)
    assert "cosigned by 1 of your 1 witnesses (union.example/w1)" in status
    assert "2 verified, 0 failed" in status
