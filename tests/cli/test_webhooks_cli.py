"""``loupe webhooks``: add, list, ping, deliver (one pass, for cron), deliveries, redeliver,
remove; bad input exits with the error's code and changes nothing."""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.factories import count, make_project
from typer.testing import CliRunner

from loupe.cli import app, main
from loupe.db.database import Database

runner = CliRunner()


def cli(
    database_url: str, key_dir: Path, *args: str, allowed: str = "127.0.0.1"
) -> tuple[int, str]:
    """Run ``loupe <args>``; ``allowed``: the internal networks webhooks may reach (the
    test receivers listen on loopback)."""
    env = {"LOUPE_KEY_DIR": str(key_dir), "LOUPE_WEBHOOK_ALLOWED_NETWORKS": allowed}
    result = runner.invoke(app, [*args, "--database-url", database_url], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    seen: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    server.shutdown()
    server.server_close()


def test_add_ping_deliver_and_remove(
    db: Database,
    database_url: str,
    tmp_path: Path,
    hook_server: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, seen = hook_server
    keys = tmp_path / "keys"
    make_project(db, name="intents")
    code, out = cli(database_url, keys, "webhooks", "add", "intents", url, "-e", "item.completed")
    assert code == 0, out
    secret = re.search(r"secret \(shown once\): (whsec_\S+)", out)
    assert secret is not None and (keys / "webhook-secrets.key").exists()
    code, out = cli(database_url, keys, "webhooks", "list", "intents")
    assert code == 0 and f"1\tactive\t{url}\titem.completed" in out
    assert secret.group(1) not in out
    code, out = cli(database_url, keys, "webhooks", "ping", "intents", "1")
    assert code == 0 and out.startswith("queued ping ")
    delivery = out.split()[-1]
    code, out = cli(database_url, keys, "webhooks", "deliver")
    assert (code, out.strip()) == (0, "delivered 1, retrying 0, failed 0")
    ((headers, body),) = seen
    assert headers["X-Loupe-Delivery"] == delivery and headers["X-Loupe-Event"] == "ping"
    mac = hmac.new(
        secret.group(1).encode(), headers["X-Loupe-Timestamp"].encode() + b"." + body, "sha256"
    )
    assert headers["X-Loupe-Signature"] == "sha256=" + mac.hexdigest()
    code, out = cli(database_url, keys, "webhooks", "deliveries", "intents")
    assert code == 0 and f"{delivery}\t1\tping\tdelivered\t1\t200" in out
    code, out = cli(database_url, keys, "webhooks", "redeliver", "intents", delivery)
    assert code == 0 and out.startswith("queued ")
    assert cli(database_url, keys, "webhooks", "deliver")[1].startswith("delivered 1")
    assert len(seen) == 2 and seen[1][1] == seen[0][1]  # the same event, again
    code, out = cli(database_url, keys, "webhooks", "remove", "intents", "1")
    assert (code, out.strip()) == (0, "deleted webhook 1")
    assert count(db, "webhooks") == 0


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["add", "intents", "ftp://x.example/", "-e", "item.completed"], 2, "url: an absolute"),
        (["add", "intents", "https://x.example/", "-e", "item.gone"], 2, "events: one or more"),
        (["add", "intents", "http://127.0.0.1:9/", "-e", "item.completed"], 2, "non-public"),
        (["add", "nope", "https://x.example/", "-e", "item.completed"], 5, "no project"),
        (["remove", "intents", "7"], 5, "webhook 7 does not exist"),
        (["redeliver", "intents", "f" * 32], 5, "does not exist"),
    ],
)
def test_bad_input_exits_with_its_code_and_changes_nothing(
    db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    exit_code: int,
    message: str,
) -> None:
    make_project(db, name="intents")
    before = (count(db, "webhooks"), count(db, "webhook_deliveries"), count(db, "audit_log"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_KEY_DIR", str(tmp_path / "keys"))
        patch.delenv("LOUPE_WEBHOOK_ALLOWED_NETWORKS", raising=False)
        with pytest.raises(SystemExit) as exited:
            main(["webhooks", *args, "--database-url", database_url])
    assert exited.value.code == exit_code
    assert message in capsys.readouterr().err
    after = (count(db, "webhooks"), count(db, "webhook_deliveries"), count(db, "audit_log"))
    assert after == before
