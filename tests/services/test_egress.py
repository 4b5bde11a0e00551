"""The egress policy: public addresses only by default, however an address is spelled,
and the internal networks an operator allows."""

from __future__ import annotations

import ipaddress

import pytest

from loupe.errors import InvalidInput
from loupe.services.egress import (
    PUBLIC_ONLY,
    EgressPolicy,
    is_public,
    literal_address,
    parse_networks,
)
from loupe.settings import Settings

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.0.9",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared (carrier-grade NAT)
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "ff02::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert not PUBLIC_ONLY.allows(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    assert PUBLIC_ONLY.allows(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),  # octal
        ("[::1]", "::1"),
        ("example.org", None),
        ("1e100.net", None),
    ],
)
def test_literal_addresses_in_every_spelling(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "app.localhost", "2130706433", "[::1]", "10.0.0.1"]
)
def test_registration_refuses_local_hosts(host: str) -> None:
    assert not PUBLIC_ONLY.allows_host(host)


def test_an_allowed_network_opens_only_itself() -> None:
    policy = EgressPolicy(parse_networks("10.0.5.0/24, 127.0.0.1"))
    assert policy.allows(ipaddress.ip_address("10.0.5.7"))
    assert policy.allows(ipaddress.ip_address("::ffff:10.0.5.7"))
    assert not policy.allows(ipaddress.ip_address("10.0.6.7"))
    assert not policy.allows(ipaddress.ip_address("169.254.169.254"))
    assert policy.allows_host("localhost") and policy.allows_host("2130706433")
    assert policy.allows_host("example.org")
    assert EgressPolicy(any_address=True).allows(ipaddress.ip_address("127.0.0.1"))


def test_the_setting_is_checked_when_read() -> None:
    assert Settings(webhook_allowed_networks=" 10.0.0.0/8 ,, ::1 ").webhook_allowed_networks == (
        "10.0.0.0/8,::1"
    )
    with pytest.raises(InvalidInput, match=r"LOUPE_WEBHOOK_ALLOWED_NETWORKS.*'intranet'"):
        Settings(webhook_allowed_networks="10.0.0.0/8,intranet")
    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        parse_networks("10.0.0.300")
