"""Which hosts are this machine: the emulator serves only on them unless told otherwise, and, being offline,
can fetch an image by URL only from them (the client refuses another host before anything is sent)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) names this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
