"""Audio probing and tag stripping: whole recordings only, no tag survives, the sound is
untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest

soundfile = pytest.importorskip("soundfile", reason="the audio extra is not installed")
mutagen = pytest.importorskip("mutagen", reason="the audio extra is not installed")

from tests.audio_samples import FORMATS, SECRET, can_write, tagged, tone  # noqa: E402

from loupe.errors import InvalidInput  # noqa: E402
from loupe.privacy.audio import (  # noqa: E402
    AUDIO_MIMES,
    AudioProbe,
    audio_mime,
    probe_audio,
    strip_audio_tags,
)

KINDS = [
    pytest.param(
        kind,
        marks=pytest.mark.skipif(
            not can_write(kind), reason=f"this libsndfile cannot write {kind} (MP3 needs >= 1.1)"
        ),
    )
    for kind in FORMATS
]
MIMES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg",
         "mp3": "audio/mpeg"}  # fmt: skip


def samples(data: bytes) -> np.ndarray:
    decoded, _ = soundfile.read(io.BytesIO(data), dtype="int16")
    return np.asarray(decoded)


@pytest.mark.parametrize("kind", KINDS)
def test_probe_reads_type_duration_and_sample_rate(kind: str) -> None:
    rate = 48_000 if kind == "opus" else 16_000  # Opus decodes at 48 kHz
    found = probe_audio(tone(kind, seconds=2.5, rate=rate))
    assert found.mime == MIMES[kind] and found.sample_rate == rate
    assert abs(found.duration_ms - 2500) <= 60  # MP3/Opus frames pad a few ms
    assert found.mime in AUDIO_MIMES.values()


def test_probe_knows_an_exact_wav() -> None:
    assert probe_audio(tone("wav", seconds=1.0, rate=8000)) == AudioProbe("audio/wav", 1000, 8000)


@pytest.mark.parametrize("kind", KINDS)
def test_tags_are_stripped_and_the_sound_is_untouched(kind: str) -> None:
    data = tagged(kind)
    assert SECRET.encode() in data
    assert mutagen.File(io.BytesIO(data)).tags  # the fixture really carries tags
    out = strip_audio_tags(data)
    assert SECRET.encode() not in out
    assert not mutagen.File(io.BytesIO(out)).tags
    assert np.array_equal(samples(out), samples(data))
    assert probe_audio(out) == probe_audio(data)
    assert strip_audio_tags(out) == out  # idempotent


def test_a_wav_keeps_only_its_sound_chunks() -> None:
    out = strip_audio_tags(tagged("wav"))
    assert b"LIST" not in out and b"id3 " not in out and b"INFO" not in out
    assert int.from_bytes(out[4:8], "little") == len(out) - 8


def test_a_flac_loses_its_comments_and_pictures() -> None:
    from mutagen.flac import FLAC

    out = FLAC(io.BytesIO(strip_audio_tags(tagged("flac"))))
    assert out.pictures == [] and not out.tags


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"hello, this is not audio" * 10, "not a WAV, FLAC"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "truncated"),
        (b"OggS" + bytes(60), "not a WAV, FLAC"),  # an Ogg stream of neither Vorbis nor Opus
    ],
)
def test_bad_bytes_are_refused_naming_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        probe_audio(data)


@pytest.mark.parametrize("kind", ["wav", "flac", "ogg", "opus"])
def test_a_cut_file_is_refused(kind: str) -> None:
    data = tone(kind, seconds=2.0)
    with pytest.raises(InvalidInput, match=r"truncated|corrupt"):
        probe_audio(data[: len(data) // 2])


def test_a_damaged_flac_stream_is_refused() -> None:
    data = bytearray(tone("flac", seconds=2.0))
    data[len(data) // 2 : len(data) // 2 + 400] = bytes(400)
    with pytest.raises(InvalidInput, match="corrupt"):
        probe_audio(bytes(data))


def test_other_formats_libsndfile_reads_are_refused() -> None:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(800, dtype=np.int16), 8000, format="AIFF")
    with pytest.raises(InvalidInput, match="not a WAV, FLAC"):
        probe_audio(buffer.getvalue())
    with pytest.raises(InvalidInput, match="not a WAV, FLAC"):
        strip_audio_tags(buffer.getvalue())


def test_a_recording_longer_than_allowed_is_refused() -> None:
    with pytest.raises(InvalidInput, match="longer than the 1 s allowed"):
        probe_audio(tone("wav", seconds=2.0, rate=8000), max_duration_ms=1000)


def test_a_silent_wav_without_samples_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"no sound|corrupt"):
        probe_audio(tone("wav", seconds=0.0))


def test_audio_mime_reads_the_magic_bytes() -> None:
    assert audio_mime(tone("wav")) == "audio/wav"
    assert audio_mime(b"ID3\x04\x00\x00\x00\x00\x00\x00fLaC") == "audio/flac"
    assert audio_mime(b"\xff\xfb\x90\x00") == "audio/mpeg"
    assert audio_mime(b"\x89PNG\r\n\x1a\n") is None


def _id3v2() -> bytes:
    from mutagen.id3 import ID3, TPE1

    tag = ID3()
    tag.add(TPE1(encoding=3, text=[SECRET]))
    buffer = io.BytesIO()
    tag.save(buffer, v2_version=4)
    return buffer.getvalue()


def _id3v1() -> bytes:
    return b"TAG" + SECRET.encode().ljust(30, b"\0") + bytes(95)


def _ape(tmp_path: object) -> bytes:
    from pathlib import Path

    from mutagen.apev2 import APEv2

    path = Path(str(tmp_path)) / "tag.ape"
    path.write_bytes(b"")
    tag = APEv2()
    tag["Artist"] = SECRET
    tag.save(str(path))
    return path.read_bytes()


@pytest.mark.parametrize("trailer", ["id3v1", "apev2"])
def test_a_flac_loses_the_tags_appended_after_its_frames(trailer: str, tmp_path: object) -> None:
    # Taggers append ID3v1/APEv2 to FLAC as to MP3; they used to be served as they were.
    if not can_write("flac"):
        pytest.skip("this libsndfile cannot write FLAC")
    sound = tone("flac", seconds=1)
    data = sound + (_id3v1() if trailer == "id3v1" else _ape(tmp_path))
    out = strip_audio_tags(data)
    assert SECRET.encode() not in out
    assert out == strip_audio_tags(sound)


@pytest.mark.parametrize("where", ["inside", "after"])
@pytest.mark.parametrize("kind", ["mp3", "flac"])
def test_an_id3v2_tag_inside_or_after_the_stream_is_refused(kind: str, where: str) -> None:
    # Decoders skip it, mutagen looks for ID3v2 at the start only: it used to be served.
    if not can_write(kind):
        pytest.skip(f"this libsndfile cannot write {kind}")
    sound = tone(kind, seconds=2)
    at = len(sound) if where == "after" else sound.index(b"\xff", len(sound) // 2)
    data = sound[:at] + _id3v2() + sound[at:]
    with pytest.raises(InvalidInput, match="tags remain after stripping \\(ID3v2\\)"):
        strip_audio_tags(data)


def test_a_lyrics3_tag_is_refused() -> None:
    if not can_write("mp3"):
        pytest.skip("this libsndfile cannot write MP3")
    lyrics = b"LYRICSBEGININD0000210EAR00023" + SECRET.encode() + b"000040LYRICS200"
    with pytest.raises(InvalidInput, match="Lyrics3"):
        strip_audio_tags(tone("mp3") + lyrics)


@pytest.mark.parametrize("kind", ["ogg", "opus"])
def test_a_chained_ogg_file_is_refused(kind: str) -> None:
    # libsndfile decodes the first link only and mutagen empties its comments only: the
    # second link's comments used to be served.
    data = tone(kind) + tagged(kind)
    with pytest.raises(InvalidInput, match="more than one stream"):
        strip_audio_tags(data)


def test_bytes_after_an_ogg_stream_are_refused() -> None:
    with pytest.raises(InvalidInput, match="after the end of the Ogg stream"):
        strip_audio_tags(tone("ogg") + b"Owner: " + SECRET.encode())
