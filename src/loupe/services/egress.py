"""Where the server may send requests: the egress policy that :mod:`loupe.services.outbound`
enforces when it connects, and that webhook registration checks up front.

Only public (globally reachable unicast) addresses by default; an operator allows
internal networks explicitly (``LOUPE_WEBHOOK_ALLOWED_NETWORKS``). Standard library
only: the webhook outbox imports it on every label.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

__all__ = [
    "PUBLIC_ONLY",
    "Address",
    "EgressPolicy",
    "EgressRefused",
    "Network",
    "NoAnswer",
    "is_public",
    "literal_address",
    "parse_networks",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NoAnswer(OSError):
    """No answer came: refused by the egress policy, unreachable, timed out, bad TLS..."""


class EgressRefused(NoAnswer):
    """The host resolves to no address the egress policy allows."""


def _embedded(address: Address) -> list[Address]:
    """``address`` and the IPv4 address it carries (IPv4-mapped, 6to4, Teredo)."""
    found: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                found.append(inner)
        if address.teredo is not None:
            found.append(address.teredo[1])
    return found


def is_public(address: Address) -> bool:
    """Whether ``address`` is globally reachable unicast (and so is what it embeds).

    >>> [is_public(ipaddress.ip_address(a)) for a in ("93.184.215.14", "127.0.0.1",
    ...     "169.254.169.254", "10.1.2.3", "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0")]
    [True, False, False, False, False, False, False]
    """
    return all(each.is_global and not each.is_multicast for each in _embedded(address))


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; ``ValueError`` names a bad one.

    >>> parse_networks("10.0.5.0/24, 127.0.0.1")
    (IPv4Network('10.0.5.0/24'), IPv4Network('127.0.0.1/32'))
    """
    networks: list[Network] = []
    for part in text.split(","):
        if part := part.strip():
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {part!r}") from None
    return tuple(networks)


_NUMERIC_HOST = re.compile(r"[0-9][0-9a-fA-FxX.]*")


def literal_address(host: str) -> Address | None:
    """The address a URL's host names literally, in any spelling ``getaddrinfo`` accepts
    (``2130706433``, ``0x7f.1``); ``None`` for a name.

    >>> literal_address("0x7f000001"), literal_address("example.org")
    (IPv4Address('127.0.0.1'), None)
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which addresses the server may connect to: every public address, plus the
    ``allowed`` networks (an internal receiver); ``any_address`` lifts the check (for
    URLs only the operator can set)."""

    allowed: tuple[Network, ...] = ()
    any_address: bool = False

    def allows(self, address: Address) -> bool:
        if self.any_address or is_public(address):
            return True
        return any(each in network for each in _embedded(address) for network in self.allowed)

    def allows_host(self, host: str) -> bool:
        """False for ``localhost`` names and literal addresses the policy refuses (a
        name that resolves to one is caught when connecting)."""
        if self.any_address:
            return True
        name = host.strip("[]").rstrip(".").lower()
        if name == "localhost" or name.endswith(".localhost"):
            return any(ipaddress.ip_address("127.0.0.1") in n for n in self.allowed)
        address = literal_address(name)
        return address is None or self.allows(address)


PUBLIC_ONLY = EgressPolicy()  # the default: public addresses only
