"""How ``loupe serve`` runs uvicorn: worker health checks that wait for a slow start,
and one clear line when a worker process dies.

uvicorn's supervisor pings every worker and kills one that does not answer within
``timeout_worker_healthcheck`` (5 s by default), then starts another: on a loaded
machine a worker still importing the app was killed and replaced forever, and the
line saying so ("Child process [...] died") is logged at INFO, below the default
``warning`` level. Here the health check waits ``WORKER_HEALTHCHECK_S`` and that
line is raised to WARNING, whatever the level.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import re
from typing import Annotated, Any

import typer

from loupe.errors import InvalidInput

__all__ = ["LEVELS", "WORKER_HEALTHCHECK_S", "WorkerEvents", "log_config", "serve"]

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="LOUPE_DATABASE_URL", help="Default: ./loupe.db"),
]

#: Seconds a worker may take to answer uvicorn's supervisor, start-up included (12
#: times uvicorn's default). The price: a worker killed while the supervisor waits for
#: its answer is noticed after this long rather than 5 s (a narrow race in uvicorn;
#: a worker found dead between pings is replaced within half a second).
WORKER_HEALTHCHECK_S = 60
#: ``loupe serve --log-level`` values (uvicorn's, ``trace`` included).
LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "trace": 5}

_DIED = re.compile(r"Child process \[(\d+)\] died")


class WorkerEvents(logging.Filter):
    """Passes records at ``level`` or above, and always a worker's death, as a WARNING.

    >>> record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0,
    ...                            "Child process [42] died", None, None)
    >>> WorkerEvents("warning").filter(record), record.levelname, record.getMessage()
    (True, 'WARNING', 'worker process 42 died; starting a new one')
    """

    def __init__(self, level: str = "warning") -> None:
        super().__init__()
        self.level = LEVELS[level]

    def filter(self, record: logging.LogRecord) -> bool:
        died = _DIED.match(record.getMessage())
        if died is not None:
            record.msg, record.args = "worker process %s died; starting a new one", (died[1],)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.__dict__.pop("color_message", None)
            return True
        return record.levelno >= self.level


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up with ``level`` applied by :class:`WorkerEvents`.

    The ``uvicorn`` loggers stay at INFO so that the supervisor's records reach the
    handler's filter; pass ``log_level=None`` to uvicorn with it.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"workers": {"()": f"{__name__}.WorkerEvents", "level": level}}
    for handler in config["handlers"].values():
        handler["filters"] = ["workers"]
    return config


def serve(
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes")] = 1,
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info, debug or trace")
    ] = "warning",
) -> None:
    """Serve the API and the web UI with uvicorn."""
    if log_level not in LEVELS:
        raise InvalidInput(
            f"--log-level must be one of {', '.join(LEVELS)}, not {log_level!r}",
            details={"field": "log_level", "allowed": list(LEVELS)},
        )
    # Start-up makes ~300,000 objects that live as long as the server: the cyclic
    # collector's passes over them while they are made cost ~0.25 s and free almost
    # nothing. It is off (and these imports come after) until the app is built, then
    # create_app_from_env freezes what start-up made and turns it back on.
    gc.disable()
    try:
        import uvicorn

        from loupe.cli.session import console, open_database, settings
        from loupe.services.compliance.key_binding import bind_key_dir

        if database_url:
            os.environ["LOUPE_DATABASE_URL"] = database_url
        with open_database(database_url) as db:
            # Migrate once here, not racing in every worker; a read-only database stops
            # here with one line instead of a traceback from each worker.
            db.check_writable()
            # Keys belong to one database: bind the key directory the first time, and
            # refuse one that another database uses.
            bind_key_dir(db, settings(database_url).resolved_key_dir())
            # The log is no place for the database's password.
            location = db.location
        console.print(
            f"Loupe on http://{host}:{port}  (API contract: /api/v1/openapi.json; "
            f"database: {location})"
        )
        if workers > 1:
            gc.enable()  # this process only supervises; each worker builds its own app
        uvicorn.run(
            "loupe.web.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # The level is applied by log_config's filter, which also raises a worker's
            # death to a WARNING; a slow worker start is not mistaken for a hung worker.
            log_config=log_config(log_level),
            log_level=None,
            access_log=False,
            # Loupe serves no WebSocket: uvicorn would import the websockets library
            # (~50 ms of every start) only to answer an upgrade with a 403.
            ws="none",
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        gc.enable()
