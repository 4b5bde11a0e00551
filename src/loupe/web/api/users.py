from __future__ import annotations

from fastapi import APIRouter, Response, status

from loupe.services.people import users
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit, page_of
from loupe.web.schemas.common import Page
from loupe.web.schemas.users import TokenIn, TokenIssued, TokenOut, UserIn, UserOut

router = APIRouter(tags=["users"])


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, ctx: Writer) -> UserOut:
    """Create a user (admins only). Then issue them a token."""
    user = users.create_user(
        ctx.session,
        ctx.actor,
        username=body.username,
        role=body.role,
        display_name=body.display_name,
    )
    return UserOut.model_validate(user)


@router.get("/users", response_model=Page[UserOut])
def list_users(
    ctx: Reader,
    after: After = 0,
    limit: Limit = 100,
) -> Page[UserOut]:
    rows = users.list_users(ctx.session, ctx.actor, after_id=after, limit=limit + 1)
    return page_of(rows, limit, UserOut)


@router.post("/users/{user_id}/deactivate", response_model=UserOut)
def deactivate_user(user_id: Id, ctx: Writer) -> UserOut:
    """Deactivate a user (admins; not yourself): their sign-ins are refused, their
    sessions and tokens stop working at once, their reserved tasks are released. Audited."""
    return UserOut.model_validate(
        users.set_active(ctx.session, ctx.actor, user_id=user_id, active=False)
    )


@router.post("/users/{user_id}/reactivate", response_model=UserOut)
def reactivate_user(user_id: Id, ctx: Writer) -> UserOut:
    """Reactivate a user (admins): they may sign in again; unrevoked tokens work again."""
    return UserOut.model_validate(
        users.set_active(ctx.session, ctx.actor, user_id=user_id, active=True)
    )


@router.post(
    "/users/{user_id}/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED
)
def issue_token(user_id: Id, body: TokenIn, ctx: Writer) -> TokenIssued:
    """A new API token. The secret is in this response only; store it now."""
    issued = users.issue_token(
        ctx.session, ctx.actor, user_id=user_id, name=body.name, expires_at=body.expires_at
    )
    return TokenIssued.model_validate(
        {**TokenOut.model_validate(issued.token).model_dump(), "token": issued.secret}
    )


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut])
def list_tokens(user_id: Id, ctx: Reader) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t)
        for t in users.list_tokens(ctx.session, ctx.actor, user_id=user_id)
    ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: Id, ctx: Writer) -> Response:
    """Revoke a token at once; requests carrying it get 401 from now on."""
    users.revoke_token(ctx.session, ctx.actor, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
