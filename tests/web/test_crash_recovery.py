"""Kill the server (SIGKILL) in the middle of concurrent submissions, restart it:
every acknowledged label is there, none twice, and the dead run's leases expire
so their items come back."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.factories import Person, add_items, make_project, make_user
from tests.server_process import free_port, serve

from loupe.db.database import Database

LEASE_SECONDS = 2


@contextmanager
def server(database_url: str, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with serve(database_url, port, log, env={"LOUPE_LEASE_SECONDS": str(LEASE_SECONDS)}) as process:
        yield process


@pytest.mark.slow
def test_sigkill_keeps_acknowledged_labels_and_frees_leases(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    people = [make_user(db, f"crash{i}") for i in range(4)]
    project = make_project(db, overlap=2, members=dict.fromkeys(people, "annotator"))
    add_items(db, project, 400)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    acknowledged: list[tuple[int, int, str]] = []  # (item, user, answer)
    leased: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()
    enough = threading.Event()  # 60 labels acknowledged: time to kill the server

    def annotate(person: Person) -> None:
        # A generous timeout: a loaded machine is slow, and SIGKILL resets connections.
        with httpx.Client(base_url=base, headers=person.headers, timeout=60) as client:
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
                            if len(acknowledged) >= 60:
                                enough.set()
                except (httpx.TransportError, ValueError):
                    return  # the server died under us

    with server(database_url, port, tmp_path / "server.log") as process:
        threads = [threading.Thread(target=annotate, args=(p,)) for p in people]
        for thread in threads:
            thread.start()
        # Wait for the acknowledgements, not for a fixed time; stop early only if
        # every annotator has finished (then the assertion below says why).
        while not enough.wait(0.05) and any(thread.is_alive() for thread in threads):
            pass
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
            from loupe.services.projects.definition import add_member

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
