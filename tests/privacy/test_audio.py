"""Audio probing and tag stripping: whole recordings only, no tag survives, the sound is
untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest

soundfile = pytest.importorskip("soundfile", reason="the audio extra is not installed")
mutagen = pytest.importorskip("mutagen", reason="the audio extra is not installed")

from tests.audio_samples import (  # noqa: E402
    FORMATS,
    SECRET,
    TRAILER,
    can_write,
    tagged,
    tone,
    with_trailer,
)

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


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("mp3", "not sound between the MP3's frames"),
        ("flac", r"tags remain after stripping \(ID3v2\)"),
    ],
)
def test_an_id3v2_tag_inside_the_stream_is_refused(kind: str, problem: str) -> None:
    # Decoders skip it, mutagen looks for ID3v2 at the start only: it used to be served.
    if not can_write(kind):
        pytest.skip(f"this libsndfile cannot write {kind}")
    sound = tone(kind, seconds=2)
    at = sound.index(b"\xff", len(sound) // 2)
    with pytest.raises(InvalidInput, match=problem):
        strip_audio_tags(sound[:at] + _id3v2() + sound[at:])


@pytest.mark.parametrize("kind", ["mp3", "flac"])
def test_an_id3v2_or_lyrics3_tag_after_the_stream_is_cut_off(kind: str) -> None:
    # Both used to be refused; like any bytes after the last frame they are now cut off.
    if not can_write(kind):
        pytest.skip(f"this libsndfile cannot write {kind}")
    sound = tone(kind, seconds=2)
    lyrics = b"LYRICSBEGININD0000210EAR00023" + SECRET.encode() + b"000040LYRICS200"
    for trailer in (_id3v2(), lyrics):
        out = strip_audio_tags(sound + trailer)
        assert SECRET.encode() not in out and out == strip_audio_tags(sound)


@pytest.mark.parametrize("kind", ["ogg", "opus"])
def test_a_chained_ogg_file_is_refused(kind: str) -> None:
    # libsndfile decodes the first link only and mutagen empties its comments only: the
    # second link's comments used to be served.
    data = tone(kind) + tagged(kind)
    with pytest.raises(InvalidInput, match="more than one stream"):
        strip_audio_tags(data)


def test_bytes_after_an_ogg_stream_are_cut_off() -> None:
    # They used to be refused; like any bytes after the last page they are now cut off.
    sound = tone("ogg")  # each encoding picks a random stream serial number
    out = strip_audio_tags(sound + b"Owner: " + SECRET.encode())
    assert SECRET.encode() not in out and out == strip_audio_tags(sound)


# Bytes a tool appends after the sound: plain text, text after an ID3v1 tag (which hides
# the tag from mutagen), a run of binary junk with frame-sync-like bytes.
TRAILERS = {
    "text": TRAILER,
    "after-id3v1": b"TAG" + SECRET.encode().ljust(125, b"\0") + TRAILER,
    "binary": bytes(range(256)) + b"\xff\xfb" + TRAILER + b"\xff" * 3,
}


@pytest.mark.parametrize("trailer", list(TRAILERS))
@pytest.mark.parametrize("kind", KINDS)
def test_bytes_after_the_sound_are_never_served(kind: str, trailer: str) -> None:
    # Decoders stop at the last frame, so whatever follows used to be served as it was.
    clean = tone(kind, seconds=1.5)
    data = with_trailer(clean, TRAILERS[trailer])
    out = strip_audio_tags(data)
    assert TRAILER not in out and SECRET.encode() not in out
    assert out == strip_audio_tags(clean)  # exactly what the file without them gives
    assert np.array_equal(samples(out), samples(clean))
    assert probe_audio(out) == probe_audio(clean)


@pytest.mark.parametrize("kind", KINDS)
def test_a_clean_file_keeps_its_sound_byte_for_byte(kind: str) -> None:
    clean = tone(kind, seconds=1.5)
    out = strip_audio_tags(clean)
    assert np.array_equal(samples(out), samples(clean))
    if kind in ("wav", "mp3"):  # nothing to strip: the very same bytes
        assert out == clean
    if kind == "flac":  # the frames are copied as they are, after the kept metadata
        assert clean.endswith(out[out.index(b"\xff\xf8") :])


def test_bytes_inside_a_wavs_riff_after_its_chunks_are_dropped() -> None:
    import struct

    clean = tone("wav")
    body = clean[8:] + TRAILER[:7]  # too short for a chunk header, counted in the RIFF
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    out = strip_audio_tags(data)
    assert out == clean and TRAILER[:7] not in out


def test_junk_between_mp3_frames_is_refused() -> None:
    # Decoders resynchronise after it, so it cannot be cut off without cutting the sound.
    if not can_write("mp3"):
        pytest.skip("this libsndfile cannot write MP3")
    from loupe.privacy.audio_frames import mp3_sound_end

    sound = tone("mp3", seconds=2)
    at = mp3_sound_end(sound[: len(sound) // 2])  # the end of a frame near the middle
    assert 0 < at <= len(sound) // 2
    with pytest.raises(InvalidInput, match="not sound between the MP3's frames"):
        strip_audio_tags(sound[:at] + TRAILER + sound[at:])


def test_junk_between_ogg_pages_is_refused() -> None:
    sound = tone("ogg", seconds=2)
    at = sound.index(b"OggS", len(sound) // 2)
    with pytest.raises(InvalidInput, match="not sound between the Ogg pages"):
        strip_audio_tags(sound[:at] + TRAILER + sound[at:])


def test_a_cut_last_ogg_page_is_refused() -> None:
    sound = tone("ogg", seconds=2)
    last = sound.rindex(b"OggS")
    with pytest.raises(InvalidInput, match="truncated"):
        strip_audio_tags(sound + sound[last : last + 40])


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "signal"),
    [
        ("FLAC", "PCM_24", 44_100, "noise"),  # verbatim and LPC subframes, 24-bit
        ("FLAC", "PCM_16", 8_000, "silence"),  # constant subframes
        ("FLAC", "PCM_S8", 48_000, "sine"),
        ("MP3", "MPEG_LAYER_III", 44_100, "noise"),  # MPEG-1
        ("MP3", "MPEG_LAYER_III", 8_000, "sine"),  # MPEG-2.5
    ],
)
def test_the_last_frame_is_found_in_stereo_at_any_depth_and_rate(
    fmt: str, subtype: str, rate: int, signal: str
) -> None:
    if fmt == "MP3" and not can_write("mp3"):
        pytest.skip("this libsndfile cannot write MP3")
    rng = np.random.default_rng(7)
    frames = int(rate * 0.83)  # not a whole number of blocks: a short last frame
    t = np.arange(frames)[:, None] / rate
    sound = {
        "noise": rng.normal(0, 0.3, (frames, 2)),
        "silence": np.zeros((frames, 2)),
        "sine": 0.4 * np.sin(2 * np.pi * np.array([220.0, 330.0]) * t),
    }[signal]
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(sound, -1, 1).astype(np.float32), rate, format=fmt,
                    subtype=subtype)  # fmt: skip
    clean = buffer.getvalue()
    out = strip_audio_tags(with_trailer(clean))
    assert TRAILER not in out and out == strip_audio_tags(clean)
    assert np.array_equal(samples(out), samples(clean))
