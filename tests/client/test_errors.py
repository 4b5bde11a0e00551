"""The server's error body becomes one typed exception per status."""

from __future__ import annotations

import httpx
import pytest
from tests.client.live import SCHEMA, LiveServer

from loupe.client import (
    Client,
    Conflict,
    InvalidInput,
    LoupeClientError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RetryPolicy,
    ServerError,
    Unauthenticated,
)
from loupe.client.errors import error_for


def test_refusals_map_to_their_classes_and_change_nothing(live_server: LiveServer) -> None:
    with (
        live_server.client(live_server.manager) as manager,
        live_server.client(live_server.annotator) as annotator,
        Client(live_server.url, "lp_not-a-token", retry=RetryPolicy(retries=0)) as stranger,
    ):
        project = manager.projects.create("errors", SCHEMA)
        before = [p.id for p in manager.projects.iter()]

        with pytest.raises(Unauthenticated) as unauthenticated:
            stranger.projects.list()
        assert (unauthenticated.value.status, unauthenticated.value.code) == (
            401,
            "unauthenticated",
        )

        with pytest.raises(PermissionDenied) as denied:
            annotator.projects.create("nope", SCHEMA)
        assert (denied.value.status, denied.value.code) == (403, "permission_denied")

        with pytest.raises(NotFound) as missing:
            manager.projects.get(2**31 - 1)
        assert (missing.value.status, missing.value.code) == (404, "not_found")

        with pytest.raises(InvalidInput) as invalid:
            manager.projects.create("", SCHEMA)
        assert (invalid.value.status, invalid.value.code) == (422, "invalid_input")
        assert invalid.value.message.startswith("name")
        assert [e["field"] for e in invalid.value.details["errors"]] == ["name"]

        manager.items.add(project.id, [{"id": "u1", "text": "call"}])
        with pytest.raises(Conflict) as conflict:  # never served to the manager
            manager.labels.submit(project.id, manager.items.list(project.id).items[0].id, "call")
        assert conflict.value.details.get("reason") == "no_lease"

        assert [p.id for p in manager.projects.iter()] == before
        assert manager.labels.list(project.id).items == []
        assert all(isinstance(e.value, LoupeClientError) for e in (denied, missing, invalid))


@pytest.mark.parametrize(
    ("response", "cls", "code", "message"),
    [
        (httpx.Response(500, text="Internal Server Error"), ServerError, "http_error", "Internal"),
        (httpx.Response(502, text=""), ServerError, "http_error", "Bad Gateway"),
        (
            httpx.Response(418, json={"error": {"code": "teapot", "message": "short"}}),
            LoupeClientError,
            "teapot",
            "short",
        ),
        (httpx.Response(409, json={"error": "not an object"}), Conflict, "http_error", "{"),
    ],
)
def test_unexpected_bodies_still_raise_a_typed_error(
    response: httpx.Response, cls: type[LoupeClientError], code: str, message: str
) -> None:
    error = error_for(response, response.content)
    assert type(error) is cls and error.code == code and error.message.startswith(message)
    assert error.status == response.status_code and error.details == {}


def test_a_body_over_its_limit_is_payload_too_large() -> None:
    """The server's 413 (``loupe.errors.PayloadTooLarge``: the body limit and the file
    imports' own) has its class, with the limit in ``details``."""
    body = {
        "error": {
            "code": "payload_too_large",
            "message": "the request body is larger than 1 MiB (1048576 bytes), this route's limit",
            "details": {"max_bytes": 1048576, "setting": "max_body_bytes"},
        }
    }
    response = httpx.Response(413, json=body)
    error = error_for(response, response.content)
    assert type(error) is PayloadTooLarge and isinstance(error, LoupeClientError)
    assert (error.status, error.code) == (413, "payload_too_large")
    assert error.details == {"max_bytes": 1048576, "setting": "max_body_bytes"}
    assert error.message.startswith("the request body is larger than 1 MiB")
