"""``loupe demo``: the wearable-assistant loop, end to end, with a SIMULATED crowd."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loupe.cli.session import console
from loupe.demo.scenario import DemoConfig, run_demo
from loupe.demo.sources import file_source, generated_source
from loupe.errors import Conflict

__all__ = ["demo", "register"]

DEFAULT_URL = "sqlite:///./loupe-demo.db"


def _fresh_sqlite(url: str, force: bool) -> None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return
    path = Path(url.removeprefix(prefix))
    siblings = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    if path.exists() and not force:
        raise Conflict(f"{path} exists; pass --force to replace it, or another --database-url")
    for file in siblings:
        file.unlink(missing_ok=True)


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
        bool, typer.Option("--force", help="Replace an existing demo database")
    ] = False,
) -> None:
    """Run the wearable-assistant loop (SIMULATED crowd): predictions, selection, privacy
    gate, labelling, payments, retraining; leaves a database `loupe serve` opens."""
    _fresh_sqlite(database_url, force)
    sizes = {
        "rounds": rounds,
        "per_round": per_round,
        "seed": seed,
        "gold": max(40, min(120, per_round // 2)),
        "test": max(100, min(600, per_round * 2)),
        "seed_per_label": 2,
    }
    source = file_source(data, **sizes) if data else generated_source(**sizes)
    result = run_demo(
        DemoConfig(database_url=database_url, source=source, seed=seed, report=report),
        console=console,
    )
    console.print(
        f"done in {result.seconds:.1f} s, peak memory {result.peak_rss_mib:.0f} MiB. "
        f"{result.queue} request(s) wait for people in the queue. Label them yourself:"
    )
    console.print(f"  loupe serve --database-url {database_url}", soft_wrap=True)
    for username, password in result.passwords.items():
        console.print(f"  then sign in at http://127.0.0.1:8000/login as {username} / {password}")
    console.print(f"  admin API token (shown once): {result.admin_token}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
