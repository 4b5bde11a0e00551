"""``loupe subjects``: export or erase everything held about a data subject, and convert
subject ids stored in clear by an older Loupe into their keyed refs."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from loupe.cli.admin import DatabaseUrl
from loupe.cli.session import console, err_console, open_database, settings
from loupe.db.database import Database
from loupe.learning.persistence import ModelStore
from loupe.services.access import Actor
from loupe.services.compliance import key_binding, subject_refs, subjects
from loupe.services.compliance.gate import vault_for
from loupe.services.compliance.vault import load_ref_key
from loupe.settings import Settings

__all__ = ["convert_stored_ids", "subjects_app"]

subjects_app = typer.Typer(
    help="Data subjects: export (access), erasure, and ids stored in clear.", no_args_is_help=True
)

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout")]


def _write(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        console.print(text, soft_wrap=True, markup=False)
        return
    # An export holds originals: written into a file made 0600 from the start (mkstemp),
    # then renamed over the target, never into one that others could open first (a new
    # file under the umask, or one that was there), since a descriptor outlives a chmod.
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    console.print(f"wrote {output}")


def convert_stored_ids(db: Database, config: Settings) -> subject_refs.SubjectIdConversion:
    """Convert subject ids stored in clear (:mod:`loupe.services.compliance.subject_refs`)
    and scrub them from the files; say what was done, if anything. The key directory must
    be this database's (checked or bound by the caller)."""
    ref_key = load_ref_key(config.resolved_key_dir())
    with db.transaction() as session:
        done = subject_refs.convert_subject_ids(
            session, Actor.system(), vault=vault_for(config), ref_key=ref_key
        )
    if not done.subjects:
        return done
    storage = subject_refs.finish_conversion(db)
    console.print(
        f"subject ids stored as keyed refs: {done.subjects} subjects, {done.items} items, "
        f"{done.keys_renamed} keys renamed, {done.keys_shredded} unused keys shredded",
        soft_wrap=True,
        markup=False,
    )
    if not storage.complete:
        err_console.print(f"warning: {storage.detail}", markup=False)
    return done


def _ref_key(db: Database, config: Settings) -> bytes:
    """The key of subject refs, from a key directory known to be this database's: under
    another deployment's key no subject stored by ref would be found (an erasure answered
    "nothing held" while the data stays)."""
    key_binding.check_key_dir(db, config.resolved_key_dir())
    return load_ref_key(config.resolved_key_dir())


@subjects_app.command("convert-ids")
def convert_ids(database_url: DatabaseUrl = None) -> None:
    """Store as keyed refs the subject ids an older Loupe stored in clear (items, the names
    of subject keys), then scrub the old values from the database files. Idempotent;
    `loupe init` runs it too. Audited."""
    config = settings(database_url)
    with open_database(database_url) as db:
        # Under another deployment's ref key a converted subject could never be found again.
        key_binding.check_key_dir(db, config.resolved_key_dir())
        done = convert_stored_ids(db, config)
    if not done.subjects:
        console.print("no subject ids stored in clear")


@subjects_app.command("erase")
def erase(subject_id: str, output: Output = None, database_url: DatabaseUrl = None) -> None:
    """Erase a subject: delete its items, labels and originals, shred its key, retire the
    models trained on them; scrub the database files; print the receipt (JSON with its
    sha256). Audited."""
    config = settings(database_url)
    with open_database(database_url) as db:
        ref_key = _ref_key(db, config)
        with db.transaction() as session:
            erasure = subjects.erase_subject(session, Actor.system(), subject_id, ref_key=ref_key)
        # After the commit: the scrub only sees committed deletions.
        done = subjects.finish_erasure(db, store=ModelStore(config.resolved_model_dir()))
    body = {
        "receipt": erasure.receipt,
        "sha256": erasure.sha256,
        "model_files_deleted": done.model_files_deleted,
        "storage": {
            "backend": done.storage.backend,
            "complete": done.storage.complete,
            "action": done.storage.action,
            "detail": done.storage.detail,
        },
    }
    _write(json.dumps(body, indent=2, ensure_ascii=False), output)
    if not done.storage.complete:
        err_console.print(f"warning: {done.storage.detail}", markup=False)


@subjects_app.command("export")
def export(subject_id: str, output: Output = None, database_url: DatabaseUrl = None) -> None:
    """Everything held about a subject, originals included, as JSON. Audited."""
    config = settings(database_url)
    with open_database(database_url) as db:
        ref_key = _ref_key(db, config)
        with db.transaction() as session:
            found = subjects.export_subject(
                session, Actor.system(), subject_id, vault=vault_for(config), ref_key=ref_key
            )
    body = {
        "subject_ref": found.subject_ref,
        "key_held": found.key_held,
        "items": found.items,
        "audit_events": found.audit_events,
        "erasure_receipts": found.erasure_receipts,
    }
    _write(json.dumps(body, indent=2, ensure_ascii=False), output)
