"""Audio privacy: check that bytes are a whole recording, and strip their tags.

Needs the ``loupe[audio]`` extra (``soundfile``, i.e. libsndfile, which decodes WAV,
FLAC, Ogg Vorbis/Opus and MP3; ``mutagen``, which reads and rewrites tags), except
:func:`audio_mime`, which only reads the first bytes (so that an import can tell an
audio file from an image and name the extra it needs).

A voice is biometric data, so the served audio is never "cleaned" the way an image is
pixelated: who may hear it is decided by a voice clearance
(:mod:`loupe.services.projects.media_views`). What this module removes is what a file says
*about* the recording besides the sound: tags (ID3 frames, Vorbis comments, RIFF
``LIST``/``INFO`` chunks, FLAC pictures and cue sheets) that can hold a name, a place, a
device serial or a cover picture, and whatever follows the sound (text or a tag a tool
appended after the last frame, page or chunk: decoders skip it, so nobody would notice it
being served; :mod:`loupe.privacy.audio_frames` finds where the sound ends). The audio
stream itself is copied byte for byte, never re-encoded (Ogg pages are renumbered by
mutagen around the emptied comment packet).

>>> import io, numpy as np, soundfile
>>> buffer = io.BytesIO()
>>> soundfile.write(buffer, np.zeros(16000, dtype=np.int16), 16000, format="WAV")
>>> probe_audio(buffer.getvalue())
AudioProbe(mime='audio/wav', duration_ms=1000, sample_rate=16000)
"""

from __future__ import annotations

import io
import re
import struct
from typing import NamedTuple

from loupe.errors import InvalidInput
from loupe.privacy.audio_frames import flac_sound_end, mp3_sound_end, ogg_sound_end, riff_chunks

__all__ = [
    "AUDIO_MIMES",
    "AUDIO_SUFFIXES",
    "MAX_DURATION_MS",
    "AudioProbe",
    "audio_mime",
    "probe_audio",
    "strip_audio_tags",
]

AUDIO_MIMES: dict[str, str] = {
    "WAV": "audio/wav",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",  # Vorbis or Opus inside
    "MP3": "audio/mpeg",
}
"""The accepted formats: libsndfile's format name -> MIME type of the served bytes."""
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3"})
"""File names a folder import takes as audio (case-insensitive)."""
MAX_DURATION_MS = 3_600_000
"""The longest recording accepted (one hour): a request to an assistant lasts seconds."""
_BLOCK = 1 << 16  # frames decoded per read when checking that a file decodes to its end
_SUPPORTED = "not a WAV, FLAC, Ogg (Vorbis or Opus) or MP3 file"


class AudioProbe(NamedTuple):
    """What :func:`probe_audio` read: the served type, length and sample rate."""

    mime: str
    duration_ms: int
    sample_rate: int


def _bad(problem: str) -> InvalidInput:
    return InvalidInput(problem, details={"problem": problem})


def _id3v2_size(data: bytes) -> int:
    """Bytes of an ID3v2 tag at the start of ``data`` (0 if none)."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def audio_mime(data: bytes) -> str | None:
    """The MIME type ``data`` claims by its first bytes (``None``: not an accepted format).

    >>> audio_mime(b"fLaC" + bytes(40))
    'audio/flac'
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return AUDIO_MIMES["WAV"]
    if data[:4] == b"OggS":
        head = data[:512]
        return AUDIO_MIMES["OGG"] if b"OpusHead" in head or b"\x01vorbis" in head else None
    skip = _id3v2_size(data)
    body = data[skip : skip + 4]
    if body == b"fLaC":
        return AUDIO_MIMES["FLAC"]
    if len(body) >= 2 and body[0] == 0xFF and body[1] & 0xE0 == 0xE0 and body[1] & 0x06:
        return AUDIO_MIMES["MP3"]  # an MPEG audio frame sync, layer I-III
    return None


