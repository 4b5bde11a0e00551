"""Browser sessions for the web UI: one row per signed-in browser.

The cookie holds a random secret; the row keys on its SHA-256 (like API tokens), so a
copy of the database signs nobody in. ``csrf_token`` is the per-session token every
form and every cookie-authenticated API write must echo back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loupe.db.models import Base, UTCDateTime, utcnow

__all__ = ["BrowserSession"]


class BrowserSession(Base):
    __tablename__ = "browser_sessions"

    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
