"""Cosigning the latest checkpoint with no transaction open while a witness answers.

Witnesses run in-process on loopback (:mod:`loupe.web.witness`); checkpoints are signed
automatically inside the label's transaction every ``checkpoint_every`` entries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.factories import (
    Person,
    add_items,
    hold,
    make_project,
    make_rate_card,
    make_user,
    pause_after,
    run_until_blocked,
)

from loupe.db.database import Database
from loupe.ledger.checkpoint import make_checkpoint, sign_checkpoint
from loupe.ledger.verify import verify_cosigned_checkpoint
from loupe.ledger.witness import Witness
from loupe.services.access import Actor
from loupe.services.labelling.labels import submit_label
from loupe.services.payments import witnesses
from loupe.services.payments.ledger_keys import LedgerConfig, LedgerKeys, init_keys
from loupe.services.payments.ledger_store import latest_checkpoint, list_checkpoints
from loupe.services.payments.witnesses import (
    MAX_ANSWER,
    WitnessEndpoint,
    cosign_latest,
    http_post,
    load_witnesses,
    pending_cosignatures,
    witness_progress,
)
from loupe.web.witness import witness_server

ORIGIN = "test.loupe/payments"


class Running:
    """A witness server on a free loopback port (listening once built)."""

    def __init__(self, witness: Witness, port: int = 0) -> None:
        self.witness = witness
        self.server: ThreadingHTTPServer = witness_server(witness, host="127.0.0.1", port=port)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()


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


def _endpoints(running: list[Running], tmp_path: Path) -> list[WitnessEndpoint]:
    path = tmp_path / "witnesses.conf"
    path.write_text("".join(f"{w.witness.verifier_key} {w.url}\n" for w in running))
    return load_witnesses(path)


class Labeller:
    """Ann labels the next item; every second entry signs a checkpoint in that transaction."""

    def __init__(self, db: Database, keys: LedgerKeys) -> None:
        self.db = db
        self.ann: Person = make_user(db, "ann")
        self.project = make_project(db, members={self.ann: "annotator"})
        add_items(db, self.project, 40)
        make_rate_card(db, self.project)
        self.config = LedgerConfig(keys, checkpoint_every=2)
        self.next_item = 1

    def label(self, n: int = 1) -> None:
        actor = Actor(user_id=self.ann.id, username="ann", role="annotator")
        for _ in range(n):
            item = self.next_item
            self.next_item += 1
            hold(self.db, self.ann, self.project, item)
            with self.db.transaction() as session:
                submit_label(session, actor, self.project, item, "call", ledger=self.config)


def _note(db: Database) -> str:
    with db.transaction(readonly=True) as session:
        record = latest_checkpoint(session)
    assert record is not None
    return record.note


def test_auto_signed_checkpoints_are_cosigned_from_the_last_cosigned_size(
    db: Database, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    endpoints = _endpoints(running, tmp_path)
    labeller = Labeller(db, keys)
    assert cosign_latest(db, endpoints).checkpoint is None  # nothing signed yet
    labeller.label(2)  # size 2: signed inside the second label's transaction
    done = cosign_latest(db, endpoints)
    assert [(o.name, o.cosigned, o.old_size) for o in done.outcomes] == [
        ("w1.example", True, 0),
        ("w2.example", True, 0),
    ]
    assert done.checkpoint is not None and done.checkpoint.note == _note(db)
    witness_keys = [w.witness.verifier_key for w in running]
    cosigned = verify_cosigned_checkpoint(
        _note(db), [keys.signer.verifier_key], witness_keys, quorum=2
    )
    assert cosigned.checkpoint.size == 2
    assert cosign_latest(db, endpoints).outcomes == ()  # nothing left: no witness is asked

    labeller.label(4)  # sizes 4 and 6 signed; only the latest needs cosigning
    done = cosign_latest(db, endpoints)
    assert [(o.cosigned, o.old_size) for o in done.outcomes] == [(True, 2), (True, 2)]
    assert [w.witness.state()[ORIGIN].size for w in running] == [6, 6]
    assert verify_cosigned_checkpoint(
        _note(db), [keys.signer.verifier_key], witness_keys, quorum=2
    ).cosigners == ("w1.example", "w2.example")
    with db.transaction(readonly=True) as session:
        progress = witness_progress(session, Actor.system(), endpoints)
        assert [c.size for c in list_checkpoints(session)] == [2, 4, 6]
    assert progress.checkpoint_size == 6
    assert [(w.cosigned_size, w.cosigned_latest) for w in progress.witnesses] == [
        (6, True),
        (6, True),
    ]


def test_a_witness_that_is_down_is_asked_again_once_it_is_back(
    db: Database, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    endpoints = _endpoints(running, tmp_path)
    labeller = Labeller(db, keys)
    running[1].stop()
    labeller.label(2)  # labelling does not wait on witnesses at all
    done = cosign_latest(db, endpoints)
    assert [(o.name, o.cosigned) for o in done.outcomes] == [
        ("w1.example", True),
        ("w2.example", False),
    ]
    assert (done.outcomes[1].error or "").startswith("unreachable")
    with db.transaction(readonly=True) as session:
        pending = pending_cosignatures(session, endpoints)
    assert pending is not None
    assert [(w.verifier.name, old) for w, old in pending.witnesses] == [("w2.example", 0)]

    back = Running(running[1].witness, port=running[1].port)  # same URL as configured
    try:
        labeller.label(2)
        done = cosign_latest(db, endpoints)
        # w1 goes on from size 2; w2 had never cosigned, so it starts from nothing.
        assert [(o.cosigned, o.old_size) for o in done.outcomes] == [(True, 2), (True, 0)]
        assert _note(db).count("\u2014 w2.example ") == 1
    finally:
        back.stop()


def test_a_split_view_is_refused_and_reported(
    db: Database, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    endpoints = _endpoints(running, tmp_path)
    # w1 already cosigned another tree of size 2 under the log's own key: a forked log.
    forged = sign_checkpoint(make_checkpoint(ORIGIN, 2, bytes(32)), [keys.signer])
    running[0].witness.add_checkpoint(old_size=0, proof=[], note=forged)
    Labeller(db, keys).label(2)
    done = cosign_latest(db, endpoints)
    refused, cosigned = done.outcomes
    assert not refused.cosigned and "split view" in (refused.error or "")
    assert refused.error is not None and refused.error.startswith("HTTP 409")
    assert cosigned.cosigned
    assert "\u2014 w1.example " not in _note(db)


def test_no_transaction_is_open_while_a_witness_answers(
    db: Database, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    """Regression: the witnesses were asked inside a write transaction, so on SQLite every
    label waited on them. Here a label is submitted while each witness is being asked."""
    endpoints = _endpoints(running, tmp_path)
    labeller = Labeller(db, keys)
    labeller.label(2)
    calls: list[str] = []

    def post(url: str, body: bytes) -> tuple[int, str, bytes]:
        labeller.label()  # would wait on the busy timeout and fail if a writer held the lock
        calls.append(url)
        return http_post(url, body)

    done = cosign_latest(db, endpoints, post=post)
    assert len(calls) == 2 and all(o.cosigned for o in done.outcomes)
    assert done.checkpoint is not None and done.checkpoint.size == 2
    assert labeller.next_item == 5


def test_skipped_witnesses_are_not_asked(
    db: Database, keys: LedgerKeys, running: list[Running], tmp_path: Path
) -> None:
    endpoints = _endpoints(running, tmp_path)
    Labeller(db, keys).label(2)
    done = cosign_latest(db, endpoints, skip={"w1.example"})
    assert [o.name for o in done.outcomes] == ["w2.example"]
    assert running[0].witness.state() == {}


@pytest.fixture
def hostile_witness() -> Iterator[tuple[str, list[str]]]:
    """A witness that redirects the log inward (``/redirect``) or answers 1 MiB
    (``/huge``); the inner service records what reaches it."""
    inner_hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            inner_hits.append(self.path)
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"inner service: secret")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path.startswith("/redirect"):
                self.send_response(303)
                self.send_header("Location", f"http://127.0.0.1:{port}/inner")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(500)
            self.send_header("Content-Length", str(2**20))
            self.end_headers()
            self.wfile.write(b"x" * 2**20)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", inner_hits
    server.shutdown()
    server.server_close()


def test_a_witness_cannot_redirect_the_log_or_flood_it(
    hostile_witness: tuple[str, list[str]],
) -> None:
    # Regression: urllib followed a 303 to wherever the witness pointed, and the inner
    # service's answer reached GET /ledger/witnesses (last_error); it read any size.
    url, inner_hits = hostile_witness
    status, _, body = http_post(f"{url}/redirect/add-checkpoint", b"old 0\n")
    assert (status, body, inner_hits) == (303, b"", [])
    with pytest.raises(OSError, match=f"over {MAX_ANSWER} bytes"):
        http_post(f"{url}/huge/add-checkpoint", b"old 0\n")


def test_two_servers_storing_cosignatures_at_once_keep_both(
    db: Database,
    keys: LedgerKeys,
    running: list[Running],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (PostgreSQL): each server read the checkpoint's note, appended the
    cosignatures it got and wrote the note back; the second to commit wrote over the
    first's, and a witness's cosignature was lost. Now the note is read locked."""
    endpoints = _endpoints(running, tmp_path)
    Labeller(db, keys).label(2)
    pause = pause_after(monkeypatch, witnesses, "add_cosignatures")  # written, not committed
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(cosign_latest, db, endpoints, skip={"w2.example"})
        assert pause.reached.wait(60)
        second = run_until_blocked(db, lambda: cosign_latest(db, endpoints, skip={"w1.example"}))
        pause.go.set()
        assert first.result(60).outcomes[0].cosigned
        assert second.result(60).outcomes[0].cosigned
    witness_keys = [w.witness.verifier_key for w in running]
    assert verify_cosigned_checkpoint(
        _note(db), [keys.signer.verifier_key], witness_keys, quorum=2
    ).cosigners == ("w1.example", "w2.example")
