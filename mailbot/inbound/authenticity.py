"""SPF, DKIM and DMARC of mail that reaches our own SMTP server (SPEC §5 "Authentic").

Checked when it arrives: SPF for the envelope sender and the connecting address, DKIM, and
the DMARC policy of the From domain (with alignment), by `authheaders` (dkimpy, pyspf,
dnspython). The outcome is kept as an `Authentication-Results` value with our own
authserv-id; `understand.authenticity` reads it (or a trusted upstream's) later.
"""

from __future__ import annotations

import logging

import dns.resolver
from authheaders import authenticate_message

log = logging.getLogger(__name__)

LOOKUP_SECONDS = 5.0
# a bigger message is not checked (it is unauthenticated): DKIM hashes every byte, and
# nobody's request needs a megabyte
MAX_CHECKED_BYTES = 1_000_000


def use_dns_server(value: str) -> None:
    """`DNS_SERVER=host[:port]` sends every SPF, DKIM and DMARC lookup there (the libraries
    all ask dnspython's default resolver); empty keeps the system's resolver."""
    if value:
        host, port = value, 53
        if value.startswith("[") or value.count(":") == 1:
            host, _, number = value.rpartition(":")
            port = int(number)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host.strip("[]")]
        resolver.port = port
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            log.warning("no DNS resolver configured: inbound mail cannot be authenticated")
            return
    resolver.lifetime = LOOKUP_SECONDS
    dns.resolver.default_resolver = resolver


def verify(authserv_id: str, raw: bytes, sender: str | None, peer: str | None,
           helo: str | None) -> str:
    """SPF, DKIM and DMARC of a message that arrived on our SMTP server, as the value of an
    `Authentication-Results` header of `authserv_id`. Never raises."""
    if len(raw) > MAX_CHECKED_BYTES:
        return f"{authserv_id}; none (not checked: larger than {MAX_CHECKED_BYTES} bytes)"
    try:
        header = authenticate_message(
            raw, authserv_id, spf=bool(peer), dkim=True, dmarc=True, ip=peer,
            mail_from=sender or "", helo=helo or "")
    except Exception as exc:  # a broken message or DNS: it is simply not authenticated
        log.info("authentication check failed: %s: %s", type(exc).__name__, exc)
        return f"{authserv_id}; none (check failed: {type(exc).__name__})"
    return header.split(":", 1)[1].strip()
