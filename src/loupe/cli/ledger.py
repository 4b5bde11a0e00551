"""``loupe ledger ...`` (audit, proofs, checkpoints, keys) and ``loupe payouts ...``.

``loupe ledger check-proof`` is the contributor's side: it reads only the proofs file,
a checkpoint note and verifier keys, and checks them with :mod:`loupe.ledger.verify` and
the entry decoder :mod:`loupe.ledger.entries` alone (no database, no server). Failures
raise :mod:`loupe.errors` exceptions, which ``loupe.cli`` maps to exit codes (8 for a log
that does not verify).
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from loupe.cli.admin import DatabaseUrl
from loupe.cli.anchor import anchor_command, check_anchors
from loupe.cli.session import console, err_console, open_database, resolve_user
from loupe.errors import InvalidInput, LedgerIntegrityError
from loupe.formats import decode_json
from loupe.ledger import verify
from loupe.ledger.entries import PaymentEntry
from loupe.ledger.verify import CosignerVerifier
from loupe.services.access import Actor
from loupe.services.compliance.key_binding import check_key_dir
from loupe.services.payments import earnings, ledger, payout_files
from loupe.services.payments.ledger_keys import ledger_config, load_keys, rotate_signer
from loupe.services.payments.ledger_store import (
    CheckpointRecord,
    latest_checkpoint,
    ledger_size,
    publish_checkpoint,
)
from loupe.services.payments.payout_files import PayoutFormat
from loupe.settings import Settings

__all__ = ["ledger_app", "payouts_app"]

ledger_app = typer.Typer(help="The transparent payment log.", no_args_is_help=True)
payouts_app = typer.Typer(help="Payout batches for a payment provider.", no_args_is_help=True)

KeyDir = Annotated[
    Path | None,
    typer.Option(
        "--key-dir", envvar="LOUPE_KEY_DIR", help="Ledger keys (default: next to the database)"
    ),
]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout")]


def _settings(database_url: str | None, key_dir: Path | None) -> Settings:
    values: dict[str, Any] = {}
    if database_url:
        values["database_url"] = database_url
    if key_dir:
        values["key_dir"] = key_dir
    return Settings(**values)


def _write(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@ledger_app.command("verify")
def verify_command(
    database_url: DatabaseUrl = None,
    key_dir: KeyDir = None,
    anchored: Annotated[
        bool,
        typer.Option(
            "--anchored", help="Also check every anchored checkpoint on the chain (loupe[anchor])"
        ),
    ] = False,
    sender: Annotated[
        str | None,
        typer.Option(help="The anchoring account (default: LOUPE_ANCHOR_KEY_FILE's address)"),
    ] = None,
) -> None:
    """Recompute the whole log from its stored entries and check every stored checkpoint.

    Any edited, deleted or reordered entry or node, and any column beside an entry
    (user, amount, currency, kind, ...) that disagrees with its logged bytes, is reported
    by position (exit 8). With --anchored, each anchor transaction must also be on the
    chain (LOUPE_ANCHOR_RPC_URL), mined LOUPE_ANCHOR_CONFIRMATIONS deep, sent by the
    anchoring account, and carry the hash of the stored checkpoint, which must match the log.
    """
    config = _settings(database_url, key_dir)
    keys = load_keys(config.resolved_key_dir())
    with open_database(config.database_url) as db, db.transaction(readonly=True) as session:
        report = ledger.audit_ledger(
            session,
            Actor.system(),
            verifier_keys=keys.verifier_keys,
            secret=keys.secret,
            raise_on_problems=False,
        )
    for problem in report.problems:
        err_console.print(f"[red]problem:[/] {problem}", markup=True)
    if not report.n_problems:
        root = report.root.hex() if report.root else "(empty)"
        console.print(
            f"ledger verified: {report.entries} entries, {report.nodes} nodes, "
            f"{report.checkpoints} checkpoint(s); root {root}"
        )
    # Anchors are checked (and their problems listed) even when the log itself fails.
    problems = [*report.problems]
    if anchored:
        problems += check_anchors(config, list(keys.verifier_keys), sender)
    if problems:
        raise LedgerIntegrityError(
            f"the payment log does not verify: {len(problems)} problem(s), listed above",
            details={"problems": problems, "n_problems": len(problems)},
        )


def _witnessed(config: Settings, record: CheckpointRecord) -> CheckpointRecord:
    """Ask the configured witnesses to cosign ``record`` (after it committed)."""
    if config.ledger_witnesses_file is None:
        return record
    from loupe.services.payments.witnesses import cosign_latest, load_witnesses

    witnesses = load_witnesses(config.ledger_witnesses_file)
    with open_database(config.database_url) as db:  # no transaction open while it waits
        done = cosign_latest(db, witnesses)
    if done.checkpoint is not None and done.checkpoint.id == record.id:
        record = done.checkpoint
    for outcome in done.outcomes:
        if outcome.cosigned:
            err_console.print(f"witness {outcome.name}: cosigned")
        else:
            err_console.print(
                f"[yellow]witness {outcome.name}: no cosignature[/] ({outcome.error})",
                markup=True,
            )
    return record


@ledger_app.command("checkpoint")
def checkpoint_command(
    output: Output = None, database_url: DatabaseUrl = None, key_dir: KeyDir = None
) -> None:
    """Sign and publish the current tree head; print (or save) the signed note.

    With LOUPE_LEDGER_WITNESSES_FILE set, each witness is then asked to cosign it and its
    cosignature lines are appended to the stored note.
    """
    config = _settings(database_url, key_dir)
    with open_database(config.database_url) as db:
        check_key_dir(db, config.resolved_key_dir())  # never sign with another database's key
        keys = load_keys(config.resolved_key_dir())
        with db.transaction() as session:
            record = publish_checkpoint(session, keys)
    record = _witnessed(config, record)
    _write(record.note, output)


@ledger_app.command("status")
def status_command(database_url: DatabaseUrl = None) -> None:
    """The log's size, its latest checkpoint, and how far each witness has cosigned.

    Witnesses are those in LOUPE_LEDGER_WITNESSES_FILE. One that has not cosigned the
    latest checkpoint is marked "behind"; the server's log (and GET /api/v1/ledger/witnesses)
    says why.
    """
    from loupe.services.payments.witnesses import load_witnesses, witness_progress

    config = _settings(database_url, None)
    endpoints = load_witnesses(config.ledger_witnesses_file) if config.ledger_witnesses_file else []
    with open_database(config.database_url) as db, db.transaction(readonly=True) as session:
        size = ledger_size(session)
        latest = latest_checkpoint(session)
        progress = witness_progress(session, Actor.system(), endpoints)
    if latest is None:
        console.print(f"ledger: {size} entries; no checkpoint yet")
    else:
        console.print(
            f"ledger: {size} entries; latest checkpoint {latest.size} entries, "
            f"signed {latest.created_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if not endpoints:
        console.print("witnesses: none configured (LOUPE_LEDGER_WITNESSES_FILE)")
    for item in progress.witnesses:
        state = "cosigned the latest" if item.cosigned_latest else "behind"
        console.print(
            f"witness {item.name}: last cosigned {item.cosigned_size} entries; {state}",
            soft_wrap=True,
        )


@ledger_app.command("rotate-key")
def rotate_key_command(database_url: DatabaseUrl = None, key_dir: KeyDir = None) -> None:
    """Replace the signing key (old verifier keys are kept) and sign a checkpoint with it."""
    config = _settings(database_url, key_dir)
    with open_database(config.database_url) as db:
        check_key_dir(db, config.resolved_key_dir())
        keys = rotate_signer(config.resolved_key_dir())
        with db.transaction() as session:
            record = publish_checkpoint(session, keys)
    console.print(f"new verifier key: {keys.signer.verifier_key}", soft_wrap=True)
    console.print(f"checkpoint {record.id} at size {record.size} signed with it")


@ledger_app.command("keys")
def keys_command(key_dir: KeyDir = None, database_url: DatabaseUrl = None) -> None:
    """Print every verifier key, oldest first (publish these for contributors)."""
    config = _settings(database_url, key_dir)
    for key in load_keys(config.resolved_key_dir()).verifier_keys:
        sys.stdout.write(key + "\n")


@ledger_app.command("prove")
def prove_command(
    username: Annotated[str, typer.Argument(help="The contributor")],
    output: Output = None,
    database_url: DatabaseUrl = None,
    key_dir: KeyDir = None,
) -> None:
    """Write a contributor's entries with inclusion proofs and the signed checkpoint.

    Publishes a new checkpoint first when the latest does not cover the whole log. With
    LOUPE_LEDGER_WITNESSES_FILE set, the proofs are against the newest checkpoint all the
    witnesses cosigned (as GET /api/v1/ledger/checkpoint); entries after it are marked
    pending (a witness is down: ask again once it cosigned).
    """
    config = _settings(database_url, key_dir)
    with open_database(config.database_url) as db:
        check_key_dir(db, config.resolved_key_dir())
    keys = load_keys(config.resolved_key_dir())
    with open_database(config.database_url) as db, db.transaction() as session:
        resolve_user(session, username)
        record = latest_checkpoint(session)
        published = record is None or record.size < ledger_size(session)
        if record is None or published:
            record = publish_checkpoint(session, keys)
    # Also when nothing was published: the latest checkpoint may still lack a witness's
    # cosignature (the server's background round not run yet, or a witness was down).
    record = _witnessed(config, record)
    with open_database(config.database_url) as db, db.transaction(readonly=True) as session:
        served = ledger.served_checkpoint(session, _witness_verifiers(config))
        if served is not None:
            record = served.record
        rows = ledger.user_entries(session, resolve_user(session, username))
        entries = ledger.entries_with_proofs(
            session, rows, record.size, pending=served.pending if served else ""
        )
    document = {
        "format": "loupe-ledger-proofs/1",
        "origin": keys.origin,
        "tree_size": record.size,
        "root_hash": record.root_hash.hex(),
        "checkpoint": record.note,
        "verifier_keys": list(keys.verifier_keys),
        "entries": [
            {
                "index": item.index,
                "leaf": item.leaf.decode("ascii"),
                "proof": [node.hex() for node in item.proof or ()],
                **({"pending": item.pending} if item.pending else {}),
            }
            for item in entries
        ],
    }
    _write(json.dumps(document, indent=2) + "\n", output)
    waiting = sum(1 for item in entries if item.pending)
    if waiting:
        err_console.print(
            f"[yellow]{waiting} entries pending:[/] {entries[-1].pending} "
            f"(checkpoint of {record.size} entries)",
            markup=True,
        )
    if output is not None and str(output) != "-":
        console.print(f"{len(entries) - waiting} entries of {username!r} proven in {output}")


def _witness_verifiers(config: Settings) -> list[CosignerVerifier]:
    if config.ledger_witnesses_file is None:
        return []
    from loupe.services.payments.witnesses import load_witnesses

    return [w.verifier for w in load_witnesses(config.ledger_witnesses_file)]


def _keys_from(files: list[Path], what: str) -> list[str]:
    """Verifier keys, one a line (``#`` comments), from files the user supplies."""
    keys: list[str] = []
    for path in files:
        try:
            text = path.read_text("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"{path}: cannot read the {what} file ({exc}); keys are taken only from a file "
                "you obtained yourself, never from the command line or the server",
                details={"field": what},
            ) from None
        keys.extend(line.split("#", 1)[0].strip() for line in text.splitlines())
    return [key for key in keys if key]


_HEX_HASH = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class _ProvenEntry:
    index: int
    leaf: bytes
    proof: list[bytes]
    pending: str | None


def _proofs_document(proofs: Path, checkpoint: Path | None) -> tuple[str, int, list[_ProvenEntry]]:
    """The note, tree size and entries of a proofs file, each checked for its type and
    form; anything else is one line naming the file and what is wrong (InvalidInput)."""

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"{proofs}: not a proofs file ({why})", details={"field": "proofs"})

    try:
        document = decode_json(proofs.read_text("utf-8"))
        note = checkpoint.read_text("utf-8") if checkpoint else None
    except (OSError, ValueError) as exc:
        raise bad(str(exc)) from None
    if not isinstance(document, dict):
        raise bad(f"a JSON object, not {type(document).__name__}")
    if note is None:
        note = document.get("checkpoint")
        if not isinstance(note, str):
            raise bad("'checkpoint' must be the signed note as text")
    size, raw_entries = document.get("tree_size"), document.get("entries")
    if isinstance(size, bool) or not isinstance(size, int):
        raise bad("'tree_size' must be an integer")
    if not isinstance(raw_entries, list):
        raise bad("'entries' must be a list")
    entries: list[_ProvenEntry] = []
    for position, item in enumerate(raw_entries):
        where = f"entries[{position}]"
        if not isinstance(item, dict):
            raise bad(f"{where} must be an object")
        index, leaf, path, pending = (
            item.get("index"),
            item.get("leaf"),
            item.get("proof"),
            item.get("pending"),
        )
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise bad(f"{where}: 'index' must be a non-negative integer")
        if not isinstance(leaf, str) or not leaf.isascii():
            raise bad(f"{where}: 'leaf' must be the entry's canonical JSON as ASCII text")
        if not isinstance(path, list) or not all(
            isinstance(node, str) and _HEX_HASH.match(node) for node in path
        ):
            raise bad(f"{where}: 'proof' must be a list of 64-digit lowercase hex hashes")
        if pending is not None and not isinstance(pending, str):
            raise bad(f"{where}: 'pending' must be text")
        entries.append(
            _ProvenEntry(index, leaf.encode("ascii"), [bytes.fromhex(n) for n in path], pending)
        )
    return note, size, entries


