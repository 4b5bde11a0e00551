"""Spoken requests for ``loupe demo``: audio from the demo's own utterances, and a
SIMULATED speech recogniser's transcript of it.

**Synthesis.** :func:`speak` reads an utterance aloud with Debian's ``espeak-ng`` when it
is installed (run as a subprocess, without a shell, the text on its standard input, with
a timeout); otherwise, or when it fails, :func:`signal_speech` generates a stand-in: one
tone burst per syllable, a pause between words, a faint noise floor, so the recording's
length follows the text and the demo runs everywhere. Nothing is downloaded; both give a
mono 16-bit WAV.

**The device's recogniser (SIMULATED).** :class:`SimulatedRecogniser` does not listen:
it corrupts the true utterance with a documented word error model (:class:`WordErrors`).
Each word of the utterance is, independently,

* *substituted* with probability ``substitution`` by a word that sounds alike: the
  nearest word of the demo's vocabulary in that language by character edit distance
  (:func:`similar_words`; "call" -> "all", "play" -> "pay");
* *deleted* with probability ``deletion``;
* *followed by an inserted* filler or short function word ("uh", "the"; per language)
  with probability ``insertion``.

So the expected word error rate is ``substitution + deletion + insertion`` (a little
less is measured: an alignment may pair an insertion with a deletion as one
substitution). Words holding digits (phone and card numbers) are recognised whole, as a
recogniser's number normalisation would: a card number cut in half would slip past the
text gate's checksum. The default, :data:`DEVICE_ERRORS`, is 16%: a far-field microphone
on the move.

>>> import random
>>> recogniser = SimulatedRecogniser(WordErrors(0.0, 0.0, 0.0))
>>> recogniser.transcribe("call Maya on speaker", language="en", rng=random.Random(1))
'call Maya on speaker'
>>> signal_speech("take a photo").engine
'signal'
"""

from __future__ import annotations

import io
import math
import random
import re
import shutil
import subprocess
import tempfile
import wave
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = [
    "DEVICE_ERRORS",
    "FILLERS",
    "VOICES",
    "Engine",
    "SimulatedRecogniser",
    "Speech",
    "WordErrors",
    "corrupt",
    "espeak_path",
    "signal_speech",
    "similar_words",
    "speak",
]

Engine = Literal["espeak-ng", "signal"]
VOICES = {"en": "en-us", "es": "es", "de": "de", "fr": "fr"}
"""espeak-ng's voice for each language the demo's utterances use."""
ESPEAK_TIMEOUT_S = 10.0
SIGNAL_RATE = 16_000  # Hz: what a wearable's microphone pipeline typically records
FILLERS = {
    "en": ("uh", "um", "the", "a", "and"),
    "es": ("eh", "el", "la", "de", "y"),
    "de": ("äh", "ähm", "die", "und", "ein"),
    "fr": ("euh", "le", "la", "de", "et"),
}
"""What the recogniser inserts: hesitations it mistook for words, short function words."""


@dataclass(frozen=True)
class Speech:
    """One utterance read aloud: the WAV bytes, its length and which engine spoke."""

    text: str
    language: str
    wav: bytes
    sample_rate: int
    frames: int
    engine: Engine

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def espeak_path() -> str | None:
    """The ``espeak-ng`` binary on ``PATH``, or ``None``."""
    return shutil.which("espeak-ng")


class SpeechFailed(RuntimeError):
    """espeak-ng could not read the text (missing voice, error, timeout)."""


