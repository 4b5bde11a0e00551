"""Generate the synchronous client (``_sync/``) from the asynchronous one (``_async/``).

    python -m loupe.client._unasync           # rewrite _sync/
    python -m loupe.client._unasync --check   # exit 1 when _sync/ is stale

The rewrite is token-level, as in httpcore's ``unasync``: ``async``/``await`` go,
``Async``-prefixed names lose the prefix, ``asyncio.sleep`` becomes ``time.sleep`` and
httpx's ``a``-prefixed stream methods lose the ``a``. The result goes through
ruff's fixes and formatter, so it is as lint- and format-clean as hand-written code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

__all__ = ["generate", "main"]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "_async"
TARGET = HERE / "_sync"

HEADER = "# Generated from loupe/client/_async/{name} by `python -m loupe.client._unasync`.\n"
HEADER += "# Do not edit: edit the async source and regenerate.\n"

RULES: list[tuple[str, str]] = [
    (r"\bloupe\.client\._async\b", "loupe.client._sync"),
    (r"\bimport asyncio\b", "import time"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\baread\b", "read"),
    (r"\baiter_(bytes|lines)\b", r"iter_\1"),
    (r"\b_aiter_", "_iter_"),
    (r"\bAsync(?=[A-Z])", ""),
    (r"\basynchronous\b", "synchronous"),
]


def unasync(text: str) -> str:
    for pattern, replacement in RULES:
        text = re.sub(pattern, replacement, text)
    return text


def _ruff(args: list[str], text: str, name: str) -> str:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", *args),
            # Classify imports the same whether or not _sync/ exists yet.
            *("--config", "lint.isort.known-first-party = ['loupe']"),
            *("--stdin-filename", str(TARGET / name), "-"),
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,  # unfixable findings exit 1; ``ruff check`` in CI reports them
    )
    if not result.stdout:
        raise RuntimeError(f"ruff failed on {name}: {result.stderr}")
    return result.stdout


def _format(text: str, name: str) -> str:
    # Renamed imports fall out of order, and blocking code has idioms of its own
    # (``yield from``, one ``with`` for two contexts): apply ruff's fixes, then format.
    fixed = _ruff(["check", "--fix", "--unsafe-fixes", "--quiet", "--exit-zero"], text, name)
    return _ruff(["format", "--quiet"], fixed, name)


def generate() -> dict[str, str]:
    """The ``_sync`` package's files (name -> text), generated from ``_async``."""
    files: dict[str, str] = {}
    for source in sorted(SOURCE.glob("*.py")):
        text = HEADER.format(name=source.name) + unasync(source.read_text(encoding="utf-8"))
        files[source.name] = _format(text, source.name)
    return files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = generate()
    stale = [
        name
        for name, text in files.items()
        if not (TARGET / name).exists() or (TARGET / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted({p.name for p in TARGET.glob("*.py")} - set(files))
    if "--check" in args:
        for name in [*stale, *extra]:
            print(f"loupe/client/_sync/{name} is stale: run python -m loupe.client._unasync")
        return 1 if stale or extra else 0
    TARGET.mkdir(exist_ok=True)
    for name in stale:
        (TARGET / name).write_text(files[name], encoding="utf-8")
    for name in extra:
        (TARGET / name).unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