def _consistency_document(path: Path) -> tuple[int, int, list[bytes]]:
    """``first``, ``second`` and ``path`` of a consistency proof file (the JSON of
    ``GET /ledger/proof/consistency``), each checked for its type and form."""

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"{path}: not a consistency proof ({why})", details={"field": "proof"})

    try:
        document = decode_json(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise bad(str(exc)) from None
    if not isinstance(document, dict):
        raise bad(f"a JSON object, not {type(document).__name__}")
    sizes: list[int] = []
    for name in ("first", "second"):
        size = document.get(name)
        if isinstance(size, bool) or not isinstance(size, int):
            raise bad(f"'{name}' must be a tree size, a whole number from 1")
        if not 1 <= size <= verify.MAX_TREE_SIZE:
            raise bad(f"'{name}' must be a tree size, a whole number from 1")
        sizes.append(size)
    nodes = document.get("path")
    if not isinstance(nodes, list) or not all(
        isinstance(n, str) and _HEX_HASH.match(n) for n in nodes
    ):
        raise bad("'path' must be a list of 64-digit lowercase hex hashes")
    return sizes[0], sizes[1], [bytes.fromhex(n) for n in nodes]


@ledger_app.command("check-consistency")
def check_consistency_command(
    saved: Annotated[Path, typer.Argument(help="A checkpoint note you saved earlier")],
    current: Annotated[
        Path, typer.Argument(help="The log's checkpoint note now (GET /ledger/checkpoint)")
    ],
    proof: Annotated[
        Path,
        typer.Argument(
            help="The JSON of GET /ledger/proof/consistency?first=<saved size>&second="
            "<current size>"
        ),
    ],
    key: Annotated[
        list[Path] | None,
        typer.Option(help="A file of the log's verifier keys that you trust; repeatable"),
    ] = None,
) -> None:
    """Check offline (no database, no server) that the log only grew since a checkpoint
    you saved: both notes signed by a key you trust, and the older tree a prefix of the
    newer one (RFC 9162 consistency proof, loupe.ledger.verify)."""
    trusted = _keys_from(key or [], "key")
    if not trusted:
        raise InvalidInput(
            "give --key FILE with the log's published verifier key(s)",
            details={"field": "key"},
        )
    try:
        notes = [saved.read_text("utf-8"), current.read_text("utf-8")]
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"cannot read a checkpoint note: {exc}", details={"field": "note"}
        ) from None
    first, second, path = _consistency_document(proof)
    try:
        old, new = (verify.verify_checkpoint(note, trusted) for note in notes)
        if old.origin != new.origin:
            raise verify.VerificationError(
                f"the checkpoints are of two logs: {old.origin!r} and {new.origin!r}"
            )
        if (first, second) != (old.size, new.size):
            raise verify.VerificationError(
                f"the proof is from size {first} to {second}, the checkpoints are of sizes "
                f"{old.size} and {new.size}; ask for the proof between those sizes"
            )
        verify.verify_consistency(old.size, new.size, path, old.root_hash, new.root_hash)
    except verify.VerificationError as exc:
        raise LedgerIntegrityError(f"the log does not verify: {exc}") from None
    console.print(f"the log {new.origin} only grew: size {old.size} is a prefix of size {new.size}")


