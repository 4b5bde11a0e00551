"""Projects and their members."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from loupe.client._async.resource import AsyncResource
from loupe.client._wire import parse
from loupe.client.models import Member, Page, Project, ProjectDeletion

__all__ = ["AsyncMembersResource", "AsyncProjectsResource"]


class AsyncProjectsResource(AsyncResource):
    """Projects: a label schema, guidelines, overlap and members."""

    async def list(self, *, after: int = 0, limit: int = 100) -> Page[Project]:
        """One page of the projects you can see (``after``: the last id seen)."""
        response = await self._client.request(
            "projects.list", params={"after": after, "limit": limit}
        )
        page: Page[Project] = parse(Page[Project], response)
        return page

    async def iter(self, *, page_size: int = 100) -> AsyncIterator[Project]:
        """Every project you can see, a page at a time."""
        after = 0
        while True:
            page = await self.list(after=after, limit=page_size)
            for project in page.items:
                yield project
            if page.next_after is None:
                return
            after = page.next_after

    async def get(self, project_id: int) -> Project:
        response = await self._client.request("projects.get", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    async def create(
        self,
        name: str,
        config: Mapping[str, Any],
        *,
        overlap: int = 1,
        guidelines: str = "",
        description: str = "",
    ) -> Project:
        """Create a project (you become its manager); ``config`` is its label schema,
        e.g. ``{"task": {"type": "single_choice", "labels": [{"key": "yes"}]}}``."""
        body = {
            "name": name,
            "config": dict(config),
            "overlap": overlap,
            "guidelines": guidelines,
            "description": description,
        }
        result: Project = parse(Project, await self._client.request("projects.create", json=body))
        return result

    async def update(
        self,
        project_id: int,
        *,
        config: Mapping[str, Any] | None = None,
        guidelines: str | None = None,
        overlap: int | None = None,
        description: str | None = None,
    ) -> Project:
        """Change what is given; a changed schema makes a new config version."""
        body = {
            "config": dict(config) if config is not None else None,
            "guidelines": guidelines,
            "overlap": overlap,
            "description": description,
        }
        response = await self._client.request(
            "projects.update",
            path={"project_id": project_id},
            json={k: v for k, v in body.items() if v is not None},
        )
        result: Project = parse(Project, response)
        return result

    async def archive(self, project_id: int) -> Project:
        """Archive: no tasks, imports or labels until unarchived; still readable."""
        response = await self._client.request("projects.archive", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    async def unarchive(self, project_id: int) -> Project:
        response = await self._client.request("projects.unarchive", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    async def duplicate(self, project_id: int, name: str, *, members: bool = False) -> Project:
        """A new project with this one's configuration (and its members if asked); no items."""
        response = await self._client.request(
            "projects.duplicate",
            path={"project_id": project_id},
            json={"name": name, "members": members},
        )
        result: Project = parse(Project, response)
        return result

    async def delete(self, project_id: int, *, confirm: str) -> ProjectDeletion:
        """Delete the project and its data; ``confirm`` is its name, typed again."""
        response = await self._client.request(
            "projects.delete", path={"project_id": project_id}, json={"confirm": confirm}
        )
        result: ProjectDeletion = parse(ProjectDeletion, response)
        return result


class AsyncMembersResource(AsyncResource):
    """Who works on a project, and in which role."""

    async def list(self, project_id: int) -> builtins.list[Member]:
        response = await self._client.request("members.list", path={"project_id": project_id})
        result: builtins.list[Member] = parse(list[Member], response)
        return result

    async def add(
        self,
        project_id: int,
        user_id: int,
        role: Literal["manager", "annotator", "reviewer", "auditor"] = "annotator",
    ) -> Member:
        """Add a user to the project, or change their role in it."""
        response = await self._client.request(
            "members.put",
            path={"project_id": project_id, "user_id": user_id},
            json={"role": role},
        )
        result: Member = parse(Member, response)
        return result

    async def resume(self, project_id: int, user_id: int) -> Member:
        """Lift a quality pause from a member."""
        response = await self._client.request(
            "members.resume", path={"project_id": project_id, "user_id": user_id}
        )
        result: Member = parse(Member, response)
        return result
