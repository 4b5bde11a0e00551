# Generated from loupe/client/_async/projects.py by `python -m loupe.client._unasync`.
# Do not edit: edit the async source and regenerate.
"""Projects and their members."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from loupe.client._sync.resource import Resource
from loupe.client._wire import parse
from loupe.client.models import Member, Page, Project, ProjectDeletion

__all__ = ["MembersResource", "ProjectsResource"]


class ProjectsResource(Resource):
    """Projects: a label schema, guidelines, overlap and members."""

    def list(self, *, after: int = 0, limit: int = 100) -> Page[Project]:
        """One page of the projects you can see (``after``: the last id seen)."""
        response = self._client.request("projects.list", params={"after": after, "limit": limit})
        page: Page[Project] = parse(Page[Project], response)
        return page

    def iter(self, *, page_size: int = 100) -> Iterator[Project]:
        """Every project you can see, a page at a time."""
        after = 0
        while True:
            page = self.list(after=after, limit=page_size)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def get(self, project_id: int) -> Project:
        response = self._client.request("projects.get", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    def create(
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
        result: Project = parse(Project, self._client.request("projects.create", json=body))
        return result

    def update(
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
        response = self._client.request(
            "projects.update",
            path={"project_id": project_id},
            json={k: v for k, v in body.items() if v is not None},
        )
        result: Project = parse(Project, response)
        return result

    def archive(self, project_id: int) -> Project:
        """Archive: no tasks, imports or labels until unarchived; still readable."""
        response = self._client.request("projects.archive", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    def unarchive(self, project_id: int) -> Project:
        response = self._client.request("projects.unarchive", path={"project_id": project_id})
        result: Project = parse(Project, response)
        return result

    def duplicate(self, project_id: int, name: str, *, members: bool = False) -> Project:
        """A new project with this one's configuration (and its members if asked); no items."""
        response = self._client.request(
            "projects.duplicate",
            path={"project_id": project_id},
            json={"name": name, "members": members},
        )
        result: Project = parse(Project, response)
        return result

    def delete(self, project_id: int, *, confirm: str) -> ProjectDeletion:
        """Delete the project and its data; ``confirm`` is its name, typed again."""
        response = self._client.request(
            "projects.delete", path={"project_id": project_id}, json={"confirm": confirm}
        )
        result: ProjectDeletion = parse(ProjectDeletion, response)
        return result


class MembersResource(Resource):
    """Who works on a project, and in which role."""

    def list(self, project_id: int) -> builtins.list[Member]:
        response = self._client.request("members.list", path={"project_id": project_id})
        result: builtins.list[Member] = parse(list[Member], response)
        return result

    def add(
        self,
        project_id: int,
        user_id: int,
        role: Literal["manager", "annotator", "reviewer", "auditor"] = "annotator",
    ) -> Member:
        """Add a user to the project, or change their role in it."""
        response = self._client.request(
            "members.put",
            path={"project_id": project_id, "user_id": user_id},
            json={"role": role},
        )
        result: Member = parse(Member, response)
        return result

    def resume(self, project_id: int, user_id: int) -> Member:
        """Lift a quality pause from a member."""
        response = self._client.request(
            "members.resume", path={"project_id": project_id, "user_id": user_id}
        )
        result: Member = parse(Member, response)
        return result
