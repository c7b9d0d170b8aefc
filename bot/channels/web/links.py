"""Links that open the web chat to employees.

The public web chat is the customers' door. An employee's feedback (stored as an employee's,
counted in eNPS, routed to HR) comes through a link Vécu issued — signed with
``VECU_SECRET_KEY``, naming a campaign, expiring — or from a trusted integration calling with
the API token. ``vecu employees link --campaign NAME --days N`` prints one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "vecu-employee-link"
MAX_DAYS = 366
CAMPAIGN = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class EmployeeLink:
    """What a valid link says."""

    campaign: str
    expires_at: int


def issue(secret_key: str, *, campaign: str, days: int, now: float | None = None) -> str:
    """A signed token for ``campaign`` that opens the employee chat for ``days`` days.

    Raises:
        ValueError: a campaign name outside ``[A-Za-z0-9_.-]{1,64}`` or days outside 1-366.
    """
    if not CAMPAIGN.fullmatch(campaign):
        raise ValueError("a campaign is 1-64 letters, digits, '_', '.' or '-'")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a link lasts 1 to {MAX_DAYS} days")
    expires = int((time.time() if now is None else now) + days * 86_400)
    return str(URLSafeSerializer(secret_key, salt=SALT).dumps({"c": campaign, "e": expires}))


def verify(secret_key: str, token: str | None, *, now: float | None = None) -> EmployeeLink | None:
    """The link ``token`` stands for, or ``None`` (absent, forged, another key, expired)."""
    if not token or len(token) > 512 or not secret_key:
        return None
    try:
        claims = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(claims, dict):
        return None
    campaign, expires = claims.get("c"), claims.get("e")
    if not isinstance(campaign, str) or not isinstance(expires, int):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return EmployeeLink(campaign, expires)
