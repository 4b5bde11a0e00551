"""The whole OpenAPI surface, fuzzed from the app's own schema (schemathesis).

For every operation, with an admin token, an annotator's token, a wrong token
and none: no 5xx, every error in the documented ``{"error": {...}}`` shape,
and responses that match the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from tests.factories import add_items, make_project, make_user

from loupe.db.database import Database
from loupe.settings import Settings
from loupe.web.app import create_app

AUTH_MODES = ["admin", "annotator", "wrong", "none"]


@pytest.fixture
def fuzz_env(settings: Settings, db: Database) -> Iterator[dict[str, Any]]:
    admin = make_user(db, "fuzz-admin", "admin")
    annotator = make_user(db, "fuzz-annotator")
    project = make_project(db, overlap=2, members={annotator: "annotator"})
    add_items(db, project, 5)
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan: opens the database
        yield {
            "app": app,
            "headers": {
                "admin": admin.headers,
                "annotator": annotator.headers,
                "wrong": {"Authorization": "Bearer lp_not-a-real-token"},
                "none": {},
            },
        }


def _error_shape(response: Any) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["message"], str)
        assert body["error"]["message"]


@pytest.mark.slow
def test_api_never_fails_and_errors_have_one_shape(fuzz_env: dict[str, Any]) -> None:
    # Plain hypothesis over schemathesis strategies: its pytest plugin does not
    # support pytest 9 yet, and this keeps the fresh-database fixtures.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_env["app"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            original = dict(case.headers or {})
            for auth in AUTH_MODES:
                headers = {**original, **fuzz_env["headers"][auth]}
                if auth == "none":
                    headers.pop("Authorization", None)
                case.headers = headers
                response = case.call()
                case.validate_response(
                    response,
                    checks=[
                        not_a_server_error,
                        status_code_conformance,
                        response_schema_conformance,
                    ],
                )
                _error_shape(response)

        fuzz()
