from __future__ import annotations

import pytest

from loupe.errors import PermissionDenied
from loupe.permissions import ACTIONS, PHRASES, ROLES, allowed, require

CORE = {
    "users.manage", "users.list", "projects.create", "projects.read", "projects.update",
    "items.import", "items.read", "tasks.work", "labels.read", "exports.run",
}  # fmt: skip

# The core matrix, spelled out: (global role, membership role) -> allowed actions.
# Admins label only where they are members, like everyone else.
EXPECTED: dict[tuple[str, str | None], set[str]] = {
    ("admin", None): CORE - {"tasks.work"},
    ("auditor", None): {"users.list", "projects.read", "items.read", "labels.read", "exports.run"},
    ("manager", None): {"users.list", "projects.create"},
    ("annotator", None): set(),
    ("reviewer", None): set(),
    ("manager", "manager"): {
        "users.list",
        "projects.create",
        "projects.read",
        "projects.update",
        "items.import",
        "items.read",
        "tasks.work",
        "labels.read",
        "exports.run",
    },
    ("annotator", "annotator"): {"projects.read", "tasks.work"},
    ("reviewer", "reviewer"): {"projects.read", "items.read", "tasks.work", "labels.read"},
    ("annotator", "auditor"): {"projects.read", "items.read", "labels.read", "exports.run"},
}


# Ids name the roles only: a set's printed order varies between processes, and the
# parallel workers (pytest-xdist) must collect the same ids.
@pytest.mark.parametrize(
    ("who", "actions"), list(EXPECTED.items()), ids=[f"{r}-{m}" for r, m in EXPECTED]
)
def test_policy_matrix(who: tuple[str, str | None], actions: set[str]) -> None:
    role, member = who
    granted = {a for a in ACTIONS if a in CORE and allowed(role, a, member_role=member)}
    assert granted == actions


def test_require_says_what_was_refused() -> None:
    with pytest.raises(PermissionDenied) as info:
        require("annotator", "projects.create")
    # Regression (issue #15): it read "a annotator may not projects create".
    assert (
        info.value.message == "annotators may not create projects; ask a project manager or admin"
    )
    assert info.value.details["action"] == "projects.create"
    with pytest.raises(PermissionDenied) as info:
        require("annotator", "escalations.resolve", member_role="reviewer")
    assert info.value.message.startswith(
        "annotators who are project reviewers may not adjudicate escalations;"
    )
    with pytest.raises(PermissionDenied) as info:
        require("annotator", "projects.update", member_role="annotator")
    assert info.value.message.startswith("project annotators may not change this project;")


def test_a_refusal_on_a_project_says_when_membership_is_what_is_missing() -> None:
    with pytest.raises(PermissionDenied) as info:
        require("annotator", "tasks.work", member_role=None, in_project=True)
    assert info.value.message.startswith(
        "annotators who are not members of this project may not work on tasks;"
    )
    assert "add you" in info.value.message
    # No membership grants it: the plain refusal.
    with pytest.raises(PermissionDenied) as info:
        require("annotator", "audit.read", member_role=None, in_project=True)
    assert info.value.message.startswith("annotators may not read the audit log;")


def test_every_role_is_known() -> None:
    assert ROLES == ("admin", "manager", "annotator", "reviewer", "auditor")


def test_every_action_has_a_phrase_for_its_refusal() -> None:
    assert set(PHRASES) == set(ACTIONS)
