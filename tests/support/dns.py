"""A real DNS server on a loopback port (UDP and TCP, built with dnslib) that serves the TXT
records a test publishes: SPF policies, DKIM public keys, DMARC policies. mailbot reaches
it through `DNS_SERVER=127.0.0.1:PORT`; nothing in mailbot's resolver is replaced.

Also here: DKIM keys and signing (dkimpy) for mail that a test sends."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dnslib import QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.support.background import free_port


@dataclass
class Zone(BaseResolver):
    """name → TXT strings (and A addresses); everything else does not exist."""

    txt: dict[str, list[str]] = field(default_factory=dict)
    a: dict[str, str] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        self.queries.append(f"{kind} {name}")
        if kind == "TXT" and name in self.txt:
            for value in self.txt[name]:
                # one record of strings of at most 255 bytes each (DKIM keys are longer)
                chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        elif kind == "A" and name in self.a:
            reply.add_answer(RR(name, QTYPE.A, rdata=A(self.a[name]), ttl=60))
        elif not self.knows(name):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply

    def knows(self, name: str) -> bool:
        return name in self.txt or name in self.a

    def publish(self, name: str, *values: str) -> None:
        self.txt[name.lower()] = list(values)


@contextmanager
def dns_server() -> Iterator[tuple[Zone, str]]:
    """A running server and its `host:port` (for DNS_SERVER)."""
    zone = Zone()
    port = free_port()
    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data")
    servers = [DNSServer(zone, address="127.0.0.1", port=port, tcp=tcp, logger=quiet)
               for tcp in (False, True)]
    threads = [threading.Thread(target=s.server.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        for server in servers:
            server.server.shutdown()
            server.server.server_close()


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_pem: bytes
    public_txt: str  # the TXT record of <selector>._domainkey.<domain>

    def sign(self, raw: bytes, domain: str | None = None) -> bytes:
        """`raw` with a DKIM-Signature of this key (d= `domain`, default the key's domain)."""
        signature = dkim.sign(raw, self.selector.encode(), (domain or self.domain).encode(),
                              self.private_pem,
                              include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        return signature + raw


def dkim_key(domain: str, selector: str = "mail") -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return DkimKey(domain, selector, private,
                   f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}")


def publish_domain(zone: Zone, key: DkimKey, *, spf: str = "v=spf1 ip4:127.0.0.1 -all",
                   dmarc: str = "v=DMARC1; p=reject") -> None:
    """A sending domain with its SPF policy, DKIM key and DMARC policy."""
    zone.publish(key.domain, spf)
    zone.publish(f"{key.selector}._domainkey.{key.domain}", key.public_txt)
    zone.publish(f"_dmarc.{key.domain}", dmarc)
