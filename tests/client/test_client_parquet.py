"""The client's Parquet upload and download against a live server."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tests.client.live import SCHEMA, LiveServer

from loupe.formats_parquet import export_rows


def test_parquet_upload_and_download(live_server: LiveServer, tmp_path: Path) -> None:
    with live_server.client(live_server.manager) as client:
        project = client.projects.create("parquet", SCHEMA)
        source = tmp_path / "rows.parquet"
        rows = [{"id": f"p{i}", "text": f"utterance {i}", "n": i} for i in range(3)]
        pq.write_table(pa.Table.from_pylist(rows), source)
        assert client.items.import_file(project.id, source).created == 3

        target = tmp_path / "items.parquet"
        size = client.exports.download(project.id, target, format="parquet")
        assert size == target.stat().st_size > 0
        assert list(export_rows(str(target))) == list(client.exports.rows(project.id))
        assert pq.read_table(target).column("n").to_pylist() == [0, 1, 2]
