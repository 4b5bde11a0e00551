"""Contributor profiles: domain levels, languages, clearances and qualifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from loupe.services.people import profiles
from loupe.web.deps import Reader, Writer
from loupe.web.params import After, Id, Limit
from loupe.web.schemas.common import Page
from loupe.web.schemas.contributors import (
    DomainGrantIn,
    DomainGrantOut,
    LanguagesIn,
    LanguagesOut,
    ProfileOut,
)

router = APIRouter(tags=["contributors"])

Domain = Annotated[str, Path(description="A domain tag, e.g. medical")]


@router.get("/me/profile", response_model=ProfileOut)
def my_profile(ctx: Reader) -> ProfileOut:
    """Your domains and levels, languages, clearances and qualification attempts."""
    assert ctx.actor.user_id is not None  # API actors are users
    profile = profiles.get_profile(ctx.session, ctx.actor, ctx.actor.user_id)
    return ProfileOut.model_validate(profile)


@router.get("/users/{user_id}/profile", response_model=ProfileOut)
def profile(user_id: Id, ctx: Reader) -> ProfileOut:
    """A contributor's profile: your own, or anyone's for managers and admins."""
    return ProfileOut.model_validate(profiles.get_profile(ctx.session, ctx.actor, user_id))


@router.put("/users/{user_id}/languages", response_model=LanguagesOut)
def set_languages(user_id: Id, body: LanguagesIn, ctx: Writer) -> LanguagesOut:
    """Replace the languages you (or, for managers, a contributor) work in."""
    stored = profiles.set_languages(ctx.session, ctx.actor, user_id, body.languages)
    return LanguagesOut(user_id=user_id, languages=list(stored))


@router.put("/users/{user_id}/domains/{domain}", response_model=DomainGrantOut)
def grant_domain(user_id: Id, domain: Domain, body: DomainGrantIn, ctx: Writer) -> DomainGrantOut:
    """Set a contributor's level in a domain (managers and admins; never yourself). Audited."""
    row = profiles.grant_domain(
        ctx.session, ctx.actor, user_id, domain, body.level, body.expires_at
    )
    return DomainGrantOut.model_validate(row)


@router.delete("/users/{user_id}/domains/{domain}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_domain(user_id: Id, domain: Domain, ctx: Writer) -> Response:
    """Take a contributor's level in a domain away at once. Audited."""
    profiles.revoke_domain(ctx.session, ctx.actor, user_id, domain)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/contributors", response_model=Page[ProfileOut])
def list_contributors(
    ctx: Reader,
    domain: Annotated[str | None, Query(description="Only holders of a level in it")] = None,
    after: After = 0,
    limit: Limit = 100,
) -> Page[ProfileOut]:
    """Contributors' profiles in user-id order (managers and admins)."""
    rows = profiles.list_contributors(
        ctx.session, ctx.actor, domain=domain, after_id=after, limit=limit + 1
    )
    page = rows[:limit]
    return Page[ProfileOut](
        items=[ProfileOut.model_validate(row) for row in page],
        next_after=page[-1].user_id if len(rows) > limit else None,
    )
