"""Who may do what: the one policy every endpoint, page and command goes through.

A user has a global role; within a project they may also have a membership
role. A decision depends only on those two (and the action), so the whole
policy is this table, tested as a matrix in ``tests/test_permissions.py``.

>>> allowed("annotator", "tasks.work", member_role="annotator")
True
>>> allowed("annotator", "projects.create")
False
"""

from __future__ import annotations

from typing import Literal, get_args

from loupe.errors import PermissionDenied

__all__ = ["ACTIONS", "PHRASES", "ROLES", "Action", "Role", "allowed", "refusal", "require"]

Role = Literal["admin", "manager", "annotator", "reviewer", "auditor"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal[
    "users.manage",  # create users, change roles, issue tokens for others
    "users.list",
    "projects.create",
    "projects.read",
    "projects.update",  # label schema, guidelines, overlap, membership; archive, unarchive
    "projects.delete",  # delete a project and its data (the payment log keeps its entries)
    "items.import",
    "items.read",  # see items with their labels (not just the next task)
    "tasks.work",  # next task, submit, skip
    "labels.read",
    "labellers.read",  # who gave each label or verdict (review stays blind without it)
    "exports.run",
    "ledger.read",  # signed checkpoints and consistency proofs (the public log's head)
    "ledger.audit",  # any entry with its inclusion proof; `loupe ledger verify`
    "wallet.read",  # one's own entries, proofs and balance
    "payments.manage",  # rate cards, bonuses and label decisions of a project
    "payouts.manage",  # payout batches, their export, corrections
    "items.reveal",  # an item's raw (unredacted) data, with a purpose; also needs a clearance
    "clearances.manage",  # grant and revoke per-project clearances (admins only, audited)
    "privacy.manage",  # a project's privacy gate policy and retention
    "audit.read",  # the audit log and its verification
    "subjects.manage",  # export or erase everything held about a data subject; retention
    "contributors.manage",  # grant and revoke domain levels; see any contributor's profile
    "reputation.read",  # any contributor's reputation with the evidence behind it
    "qualifications.take",  # take a project's qualification tests
    "reviews.work",  # peer review (an annotator also needs the project's review tier)
    "escalations.resolve",  # adjudicate: the last rung of the escalation ladder
]
ACTIONS: tuple[Action, ...] = get_args(Action)

# Global roles that may act on every project without being a member.
_GLOBAL: dict[Action, frozenset[Role]] = {
    "users.manage": frozenset({"admin"}),
    "users.list": frozenset({"admin", "manager", "auditor"}),
    "projects.create": frozenset({"admin", "manager"}),
    "projects.read": frozenset({"admin", "auditor"}),
    "projects.update": frozenset({"admin"}),
    "projects.delete": frozenset({"admin"}),
    "items.import": frozenset({"admin"}),
    "items.read": frozenset({"admin", "auditor"}),
    "tasks.work": frozenset(),
    "labels.read": frozenset({"admin", "auditor"}),
    "labellers.read": frozenset({"admin", "auditor"}),
    "exports.run": frozenset({"admin", "auditor"}),
    "ledger.read": frozenset({"admin", "manager", "annotator", "reviewer", "auditor"}),
    "ledger.audit": frozenset({"admin", "auditor"}),
    "wallet.read": frozenset({"admin", "manager", "annotator", "reviewer", "auditor"}),
    "payments.manage": frozenset({"admin"}),
    "payouts.manage": frozenset({"admin"}),
    "items.reveal": frozenset({"admin"}),
    # Not managers: a manager could clear a friend, or two managers each other.
    "clearances.manage": frozenset({"admin"}),
    "privacy.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin", "auditor"}),
    "subjects.manage": frozenset({"admin"}),
    "contributors.manage": frozenset({"admin", "manager"}),
    "reputation.read": frozenset({"admin", "manager", "auditor"}),
    "qualifications.take": frozenset(),
    "reviews.work": frozenset(),
    "escalations.resolve": frozenset({"admin"}),
}

