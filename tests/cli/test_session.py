"""The CLI's database handle."""

from __future__ import annotations

from loupe.cli.session import open_database


def test_the_cli_writes_beside_a_server_that_may_be_running(database_url: str) -> None:
    """`loupe import` pauses after every write batch: a server's annotators wait for
    SQLite's lock in another process, where the import cannot see them."""
    with open_database(database_url) as db:
        assert db.writers_elsewhere
