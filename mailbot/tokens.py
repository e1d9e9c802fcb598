"""Signed tokens for links and reply addresses, checked in constant time.

Tokens are lower-case base32 so they survive mail systems that fold the case of an
address's local part."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SIG_LEN = 16


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def new_id(nbytes: int = 10) -> str:
    """A random id, lower-case base32 (16 characters for 10 bytes)."""
    return _b32(secrets.token_bytes(nbytes))


def signature(secret: str, purpose: str, value: str) -> str:
    if not secret:
        raise ValueError("no SECRET_KEY: refusing to sign with an empty key")
    mac = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return _b32(mac)[:_SIG_LEN]


def sign(secret: str, purpose: str, value: str) -> str:
    return f"{value}.{signature(secret, purpose, value)}"


def unsign(secret: str, purpose: str, token: str | None) -> str | None:
    """The value inside a valid token, or None for a tampered, truncated or foreign one."""
    if not token or "." not in token or len(token) > 200:
        return None
    value, _, sig = token.strip().lower().rpartition(".")
    expected = signature(secret, purpose, value)
    return value if hmac.compare_digest(sig.encode(), expected.encode()) else None
