"""Audio ingest on one core: files/s and audio-seconds/s through the real import service.

    .venv/bin/python bench/privacy/bench_audio_ingest.py [--files 100] [--seconds 10]

Each run imports ``--files`` rows into a fresh SQLite database through
:func:`loupe.services.projects.imports.import_stream` with the CLI's media reader
(:class:`loupe.services.projects.media_sources.LocalMedia`), the privacy gate on and a key directory, so
every file is read twice (probe, then ingest), decoded to its end
(:func:`loupe.privacy.audio.probe_audio`), stripped of its tags, sealed under its
subject's key and written to the local blob store; the item's text passes the text gate.
The recordings are made here: ``--seconds`` of 16 kHz mono speech-like signal (a few
tones with a syllable-rate envelope and noise; seeded), each file different, tagged with
an artist and a title, as WAV (PCM 16), FLAC and, when this libsndfile writes it, MP3.

Baseline in the same run: the same rows without audio (a text-only import, same text,
same gate). The process is pinned to one CPU (``sched_setaffinity``) and the database
and media live in a temporary folder. Printed: per format the wall time, files/s,
audio-seconds/s, ms per file and the ms the audio adds over the text-only baseline, plus
the pure probe + strip time per file (no database, no sealing) for comparison.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import soundfile

from loupe.db.database import Database
from loupe.privacy.audio import probe_audio, strip_audio_tags
from loupe.services.access import Actor
from loupe.services.compliance.gate import gate_for
from loupe.services.projects import definition
from loupe.services.projects.imports import import_stream
from loupe.services.projects.media import MediaIngest
from loupe.services.projects.media_sources import LocalMedia
from loupe.settings import Settings
from loupe.storage import LocalBlobStore

RATE = 16_000
SCHEMA = {
    "task": {"type": "single_choice", "labels": [{"key": "weather"}, {"key": "music"}]},
    "media": ["audio"],
}
FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III")}
REQUESTS = ["what is the weather in Lyon", "play some jazz", "call my sister", "turn on the lights"]


def speechlike(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = rng.uniform(90, 220)
    voice = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in (1, 2, 3, 4))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t)  # ~4 syllables/s
    signal = 0.2 * voice * envelope + 0.01 * rng.standard_normal(t.size)
    return np.clip(signal, -1, 1).astype(np.float32)


def encode(samples: np.ndarray, kind: str) -> bytes:
    from mutagen.id3 import ID3, TIT2, TPE1

    fmt, subtype = FORMATS[kind]
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, RATE, format=fmt, subtype=subtype)
    if kind == "flac":
        from mutagen.flac import FLAC

        buffer.seek(0)
        tags = FLAC(buffer)
        tags["ARTIST"], tags["TITLE"] = "Jane Doe", "kitchen"
        buffer.seek(0)
        tags.save(buffer)
    else:  # an ID3 tag (a WAV carries it in an 'id3 ' chunk when written by mutagen)
        from mutagen.wave import WAVE

        buffer.seek(0)
        if kind == "wav":
            wave = WAVE(buffer)
            wave.add_tags()
            wave.tags.add(TPE1(text=["Jane Doe"]))  # type: ignore[union-attr]
            buffer.seek(0)
            wave.save(buffer)
        else:
            id3 = ID3()
            id3.add(TPE1(text=["Jane Doe"]))
            id3.add(TIT2(text=["kitchen"]))
            id3.save(buffer)
    return buffer.getvalue()


def can_write(kind: str) -> bool:
    fmt, subtype = FORMATS[kind]
    return fmt in soundfile.available_formats() and subtype in soundfile.available_subtypes(fmt)


def run_import(root: Path, name: str, rows: list[dict[str, str]]) -> float:
    folder = root / name
    folder.mkdir(exist_ok=True)
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = Settings(
        database_url=f"sqlite:///{folder / 'loupe.db'}",
        key_dir=root / "keys",
        media_dir=folder / "media",
        model_dir=folder / "models",
    )
    db = Database(settings.database_url)
    db.migrate()
    with db.transaction() as session:
        project = definition.create_project(
            session, Actor.system(), name="voice", config=SCHEMA, overlap=1
        ).id

    @contextmanager
    def reopen() -> Iterator[IO[str]]:
        with path.open(encoding="utf-8") as stream:
            yield stream

    media = MediaIngest(LocalMedia(folder, settings), settings, LocalBlobStore(folder / "media"))
    with gate_for(settings) as gate:
        start = time.perf_counter()
        result = import_stream(
            db, Actor.system(), project, reopen=reopen, fmt="jsonl", gate=gate, media=media
        )
        elapsed = time.perf_counter() - start
    db.dispose()
    assert result.created == len(rows), result
    return elapsed


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"before: {load()}; pinned to 1 CPU; {args.files} files x {args.seconds:g} s, 16 kHz")
    root = Path(tempfile.mkdtemp(prefix="bench-audio-"))
    texts = [REQUESTS[i % len(REQUESTS)] + f" number {i}" for i in range(args.files)]
    baseline_rows = [{"id": f"t{i}", "text": text} for i, text in enumerate(texts)]
    base = run_import(root, "text", baseline_rows)
    print(
        f"text-only baseline: {base:.2f} s, {args.files / base:.1f} items/s, "
        f"{1000 * base / args.files:.1f} ms/item"
    )
    for kind in FORMATS:
        if not can_write(kind):
            print(f"{kind}: skipped (this libsndfile cannot write it; MP3 needs >= 1.1)")
            continue
        folder = root / kind
        folder.mkdir()
        rows = []
        sizes = 0
        for i in range(args.files):
            data = encode(speechlike(args.seconds, seed=i), kind)
            sizes += len(data)
            (folder / f"{i:04d}.{kind}").write_bytes(data)
            rows.append({"id": f"{kind}{i}", "audio": f"{i:04d}.{kind}", "text": texts[i]})
        sample = (folder / f"0000.{kind}").read_bytes()
        start = time.perf_counter()
        for _ in range(10):
            strip_audio_tags(sample)
            probe_audio(sample)
        pure = (time.perf_counter() - start) / 10
        took = run_import(root, kind, rows)
        audio_seconds = args.files * args.seconds
        print(
            f"{kind}: {took:.2f} s, {args.files / took:.1f} files/s, "
            f"{audio_seconds / took:,.0f} audio-s/s, {1000 * took / args.files:.1f} ms/file "
            f"(+{1000 * (took - base) / args.files:.1f} ms over text-only), "
            f"{sizes / args.files / 1024:.0f} KiB/file; probe+strip alone "
            f"{1000 * pure:.1f} ms/file"
        )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
