"""The demo's speech: WAVs read by espeak-ng or generated, and the SIMULATED recogniser's
documented word error model."""

from __future__ import annotations

import io
import random
import wave
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.aggregation.transcripts import transcript_words, word_error_rate
from loupe.demo import speech
from loupe.demo.speech import (
    DEVICE_ERRORS,
    FILLERS,
    SimulatedRecogniser,
    Speech,
    WordErrors,
    espeak,
    espeak_path,
    signal_speech,
    similar_words,
    speak,
)
from loupe.demo.utterances import generate

ESPEAK = espeak_path()
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed")


def _check_wav(spoken: Speech) -> float:
    """The bytes are a mono 16-bit WAV whose header agrees with ``spoken``; its seconds."""
    with wave.open(io.BytesIO(spoken.wav)) as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        assert reader.getframerate() == spoken.sample_rate
        assert reader.getnframes() == spoken.frames > 0
        assert len(reader.readframes(reader.getnframes())) == 2 * spoken.frames
    return spoken.seconds


def _plausible(text: str, seconds: float) -> None:
    """Speech runs at a few words a second: 0.15-1.5 s per word, whatever the engine."""
    words = len(text.split())
    assert 0.15 * words <= seconds <= 1.5 * words + 0.6, (text, seconds)


@pytest.mark.parametrize(
    ("text", "language"),
    [("hey glasses, call Maya on speaker", "en"), ("¿cómo llego a la farmacia más cercana?", "es"),
     ("ruf Jonas an", "de"), ("s'il te plaît, appelle Léa", "fr")],
)  # fmt: skip
def test_the_generated_signal_is_a_wav_whose_length_follows_the_text(
    text: str, language: str
) -> None:
    spoken = signal_speech(text, language=language)
    assert spoken.engine == "signal" and spoken.sample_rate == 16_000
    _plausible(text, _check_wav(spoken))
    assert signal_speech(text, language=language).wav == spoken.wav  # deterministic
    longer = signal_speech(f"{text} {text}", language=language)
    assert longer.seconds > 1.6 * spoken.seconds


def test_without_espeak_the_demo_speaks_with_the_generated_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speech, "espeak_path", lambda: None)
    spoken = speak("take a photo", language="en")
    assert spoken.engine == "signal"
    _plausible("take a photo", _check_wav(spoken))
    assert speak("take a photo", engine="signal").wav == spoken.wav


def test_a_failing_espeak_falls_back_to_the_signal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\necho 'no voice' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(speech.SpeechFailed, match="no voice"):
        espeak("take a photo", language="en", binary=str(broken))
    monkeypatch.setattr(speech, "espeak_path", lambda: str(broken))
    assert speak("take a photo").engine == "signal"


@needs_espeak
@pytest.mark.parametrize(
    ("text", "language"),
    [("hey glasses, call Maya on speaker", "en"), ("pon algo tranquilo", "es"),
     ("wie komme ich zu Gleis 4?", "de"), ("-s'il te plaît, appelle Léa", "fr")],
)  # fmt: skip
def test_espeak_reads_the_utterance_into_a_wav_of_plausible_length(
    text: str, language: str
) -> None:
    # A leading "-" goes on standard input, never parsed as an option.
    spoken = speak(text, language=language)
    assert spoken.engine == "espeak-ng" and spoken.language == language
    _plausible(text, _check_wav(spoken))


@needs_espeak
def test_espeak_output_is_what_the_audio_probe_accepts() -> None:
    audio = pytest.importorskip("loupe.privacy.audio", reason="needs the audio extra")
    spoken = speak("take me to the museum entrance", language="en")
    probed = audio.probe_audio(spoken.wav)
    assert probed.mime == "audio/wav" and probed.sample_rate == spoken.sample_rate
    assert abs(probed.duration_ms - 1000 * spoken.seconds) <= 1


def test_similar_words_come_from_the_demo_vocabulary() -> None:
    assert similar_words("play") == ("pay",)
    assert "photo" not in similar_words("photo") and similar_words("photo")
    assert all(not any(c.isdigit() for c in w) for w in similar_words("4"))


def test_the_recogniser_is_deterministic_per_seed() -> None:
    recogniser = SimulatedRecogniser()
    rows = list(generate(50, seed=3))

    def heard(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [recogniser.transcribe(r["text"], language=r["language"], rng=rng) for r in rows]

    assert heard(1) == heard(1)
    assert heard(1) != heard(2)


def test_the_recogniser_errs_at_the_documented_rate() -> None:
    rows = list(generate(1500, seed=11))
    rng = random.Random(5)
    recogniser = SimulatedRecogniser()
    truth = [r["text"] for r in rows]
    heard = [recogniser.transcribe(r["text"], language=r["language"], rng=rng) for r in rows]
    words = [w for text in truth for w in text.split()]
    unprotected = sum(not any(c.isdigit() for c in w) for w in words)
    # Substitutions and deletions only hit words without digits; insertions follow any word.
    expected = (
        (DEVICE_ERRORS.substitution + DEVICE_ERRORS.deletion) * unprotected
        + DEVICE_ERRORS.insertion * len(words)
    ) / sum(len(transcript_words(text)) for text in truth)
    measured = word_error_rate(truth, heard)
    assert DEVICE_ERRORS.rate == pytest.approx(0.16)
    # An alignment may count an insertion beside a deletion as one substitution: a little less.
    assert expected - 0.025 <= measured <= expected + 0.01, (measured, expected)


def test_numbers_are_recognised_whole() -> None:
    noisy = SimulatedRecogniser(WordErrors(0.5, 0.5, 0.0))
    text = "pay with card 4111 1111 1111 1111"
    for seed in range(20):
        out = noisy.transcribe(text, language="en", rng=random.Random(seed))
        assert "4111 1111 1111 1111" in out


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["call", "Maya", "on", "speaker", "play", "jazz"]), max_size=12))
def test_a_recogniser_without_errors_hears_everything(words: list[str]) -> None:
    text = " ".join(words)
    perfect = SimulatedRecogniser(WordErrors(0.0, 0.0, 0.0))
    assert perfect.transcribe(text, language="en", rng=random.Random(0)) == text


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["call", "Maya", "on", "speaker"]), min_size=1, max_size=12))
def test_only_insertions_add_filler_words(words: list[str]) -> None:
    out = SimulatedRecogniser(WordErrors(0.0, 0.0, 1.0)).transcribe(
        " ".join(words), language="en", rng=random.Random(0)
    )
    assert out.split()[::2] == words and all(w in FILLERS["en"] for w in out.split()[1::2])
