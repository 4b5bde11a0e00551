"""A live ``loupe serve`` per test module, on a fresh SQLite database with ledger keys,
an admin, a manager, an annotator and an auditor (``tests/server_process.py`` waits for
readiness; nothing waits on a fixed deadline)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.client.live import ORIGIN, LiveServer
from tests.factories import make_user
from tests.server_process import free_port, serve

from loupe.db.database import Database
from loupe.services.payments.ledger_keys import init_keys


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{directory / 'loupe.db'}"
    keys = init_keys(directory / "keys", origin=ORIGIN)
    db = Database(url)
    db.migrate()
    admin = make_user(db, "admin", "admin")
    manager = make_user(db, "maya", "manager")
    annotator = make_user(db, "ana", "annotator")
    auditor = make_user(db, "aud", "auditor")
    db.dispose()
    env = {
        "LOUPE_KEY_DIR": str(directory / "keys"),
        "LOUPE_MODEL_DIR": str(directory / "models"),
        "LOUPE_LEDGER_ORIGIN": ORIGIN,
        "LOUPE_LEDGER_CHECKPOINT_EVERY": "1",
        "LOUPE_REFIT_INTERVAL_SECONDS": "0",
    }
    port = free_port()
    with serve(url, port, directory / "server.log", env=env):
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            directory=directory,
            admin=admin,
            manager=manager,
            annotator=annotator,
            auditor=auditor,
            verifier_keys=tuple(keys.verifier_keys),
        )
