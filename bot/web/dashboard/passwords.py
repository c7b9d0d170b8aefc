"""Password hashing for dashboard accounts: salted scrypt (standard library), self-describing.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt b64>$<key b64>``; verification reads the
parameters from the hash itself, so raising the cost later keeps old hashes valid
(:func:`needs_rehash` says when to store a new one). Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "scrypt"
MIN_LENGTH = 10
"""Shortest password accepted (``vecu users add`` / ``passwd`` refuse shorter ones)."""


@dataclass(frozen=True)
class Cost:
    """scrypt cost parameters (memory is about ``128 * n * r`` bytes)."""

    n: int = 2**15
    r: int = 8
    p: int = 1


DEFAULT_COST = Cost()
"""32 MiB and about 0.1 s per hash on one core: slow for an attacker, fine for a login."""
_KEY_BYTES = 32
_SALT_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=256 * cost.n * cost.r + 1024 * 1024,
        dklen=_KEY_BYTES,
    )


def hash_password(password: str, *, cost: Cost = DEFAULT_COST) -> str:
    """Hash ``password`` with a fresh random salt.

    Returns:
        The self-describing hash string to store.
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, cost)
    return f"{SCHEME}${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[Cost, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        cost = Cost(int(parts[1]), int(parts[2]), int(parts[3]))
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if cost.n < 2 or cost.n & (cost.n - 1) or not 1 <= cost.r <= 64 or not 1 <= cost.p <= 16:
        return None
    return cost, salt, key


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash (``False`` for a malformed hash)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    cost, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, cost), key)


def needs_rehash(stored: str, *, cost: Cost = DEFAULT_COST) -> bool:
    """Whether ``stored`` was made with other parameters than ``cost``."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] != cost


_DUMMY: dict[Cost, str] = {}


def burn_time(password: str, *, cost: Cost = DEFAULT_COST) -> None:
    """Spend the time of one verification (for an unknown email: no timing oracle)."""
    if cost not in _DUMMY:
        _DUMMY[cost] = hash_password("not a real password", cost=cost)
    verify_password(password, _DUMMY[cost])


def fingerprint(stored: str) -> str:
    """A short digest of the stored hash, kept in the session: a new password ends sessions."""
    return hashlib.sha256(stored.encode("ascii")).hexdigest()[:16]
