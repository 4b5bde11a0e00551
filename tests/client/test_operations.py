"""Path parameters: each one percent-encoded as one segment, or refused before sending.

Against a live server: a value that once reached another endpoint or resource
(``"5?limit=1"`` read item 5, ``"%35"`` was decoded to 5, ``"../../7/items/9"`` read
another project's item) now reaches the endpoint asked for, whole, or is never sent.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.client.live import SCHEMA, LiveServer

from loupe.client import AsyncClient, Client, InvalidInput, RetryPolicy
from loupe.client.operations import OPERATIONS, path_segment

NO_RETRY = RetryPolicy(retries=0)


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        (12, "12"),
        ("x?y=1", "x%3Fy%3D1"),
        ("50%", "50%25"),
        ("#frag", "%23frag"),
        ("ä ö", "%C3%A4%20%C3%B6"),
        ("a:b@c;d", "a%3Ab%40c%3Bd"),
        ("...", "..."),
    ],
)
def test_a_value_is_one_percent_encoded_segment(value: int | str, segment: str) -> None:
    assert OPERATIONS["items.get"].url_path(project_id=3, item_id=value) == (
        f"/projects/3/items/{segment}"
    )


@pytest.mark.parametrize("value", ["a/b", "a/../../admin", "..", ".", ""])
def test_a_value_no_server_reads_as_one_segment_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^item_id=.* cannot be sent as a path parameter"):
        OPERATIONS["items.get"].url_path(project_id=3, item_id=value)


def test_a_value_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError, match="item_id must be an int or a str, not bool"):
        path_segment("item_id", True)


def _ids(live_server: LiveServer, name: str) -> tuple[int, int, int, int]:
    """Two projects with an item each: ``(project, item, other project, other item)``."""
    with live_server.client(live_server.manager) as client:
        ids: list[int] = []
        for title in (name, f"{name} (other)"):
            project = client.projects.create(title, SCHEMA)
            client.items.add(project.id, [{"id": "u1", "text": "call Maya"}])
            ids += [project.id, next(iter(client.items.iter(project.id))).id]
    return ids[0], ids[1], ids[2], ids[3]


def _encoded(number: int) -> str:
    return "".join(f"%{ord(digit):02X}" for digit in str(number))


def test_hostile_ids_reach_the_endpoint_whole_or_are_not_sent(live_server: LiveServer) -> None:
    project, item, other_project, other_item = _ids(live_server, "sync")
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with http, Client(live_server.url, live_server.manager.token, retry=NO_RETRY, http=http) as c:
        assert c.items.get(project, item).external_id == "u1"  # the server reads plain ids
        # The server reads each value back whole as the item id, and refuses it: before,
        # the first three read item `item` (a query, a fragment, %-decoding).
        for value in [f"{item}?limit=1", f"{item}#frag", _encoded(item), "50%", "ä ö"]:
            with pytest.raises(InvalidInput) as refused:
                c.request("items.get", path={"project_id": project, "item_id": value})
            assert refused.value.details["errors"][0]["field"] == "item_id", value
        # Never sent: before, the first read the other project's item.
        before = len(sent)
        for value in [f"../../{other_project}/items/{other_item}", f"{item}/comments", ".."]:
            with pytest.raises(ValueError, match="cannot be sent as a path parameter"):
                c.request("items.get", path={"project_id": project, "item_id": value})
        assert len(sent) == before


def test_the_async_client_encodes_the_same(live_server: LiveServer) -> None:
    project, item, other_project, _ = _ids(live_server, "async")

    async def work() -> None:
        async with AsyncClient(live_server.url, live_server.manager.token, retry=NO_RETRY) as c:
            assert (await c.items.get(project, item)).external_id == "u1"
            with pytest.raises(InvalidInput) as refused:
                await c.request("items.get", path={"project_id": project, "item_id": f"{item}?a"})
            assert refused.value.details["errors"][0]["field"] == "item_id"
            path: dict[str, int | str] = {
                "project_id": project,
                "item_id": f"../../{other_project}/items/1",
            }
            with pytest.raises(ValueError, match="cannot be sent as a path parameter"):
                await c.request("items.get", path=path)

    asyncio.run(work())
