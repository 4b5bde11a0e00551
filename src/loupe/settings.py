"""Settings, read once by whoever starts Loupe (``create_app``, the CLI), never at import.

Every setting can come from the environment with the ``LOUPE_`` prefix, e.g.
``LOUPE_DATABASE_URL=postgresql+psycopg://user@host/db``. ``docs/settings.md``
lists them all, and a test keeps that page in step with this class.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loupe.errors import InvalidInput

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Loupe's configuration.

    >>> Settings(database_url="sqlite:///./example.db").lease_seconds
    600
    """

    model_config = SettingsConfigDict(env_prefix="LOUPE_", extra="ignore")

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {part!r}") from None
        return ",".join(parts)

    database_url: str = Field(
        default="sqlite:///./loupe.db",
        description="SQLAlchemy URL. SQLite (the default) or postgresql+psycopg://...",
    )
    lease_seconds: int = Field(
        default=600,
        ge=1,
        description="How long a task handed out by `next task` stays reserved for its annotator.",
    )
    db_pool_size: int = Field(
        default=8, ge=1, description="Connections per server process (PostgreSQL)."
    )
    db_prepared_statements: bool = Field(
        default=True,
        description="PostgreSQL only. Let psycopg prepare statements it runs often on the "
        "server. Set to false behind a pooler in transaction mode (PgBouncer `pool_mode = "
        "transaction` before 1.21 or without `max_prepared_statements`), which cannot carry "
        "a prepared statement from one transaction to the next.",
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite only. `full`: every acknowledged write is on disk before the "
        "reply (survives power loss), except a task's lease, whose loss only returns the "
        "item to the queue. `normal`: faster commits, but a power loss or OS "
        "crash may lose the last acknowledged writes (a crash of Loupe itself loses none).",
    )
    max_import_batch: int = Field(
        default=10_000, ge=1, description="Most items one JSON import request may carry."
    )
    refit_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the server checks for projects due a background re-fit of "
        "their aggregator (0 turns the background re-fit off).",
    )
    retrain_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often the server checks for projects due a background retrain of "
        "their model (0 turns the background retrain off).",
    )
    retrain_every: int = Field(
        default=200,
        ge=1,
        description="Retrain a project's model (and promote it if better on its gold set) "
        "after this many newly resolved items.",
    )
    export_chunk_size: int = Field(
        default=2_000, ge=1, description="Rows read per query while streaming an export."
    )
    key_dir: Path | None = Field(
        default=None,
        description=(
            "Directory holding the ledger's signing key, verifier keys and pseudonym secret "
            "(created by `loupe init`, mode 0700, files 0600). Kept outside the database. "
            "Default: `<name>-keys` next to a SQLite database `<name>.db` (so two databases "
            "never share keys; a database created before this default keeps an existing "
            "`loupe-keys` next to it), else `./loupe-keys`. Bound to one database on first "
            "start (a `database-id` file): Loupe refuses a directory bound to another."
        ),
    )
    model_dir: Path | None = Field(
        default=None,
        description=(
            "Directory holding the weights of every promoted model version (one file per "
            "version, mode 0600), so that a restarted server uses the champion without "
            "retraining. As trusted as the database: model files are unpickled. "
            "Default: `loupe-models` next to a SQLite database, else `./loupe-models`."
        ),
    )
    ledger_origin: str = Field(
        default="loupe.local/payments",
        pattern=r"^[^\s+]+$",
        description=(
            "The payment log's name in signed checkpoints and the signing key's name "
            "(no spaces or '+'), e.g. `ledger.example.org/payments`."
        ),
    )
    ledger_checkpoint_every: int = Field(
        default=1_000,
        ge=1,
        description="Sign and store a new checkpoint each time the log grows by this many entries.",
    )
    ledger_witnesses_file: Path | None = Field(
        default=None,
        description=(
            "File naming the witnesses asked to cosign the log's checkpoints, one a line: "
            "`<witness verifier key> <URL>` (the URL ending before `/add-checkpoint`). "
            "Unset: checkpoints carry only the log's signature."
        ),
    )
    ledger_cosign_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How often the server asks the witnesses in `ledger_witnesses_file` to cosign the "
            "latest checkpoint, including those signed automatically every "
            "`ledger_checkpoint_every` entries (a failing witness is asked again after a "
            "back-off doubling up to 5 minutes; 0 turns it off: then run `loupe ledger "
            "checkpoint`)."
        ),
    )
    anchor_rpc_url: str | None = Field(
        default=None,
        description=(
            "JSON-RPC URL of an Ethereum-compatible node that `loupe ledger anchor` sends "
            "checkpoint hashes to and `loupe ledger verify --anchored` reads them back from "
            "(needs the `loupe[anchor]` extra). Unset: no anchoring."
        ),
    )
    anchor_chain_id: int | None = Field(
        default=None,
        ge=1,
        description=(
            "The chain id anchors are signed for (1: Ethereum mainnet); a node reporting "
            "another chain is refused."
        ),
    )
    anchor_key_file: Path | None = Field(
        default=None,
        description=(
            "File (mode 0600, outside the database) holding the hex private key of the "
            "account that sends anchor transactions; `verify --anchored` expects them from "
            "its address. Fund that account with the chain's gas token only."
        ),
    )
    anchor_every: int = Field(
        default=1,
        ge=1,
        description=(
            "`loupe ledger anchor` anchors the latest checkpoint once this many checkpoints "
            "were published since the last anchored one (one transaction per interval)."
        ),
    )
    anchor_confirmations: int = Field(
        default=12,
        ge=1,
        description=(
            "Blocks an anchor transaction needs (its own included) before "
            "`loupe ledger verify --anchored` accepts it."
        ),
    )

    gate_workers: int = Field(
        default=1,
        ge=0,
        description=(
            "Processes that run the privacy gate's detectors during file imports "
            "(`loupe import`, uploads). 1 runs them in the importing process; 0 uses every "
            "core. Detection runs at about 2,000 short items/s per core."
        ),
    )
    gate_retry_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description=(
            "How often the server gates withheld items again and releases those that now "
            "pass (after a gate upgrade or a policy change; the first run a minute after "
            "start-up; 0 turns it off: then run `loupe privacy retry-withheld`)."
        ),
    )
    webhook_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How often the server sends due webhook deliveries from the outbox (0 turns it "
            "off: then run `loupe webhooks deliver`, e.g. from cron)."
        ),
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Attempts per webhook delivery before it is marked failed.",
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "The first retry delay of a webhook delivery; each further one doubles (with "
            "jitter), up to an hour."
        ),
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="How long a webhook receiver has to answer one delivery.",
    )
    webhook_allowed_networks: str = Field(
        default="",
        description=(
            "Webhooks are sent to public addresses only: a URL whose host is, or resolves "
            "to, a loopback, private, link-local or other non-public address is refused "
            "(checked when connecting, so a DNS name cannot smuggle one in). To reach an "
            "internal receiver, list its addresses or CIDR networks here, comma-separated "
            "(e.g. `10.0.5.0/24,127.0.0.1`)."
        ),
    )
    retention_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description=(
            "How often the server purges items older than their project's `retention_days` "
            "(the first run a minute after start-up; 0 turns the background purge off: then "
            "run `loupe retention run` from cron)."
        ),
    )
    reveal_min_purpose: int = Field(
        default=10,
        ge=1,
        description="Fewest characters the stated purpose of a raw-item reveal must have.",
    )

    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description=(
            "How long a web UI sign-in lasts; the session row and its cookie expire together "
            "and the user signs in again."
        ),
    )
    session_cookie_secure: bool = Field(
        default=False,
        description=(
            "Send the web UI's session cookie only over HTTPS (set it to true behind TLS)."
        ),
    )
    undo_grace_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description=(
            "How long after submitting a label its annotator may take it back "
            "(`U` in the workspace; `DELETE .../labels/mine`). 0 turns undo off."
        ),
    )
    health_min_free_mb: int = Field(
        default=100,
        ge=0,
        description=(
            "`GET /api/v1/health` answers 503 when a data directory (the SQLite database's, "
            "the key and model directories) has less free space than this many MiB."
        ),
    )

    media_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of the local blob store holding media (images): the served, gated "
            "bytes under `media/` and the sealed originals under `sealed/`. Default: "
            "`<name>-media` next to a SQLite database `<name>.db`, else `./loupe-media`. "
            "Ignored when `media_url` names object storage."
        ),
    )
    media_url: str | None = Field(
        default=None,
        description=(
            "Object storage for media instead of `media_dir`, for several servers: "
            "`s3://bucket/prefix` (any S3-compatible service; needs the `s3` extra). "
            "Credentials come from the usual AWS environment variables."
        ),
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible service (MinIO, Ceph...); AWS when unset.",
    )
    max_media_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        description="Largest media file (bytes) an import accepts.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description=(
            "Largest request body (bytes) of an API call or web UI form; a larger one is "
            "refused with 413 `payload_too_large` before it is read whole. The batch routes "
            "have `max_batch_body_bytes`; file imports (`items/import`, `items/upload`) "
            "their own 512 MiB."
        ),
    )
    max_batch_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest request body (bytes) of a batch of items, predictions, texts to "
            "classify or gold answers (`POST .../items`, `.../predictions`, `.../predict`, "
            "`PUT .../gold`); larger batches are refused with 413: send them in parts."
        ),
    )
    image_ocr: Literal["required", "optional"] = Field(
        default="required",
        description=(
            "Whether the image gate's text check (OCR through Tesseract, the `images` extra "
            "plus Debian's `tesseract-ocr`) must run: `required` withholds an imported image "
            "when it cannot (reason `no_ocr`, the gate fails closed); `optional` stores it "
            "with faces and plates pixelated but text unchecked."
        ),
    )

    def __init__(self, **values: Any) -> None:
        """Read the settings; a value that does not fit (``LOUPE_LEASE_SECONDS=abc``) raises
        :class:`InvalidInput` naming its variable, without echoing the value (it may be a
        secret)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            first = exc.errors(include_input=False)[0]
            name = str(first["loc"][0]) if first["loc"] else "settings"
            raise InvalidInput(
                f"setting {name} (LOUPE_{name.upper()}): {first['msg']}; fix the environment "
                "variable (or the option that sets it)",
                details={"field": name},
            ) from None

    def resolved_model_dir(self) -> Path:
        """``model_dir``, or its default next to the database."""
        if self.model_dir is not None:
            return self.model_dir
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix)).parent / "loupe-models"
        return Path("loupe-models")

    def resolved_key_dir(self) -> Path:
        """``key_dir``, or its default next to the database."""
        if self.key_dir is not None:
            return self.key_dir
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            database = Path(self.database_url.removeprefix(prefix))
            own = database.with_name(f"{database.stem}-keys")
            # Keys belong to one database. Before ``<name>-keys`` every SQLite database
            # used ``loupe-keys`` beside it: one that exists already and has no keys of
            # its own keeps those (its ledger is signed and its originals sealed with them).
            legacy = database.with_name("loupe-keys")
            if not own.exists() and legacy.exists() and database.exists():
                return legacy
            return own
        return Path("loupe-keys")

    def resolved_media_dir(self) -> Path:
        """``media_dir``, or its default next to the database."""
        if self.media_dir is not None:
            return self.media_dir
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            database = Path(self.database_url.removeprefix(prefix))
            return database.with_name(f"{database.stem}-media")
        return Path("loupe-media")
