"""The project navigation on a project's pages: the pages this person can use there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from loupe.permissions import allowed
from loupe.services.access import Actor, member_role
from loupe.services.labelling import escalations, workspace

__all__ = ["NavLink", "PageName", "project_links"]

PageName = Literal["work", "review", "expert", "dashboard", "settings"]


@dataclass(frozen=True, slots=True)
class NavLink:
    href: str
    label: str
    current: bool
    waiting: int | None = None  # escalated items waiting for this person (expert queue)


def project_links(
    session: Session, actor: Actor, project_id: int, *, current: PageName | None
) -> list[NavLink]:
    """Links to the project's pages ``actor`` can use (``current`` marked as the page open;
    ``None`` on a page of its own, such as an item's)."""
    can = workspace.capabilities(session, actor, project_id)
    pages: list[tuple[PageName, str, bool]] = [
        ("work", "Label", can.work),
        ("review", "Review", can.review),
        (
            "expert",
            "Adjudicate" if can.adjudicate and not can.expert else "Expert queue",
            can.expert or can.adjudicate,
        ),
        ("dashboard", "Dashboard", can.monitor),
        (
            "settings",
            "Settings",
            allowed(
                actor.role,
                "projects.update",
                member_role=member_role(session, project_id, actor.user_id),
            ),
        ),
    ]
    waiting = None
    if can.expert or can.adjudicate:
        work = escalations.waiting_work(session, actor, project_id)
        waiting = (work.expert or 0) + (work.adjudicator or 0)
    return [
        NavLink(
            f"/projects/{project_id}/{name}",
            label,
            name == current,
            waiting if name == "expert" else None,
        )
        for name, label, shown in pages
        if shown or name == current
    ]
