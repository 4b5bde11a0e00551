"""Server CPU per labelling loop through the ASGI app, in one process, baseline against new.

    python bench/core/bench_asgi_loop.py                     # baseline /tmp/loupe-base2/src
    python bench/core/bench_asgi_loop.py --loops 2000 --rounds 3 --baseline-src OTHER/src

The app (``create_app``, SQLite with the default ``synchronous=FULL``, privacy gate off,
one annotator, a ten-choice project at overlap 1) is called directly with ASGI messages:
next task + submit, as the HTTP client sends them, so the figure is the app's CPU per
loop (``time.process_time``, every thread) without uvicorn's HTTP parsing or a client
on the same cores. Each tree runs in a child process of the same interpreter with
``PYTHONPATH`` set to it; baseline and new alternate (B N N B ...). Complements
``bench_http_loop.py`` (the real server under the peer workload), whose figures swing
with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def child(loops: int) -> None:
    """Run in the chosen tree: set up, warm up, then time ``loops`` loops."""
    import loupe
    from loupe.db.database import Database
    from loupe.formats import parse_item
    from loupe.services.access import Actor
    from loupe.services.compliance.privacy_settings import set_privacy
    from loupe.services.people import users
    from loupe.services.projects import definition, items
    from loupe.settings import Settings
    from loupe.web.app import create_app

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'loupe.db'}"
    db = Database(url)
    db.migrate()
    system = Actor.system()
    task = {"type": "single_choice", "labels": [{"key": k} for k in "abcdefghij"]}
    with db.transaction() as session:
        user = users.create_user(session, system, username="a", role="annotator")
        project = definition.create_project(session, system, name="p", config={"task": task})
        definition.add_member(session, system, project.id, user_id=user.id, role="annotator")
        set_privacy(session, system, project.id, gate=False)
        records = [
            parse_item({"id": i, "text": f"text {i}"}, where="bench", text_field="text")
            for i in range(loops + 200)
        ]
        items.insert_items(session, system, project.id, records)
        token = users.issue_token(session, system, user_id=user.id).secret
        project_id = project.id
    db.dispose()
    app = create_app(Settings(database_url=url, refit_interval_seconds=3600))
    auth = f"Bearer {token}".encode()

    async def call(path: str, body: bytes = b"") -> tuple[int, bytes]:
        headers = [(b"host", b"bench"), (b"authorization", auth)]
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError

        out: dict[str, Any] = {"body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            else:
                out["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return out["status"], out["body"]

    async def loop(n: int) -> None:
        for _ in range(n):
            status, body = await call(f"/api/v1/projects/{project_id}/tasks/next")
            assert status == 200, body
            item_id = json.loads(body)["task"]["item_id"]
            status, body = await call(
                f"/api/v1/projects/{project_id}/items/{item_id}/labels",
                json.dumps({"answer": "a", "lead_time_ms": 1200}).encode(),
            )
            assert status == 201, body

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await loop(100)  # warm-up
            cpu, wall = time.process_time(), time.perf_counter()
            await loop(loops)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            json.dumps(
                {
                    "tree": str(Path(loupe.__file__).parents[1]),
                    "cpu_ms_per_loop": round(1000 * cpu / loops, 3),
                    "wall_ms_per_loop": round(1000 * wall / loops, 3),
                }
            )
        )

    asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--baseline-src", type=Path, default=Path("/tmp/loupe-base2/src"))
    ap.add_argument("--new-src", type=Path, default=REPO / "src")
    ap.add_argument("--rounds", type=int, default=3, help="baseline/new pairs")
    ap.add_argument("--loops", type=int, default=1000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.loops)
        return
    if not (args.baseline_src / "loupe").is_dir():
        sys.exit(f"no baseline tree at {args.baseline_src}: see the docstring")
    trees = {"baseline": args.baseline_src.resolve(), "new": args.new_src.resolve()}
    seen: dict[str, list[float]] = {"baseline": [], "new": []}
    print(f"# {args.loops} loops per run; load average before: {os.getloadavg()[0]:.1f}")
    for r in range(args.rounds):
        for name in ("baseline", "new") if r % 2 == 0 else ("new", "baseline"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--loops", str(args.loops)],
                env={**os.environ, "PYTHONPATH": str(trees[name])},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            seen[name].append(result["cpu_ms_per_loop"])
            print(
                f"{name:<9} CPU {result['cpu_ms_per_loop']:.3f} ms/loop, wall "
                f"{result['wall_ms_per_loop']:.3f} ms/loop, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    base, new = sorted(seen["baseline"]), sorted(seen["new"])
    print(
        f"baseline {base[0]:.2f}-{base[-1]:.2f} ms/loop, new {new[0]:.2f}-{new[-1]:.2f} "
        f"ms/loop; new/baseline (medians) {new[len(new) // 2] / base[len(base) // 2]:.2f}"
    )


if __name__ == "__main__":
    main()
