"""Finding where the sound ends costs bounded work whatever the file holds.

A crafted upload (25 MiB of 0xFF bytes after a FLAC stream, thousands of fake frame
headers, millions of empty RIFF chunks) used to cost seconds of CPU per file. The bounds
are checked by counting the work done, never by timing it.
"""

from __future__ import annotations

import struct

import pytest

from loupe.errors import InvalidInput
from loupe.privacy import audio_frames
from loupe.privacy.audio_frames import (
    MAX_CHUNKS,
    MAX_FLAC_TRIES,
    MAX_TRAILER,
    flac_sound_end,
    mp3_sound_end,
    riff_chunks,
)


def _flac_head(total: int = 4096) -> bytes:
    """``fLaC`` and a STREAMINFO for 2 channels, 16 bits, 44.1 kHz, ``total`` samples."""
    info = bytearray(34)
    info[0:4] = (4096).to_bytes(2, "big") * 2  # min and max block
    info[10:18] = (44_100 << 44 | 1 << 41 | 15 << 36 | total).to_bytes(8, "big")
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + bytes(info)


def _flac_frame_header(number: int = 0) -> bytes:
    """A frame header (4096 samples, 44.1 kHz, stereo, 16 bits) whose CRC-8 is right."""
    head = bytes([0xFF, 0xF8, 0xC9, 0x18, number])
    return head + bytes([audio_frames._crc(head, 0x07, 8)])


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(audio_frames, name)

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(audio_frames, name, counted)
    return calls


def test_a_flac_with_megabytes_of_ff_after_it_reads_no_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = _flac_head()
    data = head + _flac_frame_header() + b"\xff" * (4 * MAX_TRAILER)
    headers = _counting(monkeypatch, "_frame_header")
    with pytest.raises(InvalidInput, match="cannot find the end of the FLAC stream"):
        flac_sound_end(data, len(head))
    assert len(headers) == 1  # the first frame's, checked before the search


def test_a_flac_full_of_fake_last_frames_decodes_only_a_few(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = _flac_head()
    data = head + (_flac_frame_header() + bytes(300)) * 5_000
    frames = _counting(monkeypatch, "_frame_end")
    headers = _counting(monkeypatch, "_frame_header")
    with pytest.raises(InvalidInput, match="cannot find the end of the FLAC stream"):
        flac_sound_end(data, len(head))
    assert len(frames) == MAX_FLAC_TRIES
    assert len(headers) <= MAX_FLAC_TRIES + 1


def test_more_than_a_mebibyte_after_an_mp3s_frames_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = b"\xff\xfb\x90\x00" + bytes(413)  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
    assert audio_frames._mpeg_frame(frame, 0) is not None
    assert audio_frames._mpeg_frame(frame, 0)[0] == 417  # type: ignore[index]
    with pytest.raises(InvalidInput, match="not sound after the MP3's frames"):
        mp3_sound_end(frame * 3 + b"\xff" * (MAX_TRAILER + 1))
    assert mp3_sound_end(frame * 3 + b"\xff" * 1_000) == 3 * 417


def test_an_mp3_trailer_of_ff_bytes_starts_no_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = b"\xff\xfb\x90\x00" + bytes(413)
    candidates = _counting(monkeypatch, "_mpeg_frame")
    assert mp3_sound_end(frame * 2 + b"\xff" * MAX_TRAILER) == 2 * 417
    # The first frame, measured; the walk over two frames; the byte after them.
    assert len(candidates) == 4


def test_a_wav_of_endless_empty_chunks_is_refused() -> None:
    body = b"WAVE" + b"junk" + struct.pack("<I", 0)
    body += (b"none" + struct.pack("<I", 0)) * (MAX_CHUNKS + 1)
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    with pytest.raises(InvalidInput, match=f"more than {MAX_CHUNKS} RIFF chunks"):
        riff_chunks(data)
    assert len(riff_chunks(data[: 12 + 8 * 10])) == 10
