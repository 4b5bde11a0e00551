"""A database handle: the engine plus sessions for writers and for readers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from loupe.db.engine import make_engine, make_sessionmaker
from loupe.db.migrate import upgrade

__all__ = ["Database"]


class Database:
    """Owns one engine. ``transaction()`` commits on success and rolls back on error."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, pool_size=pool_size)
        self.writer = make_sessionmaker(self.engine)
        self.reader = make_sessionmaker(self.engine, readonly=True)

    def migrate(self) -> None:
        upgrade(self.engine)

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        session = (self.reader if readonly else self.writer)()
        try:
            yield session
            if readonly:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
