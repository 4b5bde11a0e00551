"""Benchmark the wallet page: a contributor with 1,000 entries verifies them in Chromium.

Run: ``.venv/bin/python bench/ledger/bench_wallet.py`` (~2 minutes; needs Chromium at
/usr/bin/chromium and the playwright package). ``--repeats 3`` for a quick look.
Results go to docs/benchmarks-ledger.md.

Set-up: the browser tests' server (``tests.browser.harness.serve``: uvicorn on loopback,
a fresh SQLite file) with one witness in this process and the background cosigner on.
Maya earns ``--entries`` bonuses in one transaction, whose last entry signs the
checkpoint automatically (``ledger_checkpoint_every`` = the entry count); the benchmark
waits until the background loop has stored the witness's cosignature. Maya then signs
in through the form; her browser pins the keys on the first visit, and the quorum is set
to 1, so each verification checks the Ed25519 signature, the cosignature, consistency
with the last verified checkpoint and every inclusion proof (``static/wallet.js``,
``static/merkle.js``, Web Crypto).

Timed, wall-clock from Python (Playwright's round trips included, a few ms):

* **first page**: ``/wallet`` opened (server render of 100 entries with proofs, scripts
  loaded) until "Verify my entries" was clicked and the page says ``100 verified``;
* **all entries**: the same for every page (``Older entries →``, 100 a page) until all
  1,000 are verified, summed; and the verification alone (click to verdict) summed.

Baseline, in the same run: Python's ``loupe.ledger.verify`` on the same notes and proofs
(``verify_cosigned_checkpoint`` with quorum 1, then ``verify_inclusion`` per entry), for
100 and for 1,000 entries.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.browser.harness

from tests.browser.harness import chromium, person, serve, sign_in
from tests.factories import make_project, make_rate_card

from loupe.ledger.verify import (
    hash_leaf,
    verify_cosigned_checkpoint,
    verify_inclusion,
)
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.payments import ledger
from loupe.services.payments.earnings import grant_bonus
from loupe.services.payments.ledger_keys import LedgerConfig, init_keys, load_keys
from loupe.services.payments.ledger_store import latest_checkpoint
from loupe.web.witness import witness_server

ORIGIN = "test.loupe/payments"  # the harness's
SETTLED = (
    "['ok', 'bad'].some((c) => document.getElementById('checkpoint-status').classList.contains(c))"
)
TRUST = "loupe.wallet.trust"


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:,.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        keys = init_keys(directory / "keys", origin=ORIGIN)  # serve() keeps these
        witness = Witness.init(
            directory / "w1", name="w1.bench", log_keys=[keys.signer.verifier_key]
        )
        server = witness_server(witness, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        conf = directory / "witnesses.conf"
        conf.write_text(f"{witness.verifier_key} http://127.0.0.1:{server.server_address[1]}\n")
        os.environ["LOUPE_LEDGER_WITNESSES_FILE"] = str(conf)
        os.environ["LOUPE_LEDGER_COSIGN_INTERVAL_SECONDS"] = "0.1"
        try:
            with serve(directory) as site:
                run(site, witness.verifier_key, entries=args.entries, repeats=args.repeats)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def run(site: object, witness_key: str, *, entries: int, repeats: int) -> None:
    from tests.browser.harness import Site

    assert isinstance(site, Site)
    maya = person(site, "maya")
    project = make_project(site.db, members={maya: "annotator"})
    make_rate_card(site.db, project)
    keys = load_keys(site.settings.resolved_key_dir())
    config = LedgerConfig(keys, checkpoint_every=entries)  # the last bonus signs it
    with site.db.transaction() as session:
        for _ in range(entries):
            grant_bonus(session, Actor.system(), config, project, user_id=maya.id, bonus="review")
    started = time.perf_counter()
    while True:  # the background cosigner stores the witness's line
        with site.db.transaction(readonly=True) as session:
            record = latest_checkpoint(session)
        if record is not None and "\u2014 w1.bench " in record.note:
            break
        time.sleep(0.02)
    print(f"checkpoint of size {record.size} cosigned {time.perf_counter() - started:.2f} s later")

    # Baseline: Python's verifier on the same note and proofs.
    with site.db.transaction(readonly=True) as session:
        rows = ledger.user_entries(session, maya.id)
        proven = ledger.entries_with_proofs(session, rows, record.size)
    assert len(proven) == entries
    python: dict[int, list[float]] = {100: [], entries: []}
    for _ in range(repeats):
        for n in python:
            t0 = time.perf_counter()
            signed = verify_cosigned_checkpoint(
                record.note, list(keys.verifier_keys), [witness_key], quorum=1
            ).checkpoint
            for item in proven[:n]:
                assert item.proof is not None
                verify_inclusion(
                    hash_leaf(item.leaf),
                    item.index,
                    signed.size,
                    list(item.proof),
                    signed.root_hash,
                )
            python[n].append(time.perf_counter() - t0)

    first: list[float] = []
    full: list[float] = []
    clicks: list[float] = []
    with chromium() as browser:
        page = sign_in(browser, site, maya)
        page.goto(f"{site.url}/wallet")
        page.wait_for_function("document.body.dataset.walletReady === '1'")
        page.evaluate(  # the contributor requires one cosignature from the pinned witness
            f"(() => {{ const t = JSON.parse(localStorage.getItem('{TRUST}'));"
            f" t.quorum = 1; localStorage.setItem('{TRUST}', JSON.stringify(t)); }})()"
        )
        for _ in range(repeats):
            url = f"{site.url}/wallet"
            total = verify_total = 0.0
            verified = 0
            while url:
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_function("document.body.dataset.walletReady === '1'")
                t1 = time.perf_counter()
                page.get_by_role("button", name="Verify my entries").click()
                page.wait_for_function(SETTLED)
                t2 = time.perf_counter()
                status = page.locator("#checkpoint-status").inner_text()
                assert "cosigned by 1" in status and ", 0 failed" in status, status
                verified += int(status.rsplit("; ", 1)[1].split(" ")[0])
                if url.endswith("/wallet"):
                    first.append(t2 - t0)
                total += t2 - t0
                verify_total += t2 - t1
                older = page.locator("a", has_text="Older entries")
                url = f"{site.url}{older.get_attribute('href')}" if older.count() else ""
            assert verified == entries, verified
            full.append(total)
            clicks.append(verify_total)

    print(f"\n{entries:,} entries, 100 a page, quorum 1, median of {repeats}:")
    print(f"  Chromium, first page open -> '100 verified'        {_median_ms(first)}")
    print(f"  Chromium, all {entries:,} verified (every page), total  {_median_ms(full)}")
    print(f"    of which click -> verdict, summed over pages     {_median_ms(clicks)}")
    print(f"  baseline: Python verify, 100 entries               {_median_ms(python[100])}")
    print(
        f"  baseline: Python verify, {entries:,} entries             {_median_ms(python[entries])}"
    )


if __name__ == "__main__":
    main()
