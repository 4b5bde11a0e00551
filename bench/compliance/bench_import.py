"""Measure `loupe import` items/s on 100k short utterances: gate off / on (1 worker) / on (pool)."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
modes = sys.argv[2].split(",") if len(sys.argv) > 2 else ["off", "1", "0"]
tmp = Path(tempfile.mkdtemp())
rng = random.Random(7)
verbs = ["call", "play", "navigate to", "text", "remind me to", "open", "turn on"]
objs = ["mum", "the jazz playlist", "home", "work", "the lights", "Maria", "dentist at 5"]
src = tmp / "u.jsonl"
with src.open("w") as f:
    for i in range(n):
        t = f"{rng.choice(verbs)} {rng.choice(objs)}"
        if i % 20 == 0:
            t += f" at +44 20 7946 {i % 10000:04d}"
        f.write(json.dumps({"id": f"u{i}", "text": t}) + "\n")
py = sys.executable
for mode in modes:
    db = tmp / f"{mode}.db"
    env = {
        **os.environ,
        "LOUPE_DATABASE_URL": f"sqlite:///{db}",
        "LOUPE_KEY_DIR": str(tmp / "keys"),
    }
    subprocess.run(
        [py, "-m", "loupe", "projects", "create", "p", "--labels", "a,b"],
        env=env,
        check=True,
        capture_output=True,
    )
    if mode == "off":
        code = (
            "from loupe.db.database import Database\nfrom loupe.services.compliance.privacy_settings import set_privacy\n"
            "from loupe.services.access import Actor\nimport os\n"
            "db=Database(os.environ['LOUPE_DATABASE_URL'])\n"
            "with db.transaction() as s: set_privacy(s, Actor.system(), 1, gate=False)\n"
        )
        subprocess.run([py, "-c", code], env=env, check=True)
        args = []
    else:
        args = ["--workers", mode]
    t0 = time.perf_counter()
    r = subprocess.run(
        [py, "-m", "loupe", "import", "p", str(src), *args], env=env, capture_output=True, text=True
    )
    dt = time.perf_counter() - t0
    print(
        f"mode={mode:>3} items={n} seconds={dt:.1f} items/s={n / dt:,.0f} cpus={os.cpu_count()} rc={r.returncode} {r.stdout.strip()[-80:]} {r.stderr.strip()[-200:] if r.returncode else ''}",
        flush=True,
    )
