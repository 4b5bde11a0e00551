"""Which command lives where: the index that keeps ``loupe --help`` fast.

``COMMANDS`` names every top-level command, the module and attribute that define
it, and its one-line help. ``loupe --help`` prints the index without importing a
command module; running a command imports only its own module (``load``).
``register`` builds the full app eagerly (the CLI reference does);
``tests/cli/test_startup.py`` checks that the two agree.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import NamedTuple

import typer
import typer.main
from typer import _click

from loupe.errors import Unavailable

__all__ = ["COMMANDS", "Entry", "install_hint", "load", "register"]


class Entry(NamedTuple):
    module: str
    """Module under ``loupe.cli``."""
    attribute: str
    """A command function, or a ``typer.Typer`` for a group."""
    help: str
    """What ``loupe --help`` shows: the first paragraph of the command's help."""


COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "admin",
        "init",
        "Create (or migrate) the database and the ledger keys and, the first time, an "
        "admin with a token.",
    ),
    "serve": Entry("serving", "serve", "Serve the API and the web UI with uvicorn."),
    "import": Entry(
        "data",
        "import_items",
        "Import items from JSONL, a JSON array, CSV or Parquet: validated in full first, then "
        "written in batches.",
    ),
    "export": Entry(
        "data",
        "export",
        "Export items with labels and consensus, raw labels, or consensus (streamed).",
    ),
    "quickstart": Entry(
        "quickstart",
        "quickstart",
        "Seed a wearable-assistant intent project (generated utterances) and serve it.",
    ),
    "demo": Entry(
        "demo",
        "demo",
        "Run the wearable-assistant loop (SIMULATED crowd): predictions, selection, privacy "
        "gate, labelling, payments, retraining; leaves a database `loupe serve` opens.",
    ),
    "aggregate": Entry(
        "aggregate",
        "aggregate_command",
        "Aggregate raw answers into one label per item, with the posterior confidence.",
    ),
    "simulate": Entry(
        "simulate",
        "simulate_command",
        "Replay TRAIN through the labelling loop and write the learning curve to OUTPUT.",
    ),
    "users": Entry("admin", "users_app", "Users and API tokens."),
    "projects": Entry(
        "projects", "projects_app", "Projects: label schema, guidelines, overlap, members."
    ),
    "gold": Entry("quality", "gold_app", "Gold (honeypot) items with known answers."),
    "quality": Entry("quality", "quality_app", "Agreement, annotator quality and re-fits."),
    "loop": Entry("loop", "loop_app", "The model loop: selection settings, retraining, reports."),
    "subjects": Entry(
        "subjects",
        "subjects_app",
        "Data subjects: export (access), erasure, and ids stored in clear.",
    ),
    "comments": Entry(
        "comments",
        "comments_app",
        "Comments on items: add and list (the privacy gate redacts them before storage).",
    ),
    "audit": Entry("audit", "audit_app", "The audit log: verify and list."),
    "retention": Entry(
        "retention", "retention_app", "Retention: purge items past their project's age limit."
    ),
    "media": Entry("media", "media_app", "Media: delete blobs no item references (orphans)."),
    "keys": Entry(
        "keys",
        "keys_app",
        "Privacy master key: rotate it, and destroy retired keys past the backup retention.",
    ),
    "contributors": Entry(
        "contributors",
        "contributors_app",
        "Contributor profiles: domain levels, languages, clearances.",
    ),
    "qualifications": Entry(
        "qualifications",
        "qualifications_app",
        "Qualification tests: known questions that grant a domain level.",
    ),
    "privacy": Entry(
        "privacy",
        "privacy_app",
        "Detect and redact personal data in JSON Lines files; see what the gate withheld.",
    ),
    "ledger": Entry("ledger", "ledger_app", "The transparent payment log."),
    "payouts": Entry("ledger", "payouts_app", "Payout batches for a payment provider."),
    "witness": Entry(
        "witness",
        "witness_app",
        "Run a witness that cosigns a payment log's checkpoints (C2SP tlog-witness).",
    ),
    "webhooks": Entry(
        "webhooks",
        "webhooks_app",
        "Webhooks: signed event deliveries to other systems, with retries.",
    ),
}


def load(name: str) -> _click.Command | None:
    """The click command ``loupe NAME`` runs, importing only the module defining it.

    A dependency that is not installed raises :class:`~loupe.errors.Unavailable` naming
    the package and how to install it (the CLI prints it on one line).
    """
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    target = getattr(_import_module(name, entry.module), entry.attribute)
    command: _click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def register(app: typer.Typer) -> None:
    """Register every command on ``app`` (imports every command module)."""
    from loupe.cli import (
        admin,
        aggregate,
        audit,
        comments,
        contributors,
        data,
        demo,
        keys,
        ledger,
        loop,
        media,
        privacy,
        projects,
        qualifications,
        quality,
        quickstart,
        retention,
        simulate,
        subjects,
        webhooks,
        witness,
    )

    admin.register(app)
    data.register(app)
    quickstart.register(app)
    demo.register(app)
    app.command("aggregate")(aggregate.aggregate_command)
    app.command("simulate")(simulate.simulate_command)
    app.add_typer(admin.users_app, name="users")
    app.add_typer(projects.projects_app, name="projects")
    app.add_typer(quality.gold_app, name="gold")
    app.add_typer(quality.quality_app, name="quality")
    app.add_typer(loop.loop_app, name="loop")
    app.add_typer(subjects.subjects_app, name="subjects")
    app.add_typer(comments.comments_app, name="comments")
    app.add_typer(audit.audit_app, name="audit")
    app.add_typer(retention.retention_app, name="retention")
    app.add_typer(keys.keys_app, name="keys")
    app.add_typer(contributors.contributors_app, name="contributors")
    app.add_typer(qualifications.qualifications_app, name="qualifications")
    app.add_typer(privacy.privacy_app, name="privacy")
    app.add_typer(ledger.ledger_app, name="ledger")
    app.add_typer(ledger.payouts_app, name="payouts")
    app.add_typer(witness.witness_app, name="witness")
    app.add_typer(webhooks.webhooks_app, name="webhooks")
    app.add_typer(media.media_app, name="media")


def _import_module(command: str, module: str) -> ModuleType:
    try:
        return importlib.import_module(f"loupe.cli.{module}")
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in ("", "loupe"):
            raise
        raise Unavailable(
            f"`loupe {command}` needs the Python package {missing!r}, which is not "
            f"installed: {install_hint(missing)}"
        ) from exc


def install_hint(package: str) -> str:
    """How to install ``package``: the Loupe extra that requires it, else pip by name."""
    # Here, not at the top: importlib.metadata costs start-up time every command pays.
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires("loupe") or []
    except PackageNotFoundError:
        requirements = []
    wanted = _normalised(package)
    for requirement in requirements:
        found = re.match(r"\s*([A-Za-z0-9_.-]+).*;\s*extra\s*==\s*[\"']([^\"']+)", requirement)
        if found and _normalised(found[1]) == wanted and found[2] != "dev":
            return f"pip install 'loupe[{found[2]}]'"
    return f"pip install {package}"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