@ledger_app.command("check-proof")
def check_proof_command(
    proofs: Annotated[Path, typer.Argument(help="The file `loupe ledger prove` wrote")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="A checkpoint note you saved earlier (default: the file's own)"),
    ] = None,
    key: Annotated[
        list[Path] | None,
        typer.Option(help="A file of the log's verifier keys that you trust; repeatable"),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option(help="A file of the witness keys you trust (one a line)"),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(
            min=0, help="Witness cosignatures required (default: 1 with --witnesses, else 0)"
        ),
    ] = None,
    contributor: Annotated[
        str | None,
        typer.Option(
            help="Your pseudonym (64 hex digits, shown in your wallet): every entry must be yours"
        ),
    ] = None,
) -> None:
    """Check a proofs file offline (no database, no server) with loupe.ledger.verify and
    the entry decoder.

    Every key comes from files you supply: the log's (--key) and the witnesses' (--witnesses);
    the checkpoint must carry at least --quorum valid witness cosignatures. Every entry must
    be canonical, listed once, and of one contributor (--contributor: yours).
    """
    if contributor is not None and not _HEX_HASH.match(contributor):
        raise InvalidInput(
            "--contributor is your pseudonym: 64 lowercase hex digits, as your wallet shows it",
            details={"field": "contributor"},
        )
    note, tree_size, entries = _proofs_document(proofs, checkpoint)
    trusted = _keys_from(key or [], "key")
    if not trusted:
        raise InvalidInput(
            "give --key FILE with the log's published verifier key(s); the keys inside the "
            "proofs file come from the server and prove nothing on their own",
            details={"field": "key"},
        )
    witness_keys = _keys_from([witnesses], "witnesses") if witnesses else []
    if witnesses and not witness_keys:
        raise InvalidInput(f"{witnesses}: holds no witness key", details={"field": "witnesses"})
    required = quorum if quorum is not None else (1 if witness_keys else 0)
    if required > len(witness_keys):
        raise InvalidInput(
            f"--quorum {required} needs at least {required} witness key(s) in --witnesses; "
            f"got {len(witness_keys)}",
            details={"field": "quorum"},
        )
    try:
        cosigned = verify.verify_cosigned_checkpoint(note, trusted, witness_keys, quorum=required)
        signed = cosigned.checkpoint
        if signed.size != tree_size:
            raise verify.VerificationError(
                f"the proofs are for tree size {tree_size} but the checkpoint has "
                f"size {signed.size}; ask for proofs at that size"
            )
        totals: dict[str, int] = {}
        owners: set[str] = set()
        seen: set[int] = set()
        # Only an entry after the checkpoint may be pending; any other is checked.
        pending = [e for e in entries if e.pending and e.index >= signed.size]
        for item in entries:
            # A balance sums each entry once: the same entry listed twice is a forgery.
            if item.index in seen:
                raise verify.VerificationError(f"entry {item.index} is listed more than once")
            seen.add(item.index)
            if item in pending:
                continue
            verify.verify_inclusion(
                verify.hash_leaf(item.leaf), item.index, signed.size, item.proof, signed.root_hash
            )
            # The logged bytes must be one canonical entry: no duplicate keys, floats or
            # extra fields that another reader would read as another amount.
            try:
                entry = PaymentEntry.decode(item.leaf)
            except InvalidInput as exc:
                raise verify.VerificationError(
                    f"entry {item.index} is not a canonical payment entry: {exc.message}"
                ) from None
            owners.add(entry.contributor)
            totals[entry.currency] = totals.get(entry.currency, 0) + entry.balance_change
        # Proofs of other people's entries prove nothing about yours.
        if len(owners) > 1:
            raise verify.VerificationError(
                f"the entries belong to {len(owners)} different contributors, not one: "
                + ", ".join(sorted(owner[:12] + "…" for owner in owners))
            )
        if contributor is not None and owners and owners != {contributor}:
            raise verify.VerificationError(
                f"the entries are of contributor {next(iter(owners))}, not of {contributor}"
            )
    except verify.VerificationError as exc:
        raise LedgerIntegrityError(f"the proofs do not verify: {exc}") from None
    if cosigned.cosigners:
        console.print(
            f"cosigned by {len(cosigned.cosigners)} trusted witness(es): "
            f"{', '.join(cosigned.cosigners)} (quorum {required})"
        )
    else:
        err_console.print(
            "[yellow]warning:[/] no witness quorum was required: a log that re-signs a "
            "rewritten history with the same key would pass; give --witnesses FILE",
            markup=True,
        )
    root = base64.b64encode(signed.root_hash).decode("ascii")
    console.print(
        f"all {len(entries) - len(pending)} entries are in the signed log {signed.origin} "
        f"(size {signed.size}, root {root})"
    )
    if pending:
        err_console.print(
            f"[yellow]{len(pending)} entries pending, not checked:[/] "
            f"{escape(pending[0].pending or '')}; run `loupe ledger prove` again later",
            markup=True,
        )
    if owners:
        console.print(f"contributor {next(iter(owners))}")
        if contributor is None:
            err_console.print(
                "[yellow]note:[/] check that this is your pseudonym (your wallet shows it), "
                "or pass --contributor",
                markup=True,
            )
    for currency, amount in sorted(totals.items()):
        console.print(f"balance {currency}: {amount} (minor units)")


