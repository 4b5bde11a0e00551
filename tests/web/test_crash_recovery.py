"""Kill the server (SIGKILL) in the middle of concurrent submissions, restart it:
every acknowledged label is there, none twice, and the dead run's leases expire
so their items come back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.factories import Person, add_items, make_project, make_user

from loupe.db.database import Database

LEASE_SECONDS = 2


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "LOUPE_DATABASE_URL": database_url,
        "LOUPE_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "loupe", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"server did not start: {log.read_text()}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.mark.slow
def test_sigkill_keeps_acknowledged_labels_and_frees_leases(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    people = [make_user(db, f"crash{i}") for i in range(4)]
    project = make_project(db, overlap=2, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 400)
    port = _port()
    base = f"http://127.0.0.1:{port}/api/v1"
    acknowledged: list[tuple[int, int, str]] = []  # (item, user, answer)
    leased: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def annotate(person: Person) -> None:
        with httpx.Client(base_url=base, headers=person.headers, timeout=5) as client:
            while not stop.is_set():
                try:
                    task = client.post(f"/projects/{project}/tasks/next").json()["task"]
                    if task is None:
                        return
                    with lock:
                        leased.add(task["item_id"])
                    answer = "call" if task["item_id"] % 2 else "music"
                    response = client.post(
                        f"/projects/{project}/items/{task['item_id']}/labels",
                        json={"answer": answer},
                    )
                    if response.status_code in (200, 201):
                        with lock:
                            acknowledged.append((task["item_id"], person.id, answer))
                except (httpx.TransportError, ValueError):
                    return  # the server died under us

    with server(database_url, port, tmp_path / "server.log") as process:
        threads = [threading.Thread(target=annotate, args=(p,)) for p in people]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        stop.set()
        for thread in threads:
            thread.join()
    assert len(acknowledged) >= 60

    with server(database_url, port, tmp_path / "server.log"):
        with db.engine.connect() as connection:
            stored = {
                (row[0], row[1]): row[2]
                for row in connection.execute(text("SELECT item_id, user_id, answer FROM labels"))
            }
            per_item = dict(
                connection.execute(
                    text("SELECT item_id, count(*) FROM labels GROUP BY item_id")
                ).all()
            )
        for item, user, answer in acknowledged:
            assert (item, user) in stored, f"acknowledged label for item {item} lost"
            value = stored[(item, user)]
            assert value in (answer, f'"{answer}"')
        assert max(per_item.values()) <= 2

        # Items leased by the dead run but not fully labelled come back once
        # their leases expire: a newcomer can label every one of them.
        newcomer = make_user(db, "newcomer")
        with db.transaction() as session:
            from loupe.services.access import Actor
            from loupe.services.projects import add_member

            add_member(session, Actor.system(), project, user_id=newcomer.id, role="annotator")
        pending = {item for item in leased if per_item.get(item, 0) < 2}
        time.sleep(LEASE_SECONDS + 0.5)
        offered: set[int] = set()
        with httpx.Client(base_url=base, headers=newcomer.headers, timeout=5) as client:
            for _ in range(len(pending) + 5):
                task = client.post(f"/projects/{project}/tasks/next").json()["task"]
                if task is None or task["item_id"] not in pending:
                    break
                offered.add(task["item_id"])
                client.post(f"/projects/{project}/tasks/{task['item_id']}/skip")
        assert pending <= offered | {i for i in pending if (i, newcomer.id) in stored}
