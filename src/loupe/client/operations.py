"""The one description of the endpoints the SDK calls, shared by both clients.

``Client`` and ``AsyncClient`` name an operation (``"items.list"``) and never
spell a method or path themselves, so the two cannot disagree about the API.
``tests/client/test_drift.py`` checks this table against ``docs/openapi.json``:
every operation here must exist there with the same method and path, and every
operation there must be here or in :data:`NOT_COVERED` with the reason.

``idempotent`` says whether a request may be sent again after a connection
broke without an answer (its effect cannot double). 429 and 503 are retried
for every operation: the server answers them before changing anything.

Path parameters are filled in by :meth:`Operation.url_path` alone, each one
percent-encoded as a single segment (:func:`path_segment`), so that no value
(``"5?limit=1"``, ``"%31"``, ``"../../2"``) can reach another endpoint or resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

__all__ = ["API_PREFIX", "NOT_COVERED", "OPERATIONS", "Operation", "path_segment"]

API_PREFIX = "/api/v1"

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class Operation:
    method: Method
    path: str  # under API_PREFIX, with {placeholders}
    idempotent: bool

    def url_path(self, **params: int | str) -> str:
        """The path with each ``{placeholder}`` filled by :func:`path_segment`."""
        return self.path.format(**{name: path_segment(name, v) for name, v in params.items()})


def path_segment(name: str, value: int | str) -> str:
    """``value`` as one URL path segment: ``?``, ``#``, ``%``, spaces and non-ASCII
    percent-encoded, so the server reads back exactly ``value``.

    Refused with :class:`ValueError` before anything is sent: a value the server could
    never read as one segment. ASGI servers decode ``%2F`` back to ``/`` before routing,
    and clients and proxies resolve ``.`` and ``..`` segments, so a ``/`` in a value,
    ``"."``, ``".."`` or ``""`` would address another path whatever the encoding.

    >>> path_segment("item_id", "ä ö?#%")
    '%C3%A4%20%C3%B6%3F%23%25'
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{name} must be an int or a str, not {type(value).__name__}")
    text = str(value)
    if text in ("", ".", "..") or "/" in text:
        raise ValueError(
            f"{name}={text!r} cannot be sent as a path parameter: no id in the API's paths "
            "is empty, '.' or '..', or holds '/' (check that you passed the right id)"
        )
    return quote(text, safe="")


def _op(method: Method, path: str, *, idempotent: bool | None = None) -> Operation:
    return Operation(method, path, method in ("GET", "PUT") if idempotent is None else idempotent)


P = "/projects/{project_id}"

OPERATIONS: dict[str, Operation] = {
    "system.health": _op("GET", "/health"),
    "users.me": _op("GET", "/me"),
    "users.list": _op("GET", "/users"),
    "users.create": _op("POST", "/users"),
    "users.deactivate": _op("POST", "/users/{user_id}/deactivate", idempotent=True),
    "users.reactivate": _op("POST", "/users/{user_id}/reactivate", idempotent=True),
    "users.list_tokens": _op("GET", "/users/{user_id}/tokens"),
    "users.issue_token": _op("POST", "/users/{user_id}/tokens"),
    "users.revoke_token": _op("DELETE", "/tokens/{token_id}", idempotent=True),
    "projects.list": _op("GET", "/projects"),
    "projects.create": _op("POST", "/projects"),
    "projects.get": _op("GET", P),
    # Each change makes a new config version: not sent twice blindly.
    "projects.update": _op("PATCH", P),
    "projects.archive": _op("POST", P + "/archive", idempotent=True),
    "projects.unarchive": _op("POST", P + "/unarchive", idempotent=True),
    "projects.duplicate": _op("POST", P + "/duplicate"),
    "projects.delete": _op("DELETE", P, idempotent=False),
    "members.list": _op("GET", P + "/members"),
    "members.put": _op("PUT", P + "/members/{user_id}"),
    "members.resume": _op("POST", P + "/members/{user_id}/resume", idempotent=True),
    "items.list": _op("GET", P + "/items"),
    # Idempotent by the item's id: a re-sent batch or file adds nothing twice.
    "items.add": _op("POST", P + "/items", idempotent=True),
    "items.import": _op("POST", P + "/items/import", idempotent=True),
    "items.get": _op("GET", P + "/items/{item_id}"),
    "items.download_media": _op("GET", "/media/{sha256}"),
    "items.list_comments": _op("GET", P + "/items/{item_id}/comments"),
    "items.add_comment": _op("POST", P + "/items/{item_id}/comments"),
    # Asking again before labelling returns the same item.
    "tasks.next": _op("POST", P + "/tasks/next", idempotent=True),
    "tasks.skip": _op("POST", P + "/tasks/{item_id}/skip"),
    # The same answer again returns the recorded label (200).
    "labels.submit": _op("POST", P + "/items/{item_id}/labels", idempotent=True),
    "labels.undo": _op("DELETE", P + "/items/{item_id}/labels/mine", idempotent=False),
    "labels.list": _op("GET", P + "/labels"),
    "exports.export": _op("GET", P + "/export"),
    "quality.report": _op("GET", P + "/quality"),
    "quality.refit": _op("POST", P + "/quality/refit", idempotent=True),
    "quality.progress": _op("GET", P + "/progress"),
    "quality.set_gold": _op("PUT", P + "/gold"),
    "payments.list_rate_cards": _op("GET", P + "/rate-cards"),
    "payments.create_rate_card": _op("POST", P + "/rate-cards"),
    "payments.grant_bonus": _op("POST", P + "/bonuses"),
    "payments.list_payouts": _op("GET", "/payouts"),
    "payments.create_payout": _op("POST", "/payouts"),
    "payments.export_payout": _op("GET", "/payouts/{payout_id}/export"),
    "wallet.get": _op("GET", "/wallet"),
    "ledger.checkpoint": _op("GET", "/ledger/checkpoint"),
    "ledger.publish": _op("POST", "/ledger/checkpoint"),
    "ledger.inclusion": _op("GET", "/ledger/proof/inclusion"),
    "ledger.consistency": _op("GET", "/ledger/proof/consistency"),
    "ledger.correct": _op("POST", "/ledger/corrections"),
    "webhooks.list": _op("GET", P + "/webhooks"),
    "webhooks.create": _op("POST", P + "/webhooks"),
    "webhooks.update": _op("PATCH", P + "/webhooks/{webhook_id}", idempotent=True),
    "webhooks.delete": _op("DELETE", P + "/webhooks/{webhook_id}", idempotent=False),
    "webhooks.ping": _op("POST", P + "/webhooks/{webhook_id}/ping"),
    "webhooks.deliveries": _op("GET", P + "/webhooks/deliveries"),
    "webhooks.redeliver": _op("POST", P + "/webhooks/deliveries/{delivery_id}/redeliver"),
    "models.list": _op("GET", P + "/models"),
    "models.retrain": _op("POST", P + "/models/retrain"),
    # Idempotent by the prediction's id.
    "predictions.send": _op("POST", P + "/predictions", idempotent=True),
    "predictions.agreement": _op("GET", P + "/predictions/agreement"),
    # Stores nothing: safe to retry.
    "predictions.predict": _op("POST", P + "/predict", idempotent=True),
}

