"""Dashboard accounts: create, list, remove, change password, authenticate.

This module owns the ``dashboard_user`` rows (:class:`~bot.storage.models.DashboardUserRecord`).
Emails are stored lower-cased; passwords only as scrypt hashes
(:mod:`bot.web.dashboard.passwords`). A ``manager`` sees the touchpoints, alerts and employee
groups of their ``teams``; an ``admin`` sees everything. Refusals raise
:class:`~bot.errors.AccountError` with a stable ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.errors import AccountError
from bot.services import Services
from bot.storage.models import DashboardUserRecord
from bot.web.dashboard.passwords import (
    DEFAULT_COST,
    MIN_LENGTH,
    Cost,
    burn_time,
    fingerprint,
    hash_password,
    needs_rehash,
    verify_password,
)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")


class Role(StrEnum):
    """What a dashboard user may see."""

    ADMIN = "admin"
    MANAGER = "manager"


@dataclass(frozen=True)
class User:
    """A dashboard account as the web layer sees it (never the hash itself).

    Attributes:
        id: row id.
        email: lower-cased email (the login).
        role: admin or manager.
        teams: the teams a manager sees (empty for an admin: all).
        session_key: a digest of the password hash; a session carrying another one is over.
        created_at: when the account was created.
        last_login_at: the last successful login, if any.
    """

    id: int
    email: str
    role: Role
    teams: tuple[str, ...]
    session_key: str
    created_at: datetime
    last_login_at: datetime | None

    def sees_team(self, team: str | None) -> bool:
        """Whether this user may see what belongs to ``team``."""
        return self.role is Role.ADMIN or (team is not None and team in self.teams)


def _user(row: DashboardUserRecord) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        teams=tuple(row.teams or ()),
        session_key=fingerprint(row.password_hash),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def normalize_email(email: str) -> str:
    """The stored form of ``email`` (trimmed, lower-cased).

    Raises:
        AccountError: ``bad_email`` when it does not look like an email.
    """
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise AccountError("bad_email", f"not an email address: {email!r}")
    return cleaned


def check_password_strength(password: str) -> None:
    """Refuse passwords shorter than :data:`~bot.web.dashboard.passwords.MIN_LENGTH`.

    Raises:
        AccountError: ``weak_password``.
    """
    if len(password) < MIN_LENGTH or not password.strip():
        raise AccountError("weak_password", f"password shorter than {MIN_LENGTH} characters")


def _check_teams(teams: Iterable[str], services: Services) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(t.strip() for t in teams if t.strip()))
    unknown = [t for t in chosen if t not in services.company.teams]
    if unknown:
        raise AccountError("bad_team", "unknown team(s): " + ", ".join(unknown))
    return chosen


def add_user(
    email: str,
    password: str,
    *,
    role: Role | str = Role.MANAGER,
    teams: Iterable[str] = (),
    services: Services,
    cost: Cost = DEFAULT_COST,
) -> User:
    """Create an account.

    Raises:
        AccountError: ``bad_email``, ``weak_password``, ``bad_role``, ``bad_team`` or
            ``exists``.
    """
    address = normalize_email(email)
    try:
        chosen_role = Role(role)
    except ValueError:
        raise AccountError("bad_role", f"unknown role: {role!r}") from None
    check_password_strength(password)
    chosen_teams = _check_teams(teams, services)
    now = services.clock()
    row = DashboardUserRecord(
        email=address,
        password_hash=hash_password(password, cost=cost),
        role=chosen_role.value,
        teams=list(chosen_teams),
        created_at=now,
        password_changed_at=now,
        last_login_at=None,
    )
    try:
        with services.sessions.begin() as session:
            session.add(row)
    except IntegrityError:
        raise AccountError("exists", f"an account already exists for {address}") from None
    return _user(row)


def list_users(*, services: Services) -> list[User]:
    """Every account, by email."""
    with services.sessions() as session:
        rows = session.scalars(select(DashboardUserRecord).order_by(DashboardUserRecord.email))
        return [_user(row) for row in rows]


def get_user(user_id: int, *, services: Services) -> User | None:
    """The account with this id, if it still exists."""
    with services.sessions() as session:
        row = session.get(DashboardUserRecord, user_id)
        return _user(row) if row is not None else None


def remove_user(email: str, *, services: Services) -> None:
    """Delete an account (its open sessions end on their next request).

    Raises:
        AccountError: ``unknown``.
    """
    address = email.strip().lower()
    with services.sessions.begin() as session:
        result = session.execute(
            delete(DashboardUserRecord).where(DashboardUserRecord.email == address)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise AccountError("unknown", f"no account for {address}")


def set_password(
    email: str, password: str, *, services: Services, cost: Cost = DEFAULT_COST
) -> User:
    """Replace an account's password (its open sessions end).

    Raises:
        AccountError: ``weak_password`` or ``unknown``.
    """
    check_password_strength(password)
    address = email.strip().lower()
    with services.sessions.begin() as session:
        row = session.scalar(
            select(DashboardUserRecord).where(DashboardUserRecord.email == address)
        )
        if row is None:
            raise AccountError("unknown", f"no account for {address}")
        row.password_hash = hash_password(password, cost=cost)
        row.password_changed_at = services.clock()
        return _user(row)


def authenticate(
    email: str, password: str, *, services: Services, cost: Cost = DEFAULT_COST
) -> User | None:
    """The account whose email and password these are, else ``None``.

    An unknown email costs the same time as a wrong password. A hash made with older
    parameters is replaced on success; the login time is recorded.
    """
    address = email.strip().lower()
    with services.sessions.begin() as session:
        row = session.scalar(
            select(DashboardUserRecord).where(DashboardUserRecord.email == address)
        )
        if row is None:
            burn_time(password, cost=cost)
            return None
        if not verify_password(password, row.password_hash):
            return None
        if needs_rehash(row.password_hash, cost=cost):
            row.password_hash = hash_password(password, cost=cost)
        row.last_login_at = services.clock()
        return _user(row)