def _wav_frames(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getframerate(), reader.getnframes()


def espeak(text: str, *, language: str, binary: str, timeout: float = ESPEAK_TIMEOUT_S) -> Speech:
    """``text`` read by espeak-ng in ``language``'s voice; :class:`SpeechFailed` if it
    cannot. The text goes on standard input (never parsed as an option), the WAV to a
    temporary file (espeak-ng's ``--stdout`` leaves the RIFF sizes unset)."""
    voice = VOICES.get(language, VOICES["en"])
    with tempfile.TemporaryDirectory(prefix="loupe-speech-") as folder:
        out = Path(folder) / "speech.wav"
        try:
            done = subprocess.run(
                [binary, "-v", voice, "-b", "1", "-w", str(out), "--stdin"],
                input=text.encode("utf-8"), capture_output=True, timeout=timeout, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechFailed(f"espeak-ng: {exc}") from None
        if done.returncode != 0 or not out.is_file():
            why = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise SpeechFailed(f"espeak-ng: {why}")
        data = out.read_bytes()
    try:
        rate, frames = _wav_frames(data)
    except (wave.Error, EOFError) as exc:
        raise SpeechFailed(f"espeak-ng wrote no readable WAV ({exc})") from None
    if frames == 0:
        raise SpeechFailed("espeak-ng wrote an empty recording")
    return Speech(text, language, data, rate, frames, "espeak-ng")


def _syllables(word: str) -> int:
    vowels = re.findall(r"[aeiouyáéíóúàèìòùâêîôûäöüœæ]+", word.lower())
    return max(1, len(vowels))


def signal_speech(text: str, *, language: str = "en", sample_rate: int = SIGNAL_RATE) -> Speech:
    """A generated stand-in for speech: per syllable a 0.16 s voiced burst (a pitch and
    three harmonics under a Hann envelope, the pitch drawn from the word), 0.07 s between
    words, 0.2 s of near-silence around it. Deterministic: the same text gives the same
    bytes."""
    rng = np.random.default_rng(zlib.crc32(f"{language}\0{text}".encode()))
    words = text.split() or ["…"]
    pause = np.zeros(int(0.07 * sample_rate))
    parts = [np.zeros(int(0.2 * sample_rate))]
    syllable = int(0.16 * sample_rate)
    t = np.arange(syllable) / sample_rate
    envelope = np.hanning(syllable)
    for word in words:
        pitch = 110.0 + 90.0 * (zlib.crc32(word.lower().encode()) % 1000) / 1000
        for _ in range(_syllables(word)):
            f0 = pitch * (1 + 0.05 * rng.standard_normal())
            tone = sum(np.sin(2 * math.pi * f0 * k * t) / k for k in (1, 2, 3))
            parts.append(0.25 * envelope * tone)
        parts.append(pause)
    parts.append(np.zeros(int(0.2 * sample_rate)))
    samples = np.concatenate(parts)
    samples = samples + 0.003 * rng.standard_normal(samples.size)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm.tobytes())
    return Speech(text, language, buffer.getvalue(), sample_rate, int(pcm.size), "signal")


def speak(text: str, *, language: str = "en", engine: Engine | None = None) -> Speech:
    """``text`` read aloud: by espeak-ng when installed (and ``engine`` is not
    ``"signal"``), else, or when it fails, a generated signal (:func:`signal_speech`)."""
    binary = espeak_path() if engine != "signal" else None
    if binary is not None:
        try:
            return espeak(text, language=language, binary=binary)
        except SpeechFailed:
            pass  # the demo goes on with a generated signal; Speech.engine says which
    return signal_speech(text, language=language)


# --- the SIMULATED recogniser ---------------------------------------------------------------


@dataclass(frozen=True)
class WordErrors:
    """Per-word error probabilities (see the module docstring)."""

    substitution: float
    deletion: float
    insertion: float

    @property
    def rate(self) -> float:
        """The expected word error rate (errors per true word)."""
        return self.substitution + self.deletion + self.insertion

    def scaled(self, factor: float) -> WordErrors:
        return WordErrors(
            self.substitution * factor, self.deletion * factor, self.insertion * factor
        )


DEVICE_ERRORS = WordErrors(substitution=0.09, deletion=0.04, insertion=0.03)


def _key(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@lru_cache(maxsize=4)
def _vocabulary(language: str) -> tuple[str, ...]:
    """Every word of the demo's utterance templates and slot values in ``language``."""
    from loupe.demo import utterances

    texts: list[str] = list(utterances.NAMES) + list(utterances.PREFIXES.get(language, ()))
    for table in (utterances.SONGS, utterances.PLACES, utterances.TARGET_LANGS, utterances.GOODS):
        texts += table.get(language, [])
    for templates in (*utterances.TEMPLATES.values(), *utterances.OOS_TEMPLATES.values()):
        texts += templates.get(language, [])
    words = {_key(w) for text in texts for w in re.sub(r"\{\w+\}", " ", text).split()}
    return tuple(sorted(w for w in words if w and not any(c.isdigit() for c in w)))


@lru_cache(maxsize=4096)
def similar_words(word: str, language: str = "en") -> tuple[str, ...]:
    """The words of the demo's vocabulary in ``language`` nearest to ``word`` by character
    edit distance (never ``word`` itself): what a recogniser mishears it as.

    >>> similar_words("play")
    ('pay',)
    """
    key = _key(word)
    best: list[str] = []
    nearest = 1 << 30
    for candidate in _vocabulary(language):
        if candidate == key:
            continue
        distance = _edit_distance(key, candidate)
        if distance < nearest:
            best, nearest = [candidate], distance
        elif distance == nearest:
            best.append(candidate)
    return tuple(best)


def _like(original: str, word: str) -> str:
    """``word`` cased like ``original`` (a recogniser true-cases its output)."""
    return word.capitalize() if original[:1].isupper() else word


def corrupt(
    words: list[str], errors: WordErrors, *, language: str, rng: random.Random
) -> list[str]:
    """``words`` after the error model of the module docstring; words holding digits
    are never substituted or deleted."""
    out: list[str] = []
    fillers = FILLERS.get(language, FILLERS["en"])
    for word in words:
        draw = rng.random()
        protected = any(c.isdigit() for c in word)
        if protected or draw >= errors.substitution + errors.deletion:
            out.append(word)
        elif draw < errors.substitution:
            options = similar_words(word, language) or fillers
            out.append(_like(word, rng.choice(options)))
        # else: deleted
        if rng.random() < errors.insertion:
            out.append(rng.choice(fillers))
    return out


@dataclass(frozen=True)
class SimulatedRecogniser:
    """The device's speech recogniser — SIMULATED: the true utterance corrupted with
    ``errors`` (see the module docstring); deterministic for a given ``rng`` state."""

    errors: WordErrors = DEVICE_ERRORS

    def transcribe(self, text: str, *, language: str, rng: random.Random) -> str:
        return " ".join(corrupt(text.split(), self.errors, language=language, rng=rng))
