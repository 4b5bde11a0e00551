"""The live server the client tests talk to (started by ``conftest.live_server``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.factories import Person

from loupe.client import Client, RetryPolicy

__all__ = ["ORIGIN", "SCHEMA", "LiveServer"]

ORIGIN = "test.loupe/client"

SCHEMA = {
    "task": {
        "type": "single_choice",
        "labels": [{"key": "call"}, {"key": "music"}, {"key": "navigate"}],
    }
}


@dataclass(frozen=True)
class LiveServer:
    url: str
    directory: Path
    admin: Person
    manager: Person
    annotator: Person
    auditor: Person
    verifier_keys: tuple[str, ...]

    def client(self, person: Person | None = None) -> Client:
        """A client as ``person`` (the admin by default); no retry waits."""
        token = (person or self.admin).token
        return Client(self.url, token, retry=RetryPolicy(retries=2, backoff=0.0))
