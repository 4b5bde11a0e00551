"""The labelling loop over HTTP with 1, 2 and 4 Loupe server processes on one PostgreSQL,
directly and through PgBouncer in transaction mode.

    .venv/bin/python bench/core/bench_scaleout.py [--processes 1 2 4] [--clients 8]
        [--seconds 10] [--rounds 1] [--items 20000] [--overlap 2]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Each server process is a separate ``loupe serve`` on a port of its own (one uvicorn
worker each, ``LOUPE_DB_POOL_SIZE=8``, the re-fit and retrain loops off); each client is
a thread looping next task + submit over HTTP for ``--seconds``, its requests going to
the servers in turn, a client-side round robin standing in for a load balancer (a
task taken from one server is submitted to the next). A second process on another port
stands in for a second machine. Through PgBouncer (``pool_mode = transaction``, started
by the script on a free port) the servers run with ``LOUPE_DB_PREPARED_STATEMENTS=false``;
the "unprepared" cases run so directly, to tell what PgBouncer costs from what
planning every statement costs.

Every case starts from a copy of one template database (migrated, the annotators, the
project, ``--items`` items), so each measures the same queue. The 1-process, direct
case is the baseline. Printed per case: loops done and loops/s, next-task and submit
p50/p99, CPU per loop (user + system time from /proc: every server process; this
script's client threads; the PostgreSQL backends connected to the case's database at
the end, so a backend that ended during the run is missed: hence "connections ended",
PostgreSQL's count of connections closed meanwhile; PgBouncer),
failed requests, the load average, and the over-assignment check (items with
more labels, or labels and live leases, than the overlap; annotators with two labels on
one item), which must be 0. Needs PgBouncer (``apt-get install pgbouncer``) for the
PgBouncer cases; they are skipped, with a note, without it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the server and PgBouncer helpers the tests use

from tests.pgbouncer import installed, pgbouncer  # noqa: E402
from tests.server_process import free_port, serve  # noqa: E402

from loupe.db.database import Database  # noqa: E402
from loupe.services.access import Actor  # noqa: E402
from loupe.services.people import users  # noqa: E402
from loupe.services.projects import definition  # noqa: E402

TEMPLATE, CASE = "loupe_bench_scaleout_template", "loupe_bench_scaleout"
CONFIG = {"task": {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}}
SERVER_ENV = {
    "LOUPE_DB_POOL_SIZE": "8",  # the default; as many as clients, so none is reopened
    "LOUPE_REFIT_INTERVAL_SECONDS": "0",
    "LOUPE_RETRAIN_INTERVAL_SECONDS": "0",
}
TICKS = os.sysconf("SC_CLK_TCK")

OVER_ASSIGNED = """
SELECT
  (SELECT count(*) FROM items i WHERE i.label_count > p.overlap
     OR (SELECT count(*) FROM labels l WHERE l.item_id = i.id) > p.overlap
     OR i.label_count + (SELECT count(*) FROM assignments a WHERE a.item_id = i.id
          AND a.expires_at > now() AT TIME ZONE 'utc'
          AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = a.item_id
                          AND l.user_id = a.user_id)) > p.overlap)
  + (SELECT count(*) FROM (SELECT item_id, user_id FROM labels
                           GROUP BY item_id, user_id HAVING count(*) > 1) twice)
FROM projects p
"""


@dataclass
class Result:
    loops: int = 0
    failed: int = 0
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def template(url: str, args: argparse.Namespace) -> list[str]:
    """A migrated database with the project, its annotators and items; their tokens."""
    db = Database(url)
    db.migrate()
    system, tokens = Actor.system(), []
    with db.transaction() as session:
        project = definition.create_project(
            session, system, name="scaleout", config=CONFIG, overlap=args.overlap
        ).id
        for n in range(args.clients):
            user = users.create_user(session, system, username=f"a{n}", role="annotator")
            definition.add_member(session, system, project, user_id=user.id, role="annotator")
            tokens.append(users.issue_token(session, system, user_id=user.id).secret)
        session.execute(
            text(
                "INSERT INTO items (project_id, external_id, data, metadata, language, domain, "
                "sensitivity, withheld, min_level, label_count, is_complete, is_gold, "
                "created_at) SELECT :p, 'x' || g, jsonb_build_object('text', 'item ' || g), "
                "'{}', 'en', 'general', 'internal', false, 0, 0, false, false, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"p": project, "n": args.items},
        )
    db.dispose()
    return tokens


def fresh_case(admin: Engine) -> None:
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {CASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {CASE} TEMPLATE {TEMPLATE}"))


def _stats() -> Iterator[tuple[int, str, list[str]]]:
    """(process id, command name, the fields after it) of every process in /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, rest = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        yield int(entry.name), head.partition("(")[2], rest.split()


