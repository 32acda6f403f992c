"""The address of the client behind a request, for budgets and throttles.

Any client can send `X-Forwarded-For`, so it is believed only when the
request's immediate peer is one of GRAPHQL_TRUSTED_PROXIES (a server-rendered
storefront, a CDN, the load balancer): then each proxy in the chain has
appended the address it received the request from, and the client is the
right-most address that is not itself a trusted proxy. Everything left of
that was written by the client and is ignored.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.cache
def networks_of(setting: str, entries: tuple[str, ...]) -> tuple[Network, ...]:
    """A setting's addresses or CIDR networks, parsed once."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{setting}: {entry!r} is not an address or a network."
            ) from error
    return tuple(networks)


def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """GRAPHQL_TRUSTED_PROXIES parsed once: addresses or CIDR networks."""
    return networks_of("GRAPHQL_TRUSTED_PROXIES", entries)


def client_address(*, peer: str, forwarded_for: Iterable[str] = ()) -> str:
    """The client's address: `peer` (REMOTE_ADDR, the ASGI client) unless it
    is a trusted proxy, else the right-most untrusted hop of the
    `forwarded_for` headers (each a comma-separated X-Forwarded-For value)."""
    networks = trusted_networks(tuple(settings.GRAPHQL_TRUSTED_PROXIES))
    current = _parse(peer)
    if current is None or not networks:
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    while _trusted(current, networks) and hops:
        previous = _parse(hops.pop())
        if previous is None:
            # A trusted proxy passed on something that is not an address:
            # nothing left of it can be believed; the proxy is the client.
            break
        current = previous
    return str(current)


def request_client_address(meta: Mapping[str, Any]) -> str:
    """client_address of a Django request's META (its peer and X-Forwarded-For)."""
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    return client_address(peer=meta.get("REMOTE_ADDR", ""),
                          forwarded_for=[forwarded] if forwarded else [])


def address_in(value: str, setting: str) -> bool:
    """Whether an address (a peer's, a client's) is one of the addresses or
    networks listed in the setting named `setting`."""
    address = _parse(value)
    networks = networks_of(setting, tuple(getattr(settings, setting)))
    return address is not None and _trusted(address, networks)


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def _parse(value: str) -> Address | None:
    """An address, also as `1.2.3.4:port` or `[::1]:port`; IPv4-mapped IPv6
    addresses as IPv4, so one client has one key."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1:value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def peer_is_trusted(peer: str) -> bool:
    """Whether the request's immediate peer is one of GRAPHQL_TRUSTED_PROXIES,
    whose headers (a forwarded address, a request id) may be believed."""
    return address_in(peer, "GRAPHQL_TRUSTED_PROXIES")