_ADMIN = "contributor administration (skills, reputation): the CLI and web UI are its clients"
_PRIVACY = "privacy and compliance work, done by an admin in the web UI or CLI"
_REVIEW = "review and expert workflow: the web UI is its client"
_NEW_INTENTS = "a manager's decision on candidate new intents: the web UI is its client"

# (method, path) -> why the SDK leaves it out.
NOT_COVERED: dict[tuple[str, str], str] = {
    ("GET", "/audit"): _PRIVACY,
    ("GET", "/audit/verify"): _PRIVACY,
    ("GET", "/clearances"): _PRIVACY,
    ("POST", "/clearances"): _PRIVACY,
    ("DELETE", "/clearances/{clearance_id}"): _PRIVACY,
    ("POST", "/retention/run"): _PRIVACY,
    ("POST", "/subjects/erase"): _PRIVACY,
    ("POST", "/subjects/export"): _PRIVACY,
    ("GET", P + "/privacy"): _PRIVACY,
    ("PUT", P + "/privacy"): _PRIVACY,
    ("GET", P + "/privacy/withheld"): _PRIVACY,
    ("POST", P + "/privacy/withheld/retry"): _PRIVACY,
    ("POST", P + "/items/{item_id}/reveal"): _PRIVACY,
    ("GET", P + "/items/{item_id}/media/{field}/original"): _PRIVACY,
    ("POST", P + "/items/upload"): "image upload (multipart): `loupe import` takes files "
    "and folders; docs/media.md shows the request",
    ("PUT", "/users/{user_id}/languages"): _ADMIN,
    ("PUT", "/users/{user_id}/domains/{domain}"): _ADMIN,
    ("DELETE", "/users/{user_id}/domains/{domain}"): _ADMIN,
    ("GET", "/users/{user_id}/profile"): _ADMIN,
    ("GET", "/users/{user_id}/reputation"): _ADMIN,
    ("GET", "/contributors"): _ADMIN,
    ("GET", "/me/profile"): "a contributor's own page: the web UI shows it",
    ("GET", "/me/reputation"): "a contributor's own page: the web UI shows it",
    ("GET", "/ledger/witnesses"): "witness cosignatures: `loupe ledger` and docs/ledger.md",
    ("GET", P + "/qualifications"): _REVIEW,
    ("POST", P + "/qualifications"): _REVIEW,
    ("POST", P + "/qualifications/{test_id}/attempts"): _REVIEW,
    ("POST", P + "/qualifications/{test_id}/attempts/{attempt_id}"): _REVIEW,
    ("GET", P + "/reviews"): _REVIEW,
    ("POST", P + "/reviews/next"): _REVIEW,
    ("POST", P + "/labels/{label_id}/reviews"): _REVIEW,
    ("POST", P + "/expert-tasks/next"): _REVIEW,
    ("GET", P + "/escalations"): _REVIEW,
    ("POST", P + "/escalations/{item_id}/resolve"): _REVIEW,
    ("POST", P + "/items/{item_id}/flag"): _REVIEW,
    ("GET", P + "/new-intents"): _NEW_INTENTS,
    ("POST", P + "/new-intents/adopt"): _NEW_INTENTS,
    ("GET", P + "/preferences"): "pairwise rankings: read them from the consensus export",
}
