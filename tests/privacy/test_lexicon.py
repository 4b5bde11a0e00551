"""The memory-mapped lexicon answers exactly as the sets and dicts it replaces."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loupe.privacy.detectors import lexicon, name_lists, word_frequencies
from loupe.privacy.detectors.lexicon import Lexicon, write

WORDS = st.text(min_size=0, max_size=12)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@given(
    words=st.dictionaries(WORDS, st.integers(0, 255), max_size=60),
    names=st.frozensets(WORDS, max_size=60),
    probes=st.lists(WORDS, max_size=30),
)
@settings(max_examples=60, deadline=None)
def test_tables_answer_as_the_set_and_dict_they_were_written_from(
    tmp_path_factory: pytest.TempPathFactory,
    words: dict[str, int],
    names: frozenset[str],
    probes: list[str],
) -> None:
    path = tmp_path_factory.mktemp("lex") / "t.lex"
    write(path, {"words": words, "names": names, "empty": frozenset()})
    lex = Lexicon.open(path)
    values, members = lex.values("words"), lex.words("names")
    for word in [*words, *names, *probes, "\ud800"]:  # a lone surrogate too
        assert values.get(word, -1) == words.get(word, -1)
        assert (word in values) == (word in words)
        assert (word in members) == (word in names)
    assert set(members) == names and dict(values.items()) == words
    assert len(members) == len(names) and len(lex.words("empty")) == 0
    assert object() not in members  # not a string: never a member


def test_a_hash_collision_does_not_make_an_unlisted_word_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexicon, "_hash", lambda word: 7)  # every word collides
    write(tmp_path / "c.lex", {"t": {"anna": 1, "piotr": 2}})
    table = Lexicon.open(tmp_path / "c.lex").values("t")
    assert table.get("anna") == 1 and table.get("piotr") == 2
    assert "maria" not in table and table.get("maria", 0) == 0
    with pytest.raises(KeyError):
        table["maria"]


def test_a_file_that_is_not_a_lexicon_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.lex").write_bytes(b"not a lexicon at all")
    with pytest.raises(ValueError, match="not a lexicon"):
        Lexicon.open(tmp_path / "bad.lex")


def test_a_truncated_file_is_refused_and_rebuilt(cache: Path) -> None:
    built = lexicon.cached("demo", {}, lambda: {"t": {f"w{i}": i for i in range(200)}})
    assert built is not None
    (path,) = cache.glob("demo-*.lex")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="not a lexicon"):
        Lexicon.open(path)
    rebuilt = lexicon.cached("demo", {}, lambda: {"t": {f"w{i}": i for i in range(200)}})
    assert rebuilt is not None and rebuilt.values("t").get("w199") == 199


BUILD_AT_ONCE = """
import sys, time
from pathlib import Path
from loupe.privacy.detectors import lexicon

def build():
    with open(sys.argv[1], "a") as log:
        log.write("built\\n")
    time.sleep(0.5)  # the others arrive while this one builds
    return {"t": frozenset({"a", "b"})}

lex = lexicon.cached("demo", {}, build)
assert lex is not None and "a" in lex.words("t")
"""


def test_processes_starting_together_build_the_file_once(cache: Path, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    env = {**os.environ, "LOUPE_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen([sys.executable, "-c", BUILD_AT_ONCE, str(log)], env=env) for _ in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert log.read_text().splitlines() == ["built"]


def test_cached_builds_once_and_rebuilds_when_the_sources_change(cache: Path) -> None:
    calls: list[str] = []

    def build() -> dict[str, object]:
        calls.append("built")
        return {"t": frozenset({"a", "b"})}

    first = lexicon.cached("demo", {"pkg": "1.0"}, build)
    again = lexicon.cached("demo", {"pkg": "1.0"}, build)
    assert first is not None and again is not None and "a" in again.words("t")
    assert calls == ["built"]
    assert lexicon.cached("demo", {"pkg": "1.1"}, build) is not None
    assert calls == ["built", "built"]
    assert len(list(cache.glob("demo-*.lex"))) == 2
    assert not list(cache.glob("*.tmp"))  # written through a temporary file, renamed


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores modes")
def test_an_unwritable_cache_directory_keeps_the_lists_in_memory(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.mkdir()
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert lexicon.cached("demo", {}, lambda: {"t": frozenset({"a"})}) is None
    finally:
        cache.chmod(stat.S_IRWXU)


def test_an_unwritable_cache_path_keeps_the_lists_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("a file where the directory should be")
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path / "file" / "cache"))
    assert lexicon.cached("demo", {}, lambda: {"t": frozenset({"a"})}) is None
    freq = word_frequencies.word_frequencies.__wrapped__()
    if freq.source is not None:
        assert freq.zipf("the") > 7  # still read, from memory


def test_mapped_name_lists_equal_the_built_ones(cache: Path) -> None:
    pytest.importorskip("faker")
    built = name_lists._build()
    mapped = name_lists.name_lists.__wrapped__()
    assert list(cache.glob("names-*.lex"))
    assert mapped.sources == built.sources
    for table in name_lists._TABLES:
        old, new = getattr(built, table), getattr(mapped, table)
        assert isinstance(new, lexicon.WordSet)
        assert len(new) == len(old) and all(word in new for word in old), table
        assert set(new) == set(old), table
        # Near misses are not members either.
        assert not any(word.swapcase() in new for word in old if word.swapcase() not in old)


@given(probes=st.lists(WORDS, max_size=50))
@settings(max_examples=30, deadline=None)
def test_mapped_frequencies_equal_the_merged_dict(probes: list[str]) -> None:
    pytest.importorskip("wordfreq")
    old, new = _frequencies()
    for word in probes:
        assert new.zipf(word) == old.get(word.casefold(), 0) / 10
        assert new.known(word) == (word.casefold() in old)


def test_mapped_frequencies_hold_every_word_of_the_merged_dict() -> None:
    pytest.importorskip("wordfreq")
    old, new = _frequencies()
    assert len(new.tenths) == len(old)
    assert all(new.tenths.get(word, -1) == value for word, value in old.items())


_MERGED: list[tuple[dict[str, int], word_frequencies.WordFrequencies]] = []
_DIRS: list[tempfile.TemporaryDirectory[str]] = []


def _frequencies() -> tuple[dict[str, int], word_frequencies.WordFrequencies]:
    """The merged dict and the frequencies mapped from a new file (built once per run)."""
    if not _MERGED:
        _DIRS.append(tempfile.TemporaryDirectory(prefix="loupe-lexicon-"))  # removed at exit
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LOUPE_CACHE_DIR", _DIRS[0].name)
            new = word_frequencies.word_frequencies.__wrapped__()
        assert isinstance(new.tenths, lexicon.WordValues)
        _MERGED.append((word_frequencies._merged(), new))
    return _MERGED[0]
