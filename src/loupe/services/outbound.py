"""Outbound HTTP: how the server POSTs to a URL it was given (webhooks, witnesses).

:func:`post` sends one request and bounds what the other side can do to the sender:

* **A deadline.** The whole exchange (name lookup aside: connect, TLS, sending, the
  status line and headers, the body read) ends within ``timeout`` seconds. httpx's
  timeouts count each socket read on its own, so a receiver that trickles one header
  byte a second held a delivery (and every delivery queued behind it) forever.
* **No redirects, no proxies from the environment**, and at most ``max_body`` bytes of
  the answer read (headers are capped by h11 at 100 KiB).
* **An egress policy, checked at connect time.** The host name is resolved once and the
  connection made to an address the :class:`~loupe.services.egress.EgressPolicy`
  allows, so a name that resolves, or is rebound between two lookups, to a loopback,
  private, link-local, shared or reserved address is refused, however the URL spells
  it (``localhost``, ``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``). TLS is
  still verified against the host name in the URL.

Every failure to get an answer raises :class:`~loupe.services.egress.NoAnswer` (an
``OSError``). httpcore is imported with this module: import it where a request is sent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore

from loupe.services.egress import EgressPolicy, EgressRefused, NoAnswer

__all__ = ["Answer", "post"]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str  # lower case, no parameters; ``text/plain`` when absent
    body: bytes  # at most ``max_body`` bytes


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise error(f"no answer within {self.seconds:g} s")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every step is cut to the time left before the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Resolves the host, connects only to addresses the policy allows, and shuts the
    socket down at the deadline (so even a TLS handshake trickled byte by byte ends)."""

    def __init__(self, policy: EgressPolicy, deadline: _Deadline) -> None:
        self._policy = policy
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()
        self._timers: list[threading.Timer] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise NoAnswer(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self._policy.allows(ipaddress.ip_address(a))]
        if not allowed:
            raise EgressRefused(
                f"{host} resolves to no address the server may connect to (loopback, "
                "private, link-local and other non-public addresses are refused unless "
                "allowed by the operator)"
            )
        error: Exception | None = None
        for address in allowed:
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    timeout=self._deadline.left(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            self._watch(stream.get_extra_info("socket"))
            return _Stream(stream, self._deadline)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise EgressRefused("unix sockets are not a destination")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        left = max(self._deadline.at - time.monotonic(), 0.0)
        timer = threading.Timer(left, _shut, (sock,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    policy: EgressPolicy,
    max_body: int = 0,
    verify: ssl.SSLContext | None = None,
) -> Answer:
    """POST ``body`` to ``url`` and return the answer (any status; redirects are not
    followed); :class:`NoAnswer` if none came within ``timeout`` seconds or the policy
    refuses every address of the host. Reads at most ``max_body`` bytes of the body
    (``NoAnswer`` when it is longer)."""
    deadline = _Deadline(timeout)
    backend = _Backend(policy, deadline)
    limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    try:
        with (
            httpcore.ConnectionPool(
                ssl_context=verify or ssl.create_default_context(),
                network_backend=backend,
                max_connections=1,
            ) as pool,
            pool.stream(
                "POST",
                url,
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": limits},
            ) as response,
        ):
            data = bytearray()
            if max_body > 0:
                for chunk in response.iter_stream():
                    data += chunk
                    if len(data) > max_body:
                        raise NoAnswer(f"the answer is over {max_body} bytes")
            content_type = b"text/plain"
            for name, value in response.headers:
                if name.lower() == b"content-type":
                    content_type = value.split(b";", 1)[0].strip().lower() or content_type
            return Answer(response.status, content_type.decode("latin-1"), bytes(data))
    except NoAnswer:
        raise
    except (
        httpcore.TimeoutException,
        httpcore.NetworkError,
        httpcore.ProtocolError,
        httpcore.UnsupportedProtocol,
        OSError,
        ValueError,
    ) as exc:
        if isinstance(exc, httpcore.TimeoutException) or time.monotonic() >= deadline.at:
            raise NoAnswer(f"no answer within {timeout:g} s") from None  # or cut at the deadline
        raise NoAnswer(f"{type(exc).__name__}: {exc}") from None
    finally:
        backend.close()