# Membership roles that grant the action within their project.
_MEMBER: dict[Action, frozenset[Role]] = {
    "users.manage": frozenset(),
    "users.list": frozenset(),
    "projects.create": frozenset(),
    "projects.read": frozenset({"manager", "annotator", "reviewer", "auditor"}),
    "projects.update": frozenset({"manager"}),
    "projects.delete": frozenset({"manager"}),
    "items.import": frozenset({"manager"}),
    "items.read": frozenset({"manager", "reviewer", "auditor"}),
    "tasks.work": frozenset({"manager", "annotator", "reviewer"}),
    "labels.read": frozenset({"manager", "reviewer", "auditor"}),
    "labellers.read": frozenset({"manager", "auditor"}),
    "exports.run": frozenset({"manager", "auditor"}),
    "ledger.read": frozenset(),
    "ledger.audit": frozenset(),
    "wallet.read": frozenset(),
    "payments.manage": frozenset({"manager"}),
    "payouts.manage": frozenset(),
    "items.reveal": frozenset({"manager", "reviewer"}),
    "clearances.manage": frozenset(),
    "privacy.manage": frozenset({"manager"}),
    "audit.read": frozenset(),
    "subjects.manage": frozenset(),
    "contributors.manage": frozenset(),
    "reputation.read": frozenset({"manager", "auditor"}),
    "qualifications.take": frozenset({"manager", "annotator", "reviewer"}),
    "reviews.work": frozenset({"manager", "annotator", "reviewer"}),
    "escalations.resolve": frozenset({"manager"}),
}


# Each action as the refusal says it: "annotators may not <phrase>".
PHRASES: dict[Action, str] = {
    "users.manage": "manage users",
    "users.list": "list users",
    "projects.create": "create projects",
    "projects.read": "see this project",
    "projects.update": "change this project",
    "projects.delete": "delete this project",
    "items.import": "import items",
    "items.read": "read this project's items",
    "tasks.work": "work on tasks",
    "labels.read": "read labels",
    "labellers.read": "see who gave each label",
    "exports.run": "export labels",
    "ledger.read": "read the ledger",
    "ledger.audit": "audit the ledger",
    "wallet.read": "read a wallet",
    "payments.manage": "manage payments",
    "payouts.manage": "manage payouts",
    "items.reveal": "reveal raw item data",
    "clearances.manage": "manage clearances",
    "privacy.manage": "manage the privacy gate",
    "audit.read": "read the audit log",
    "subjects.manage": "export or erase a data subject's records",
    "contributors.manage": "manage contributors",
    "reputation.read": "read others' reputation",
    "qualifications.take": "take qualification tests",
    "reviews.work": "review labels",
    "escalations.resolve": "adjudicate escalations",
}


def refusal(
    role: str, action: Action, *, member_role: str | None = None, in_project: bool = False
) -> str:
    """The sentence that refuses ``action``, in one place. ``in_project``: the action is on
    a project, and ``member_role`` ``None`` means the user is not one of its members.

    >>> refusal("annotator", "tasks.work")
    'annotators may not work on tasks; ask a project manager or admin'
    >>> refusal("annotator", "tasks.work", in_project=True).split(";")[0]
    'annotators who are not members of this project may not work on tasks'
    """
    if member_role is None and in_project and _MEMBER[action]:
        # A membership would allow it: "annotators may not work on tasks" reads as if
        # no annotator could, when the project's own annotators do.
        return (
            f"{role}s who are not members of this project may not {PHRASES[action]}; "
            "ask a project manager to add you to it"
        )
    if member_role is None:
        who = f"{role}s"
    elif member_role == role:
        who = f"project {role}s"
    else:
        who = f"{role}s who are project {member_role}s"
    return f"{who} may not {PHRASES[action]}; ask a project manager or admin"


def allowed(role: str, action: Action, *, member_role: str | None = None) -> bool:
    """Whether a user with global ``role`` (and ``member_role`` in the project) may act."""
    if role in _GLOBAL[action]:
        return True
    return member_role is not None and member_role in _MEMBER[action]


def require(
    role: str, action: Action, *, member_role: str | None = None, in_project: bool = False
) -> None:
    """Raise :class:`PermissionDenied` unless :func:`allowed` (``in_project``: see
    :func:`refusal`)."""
    if not allowed(role, action, member_role=member_role):
        raise PermissionDenied(
            refusal(role, action, member_role=member_role, in_project=in_project),
            details={"action": action, "role": role, "member_role": member_role},
        )
