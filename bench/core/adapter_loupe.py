"""Loupe adapter for the peer workload (../shared/peers/labelstudio/workload.py).

Implements the server-agnostic ``Adapter`` interface against Loupe's /api/v1 so
that the same closed-loop annotator workload measured on Label Studio runs
unchanged against Loupe. Loaded by workload.py as ``--adapter loupe`` with this
folder on PYTHONPATH (bench/core/run_workload.sh does that).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from adapter_base import Adapter, Annotator, ExportSummary  # type: ignore[import-not-found]


class LoupeAdapter(Adapter):  # type: ignore[misc]
    name = "loupe"

    def __init__(self, base_url: str, admin_token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.admin_token = admin_token
        self.annotators: list[Annotator] = []

    async def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def create_annotators(self, n: int) -> list[Annotator]:
        headers = await self.admin_headers()
        async with self.client(headers=headers) as c:
            out = []
            for i in range(n):
                r = await c.post(
                    "/users", json={"username": f"bench-annotator-{i}", "role": "annotator"}
                )
                if r.status_code == 409:
                    users = (await c.get("/users", params={"limit": 1000})).json()["items"]
                    user_id = next(
                        u["id"] for u in users if u["username"] == f"bench-annotator-{i}"
                    )
                else:
                    r.raise_for_status()
                    user_id = r.json()["id"]
                t = await c.post(f"/users/{user_id}/tokens", json={"name": "bench"})
                t.raise_for_status()
                out.append(
                    Annotator(
                        name=f"bench-annotator-{i}",
                        headers={"Authorization": f"Bearer {t.json()['token']}"},
                        extra={"user_id": user_id},
                    )
                )
        self.annotators = out
        return out

    async def create_project(self, c: httpx.AsyncClient, title: str, choices: list[str]) -> Any:
        headers = await self.admin_headers()
        config = {"task": {"type": "single_choice", "labels": [{"key": k} for k in choices]}}
        r = await c.post(
            "/projects", json={"name": title, "config": config, "overlap": 1}, headers=headers
        )
        r.raise_for_status()
        project_id = r.json()["id"]
        for who in self.annotators:
            m = await c.put(
                f"/projects/{project_id}/members/{who.extra['user_id']}",
                json={"role": "annotator"},
                headers=headers,
            )
            m.raise_for_status()
        return project_id

    async def import_tasks(self, c: httpx.AsyncClient, project_id: Any, tasks: list[dict]) -> int:
        body = "".join(json.dumps({"id": t["ref"], "text": t["text"]}) + "\n" for t in tasks)
        r = await c.post(
            f"/projects/{project_id}/items/import",
            content=body.encode(),
            headers={**await self.admin_headers(), "Content-Type": "application/x-ndjson"},
        )
        r.raise_for_status()
        return int(r.json()["created"])

    async def next_task(self, c: httpx.AsyncClient, who: Annotator, project_id: Any) -> dict | None:
        r = await c.post(f"/projects/{project_id}/tasks/next", headers=who.headers)
        r.raise_for_status()
        task = r.json()["task"]
        if task is None:
            return None
        return {"id": task["item_id"], "text": task["data"]["text"]}

    async def submit_label(
        self,
        c: httpx.AsyncClient,
        who: Annotator,
        project_id: Any,
        task: dict,
        choice: str,
        lead_time: float,
    ) -> Any:
        r = await c.post(
            f"/projects/{project_id}/items/{task['id']}/labels",
            json={"answer": choice, "lead_time_ms": int(lead_time * 1000)},
            headers=who.headers,
        )
        r.raise_for_status()
        return r.json()["id"]

    async def export_annotations(
        self, c: httpx.AsyncClient, project_id: Any, all_tasks: bool
    ) -> ExportSummary:
        n_bytes = n_tasks = n_ann = n_multi = 0
        async with c.stream(
            "GET",
            f"/projects/{project_id}/export",
            params={"kind": "items", "format": "jsonl"},
            headers=await self.admin_headers(),
        ) as r:
            r.raise_for_status()
            async for line in r.aiter_lines():
                if not line:
                    continue
                n_bytes += len(line) + 1
                row = json.loads(line)
                k = len(row["labels"])
                if not all_tasks and k == 0:
                    continue
                n_tasks += 1
                n_ann += k
                n_multi += k > 1
        return ExportSummary(
            n_bytes=n_bytes, n_tasks=n_tasks, n_annotations=n_ann, n_tasks_multi=n_multi
        )


def make_adapter(args: Any) -> LoupeAdapter:
    return LoupeAdapter(args.base_url, args.token)
