"""Finding 3: only a trusted upstream's Authentication-Results count, and only a DMARC pass or
a DKIM pass aligned with the From domain authenticates it (domains, never local parts)."""

from __future__ import annotations

import pytest

from mailbot.understand import decode
from mailbot.understand.authenticity import assess, judge

TRUSTED = "mx.upstream.example"
INGEBORG = "ingeborg@example.org"


def headers_of(*values: str) -> tuple[str, ...]:
    raw = "".join(f"Authentication-Results: {v}\r\n" for v in values)
    return decode(f"{raw}From: Ingeborg <{INGEBORG}>\r\nSubject: x\r\n\r\nJA\r\n".encode()
                  ).authentication_results


def test_finding3_a_forged_header_above_the_real_one_is_ignored() -> None:
    values = headers_of("mx.attacker.example; dmarc=pass header.from=example.org",
                        f"{TRUSTED}; spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=example.org")
    verdict = assess("imap", None, values, INGEBORG, TRUSTED)
    assert not verdict.authenticated
    assert TRUSTED in verdict.story


def test_finding3_the_trusted_upstreams_pass_counts_for_imap_and_pipe_mail() -> None:
    values = headers_of("mx.other.example; dmarc=fail",
                        f"{TRUSTED};\r\n dkim=pass header.d=example.org;\r\n"
                        " dmarc=pass header.from=example.org")
    assert assess("pipe", None, values, INGEBORG, TRUSTED).authenticated
    assert not assess("pipe", None, values, INGEBORG, "").authenticated  # nobody trusted
    # on our own SMTP server only our own check counts, whatever the headers say
    assert not assess("smtp", None, values, INGEBORG, TRUSTED).authenticated


@pytest.mark.parametrize(("results", "authenticated"), [
    ("dkim=fail header.i=ingeborg@example.org", False),       # a failure is never a pass
    ("dkim=pass header.i=ingeborg@evil.example", False),      # same local part, other domain
    ("dkim=pass header.i=someone@example.org", True),         # the domain signs, not the person
    ("dkim=pass header.d=mail.example.org", True),            # relaxed alignment
    ("dkim=pass header.d=example.org.evil.example", False),
    ("spf=pass smtp.mailfrom=ingeborg@example.org", False),   # SPF says nothing about From
    ("dmarc=pass header.from=evil.example", False),           # a pass for another domain
    ("dmarc=pass header.from=example.org", True),
    ("dmarc=fail header.from=example.org", False),
])
def test_finding3_only_domains_aligned_with_from_authenticate(results: str, authenticated: bool) -> None:
    assert judge(f"{TRUSTED}; {results}", INGEBORG).authenticated is authenticated


def test_finding3_a_failed_signature_of_the_from_domain_is_forgery() -> None:
    assert judge(f"{TRUSTED}; dkim=fail header.i=ingeborg@example.org", INGEBORG).forged
    assert judge(f"{TRUSTED}; dmarc=fail header.from=example.org", INGEBORG).forged
    assert not judge(f"{TRUSTED}; dkim=fail header.d=lists.example.com", INGEBORG).forged
    assert not judge(f"{TRUSTED}; dkim=fail header.d=lists.example.com; dkim=pass header.d=example.org",
                     INGEBORG).forged
