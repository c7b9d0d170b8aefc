"""Tests of bot/web/dashboard/passwords.py: scrypt hashes, verification, rehash, fingerprint."""

from __future__ import annotations

from bot.web.dashboard.passwords import (
    DEFAULT_COST,
    Cost,
    fingerprint,
    hash_password,
    needs_rehash,
    verify_password,
)

CHEAP = Cost(n=2**8, r=8, p=1)


def test_a_hash_is_salted_self_describing_and_verifies() -> None:
    first = hash_password("correct horse battery", cost=CHEAP)
    second = hash_password("correct horse battery", cost=CHEAP)
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$256$8$1$")
    assert "correct horse" not in first
    assert verify_password("correct horse battery", first)
    assert verify_password("correct horse battery", second)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("", first)


def test_the_default_cost_is_strong() -> None:
    assert DEFAULT_COST.n >= 2**15 and DEFAULT_COST.r >= 8
    stored = hash_password("x" * 12)
    assert stored.startswith(f"scrypt${DEFAULT_COST.n}$")
    assert verify_password("x" * 12, stored)


def test_malformed_or_foreign_hashes_never_verify() -> None:
    for stored in (
        "",
        "plain",
        "bcrypt$2b$12$abc",
        "scrypt$3$8$1$AAAA$AAAA",
        "scrypt$x$8$1$a$b",
        "scrypt$256$8$1$%%%$AAAA",
    ):
        assert not verify_password("anything", stored)
        assert needs_rehash(stored)


def test_rehash_and_fingerprint_follow_the_parameters_and_the_hash() -> None:
    stored = hash_password("correct horse battery", cost=CHEAP)
    assert needs_rehash(stored)  # made cheaper than the default
    assert not needs_rehash(stored, cost=CHEAP)
    again = hash_password("correct horse battery", cost=CHEAP)
    assert fingerprint(stored) == fingerprint(stored)
    assert fingerprint(stored) != fingerprint(again)  # a new hash ends old sessions