def cpu_seconds(groups: list[int]) -> float:
    """User + system seconds of every live process in the process groups ``groups``."""
    ticks = sum(
        int(fields[11]) + int(fields[12])  # utime, stime; fields[2] is the process group
        for _, _, fields in _stats()
        if int(fields[2]) in groups
    )
    return ticks / TICKS


def named_cpu_seconds(name: str) -> float:
    """User + system seconds of every process called ``name``."""
    return sum(process_cpu(name).values())


def process_cpu(name: str) -> dict[int, float]:
    """User + system seconds of each process called ``name``, by process id."""
    return {
        pid: (int(fields[11]) + int(fields[12])) / TICKS
        for pid, command, fields in _stats()
        if command == name
    }


def sessions(admin: Engine) -> int:
    """Connections to the case's database PostgreSQL has ended so far."""
    with admin.connect() as connection:
        ended = connection.execute(
            text("SELECT sessions FROM pg_stat_database WHERE datname = :name"), {"name": CASE}
        ).scalar_one_or_none()
        return int(ended or 0)


def backends_cpu(admin: Engine, before: dict[int, float]) -> float:
    """CPU seconds the PostgreSQL backends connected to the case's database used since
    ``before`` (other users of this PostgreSQL do not count)."""
    with admin.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": CASE}
        ).scalars()
        now = process_cpu("postgres")
        return sum(now.get(pid, 0.0) - before.get(pid, 0.0) for pid in pids)


def client(servers: list[str], token: str, offset: int, stop: float, result: Result) -> None:
    turns = itertools.islice(itertools.cycle(servers), offset, None)
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            reply = http.post(f"{next(turns)}/projects/1/tasks/next")
            took_next = (time.perf_counter() - started) * 1000
            task = reply.json().get("task") if reply.status_code == 200 else None
            if task is None:
                with result.lock:
                    result.failed += 1
                continue
            started = time.perf_counter()
            answer = http.post(
                f"{next(turns)}/projects/1/items/{task['item_id']}/labels", json={"answer": "a"}
            )
            took_submit = (time.perf_counter() - started) * 1000
            with result.lock:
                result.next_ms.append(took_next)
                if answer.status_code == 201:
                    result.loops += 1
                    result.submit_ms.append(took_submit)
                else:
                    result.failed += 1


