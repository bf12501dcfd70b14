"""Bearer tokens for the REST endpoints: made once, stored only as a salted hash.

A token reads ``kl_<id>_<secret>``: the id finds the row without scanning, the secret is
32 random bytes. The registry keeps ``sha256(salt || secret)`` with a per-token salt; a
slow KDF (scrypt) would add tens of milliseconds to every request and buys nothing for a
256-bit random secret, which cannot be guessed from its hash. The plain token is returned
once by ``create_token`` and is never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from kubeline.exceptions import KubelineError
from kubeline.server.registry import Registry, TokenRecord, utc_now

PREFIX = "kl"
_TOKEN = re.compile(r"^kl_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HINT = "create a token with 'kubeline token create NAME' and send 'Authorization: Bearer <token>'"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("ascii")).hexdigest()


def create_token(registry: Registry, name: str) -> str:
    """Make a token named ``name``; returns the plain token (the only time it exists)."""
    if not _NAME.match(name):
        raise KubelineError(f"token name {name!r} is not valid",
                            "use 1-64 letters, digits, '_', '.' or '-'")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    registry.add_token(TokenRecord(id=token_id, name=name, salt=salt,
                                   hash=_digest(salt, secret), created_at=utc_now(),
                                   revoked_at=None))
    return f"{PREFIX}_{token_id}_{secret}"


@dataclass(frozen=True)
class Caller:
    """Who made a request: the token's name (never the token)."""

    token_name: str


def authenticate(registry: Registry, header: str | None) -> Caller | None:
    """The caller of an ``Authorization`` header value, or None (missing, wrong, revoked)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    match = _TOKEN.match(value.strip())
    if match is None:
        return None
    record = registry.get_token(match.group(1))
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.hash, _digest(record.salt, match.group(2))):
        return None
    return Caller(token_name=record.name)
