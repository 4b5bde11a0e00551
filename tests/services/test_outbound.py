"""Sending a request out: connect-time egress checks (DNS names, rebinding), a deadline
on the whole exchange, no redirects, a bounded answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from loupe.services import outbound
from loupe.services.egress import PUBLIC_ONLY, EgressPolicy, EgressRefused, NoAnswer
from loupe.services.egress import parse_networks as networks

LOOPBACK = EgressPolicy(networks("127.0.0.1"))


class Receiver:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []
        self.answer: tuple[int, dict[str, str], bytes] = (204, {}, b"")


@pytest.fixture
def receiver() -> Iterator[tuple[int, Receiver]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.seen.append((self.path, dict(self.headers), body))
            code, headers, content = state.answer
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], state
    server.shutdown()
    server.server_close()


def resolve_to(monkeypatch: pytest.MonkeyPatch, name: str, *addresses: str) -> None:
    """Make ``name`` resolve to ``addresses`` (a DNS record the attacker controls)."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            family = {4: socket.AF_INET, 6: socket.AF_INET6}
            return [
                (family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_resolving_to_loopback_is_refused_when_connecting(
    receiver: tuple[int, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, state = receiver
    resolve_to(monkeypatch, "hooks.attacker.example", "127.0.0.1")
    for url in (
        f"http://hooks.attacker.example:{port}/x",
        f"http://127.0.0.1:{port}/x",
        f"http://2130706433:{port}/x",
        f"http://localhost:{port}/x",
    ):
        with pytest.raises(EgressRefused, match="no address the server may connect to"):
            outbound.post(url, b"{}", {}, timeout=2, policy=PUBLIC_ONLY)
    assert state.seen == []
    # The operator's opt-out: the same name reaches the allowed network, Host unchanged.
    answer = outbound.post(
        f"http://hooks.attacker.example:{port}/x", b"{}", {"X-A": "1"}, timeout=2, policy=LOOPBACK
    )
    assert answer.status == 204
    ((path, headers, body),) = state.seen
    assert (path, headers["Host"], headers["X-A"], body) == (
        "/x",
        f"hooks.attacker.example:{port}",
        "1",
        b"{}",
    )


def test_only_allowed_addresses_of_a_name_are_dialled(
    receiver: tuple[int, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A record with a refused address first: skipped, never connected to.
    port, state = receiver
    resolve_to(monkeypatch, "mixed.example", "10.9.9.9", "127.0.0.1")
    assert (
        outbound.post(f"http://mixed.example:{port}/", b"", {}, timeout=2, policy=LOOPBACK).status
        == 204
    )
    assert len(state.seen) == 1


def test_redirects_are_not_followed(receiver: tuple[int, Receiver]) -> None:
    port, state = receiver
    state.answer = (307, {"Location": f"http://127.0.0.1:{port}/elsewhere"}, b"")
    answer = outbound.post(f"http://127.0.0.1:{port}/a", b"", {}, timeout=2, policy=LOOPBACK)
    assert answer.status == 307
    assert [path for path, _, _ in state.seen] == ["/a"]


def test_the_answer_is_bounded(receiver: tuple[int, Receiver]) -> None:
    port, state = receiver
    state.answer = (200, {"Content-Type": "Text/X.Tlog.Size; q=1"}, b"12")
    answer = outbound.post(
        f"http://127.0.0.1:{port}/", b"", {}, timeout=2, policy=LOOPBACK, max_body=10
    )
    assert (answer.content_type, answer.body) == ("text/x.tlog.size", b"12")
    state.answer = (200, {}, b"x" * 100_000)
    with pytest.raises(NoAnswer, match="over 10 bytes"):
        outbound.post(f"http://127.0.0.1:{port}/", b"", {}, timeout=2, policy=LOOPBACK, max_body=10)


@pytest.fixture
def trickler() -> Iterator[int]:
    """A receiver that answers one header byte every 0.2 s, for a minute."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(300):
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"a")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


def test_a_trickling_receiver_cannot_hold_the_sender_past_the_timeout(trickler: int) -> None:
    started = time.monotonic()
    with pytest.raises(NoAnswer, match=r"no answer within 1 s"):
        outbound.post(f"http://127.0.0.1:{trickler}/", b"{}", {}, timeout=1, policy=LOOPBACK)
    assert time.monotonic() - started < 3


def test_no_listener_and_bad_names_are_no_answer() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(NoAnswer, match="ConnectError"):
        outbound.post(f"http://127.0.0.1:{port}/", b"", {}, timeout=2, policy=LOOPBACK)
    with pytest.raises(NoAnswer, match="cannot resolve"):
        outbound.post("http://no-such-host.invalid/", b"", {}, timeout=2, policy=PUBLIC_ONLY)
