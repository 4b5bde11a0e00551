# Generated from loupe/client/_async/users.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Users and their API tokens (admins; anyone may read their own tokens)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from loupe.client._sync.resource import Resource
from loupe.client._wire import parse
from loupe.client.models import IssuedToken, Page, Token, User

__all__ = ["UsersResource"]

Role = Literal["admin", "manager", "annotator", "reviewer", "auditor"]


class UsersResource(Resource):
    """Create users, issue and revoke their tokens, deactivate and reactivate them."""

    def me(self) -> User:
        """The user the client's token belongs to."""
        result: User = parse(User, self._client.request("users.me"))
        return result

    def list(self, *, after: int = 0, limit: int = 100) -> Page[User]:
        response = self._client.request("users.list", params={"after": after, "limit": limit})
        page: Page[User] = parse(Page[User], response)
        return page

    def iter(self, *, page_size: int = 100) -> Iterator[User]:
        """Every user, a page at a time."""
        after = 0
        while True:
            page = self.list(after=after, limit=page_size)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def create(self, username: str, role: Role, *, display_name: str = "") -> User:
        """Create a user (admins); then :meth:`issue_token` gives them a token."""
        body = {"username": username, "role": role, "display_name": display_name}
        result: User = parse(User, self._client.request("users.create", json=body))
        return result

    def deactivate(self, user_id: int) -> User:
        """Refuse their sign-ins; their sessions and tokens stop working at once."""
        response = self._client.request("users.deactivate", path={"user_id": user_id})
        result: User = parse(User, response)
        return result

    def reactivate(self, user_id: int) -> User:
        response = self._client.request("users.reactivate", path={"user_id": user_id})
        result: User = parse(User, response)
        return result

    def tokens(self, user_id: int) -> builtins.list[Token]:
        """A user's tokens, without their secrets."""
        response = self._client.request("users.list_tokens", path={"user_id": user_id})
        result: builtins.list[Token] = parse(list[Token], response)
        return result

    def issue_token(
        self, user_id: int, *, name: str = "sdk", expires_at: datetime | None = None
    ) -> IssuedToken:
        """A new token; ``token`` (the secret) is in this answer only."""
        body = {"name": name, "expires_at": expires_at.isoformat() if expires_at else None}
        response = self._client.request("users.issue_token", path={"user_id": user_id}, json=body)
        result: IssuedToken = parse(IssuedToken, response)
        return result

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token at once: requests carrying it get 401 from now on."""
        self._client.request("users.revoke_token", path={"token_id": token_id})
