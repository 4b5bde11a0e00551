"""Read-only word lists in one memory-mapped file that every worker shares.

The name and word lists the person recognizer consults (about 200,000 words) cost
some 85 MB of Python objects per process when held as sets and dicts, and each
server worker held its own copy. Here they are written once, on first use, to a
file in the cache directory (:func:`cache_dir`), and every process maps that file
read-only: its pages sit once in the operating system's page cache, and a worker
touches only the pages its look-ups land on.

A file holds named tables of distinct strings, each with an optional small value
(0-255). A table is laid out as three arrays plus the strings' UTF-8 bytes::

    hashes  uint64[n]   sorted 64-bit BLAKE2b hashes of the strings
    ends    uint32[n]   where each string ends in the blob (it starts where the last ended)
    values  uint8[n]    the value of each string (only in tables that have values)
    blob    bytes       the strings, in hash order

A look-up hashes the word, binary-searches ``hashes`` (``bisect`` over a
``memoryview``, in C) and then compares the stored string, so a hash collision can
never make an unlisted word look listed: answers are exactly those of a ``set``.

The file's name carries a hash of what it was built from (the source packages'
versions and the code that merges them, see :func:`cached`), so a new ``faker``,
``wordfreq`` or Loupe version builds a new file. It is written to a temporary file
and renamed into place, so a reader never sees half a file; where the directory
cannot be written the lists are kept in memory as before.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "demo.lex"
...     write(path, {"words": {"heizung": 40, "the": 77}, "names": {"Maria": 0}})
...     lex = Lexicon.open(path)
...     (lex.values("words").get("Heizung".casefold()), "Maria" in lex.words("names"))
(40, True)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import sys
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Final

__all__ = ["Lexicon", "WordSet", "WordValues", "cache_dir", "cached", "source_hash", "write"]

FORMAT: Final = 1
_MAGIC: Final = b"LOUPELEX"
_HEAD = 16  # magic, then the directory's length as 8 bytes


def cache_dir() -> Path:
    """``$LOUPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/loupe``, else ``~/.cache/loupe``."""
    explicit = os.environ.get("LOUPE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loupe"


def source_hash(*files: str | Path) -> str:
    """A hash of the given source files, for :func:`cached`'s ``sources``."""
    digest = hashlib.sha256()
    for file in files:
        with contextlib.suppress(OSError):
            digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:16]


# Words whose rows a table remembers (:meth:`WordSet._find`).
ROW_CACHE = 4_096


def _hash(word: str) -> int:
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, sys.byteorder)


class WordSet(AbstractSet[str]):
    """A table of a :class:`Lexicon` as a read-only set of strings."""

    __slots__ = ("_blob", "_ends", "_hashes", "_rows", "_values")

    def __init__(
        self, hashes: memoryview, ends: memoryview, values: memoryview | None, blob: memoryview
    ) -> None:
        self._hashes = hashes
        self._ends = ends
        self._values = values
        self._blob = blob
        # Rows of the words looked up lately: words recur (Zipf), and a lookup hashes,
        # bisects and compares bytes. Bounded: emptied when full (~0.4 MB per table at most).
        self._rows: dict[str, int] = {}

    def _find(self, word: object) -> int:
        """The word's row, or -1."""
        if not isinstance(word, str):
            return -1
        row = self._rows.get(word)
        if row is None:
            if len(self._rows) >= ROW_CACHE:
                self._rows.clear()
            row = self._rows[word] = self._search(word)
        return row

    def _search(self, word: str) -> int:
        h = _hash(word)
        hashes, n = self._hashes, len(self._hashes)
        i = bisect_left(hashes, h)  # C bisect over the mapped array
        encoded = word.encode("utf-8", "surrogatepass")
        while i < n and hashes[i] == h:  # a collision: compare the strings themselves
            if self._string_bytes(i) == encoded:
                return i
            i += 1
        return -1

    def _string_bytes(self, i: int) -> bytes:
        start = self._ends[i - 1] if i else 0
        return bytes(self._blob[start : self._ends[i]])

    def __contains__(self, word: object) -> bool:
        return self._find(word) >= 0

    def __len__(self) -> int:
        return len(self._hashes)

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self._hashes)):
            yield self._string_bytes(i).decode("utf-8", "surrogatepass")


class WordValues(Mapping[str, int]):
    """A table of a :class:`Lexicon` with values, as a read-only ``str -> int`` mapping."""

    __slots__ = ("_set",)

    def __init__(self, words: WordSet) -> None:
        self._set = words

    def __getitem__(self, word: str) -> int:
        i = self._set._find(word)
        values = self._set._values
        if i < 0 or values is None:
            raise KeyError(word)
        return int(values[i])

    def get(self, word: str, default: int = 0) -> int:  # type: ignore[override]
        """The word's value, ``default`` when it is not in the table."""
        i = self._set._find(word)
        values = self._set._values
        return default if i < 0 or values is None else int(values[i])

    def __contains__(self, word: object) -> bool:
        return word in self._set

    def __len__(self) -> int:
        return len(self._set)

    def __iter__(self) -> Iterator[str]:
        return iter(self._set)


