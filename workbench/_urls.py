"""Which URLs a plugin may send a request (and so a credential) to; used by :mod:`workbench.http`.

A ``workbench.toml`` is project data that may come from anyone (a shared repository, a downloaded demo),
so a base URL in it must not be able to point a user's key at the cloud metadata service or a neighbour:

* **always refused**: link-local addresses (``169.254.0.0/16``, ``fe80::/10``, which hold the AWS, GCP,
  Azure and Oracle metadata service ``169.254.169.254`` and ECS's ``169.254.170.2``), other cloud metadata
  addresses (AWS's IPv6 ``fd00:ec2::254``, Alibaba's ``100.100.100.200``), the unspecified address
  (``0.0.0.0``, ``::``), multicast and broadcast, also written as IPv4-mapped or NAT64 IPv6, in decimal or
  hex forms, or behind a DNS name that resolves there (resolved once per host and cached);
* **plain http** only to loopback (``127.0.0.0/8``, ``::1``, ``localhost``), or to a host the plugin's
  ``allow_insecure_hosts`` option names (``"gpu-box.lan"`` or ``"gpu-box.lan:8188"``); everything else
  must be ``https``.

A refusal is a :class:`~workbench.errors.BlockedURL` naming the URL (credentials in it redacted) and why.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from .errors import BlockedURL, redact

__all__ = ["check_url", "refusal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Metadata services outside the link-local ranges.
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("fd00:ec2::254"),   # AWS IMDS over IPv6 (Nitro)
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud ECS metadata
})
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return None


def _forbidden(ip: IPAddress) -> str | None:
    """Why ``ip`` may never be contacted, or None."""
    inner = _embedded_v4(ip)
    if inner is not None:
        why = _forbidden(inner)
        return f"{why} (as {ip})" if why else None
    if ip in METADATA_ADDRESSES or ip == ipaddress.ip_address("169.254.169.254"):
        return f"{ip} is a cloud metadata address"
    if ip.is_link_local:
        return f"{ip} is a link-local address (where cloud metadata services live)"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_multicast or ip == ipaddress.ip_address("255.255.255.255"):
        return f"{ip} is a multicast or broadcast address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@functools.lru_cache(maxsize=512)
def _resolve(host: str) -> tuple[IPAddress, ...]:
    """Addresses ``host`` resolves to (numeric forms such as ``2852039166`` and ``0xa9.0xfe.0xa9.0xfe``
    included, since the resolver accepts them); empty when it does not resolve (the request will fail)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    out: list[IPAddress] = []
    for info in infos:
        ip = _literal(str(info[4][0]))
        if ip is not None and ip not in out:
            out.append(ip)
    return tuple(out)


def refusal(url: str, *, allow_insecure_hosts: Iterable[str] = (), resolve: bool = True) -> str | None:
    """Why ``url`` may not be sent to, or None when it may."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"its scheme is {parts.scheme or 'missing'!r}, not https"
    if not host:
        return "it names no host"
    if host in METADATA_NAMES or host.endswith(".metadata.google.internal"):
        return f"{host} is a cloud metadata host"
    literal = _literal(host)
    addresses = (literal,) if literal is not None else (_resolve(host) if resolve else ())
    for ip in addresses:
        why = _forbidden(ip)
        if why:
            return why if literal is not None else f"{host} resolves to {ip}: {why}"
    if parts.scheme == "https":
        return None
    allowed = {h.lower() for h in allow_insecure_hosts}
    if host in allowed or (port is not None and f"{host}:{port}" in allowed):
        return None
    loopback = host in _LOOPBACK_NAMES or host.endswith(".localhost") or (
        bool(addresses) and all(ip.is_loopback or (_embedded_v4(ip) or ip).is_loopback for ip in addresses))
    if loopback:
        return None
    return (f"plain http to {host} would send credentials unencrypted; use https, or list the host in "
            "allow_insecure_hosts")


def check_url(url: str, *, provider: str, allow_insecure_hosts: Iterable[str] = (),
              setting: str = "base_url") -> str:
    """``url`` when a request may go there; :class:`BlockedURL` naming the URL and the reason otherwise.

    An empty or relative URL means the base URL is not configured, which says so instead.
    """
    if "://" not in (url or ""):
        raise BlockedURL(f"{provider}: {setting} is not configured (got {url!r}); set it in workbench.toml "
                         f"or WORKBENCH_{provider.upper()}_BASE_URL", url=url, provider=provider)
    why = refusal(url, allow_insecure_hosts=allow_insecure_hosts)
    if why:
        shown = redact(url)
        raise BlockedURL(f"{provider}: refused to send to {shown} ({setting}): {why}", url=shown, provider=provider)
    return url
