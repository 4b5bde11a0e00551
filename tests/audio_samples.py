"""Recordings made at test time (numpy + soundfile), with tags written by mutagen."""

from __future__ import annotations

import io

import numpy as np

FORMATS: dict[str, tuple[str, str | None]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
SECRET = "Jane Doe, 12 Elm Street"  # what a tag must never carry out
TRAILER = b"Call Ana on +44 20 7946 0958"  # plain text a tool appended after the sound


def can_write(kind: str) -> bool:
    """Whether this libsndfile writes ``kind`` (MP3 needs libsndfile >= 1.1)."""
    import soundfile

    fmt, subtype = FORMATS[kind]
    return fmt in soundfile.available_formats() and (
        subtype is None or subtype in soundfile.available_subtypes(fmt)
    )


def tone(
    kind: str = "wav", *, seconds: float = 1.0, rate: int = 16_000, pitch: float = 440.0
) -> bytes:
    """A sine tone (``pitch`` Hz) of ``seconds`` at ``rate`` Hz, encoded as ``kind``."""
    import soundfile

    fmt, subtype = FORMATS[kind]
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def tagged(kind: str = "wav", **options: float) -> bytes:
    """:func:`tone` with tags naming :data:`SECRET` (ID3, Vorbis comments, RIFF INFO)."""
    data = tone(kind, **options)
    if kind == "wav":
        return _with_riff_info(data)
    buffer = io.BytesIO(data)
    if kind == "flac":
        from mutagen.flac import FLAC, Picture

        audio = FLAC(buffer)
        audio["ARTIST"] = SECRET
        picture = Picture()
        picture.data, picture.mime, picture.desc = b"\x89PNG fake", "image/png", SECRET
        audio.add_picture(picture)
        buffer.seek(0)
        audio.save(buffer)
    elif kind in ("ogg", "opus"):
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        cls = OggOpus if kind == "opus" else OggVorbis
        audio = cls(buffer)
        audio["ARTIST"] = SECRET
        buffer.seek(0)
        audio.save(buffer)
    else:
        from mutagen.apev2 import APEv2
        from mutagen.id3 import ID3, TIT2, TPE1

        tags = ID3()
        tags.add(TPE1(text=[SECRET]))
        tags.add(TIT2(text=["kitchen"]))
        tags.save(buffer)
        buffer.seek(0, io.SEEK_END)
        buffer.write(b"TAG" + SECRET.encode().ljust(125, b"\x00"))  # ID3v1 at the end
        ape = APEv2()
        ape["Artist"] = SECRET
        buffer.seek(0)
        ape.save(buffer)
    return buffer.getvalue()


def _with_riff_info(data: bytes) -> bytes:
    """Add a ``LIST``/``INFO`` chunk (IART = artist) and an ``id3 `` chunk to a WAV file."""
    import struct

    from mutagen.id3 import ID3, TPE1

    text = SECRET.encode() + b"\x00"
    text += b"\x00" * (len(text) & 1)
    info = b"INFO" + b"IART" + struct.pack("<I", len(text)) + text
    listing = b"LIST" + struct.pack("<I", len(info)) + info
    tags = ID3()
    tags.add(TPE1(text=[SECRET]))
    id3 = io.BytesIO()
    tags.save(id3)
    raw = id3.getvalue()
    raw += b"\x00" * (len(raw) & 1)
    chunk = b"id3 " + struct.pack("<I", len(raw)) + raw
    body = data[12:] + listing + chunk
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def with_trailer(data: bytes, trailer: bytes = TRAILER) -> bytes:
    """``data`` with ``trailer`` appended after its last frame, page or chunk (a WAV's RIFF
    size is left as it was: the bytes lie after the RIFF, as a careless tool writes them)."""
    return data + trailer
