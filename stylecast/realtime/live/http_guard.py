"""Who may use the HTTP sink: only its user. Checked before any handler runs.

- DNS rebinding: a page on another site whose name resolves to 127.0.0.1 sends its own name as
  ``Host``; only this server's own names and IP literals are answered (421 otherwise).
- Cross-site requests: a page on another site may POST ``text/plain`` without asking (CORS only
  guards what it can read back), so state changes need ``application/json`` (415) and, when the
  browser says where the request comes from (``Origin``), this server's own origin (403).
- Beyond loopback a token is required on every route (page, stream, snapshot, API), compared in
  constant time; it rides in the page's URL (``?token=``), so an OBS Browser Source URL carries it.
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_to_show(bind: str) -> str:
    """The address to give viewers: ``bind``, or for every address (0.0.0.0, ::) the one this machine
    is reached at on its network, since ``http://0.0.0.0:8765/`` opens nothing on another computer."""
    if bind not in WILDCARDS:
        return bind
    family, probe = (socket.AF_INET6, "2001:db8::1") if bind == "::" else (socket.AF_INET, "192.0.2.1")
    try:  # a datagram socket's connect picks the outgoing address without sending anything
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((probe, 9))
            address = ipaddress.ip_address(s.getsockname()[0])
        if not (address.is_loopback or address.is_unspecified):
            return str(address)
    except OSError:  # no network route (an offline machine): its name still reaches it on a LAN with DNS
        pass
    return socket.gethostname()


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _host_name(header: str) -> str:
    """``Host`` without its port: ``[::1]:8765`` -> ``::1``, ``example.org:80`` -> ``example.org``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class Guard:
    bind: str  # the address served
    token: str | None  # None on loopback

    @property
    def loopback(self) -> bool:
        return is_loopback(self.bind)

    def host_allowed(self, header: str | None) -> bool:
        name = _host_name(header or "")
        if self.loopback:
            return name in LOOPBACK_NAMES or (_is_ip(name) and is_loopback(name))
        if self.bind not in WILDCARDS:
            return name == self.bind.lower() or name in LOOPBACK_NAMES
        # every address of this machine: IP literals, and its own names (a rebinding page's name is neither)
        return _is_ip(name) or name in LOOPBACK_NAMES or name in {socket.gethostname().lower(), socket.getfqdn().lower()}

    def token_ok(self, given: str | None) -> bool:
        return self.token is None or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        """No ``Origin`` (curl, OBS, scripts) is fine; a browser's must be this page's own."""
        return origin is None or origin.lower() == f"http://{(host_header or '').strip().lower()}"
