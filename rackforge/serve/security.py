"""API tokens and roles.

A token is 32 random bytes (``secrets.token_urlsafe``), shown to its user once; only its
SHA-256 is stored, and a presented token is compared with the stored hash in constant time
(``hmac.compare_digest``). Roles rank viewer < editor < owner; a user's role on a shared
project is the lesser of their own role and the role the project grants their organisation
(least privilege).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

Role = Literal["viewer", "editor", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "owner")
TOKEN_PREFIX = "rf_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    """Whether `token` hashes to `stored_hash`, compared in constant time."""
    return hmac.compare_digest(token_hash(token), stored_hash)


def rank(role: str) -> int:
    return ROLES.index(role)


def at_least(role: str | None, needed: Role) -> bool:
    return role is not None and rank(role) >= rank(needed)


def lesser(a: str, b: str) -> Role:
    return ROLES[min(rank(a), rank(b))]
