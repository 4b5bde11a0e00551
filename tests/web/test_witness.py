"""The witness's HTTP endpoint (C2SP tlog-witness add-checkpoint), in-process on loopback."""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.ledger.checkpoint import NoteSigner, make_checkpoint, sign_checkpoint
from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.witness import Witness, format_add_checkpoint
from loupe.web.witness import witness_server

ORIGIN = "log.example/pay"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Witness, NoteSigner]]:
    signer = NoteSigner.generate(ORIGIN)
    witness = Witness.init(tmp_path / "w", name="w1", log_keys=[signer.verifier_key])
    server = witness_server(witness, host="127.0.0.1", port=0)  # listening once built
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", witness, signer
    server.shutdown()
    server.server_close()
    thread.join()


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read().decode()


def test_add_checkpoint_statuses(served: tuple[str, Witness, NoteSigner]) -> None:
    url, witness, signer = served
    log = MerkleLog(InMemoryTreeStore())
    log.append_many([b"a", b"b", b"c"])

    def note(size: int, key: NoteSigner = signer, root: bytes | None = None) -> str:
        return sign_checkpoint(make_checkpoint(ORIGIN, size, root or log.root(size)), [key])

    status, _, body = _post(url, format_add_checkpoint(0, [], note(2)))
    assert status == 200 and body.startswith("\u2014 w1 ") and body.endswith("\n")
    assert _post(url, format_add_checkpoint(0, [], note(3))) == (409, "text/x.tlog.size", "2\n")
    bad_proof = [bytes(32)]
    assert _post(url, format_add_checkpoint(2, bad_proof, note(3)))[0] == 422
    split = note(2, root=log.root(3))
    status, _, body = _post(url, format_add_checkpoint(2, [], split))
    assert status == 409 and "split view" in body
    assert _post(url, format_add_checkpoint(2, [], note(3, NoteSigner.generate(ORIGIN))))[0] == 403
    other = sign_checkpoint(make_checkpoint("other", 1, log.root(1)), [signer])
    assert _post(url, format_add_checkpoint(0, [], other))[0] == 404
    assert _post(url, b"old x\n\nnope")[0] == 400
    assert _post(url, format_add_checkpoint(3, [], note(2)))[0] == 400
    assert witness.state()[ORIGIN].size == 2  # no failure changed what it cosigned
    proof = list(log.prove_consistency(2, 3).path)
    assert _post(url, format_add_checkpoint(2, proof, note(3)))[0] == 200
    assert witness.state()[ORIGIN].size == 3


def test_absurd_sizes_and_lengths_are_400_not_a_dropped_connection(
    served: tuple[str, Witness, NoteSigner],
) -> None:
    """'old' with 5,000 digits, or a Content-Length that is not a number, raised a
    ValueError in the handler: a traceback on the witness's stderr and no answer."""
    url, witness, _ = served
    status, _, body = _post(url, b"old " + b"9" * 5000 + b"\n\nnote")
    assert status == 400 and "largest tree size" in body
    connection = http.client.HTTPConnection(url.removeprefix("http://"))
    connection.putrequest("POST", "/add-checkpoint")
    connection.putheader("Content-Length", "lots")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400
    connection.close()
    assert witness.state() == {}
