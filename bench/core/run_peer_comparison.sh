#!/usr/bin/env bash
# Loupe and Label Studio, back to back, same workload, same machine state (issue #18).
#
#   bash bench/core/run_peer_comparison.sh                  # default: 10k items, 1 and 8 clients, 20 s
#   bash bench/core/run_peer_comparison.sh --quick          # the peer runner's smoke workload
#   bash bench/core/run_peer_comparison.sh --concurrency 1,8,32 --duration 30   # any workload.py flags
#
# Order: Loupe, Label Studio, Loupe again (so drift in the machine's load shows up as a
# difference between the two Loupe runs). Both servers use SQLite on the same disk
# (WORK, default /tmp). Loupe runs with its default synchronous=FULL; Label Studio's
# SQLite settings are read back from its database file after its run and printed.
# Needs ../shared/peers/labelstudio and Label Studio in LSVENV (default /tmp/lsenv;
# run_all.sh there installs label-studio==1.23.2 if missing). Results:
# OUT (default /tmp/peer-comparison-<timestamp>), one workload.json per run, plus summary.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEERS=${PEERS:-$REPO/../shared/peers/labelstudio}
PY=${PY:-$REPO/.venv/bin/python}
LSVENV=${LSVENV:-/tmp/lsenv}
TS=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-/tmp/peer-comparison-$TS}
WORK=${WORK:-/tmp}
if [ "$#" -eq 0 ]; then set -- --import-sizes 10000 --concurrency 1,8 --duration 20; fi
[ -d "$PEERS" ] || { echo "skipped: $PEERS not found"; exit 0; }
mkdir -p "$OUT"
echo "$*" > "$OUT/workload_args.txt"

loupe_run() {  # $1: label
  echo "== Loupe ($1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
  TMPDIR=$WORK "$PY" "$HERE/run_workload.py" --tag "cmp-$TS-$1" -- "${ARGS[@]}"
  cp "$REPO/bench/results/core-cmp-$TS-$1/workload.json" "$OUT/loupe-$1.json"
}
ARGS=("$@")

loupe_run before
echo "== Label Studio, load: $(cut -d' ' -f1-3 /proc/loadavg)"
LSVENV=$LSVENV BENCHVENV=${BENCHVENV:-$REPO/.venv} WORK=$WORK/lsbench OUT=$OUT/labelstudio \
  bash "$PEERS/run_all.sh" "${ARGS[@]}"
cp "$OUT/labelstudio/workload.json" "$OUT/labelstudio.json"
# Label Studio's durability: journal mode is stored in the file; synchronous is
# per connection (SQLite default FULL unless Django/Label Studio sets it).
"$LSVENV/bin/python" - "$WORK/lsbench/data" > "$OUT/labelstudio-sqlite.json" <<'EOF'
import glob, json, sqlite3, sys
db = (glob.glob(sys.argv[1] + "/*.sqlite3") + glob.glob(sys.argv[1] + "/**/*.sqlite3", recursive=True))[0]
c = sqlite3.connect(db)
print(json.dumps({"db": db, "journal_mode": c.execute("PRAGMA journal_mode").fetchone()[0],
  "synchronous_default_connection": c.execute("PRAGMA synchronous").fetchone()[0],
  "sqlite": sqlite3.sqlite_version}))
EOF
cat "$OUT/labelstudio-sqlite.json"
loupe_run after

"$PY" - "$OUT" > "$OUT/summary.md" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| run | clients | loops/s | next p50 / p99 (ms) | items to >1 annotator | server CPU ms/loop | server busy cores | other procs busy cores | loadavg before |")
print("|---|---|---|---|---|---|---|---|---|")
for name in ("loupe-before", "labelstudio", "loupe-after"):
    f = out / f"{name}.json"
    if not f.exists():
        continue
    for r in json.loads(f.read_text())["phases"]["loops"]:
        print(f"| {name} | {r['concurrency']} | {r['loops_per_s']} | {r['next']['p50_ms']} / {r['next']['p99_ms']} "
              f"| {r['tasks_labeled_by_more_than_one_client']} | {r.get('server_cpu_ms_per_loop')} "
              f"| {r.get('server_busy_cores')} | {r.get('other_procs_busy_cores')} | {r.get('loadavg_before')} |")
EOF
cat "$OUT/summary.md"
echo "results in $OUT"
