"""The annotator loop without HTTP: next task + submit through the services.

    .venv/bin/python bench/core/bench_service_loop.py [--loops 2000]

Prints loops/s for one thread on a fresh SQLite database (privacy gate off,
no rate card), the ceiling the HTTP server works against; compare with
bench/core/run_workload.py's figures (docs/benchmarks.md). It runs the loop twice
in the same process: on a project with no routing policy (the baseline) and on a
project whose routing needs a domain level, a language, a clearance and a
reputation bar (half its items medical), and prints the ratio — the cost of routing.
Then it runs the open project again on a database with ``synchronous=NORMAL``
(``LOUPE_SQLITE_SYNCHRONOUS=normal``) and prints what the default, power-loss-safe
``synchronous=FULL`` costs against it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from loupe.db.contributor_models import ContributorDomain, ContributorLanguage
from loupe.db.database import Database
from loupe.db.engine import Synchronous
from loupe.formats import parse_item
from loupe.services.access import Actor
from loupe.services.compliance.privacy_settings import set_privacy
from loupe.services.labelling.labels import submit_label
from loupe.services.labelling.tasks import next_task
from loupe.services.people import users
from loupe.services.people.clearances import grant_clearance
from loupe.services.projects import definition, items

ROUTING: dict[str, Any] = {
    "domain_levels": {"medical": 1},
    "match_language": True,
    "clearance_for": ["health"],
    "min_reputation": 0.5,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loops", type=int, default=2000)
    args = parser.parse_args()
    rates = run(args.loops, "full", ("open", "routed"))
    print(f"routing costs {1 - rates['routed'] / rates['open']:.0%} of the open project's rate")
    normal = run(args.loops, "normal", ("open",))
    print(
        f"synchronous=FULL (the default) runs at {rates['open'] / normal['open']:.0%} of "
        f"synchronous=NORMAL's rate ({rates['open']:,.0f} vs {normal['open']:,.0f} loops/s)"
    )


def run(loops: int, synchronous: Synchronous, names: tuple[str, ...]) -> dict[str, float]:
    """Loops/s per project on a fresh database with ``synchronous``."""
    db = Database(
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'loupe.db'}", sqlite_synchronous=synchronous
    )
    db.migrate()
    system = Actor.system()
    task = {"type": "single_choice", "labels": [{"key": "a"}, {"key": "b"}]}
    with db.transaction() as session:
        user = users.create_user(session, system, username="a", role="annotator")
        session.add(ContributorDomain(user_id=user.id, domain="medical", level=2, source="bench"))
        session.add(ContributorLanguage(user_id=user.id, language="en"))
        ids = {}
        configs = {"open": {"task": task}, "routed": {"task": task, "routing": ROUTING}}
        for name in names:
            config = configs[name]
            project = definition.create_project(session, system, name=name, config=config)
            definition.add_member(session, system, project.id, user_id=user.id, role="annotator")
            grant_clearance(
                session, system, user_id=user.id, project_id=project.id, sensitivity="health"
            )
            set_privacy(session, system, project.id, gate=False)
            records = [
                parse_item(
                    {
                        "id": i,
                        "text": f"call {i}",
                        "language": "en-GB",
                        "domain": "medical" if i % 2 else "general",
                    },
                    where="bench",
                    text_field="text",
                )
                for i in range(loops + 100)
            ]
            items.insert_items(session, system, project.id, records)
            ids[name] = project.id
    actor = Actor(user.id, "a", "annotator")

    def loop(project_id: int, n: int) -> None:
        for _ in range(n):
            with db.transaction() as session:
                found = next_task(session, actor, project_id, lease_seconds=60)
                assert found is not None
            with db.transaction() as session:
                submit_label(session, actor, project_id, found.item_id, "a")

    rates = {}
    for name, project_id in ids.items():
        loop(project_id, 50)  # warm-up
        started = time.perf_counter()
        loop(project_id, loops)
        elapsed = time.perf_counter() - started
        rates[name] = loops / elapsed
        print(
            f"{name:>6}, synchronous={synchronous.upper()}: {loops} loops in {elapsed:.2f} s: "
            f"{rates[name]:,.0f} loops/s, {elapsed / loops * 1000:.2f} ms per next-task + "
            "submit (services, one thread)"
        )
    db.dispose()
    return rates


if __name__ == "__main__":
    main()
