"""Is the From: address really the sender's? (SPEC §5 "Authentic")

Mail that reaches our own SMTP server is checked here when it arrives: SPF for the envelope
sender and the connecting address, DKIM, and the DMARC policy of the From domain (with
alignment), by `authheaders` (dkimpy, pyspf, dnspython). The outcome is written down as an
`Authentication-Results` value with our own authserv-id. Mail from IMAP or an MTA's pipe was
checked by the server that received it: only an `Authentication-Results` header whose
authserv-id is `TRUSTED_AUTHSERV_ID` counts, every other one is ignored.

A From address is authenticated by a DMARC pass for its domain, or a DKIM pass whose
signing domain is aligned with it. Domains are compared, never local parts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import authres
import dns.resolver
from authheaders import authenticate_message
from authheaders.dmarc_lookup import get_org_domain

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


@dataclass(frozen=True)
class Authenticity:
    authenticated: bool
    story: str  # for the admin log: what counted, and who said it


def _domain(value: str | None) -> str:
    return (value or "").strip().strip("<>").rpartition("@")[2].rstrip(".").lower()


def _aligned(signer: str, from_domain: str) -> bool:
    if not signer or not from_domain:
        return False
    if signer == from_domain:
        return True
    try:
        return bool(get_org_domain(signer) == get_org_domain(from_domain))
    except Exception:
        return False


def _property(result: object, name: str) -> str | None:
    for prop in getattr(result, "properties", ()):
        if f"{prop.type}.{prop.name}".lower() == name:
            return str(prop.value)
    return None


def judge(value: str, from_address: str | None) -> Authenticity:
    """What one `Authentication-Results` value says about the From address."""
    by = authserv_id(value)
    from_domain = _domain(from_address)
    try:
        results = authres.parse_value(value).results
    except Exception:
        return Authenticity(False, f"unreadable Authentication-Results of {by}")
    said = []
    for result in results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        said.append(f"{method}={outcome}")
        if outcome != "pass":
            continue
        if method == "dmarc" and _domain(_property(result, "header.from")) in ("", from_domain):
            return Authenticity(bool(from_domain), f"dmarc=pass for {from_domain} ({by})")
        if method == "dkim":
            signer = _domain(_property(result, "header.d") or _property(result, "header.i"))
            if _aligned(signer, from_domain):
                return Authenticity(True, f"dkim=pass aligned with {from_domain} ({by})")
    return Authenticity(False, f"not authenticated: {' '.join(said) or 'no results'} ({by})")


def authserv_id(value: str) -> str:
    head = value.split(";", 1)[0].split()
    return head[0].lower() if head else ""


def trusted_results(values: Iterable[str], trusted_id: str) -> str | None:
    """The topmost `Authentication-Results` value of the trusted authserv-id; others, also
    forged ones above it, are ignored."""
    if not trusted_id:
        return None
    for value in values:
        unfolded = re.sub(r"\s*[\r\n]+\s*", " ", value)
        if authserv_id(unfolded) == trusted_id.lower():
            return unfolded
    return None


def assess(source: str, own_results: str | None, header_values: Iterable[str],
           from_address: str | None, trusted_id: str) -> Authenticity:
    """Whether the From address of a stored message is authenticated: by our own check for
    SMTP mail, by the trusted upstream's header for IMAP and pipe mail."""
    if source == "smtp":
        return judge(own_results, from_address) if own_results else Authenticity(False, "not checked")
    upstream = trusted_results(header_values, trusted_id)
    if upstream is None:
        why = "no Authentication-Results of TRUSTED_AUTHSERV_ID" if trusted_id else \
            "TRUSTED_AUTHSERV_ID is not set"
        return Authenticity(False, f"not authenticated: {why}")
    return judge(upstream, from_address)
