from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.errors import InvalidInput
from loupe.learning.persistence import FORMAT, ModelStore
from loupe.learning.text import LinearTextModel, LinearTextTrainer

TEXTS = ["play some jazz", "play a song", "call mum", "call the office", "navigate home"]
LABELS = ["music", "music", "call", "call", "navigate"]


def _model() -> LinearTextModel:
    return LinearTextTrainer().fit(TEXTS, LABELS)


def test_round_trip_gives_the_same_probabilities(tmp_path: Path) -> None:
    model = _model()
    store = ModelStore(tmp_path / "models")
    stored = store.save("project-1/v3", model)
    assert stored.path == tmp_path / "models" / "project-1" / "v3.model"
    assert len(stored.sha256) == 64 and stored.size > 0
    loaded = store.load("project-1/v3")
    assert loaded is not None and loaded.classes_ == ("call", "music", "navigate")
    probe = ["play jazz now", "call home", "unknown words"]
    np.testing.assert_array_equal(loaded.predict_proba(probe), model.predict_proba(probe))


def test_missing_model_is_none_and_delete_reports_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    assert store.load("project-1/v1") is None
    assert not store.delete("project-1/v1")
    store.save("project-1/v1", _model())
    assert store.delete("project-1/v1")
    assert store.load("project-1/v1") is None


def test_files_are_private_and_replaced_whole(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "m")
    first = store.save("a/v1", _model())
    second = store.save("a/v1", LinearTextTrainer(c=2.0).fit(TEXTS, LABELS))
    assert stat.S_IMODE(second.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o700
    assert first.sha256 != second.sha256
    assert [p.name for p in second.path.parent.iterdir()] == ["v1.model"]  # no temp file left


def test_header_names_the_format_and_digest(tmp_path: Path) -> None:
    stored = ModelStore(tmp_path).save("k", _model())
    header = stored.path.read_bytes().split(b"\n", 1)[0].decode()
    assert f'"format": "{FORMAT}"' in header and stored.sha256 in header


@pytest.mark.parametrize("key", ["", "../escape", "a/../b", "/abs", "a//b", "sp ace", "a/./b"])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInput, match="model key"):
        ModelStore(tmp_path).path(key)


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.path("x").write_bytes(b"hello\nworld")
    with pytest.raises(InvalidInput, match="not a Loupe model file"):
        store.load("x")


@settings(max_examples=25, deadline=None)
@given(position=st.floats(min_value=0.0, max_value=0.999), flip=st.integers(1, 255))
def test_any_altered_byte_of_the_weights_is_detected(
    tmp_path_factory: pytest.TempPathFactory, position: float, flip: int
) -> None:
    store = ModelStore(tmp_path_factory.mktemp("store"))
    path = store.save("k", _model()).path
    raw = bytearray(path.read_bytes())
    start = raw.index(b"\n") + 1
    at = start + int(position * (len(raw) - start))
    raw[at] ^= flip
    path.write_bytes(bytes(raw))
    with pytest.raises(InvalidInput, match="does not match the SHA-256"):
        store.load("k")


def test_truncated_file_is_detected(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    path = store.save("k", _model()).path
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InvalidInput, match="does not match"):
        store.load("k")