@contextmanager
def servers(
    url: str, count: int, folder: Path, env: dict[str, str]
) -> Iterator[tuple[list[str], list[int]]]:
    """``count`` server processes on ``url``; yields their API addresses and process
    groups (each server is the leader of its own)."""
    with ExitStack() as stack:
        groups = []
        ports = [free_port() for _ in range(count)]
        for port in ports:
            process = stack.enter_context(
                serve(url, port, folder / f"server-{port}.log", env={**SERVER_ENV, **env})
            )
            groups.append(process.pid)
        yield [f"http://127.0.0.1:{port}/api/v1" for port in ports], groups


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run_case(
    admin: Engine, base: URL, via: str, count: int, tokens: list[str], args: argparse.Namespace
) -> dict[str, float]:
    fresh_case(admin)
    direct = base.set(database=CASE).render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="loupe-scaleout-"))
    env = {"LOUPE_KEY_DIR": str(folder / "keys")}
    with ExitStack() as stack:
        url = direct
        if via != "direct":
            env["LOUPE_DB_PREPARED_STATEMENTS"] = "false"
        if via == "pgbouncer":
            url = stack.enter_context(pgbouncer(direct, folder / "pgbouncer", pool_size=20))
        addresses, groups = stack.enter_context(servers(url, count, folder, env))
        result = Result()
        cpu_before = cpu_seconds(groups)
        postgres_before, sessions_before = process_cpu("postgres"), sessions(admin)
        pgbouncer_before = named_cpu_seconds("pgbouncer")
        clients_before = time.process_time()
        load_before = os.getloadavg()[0]
        stop = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(target=client, args=(addresses, token, n, stop, result))
            for n, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu = cpu_seconds(groups) - cpu_before
        clients_cpu = time.process_time() - clients_before
        postgres_cpu = backends_cpu(admin, postgres_before)
        reconnects = sessions(admin) - sessions_before
        pgbouncer_cpu = named_cpu_seconds("pgbouncer") - pgbouncer_before
        load_after = os.getloadavg()[0]
    engine = create_engine(direct)
    with engine.connect() as connection:
        over = int(connection.execute(text(OVER_ASSIGNED)).scalar_one())
    engine.dispose()
    return {
        "loops": result.loops,
        "loops_s": result.loops / args.seconds,
        "next_p50": pct(result.next_ms, 50),
        "next_p99": pct(result.next_ms, 99),
        "submit_p50": pct(result.submit_ms, 50),
        "submit_p99": pct(result.submit_ms, 99),
        "cpu_ms_loop": cpu * 1000 / max(result.loops, 1),
        "clients_ms_loop": clients_cpu * 1000 / max(result.loops, 1),
        "postgres_ms_loop": postgres_cpu * 1000 / max(result.loops, 1),
        "pgbouncer_ms_loop": pgbouncer_cpu * 1000 / max(result.loops, 1),
        "failed": result.failed,
        "reconnects": reconnects,
        "over": over,
        "load": (load_before + load_after) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    base = make_url(args.postgres)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    modes = ["direct", "unprepared", "pgbouncer"] if installed() else ["direct", "unprepared"]
    if "pgbouncer" not in modes:
        print("note: pgbouncer is not installed; only the direct cases run")
    print(f"cores: {os.cpu_count()}; clients: {args.clients}; {args.seconds:g} s per case")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in (CASE, TEMPLATE):
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    try:
        tokens = template(base.set(database=TEMPLATE).render_as_string(hide_password=False), args)
        cases = [(via, count) for count in args.processes for via in modes]
        pooled: dict[tuple[str, int], list[dict[str, float]]] = {case: [] for case in cases}
        for round_ in range(args.rounds):
            for via, count in cases if round_ % 2 == 0 else list(reversed(cases)):
                pooled[(via, count)].append(run_case(admin, base, via, count, tokens, args))
        baseline = statistics.fmean(r["loops_s"] for r in pooled[cases[0]])
        print(
            "| processes | via | loops/s | vs 1 | next p50 / p99 ms | submit p50 / p99 ms "
            "| CPU ms/loop: servers, clients, PostgreSQL, PgBouncer | connections ended "
            "| failed | over-assigned | load |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for via, count in cases:
            runs = pooled[(via, count)]

            def mean(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.fmean(r[key] for r in runs)

            print(
                f"| {count} | {via} | {mean('loops_s'):.0f} | {mean('loops_s') / baseline:.2f}x "
                f"| {mean('next_p50'):.1f} / {mean('next_p99'):.1f} "
                f"| {mean('submit_p50'):.1f} / {mean('submit_p99'):.1f} "
                f"| {mean('cpu_ms_loop'):.1f}, {mean('clients_ms_loop'):.1f}, "
                f"{mean('postgres_ms_loop'):.1f}, {mean('pgbouncer_ms_loop'):.1f} "
                f"| {sum(r['reconnects'] for r in runs):.0f} "
                f"| {sum(r['failed'] for r in runs):.0f} "
                f"| {sum(r['over'] for r in runs):.0f} | {mean('load'):.1f} |"
            )
        assert all(r["over"] == 0 for runs in pooled.values() for r in runs), "over-assigned"
    finally:
        with admin.connect() as connection:
            for name in (CASE, TEMPLATE):
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