def probe_audio(data: bytes, *, max_duration_ms: int = MAX_DURATION_MS) -> AudioProbe:
    """Check that ``data`` is a whole WAV, FLAC, Ogg Vorbis/Opus or MP3 recording at most
    ``max_duration_ms`` long that decodes to its end; its type, length and sample rate.
    :class:`InvalidInput` names the problem (empty, unsupported, corrupt, truncated, too
    long)."""
    if not data:
        raise _bad("the file is empty")
    mime = audio_mime(data)
    if mime is None:
        raise _bad(f"{_SUPPORTED} (unrecognised or corrupt header)")
    import soundfile  # here, so that :func:`audio_mime` works without the extra

    if mime == AUDIO_MIMES["WAV"]:
        names = [name for name, _, _ in riff_chunks(data)]
        if b"data" not in names or b"fmt " not in names:
            raise _bad("truncated or corrupt WAV: no 'fmt ' or 'data' chunk")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate, frames = int(sound.samplerate), int(sound.frames)
            if sound.format not in AUDIO_MIMES or AUDIO_MIMES[sound.format] != mime:
                raise _bad(f"{_SUPPORTED} (libsndfile reads it as {sound.format})")
            if rate <= 0 or frames <= 0:
                raise _bad("the recording holds no sound (no samples)")
            duration_ms = round(frames * 1000 / rate)
            if duration_ms > max_duration_ms:
                raise _bad(
                    f"the recording lasts {duration_ms / 1000:.0f} s, longer than the "
                    f"{max_duration_ms // 1000} s allowed; cut it"
                )
            decoded = 0
            if mime == AUDIO_MIMES["WAV"]:
                # Samples stored as they are: every chunk, 'data' included, was checked to
                # end within the file (riff_chunks), so a cut WAV is already refused.
                decoded = frames
            # Decoding to the end is the only way to find a cut or damaged compressed
            # stream: the headers of a truncated FLAC, Ogg or MP3 file look fine.
            while decoded < frames and (
                block := sound.read(_BLOCK, dtype="int16", always_2d=True).shape[0]
            ):
                decoded += block
    except InvalidInput:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, EOFError) as exc:
        raise _bad(f"corrupt or truncated audio ({str(exc).split(': ')[-1].strip()})") from None
    if decoded < frames * 0.99:
        raise _bad(f"truncated: {decoded} of {frames} samples decode")
    return AudioProbe(mime, duration_ms, rate)


def _strip_wav(data: bytes) -> bytes:
    # Keep the sound (fmt, data, and fact for compressed WAV); drop LIST/INFO, id3, bext,
    # iXML, cue, and any chunk a recorder or editor added.
    kept = [
        data[start - 8 : start + size] + (b"\x00" if size & 1 else b"")
        for name, start, size in riff_chunks(data)  # bytes after the RIFF are dropped
        if name in (b"fmt ", b"fact", b"data")
    ]
    body = b"WAVE" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _strip_flac(data: bytes) -> bytes:
    # Keep STREAMINFO (0) and SEEKTABLE (3); drop padding, application data, Vorbis
    # comments, cue sheets and pictures. A leading ID3v2 tag (non-standard) goes too.
    data = data[_id3v2_size(data) :]
    at, blocks = 4, []
    while True:
        if at + 4 > len(data):
            raise _bad("truncated FLAC metadata")
        header = data[at]
        size = int.from_bytes(data[at + 1 : at + 4], "big")
        if header & 0x7F in (0, 3):
            blocks.append(bytearray(data[at : at + 4 + size]))
        at += 4 + size
        if header & 0x80:
            break
    if not blocks or blocks[0][0] & 0x7F != 0:
        raise _bad("corrupt FLAC: the first metadata block is not STREAMINFO")
    for block in blocks:
        block[0] &= 0x7F
    blocks[-1][0] |= 0x80
    # Taggers also append ID3v1 and APEv2 tags after the frames, as on an MP3, and other
    # tools text: everything after the last frame goes.
    head = b"fLaC" + b"".join(bytes(block) for block in blocks)
    out = head + data[at:]
    return out[: flac_sound_end(out, len(head))]


