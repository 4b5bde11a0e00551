"""Registers the core command modules on the ``loupe`` app."""

from __future__ import annotations

import typer

from loupe.cli import admin, data, projects, quickstart


def register(app: typer.Typer) -> None:
    admin.register(app)
    app.add_typer(admin.users_app, name="users")
    app.add_typer(projects.projects_app, name="projects")
    data.register(app)
    quickstart.register(app)
