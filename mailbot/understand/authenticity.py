"""Is the From address really the sender's? (SPEC §5 "Authentic")

Read from `Authentication-Results`: for mail that reached our own SMTP server, the value our
server wrote on arrival (`inbound.authenticity.verify`); for mail from IMAP or an MTA's pipe,
only the topmost header whose authserv-id is `TRUSTED_AUTHSERV_ID` — every other one is
ignored, also a forged one above it. A From address is authenticated by a DMARC pass for its
domain, or a DKIM pass whose signing domain is aligned with it; it is forged when DMARC
fails for it, or a signature of its own domain fails. Domains are compared, never local
parts. Pure: no DNS, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import authres
from authheaders.dmarc_lookup import get_org_domain


@dataclass(frozen=True)
class Authenticity:
    authenticated: bool
    story: str  # for the admin log: what counted, and who said it
    forged: bool = False  # DMARC failed for the From domain, or its own DKIM signature did


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
    said, forged = [], False
    for result in results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        said.append(f"{method}={outcome}")
        if method == "dmarc":
            about_from = _domain(_property(result, "header.from")) in ("", from_domain)
            if outcome == "pass" and about_from and from_domain:
                return Authenticity(True, f"dmarc=pass for {from_domain} ({by})")
            forged = forged or (outcome in ("fail", "permerror") and about_from)
        elif method == "dkim":
            signer = _domain(_property(result, "header.d") or _property(result, "header.i"))
            if _aligned(signer, from_domain):
                if outcome == "pass":
                    return Authenticity(True, f"dkim=pass aligned with {from_domain} ({by})")
                forged = forged or outcome in ("fail", "permerror")
    story = f"{'forged' if forged else 'not authenticated'}: {' '.join(said) or 'no results'} ({by})"
    return Authenticity(False, story, forged)


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
