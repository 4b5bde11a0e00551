"""Registers the core command modules on the ``loupe`` app."""

from __future__ import annotations

import typer

from loupe.cli import (
    admin,
    audit,
    contributors,
    data,
    demo,
    keys,
    loop,
    projects,
    qualifications,
    quality,
    quickstart,
    retention,
    subjects,
)


def register(app: typer.Typer) -> None:
    admin.register(app)
    app.add_typer(admin.users_app, name="users")
    app.add_typer(projects.projects_app, name="projects")
    data.register(app)
    app.add_typer(quality.gold_app, name="gold")
    app.add_typer(quality.quality_app, name="quality")
    quickstart.register(app)
    demo.register(app)
    app.add_typer(loop.loop_app, name="loop")
    app.add_typer(subjects.subjects_app, name="subjects")
    app.add_typer(audit.audit_app, name="audit")
    app.add_typer(retention.retention_app, name="retention")
    app.add_typer(keys.keys_app, name="keys")
    app.add_typer(contributors.contributors_app, name="contributors")
    app.add_typer(qualifications.qualifications_app, name="qualifications")
