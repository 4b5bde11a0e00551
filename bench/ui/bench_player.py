"""Benchmark the audio player's start: page load to "can play" and to the waveform drawn.

Run: ``.venv/bin/python bench/ui/bench_player.py`` (~2 minutes; needs Chromium at
/usr/bin/chromium and the playwright package). ``--runs 3`` for a quick look.
Results go to docs/benchmarks.md and docs/ui.md.

Set-up: the browser tests' server (``tests.browser.harness.serve``: uvicorn on loopback,
a fresh SQLite file, the blob store on local disk), one annotator with the voice
clearance, and per length (10 s and 60 s) a post-edit project with one item: a mono
16-bit 16 kHz WAV (a sine under noise, ``tests.browser.harness.wav``: 320 kB and 1.9 MB).
Every run is a fresh browser context (an empty HTTP cache), signed in through the form.

Timed in the page (``performance.now()``, milliseconds):

* **player**: the workspace opened (navigation start = 0) until the player's <audio>
  fires ``canplay`` (``data-ready-at``) and until the waveform is drawn
  (``data-waveform-at``: the file fetched again, ``decodeAudioData``, peaks, canvas);
  and the same two from the moment the player was made (``data-created-at``, after the
  page's scripts and ``/work/next``), which is what the player itself adds;
* **baseline**, in its own fresh context on the same site and file: a plain
  ``<audio controls>`` element with the same url, from its insertion until ``canplay``.

The figure is the median of ``--runs`` runs per length.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.browser.harness

from tests.browser.harness import (
    Site,
    add_audio_item,
    chromium,
    person,
    serve,
    sign_in,
    wav,
)
from tests.factories import Person, make_project

from loupe.services.access import Actor
from loupe.services.people.clearances import VOICE, grant_clearance

POST_EDIT = {
    "task": {"type": "free_text", "mode": "post_edit", "source_field": "transcript"},
    "text_field": "transcript",
    "media": ["audio"],
}
PLAYER_DONE = (
    "() => { const f = document.querySelector('#item-media .audio-player');"
    " return f && f.dataset.readyAt && f.dataset.waveformAt; }"
)
PLAYER_TIMES = (
    "() => { const f = document.querySelector('#item-media .audio-player');"
    " return [+f.dataset.createdAt, +f.dataset.readyAt, +f.dataset.waveformAt,"
    " f.dataset.waveform]; }"
)
BASELINE = """url => new Promise((resolve, reject) => {
  const audio = document.createElement('audio');
  audio.controls = true;
  audio.preload = 'auto';
  const started = performance.now();
  audio.addEventListener('canplay', () => resolve(performance.now() - started), { once: true });
  audio.addEventListener('error', () => reject(new Error('cannot load ' + url)));
  audio.src = url;
  document.body.append(audio);
})"""


def _project(site: Site, someone: Person, seconds: int) -> tuple[int, str]:
    project = make_project(
        site.db, name=f"player-{seconds}s", config=POST_EDIT, members={someone: "annotator"}
    )
    with site.db.transaction() as session:
        grant_clearance(
            session, Actor.system(), user_id=someone.id, project_id=project, sensitivity=VOICE
        )
    _, sha = add_audio_item(
        site,
        project,
        wav(seconds),
        external_id=f"r{seconds}",
        data={"transcript": "turn off the kitchen lights"},
        text_field="transcript",
    )
    return project, f"/api/v1/media/{sha}"


def _player_run(browser: Any, site: Site, someone: Person, project: int) -> list[float]:
    page = sign_in(browser, site, someone)
    try:
        page.goto(f"{site.url}/projects/{project}/work")
        page.wait_for_function(PLAYER_DONE, polling=10)
        created, ready, drawn, state = page.evaluate(PLAYER_TIMES)
        assert state == "drawn", state
        return [ready, drawn, ready - created, drawn - created]
    finally:
        page.context.close()


def _baseline_run(browser: Any, site: Site, someone: Person, url: str) -> float:
    page = sign_in(browser, site, someone)
    try:
        return float(page.evaluate(BASELINE, url))
    finally:
        page.context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per length (median)")
    parser.add_argument("--lengths", default="10,60", help="seconds of audio, comma-separated")
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]

    print(f"# bench_player: {platform.platform()}, {os.cpu_count()} cores")
    print(f"# load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"# median of {args.runs} runs, fresh browser context each; milliseconds")
    header = (
        f"{'audio':>6} {'bytes':>9} | {'load→canplay':>12} {'load→wave':>10} | "
        f"{'made→canplay':>12} {'made→wave':>10} | {'plain <audio> canplay':>21}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as site, chromium() as browser:
        someone = person(site, "bench-listener")
        for seconds in lengths:
            project, url = _project(site, someone, seconds)
            size = len(wav(seconds))
            player = [_player_run(browser, site, someone, project) for _ in range(args.runs)]
            base = [_baseline_run(browser, site, someone, url) for _ in range(args.runs)]
            med = [statistics.median(run[i] for run in player) for i in range(4)]
            print(
                f"{seconds:>5}s {size:>9,} | {med[0]:>12.1f} {med[1]:>10.1f} | "
                f"{med[2]:>12.1f} {med[3]:>10.1f} | {statistics.median(base):>21.1f}"
            )
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