def _strip_trailing_tags(data: bytes) -> bytes:
    """``data`` without a leading ID3v2 tag and trailing APEv2 and ID3v1 tags."""
    from mutagen.apev2 import delete as delete_ape
    from mutagen.id3 import delete as delete_id3

    buffer = io.BytesIO(data)
    # An APEv2 tag may sit before an ID3v1 tag, or after it: remove both until neither
    # is found (a few rounds at most; the result is checked by the caller).
    for _ in range(4):
        before = buffer.getvalue()
        buffer.seek(0)
        delete_ape(buffer)
        buffer.seek(0)
        delete_id3(buffer, delete_v1=True, delete_v2=True)
        if buffer.getvalue() == before:
            break
    return buffer.getvalue()


def _strip_ogg(data: bytes) -> bytes:
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    buffer = io.BytesIO(data[: ogg_sound_end(data)])  # one stream; nothing after its pages
    kind = OggOpus if b"OpusHead" in data[:512] else OggVorbis
    kind(buffer)  # raises on a broken stream
    buffer.seek(0)
    kind(buffer).delete(buffer)  # rewrites the comment packet empty
    return buffer.getvalue()


def _strip_mp3(data: bytes) -> bytes:
    out = _strip_trailing_tags(data)  # ID3v2 at the start, APEv2 and ID3v1 at the end
    return out[: mp3_sound_end(out)]  # and whatever else follows the last frame


# Tag headers that must not remain anywhere in a stripped FLAC, Ogg or MP3 file: mutagen
# reads (and removes) an ID3v2 tag at the start and APEv2/ID3v1 tags at the end only,
# while decoders skip an ID3v2 tag inside the stream or appended after it (ID3v2.4), or a
# Lyrics3 tag. Five bytes of an ID3v2 header (version 2-4, revision 0, no undefined flag
# bits) or eight of APEv2 turn up by chance in compressed audio far too rarely to matter.
_TAG_HEADERS = re.compile(
    rb"(?:ID3|3DI)[\x02-\x04]\x00[" + bytes(range(0, 256, 16)) + rb"]|APETAGEX|LYRICSBEGIN"
)


def _tag_headers_left(data: bytes, mime: str) -> list[str]:
    names = {b"ID3": "ID3v2", b"3DI": "ID3v2", b"APE": "APEv2", b"LYR": "Lyrics3"}
    found = sorted({names[m.group()[:3]] for m in _TAG_HEADERS.finditer(data)})
    if len(data) >= 128 and data[-128:-125] == b"TAG":
        found.append("ID3v1")
    if mime == AUDIO_MIMES["OGG"] and data.count(b"\x03vorbis") + data.count(b"OpusTags") > 1:
        found.append("a second comment packet")
    return found


def _tags_left(data: bytes) -> list[str]:
    import mutagen

    found = mutagen.File(io.BytesIO(data))
    tags = None if found is None else found.tags
    return [] if not tags else sorted({str(key) for key in tags.keys()})  # noqa: SIM118 - mutagen tags


def strip_audio_tags(data: bytes) -> bytes:
    """``data`` without its tags (ID3v1/v2, APEv2, Vorbis comments, RIFF chunks other than
    the sound, FLAC metadata other than STREAMINFO/SEEKTABLE) and without any byte after
    its last MPEG/FLAC frame, Ogg page or RIFF, the audio untouched. Fails closed:
    :class:`InvalidInput` if mutagen still reads a tag in the result, or bytes that are
    not sound sit between frames or pages (they cannot be cut off without the sound)."""
    mime = audio_mime(data)
    if mime is None:
        raise _bad(f"{_SUPPORTED} (unrecognised or corrupt header)")
    try:
        if mime == AUDIO_MIMES["WAV"]:
            out = _strip_wav(data)  # rebuilt from its sound chunks: nothing else is left
            left = _tags_left(out)
        else:
            strip = {AUDIO_MIMES["FLAC"]: _strip_flac, AUDIO_MIMES["OGG"]: _strip_ogg}
            out = strip.get(mime, _strip_mp3)(data)
            left = _tags_left(out) or _tag_headers_left(out, mime)
    except InvalidInput:
        raise
    except Exception as exc:  # mutagen's errors: a stream it cannot parse
        raise _bad(f"cannot remove the file's tags ({type(exc).__name__})") from None
    if left:
        raise _bad(f"tags remain after stripping ({', '.join(left[:5])})")
    return out