@payouts_app.command("create")
def create_payout_command(
    currency: Annotated[str, typer.Option(help="ISO 4217 code, e.g. EUR")],
    minimum: Annotated[int, typer.Option(help="Pay balances of at least this (minor units)")] = 1,
    database_url: DatabaseUrl = None,
    key_dir: KeyDir = None,
) -> None:
    """Debit every balance of at least MINIMUM in one payout batch."""
    config = _settings(database_url, key_dir)
    with open_database(config.database_url) as db:
        check_key_dir(db, config.resolved_key_dir())
    ledger_cfg = ledger_config(config)
    with open_database(config.database_url) as db, db.transaction() as session:
        payout = earnings.create_payout(
            session, Actor.system(), ledger_cfg, currency=currency, minimum_minor=minimum
        )
    console.print(
        f"payout {payout.id}: {payout.n_entries} contributor(s), "
        f"{payout.total_minor} {payout.currency} minor units"
    )


@payouts_app.command("export")
def export_payout_command(
    payout_id: Annotated[int, typer.Argument(help="The payout batch")],
    file_format: Annotated[
        PayoutFormat,
        typer.Option("--format", help="csv, or pain001 (ISO 20022 pain.001.001.09 XML)"),
    ] = "csv",
    output: Output = None,
    debtor_name: Annotated[
        str, typer.Option(help="The paying organisation (pain001)")
    ] = "Loupe payouts",
    debtor_iban: Annotated[
        str | None, typer.Option(help="Its IBAN (pain001; default: placeholder NOTPROVIDED)")
    ] = None,
    debtor_bic: Annotated[
        str | None, typer.Option(help="Its bank's BIC (pain001; default: placeholder)")
    ] = None,
    database_url: DatabaseUrl = None,
    key_dir: KeyDir = None,
) -> None:
    """Write a payout batch for the bank or payment provider, with the checkpoint sealing it.

    Amounts come from the batch's logged entries (refused, exit 8, when a stored column
    disagrees). With --output, the signed checkpoint note is also written to FILE.checkpoint.
    """
    config = _settings(database_url, key_dir)
    keys = load_keys(config.resolved_key_dir())
    with open_database(config.database_url) as db, db.transaction(readonly=True) as session:
        batch = payout_files.payout_batch(session, Actor.system(), payout_id, secret=keys.secret)
    if file_format == "pain001":
        debtor = payout_files.Debtor(name=debtor_name, iban=debtor_iban, bic=debtor_bic)
        text = payout_files.pain001(batch, debtor=debtor).decode("utf-8") + "\n"
    else:
        text = "".join(payout_files.payout_csv(batch))
    _write(text, output)
    if output is not None and str(output) != "-":
        sidecar = output.with_name(output.name + ".checkpoint")
        sidecar.write_text(batch.checkpoint_note, encoding="utf-8")
        console.print(
            f"payout {batch.id}: {len(batch.lines)} line(s) in {output}; checkpoint of size "
            f"{batch.tree_size} in {sidecar}"
        )


# `loupe ledger payouts ...` is the same group as `loupe payouts ...`.
ledger_app.add_typer(payouts_app, name="payouts")
ledger_app.command("anchor")(anchor_command)
