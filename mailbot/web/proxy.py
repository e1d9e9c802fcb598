"""Who is the client? The connecting address, unless that is a trusted proxy
(`FORWARDED_ALLOW_IPS`): then the address the proxy reports — `CLIENT_IP_HEADER` when set
(on Fly.io `Fly-Client-IP`, which the edge always overwrites), else the right-most
`X-Forwarded-For` entry that is no trusted proxy itself. By default nobody is trusted, so a
header a client writes itself never chooses whose rate limit it counts against."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class ClientAddress:
    def __init__(self, app: ASGIApp, trusted: Iterable[Network], everyone: bool,
                 header: str = "") -> None:
        self.app, self.trusted, self.everyone = app, list(trusted), everyone
        self.header = header.strip().lower().encode()

    def _trusts(self, host: str) -> bool:
        if self.everyone:
            return True
        address = _address(host)
        return address is not None and any(address in net for net in self.trusted)

    def client(self, peer: str, headers: list[tuple[bytes, bytes]]) -> str:
        if not self._trusts(peer):
            return peer
        if self.header:
            given = [v.decode("latin-1") for k, v in headers if k == self.header]
            found = _address(given[-1]) if given else None
            return str(found) if found is not None else peer
        hops = [hop for k, v in headers if k == b"x-forwarded-for"
                for hop in v.decode("latin-1").split(",")]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer  # a garbled chain: count the proxy, not a guess
            if self.everyone or not self._trusts(str(address)):
                return str(address)  # with "*" only the hop our proxy added is known
        return peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            host, port = scope["client"]
            scope = {**scope, "client": (self.client(host, scope["headers"]), port)}
        await self.app(scope, receive, send)
