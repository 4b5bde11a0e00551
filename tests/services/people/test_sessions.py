from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import make_user
from tests.web.ui.signin import PASSWORD, give_password

from loupe.db.database import Database
from loupe.db.privacy_models import AuditEvent
from loupe.errors import Unauthenticated
from loupe.services.people.sessions import start_session


def test_a_sign_in_is_audited_and_a_failed_one_writes_nothing(db: Database) -> None:
    maya = make_user(db, "maya")
    give_password(db, maya)
    with pytest.raises(Unauthenticated), db.transaction() as session:
        start_session(session, username="maya", password="wrong password!", hours=1)
    with db.transaction() as session:
        start_session(session, username="maya", password=PASSWORD, hours=1)
    with db.transaction(readonly=True) as session:
        logins = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.login")).all()
        assert [(e.actor_id, e.actor, e.target) for e in logins] == [
            (maya.id, "maya", f"user:{maya.id}")
        ]