class Lexicon:
    """The tables of one lexicon file, mapped read-only."""

    def __init__(self, mapped: mmap.mmap, tables: dict[str, WordSet], key: str) -> None:
        self._mapped = mapped
        self._tables = tables
        self.key = key

    @classmethod
    def open(cls, path: Path) -> Lexicon:
        """Map ``path``; :class:`ValueError` when it is not a lexicon file this code reads."""
        with path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            if mapped[:8] != _MAGIC:
                raise ValueError(f"{path} is not a lexicon file")
            size = int.from_bytes(mapped[8:_HEAD], "little")
            directory = json.loads(mapped[_HEAD : _HEAD + size])
            if directory.get("format") != FORMAT or directory.get("byteorder") != sys.byteorder:
                raise ValueError(f"{path} was written in another format")
            base = _HEAD + size + (-(_HEAD + size) % 8)
            view = memoryview(mapped)[base:]
            tables: dict[str, WordSet] = {}
            for name, t in directory["tables"].items():
                n = t["n"]
                ends_at = [t["hashes"] + 8 * n, t["ends"] + 4 * n, t["blob"] + t["blob_size"]]
                if t["values"] is not None:
                    ends_at.append(t["values"] + n)
                if max(ends_at) > len(view):
                    raise ValueError(f"{path} is truncated")
                hashes = view[t["hashes"] : t["hashes"] + 8 * n].cast("Q")
                ends = view[t["ends"] : t["ends"] + 4 * n].cast("I")
                values = view[t["values"] : t["values"] + n] if t["values"] is not None else None
                blob = view[t["blob"] : t["blob"] + t["blob_size"]]
                tables[name] = WordSet(hashes, ends, values, blob)
        except (ValueError, KeyError, TypeError):
            with contextlib.suppress(BufferError):  # views into it may still be alive
                mapped.close()
            raise ValueError(f"{path} is not a lexicon file this version reads") from None
        return cls(mapped, tables, str(directory.get("key", "")))

    def words(self, table: str) -> WordSet:
        """The table as a set of strings."""
        return self._tables[table]

    def values(self, table: str) -> WordValues:
        """The table as a mapping of strings to their values."""
        return WordValues(self._tables[table])


def write(
    path: Path, tables: Mapping[str, AbstractSet[str] | Mapping[str, int]], key: str = ""
) -> None:
    """Write ``tables`` (sets, or mappings to values 0-255) to ``path``, atomically."""
    directory: dict[str, object] = {"format": FORMAT, "byteorder": sys.byteorder, "key": key}
    layout: dict[str, dict[str, int | None]] = {}
    chunks: list[bytes] = []
    offset = 0

    def place(data: bytes) -> int:
        nonlocal offset
        start = offset
        pad = -len(data) % 8
        chunks.append(data + b"\0" * pad)
        offset += len(data) + pad
        return start

    for name, table in tables.items():
        rows = sorted((_hash(w), w.encode("utf-8", "surrogatepass")) for w in table)
        ends = array("I")
        end = 0
        for _, encoded in rows:
            end += len(encoded)
            ends.append(end)
        values = (
            bytes(table[w.decode("utf-8", "surrogatepass")] for _, w in rows)
            if isinstance(table, Mapping)
            else None
        )
        layout[name] = {
            "n": len(rows),
            "hashes": place(array("Q", (h for h, _ in rows)).tobytes()),
            "ends": place(ends.tobytes()),
            "values": None if values is None else place(values),
            "blob": place(b"".join(encoded for _, encoded in rows)),
            "blob_size": end,
        }
    directory["tables"] = layout  # offsets from the end of the header (8-aligned)
    encoded_dir = json.dumps(directory).encode()
    header = _MAGIC + len(encoded_dir).to_bytes(8, "little") + encoded_dir
    header += b"\0" * (-len(header) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cached(
    name: str, sources: Mapping[str, object], build: Callable[[], Mapping[str, object]]
) -> Lexicon | None:
    """The lexicon ``name`` for ``sources``, built by ``build`` and written on first use.

    ``sources`` names what the tables are built from (package versions, the code
    that merges them); its hash is part of the file name, so a change builds a new
    file. ``build`` returns the tables to write. ``None`` when the cache directory
    cannot be written or read: the caller then keeps its tables in memory.
    """
    key = hashlib.sha256(
        json.dumps({"format": FORMAT, **sources}, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    try:
        path = cache_dir() / f"{name}-{key}.lex"
    except RuntimeError:  # no home directory to hold the cache
        return None
    with contextlib.suppress(OSError, ValueError):
        return Lexicon.open(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(path.with_suffix(".lock")):
            with contextlib.suppress(OSError, ValueError):
                return Lexicon.open(path)  # another process built it while we waited
            tables = build()
            write(path, tables, key)  # type: ignore[arg-type]
        return Lexicon.open(path)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` so that only one process builds a file at once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: two may build; the rename is atomic
        yield
        return
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
