"""Browser sessions for the web UI: one row per signed-in browser.

The cookie holds a random secret; the row keys on its SHA-256 (like API tokens), so a
copy of the database signs nobody in. ``csrf_token`` is the per-session token every
form and every cookie-authenticated API write must echo back.

``login_throttles`` counts recent failed sign-ins per account and per client address
(in the database, so a lockout holds across server processes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, UTCDateTime, utcnow

__all__ = ["BrowserSession", "LoginThrottle"]


class BrowserSession(Base):
    __tablename__ = "browser_sessions"

    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginThrottle(Base):
    """Failed sign-ins in a row for one key: ``user:<username>`` or ``client:<address>``."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
