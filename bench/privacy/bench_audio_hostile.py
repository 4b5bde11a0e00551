"""CPU spent finding where the sound ends in crafted audio uploads (a denial of service).

    .venv/bin/python bench/privacy/bench_audio_hostile.py [--baseline /tmp/loupe-base/src]

Builds two FLAC files by hand (nothing read or downloaded): a valid STREAMINFO and first
frame header followed by 20 MiB of 0xFF bytes, and 5,000 copies of a last-frame header
whose CRC-8 is right, each followed by 300 zero bytes (6 MB). Each is handed to
``loupe.privacy.audio_frames.flac_sound_end``, which refuses both; the figure is the CPU
seconds it took. With ``--baseline SRC`` (a tree made by ``git archive <commit> src``) the
same files are timed in a subprocess on that tree first, then on this checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2] / "src"


def flac_head(total: int = 4096) -> bytes:
    """``fLaC`` and a STREAMINFO for 2 channels, 16 bits, 44.1 kHz, ``total`` samples."""
    info = bytearray(34)
    info[0:4] = (4096).to_bytes(2, "big") * 2  # min and max block
    info[10:18] = (44_100 << 44 | 1 << 41 | 15 << 36 | total).to_bytes(8, "big")
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + bytes(info)


def frame_header(crc8: object) -> bytes:
    head = bytes([0xFF, 0xF8, 0xC9, 0x18, 0])  # 4096 samples, 44.1 kHz, stereo, 16 bits
    return head + bytes([crc8(head, 0x07, 8)])  # type: ignore[operator]


def measure() -> None:
    from loupe.errors import InvalidInput
    from loupe.privacy import audio_frames

    head = flac_head()
    files = {
        "20 MiB of 0xFF after the first frame": head
        + frame_header(audio_frames._crc)
        + b"\xff" * (20 << 20),
        "5,000 fake last-frame headers (6 MB)": head
        + (frame_header(audio_frames._crc) + bytes(300)) * 5_000,
    }
    for name, data in files.items():
        started = time.process_time()
        try:
            audio_frames.flac_sound_end(data, len(head))
            verdict = "accepted"
        except InvalidInput:
            verdict = "refused"
        print(f"  {name}: {verdict} in {time.process_time() - started:.4f} CPU-s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure()
        return
    trees = [("this checkout", HERE)]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve()))
    for label, tree in trees:
        print(f"{label} ({tree}):", flush=True)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run([sys.executable, __file__, "--child"], env=env, check=True)


if __name__ == "__main__":
    main()
