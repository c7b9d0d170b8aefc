"""Dashboard security: signed-cookie sessions, expiry, CSRF tokens, login throttling, language.

Sessions are Starlette's signed cookies (``SessionMiddleware``) keyed on a key derived from
``VECU_SECRET_KEY`` (HttpOnly, SameSite=Lax, Secure outside development). A session holds the
user id, a digest of the password hash (a new password or a removed account ends every
session) and the login time (a session older than ``VECU_DASHBOARD_SESSION_MAX_AGE_S`` is
over, whatever the cookie says). Every POST form carries the session's CSRF token.
Failed logins are counted per client address and per email (:class:`LoginThrottle`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, accepted_language
from bot.storage.shared import MemoryState, SharedState

SESSION_COOKIE = "vecu_session"
CSRF_FIELD = "csrf_token"


def session_key(secret_key: str) -> str:
    """The cookie-signing key: derived from ``VECU_SECRET_KEY``, never the key itself."""
    return hmac.new(secret_key.encode(), b"vecu.dashboard.session.v1", hashlib.sha256).hexdigest()


def page_language(request: Request) -> str:
    """The page language: ``?lang=`` (remembered), else the session's, else the browser's."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        request.session["lang"] = asked
        return asked
    kept = request.session.get("lang")
    if kept in LANGUAGES:
        return str(kept)
    return accepted_language(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: Mapping[str, str]) -> bool:
    """Whether the form carries this session's CSRF token (constant-time)."""
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD, "")
    return (
        isinstance(expected, str)
        and bool(given)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def start_session(request: Request, *, user_id: int, key: str, now: datetime) -> None:
    """Log a user in: a fresh session (new CSRF token), keeping the chosen language."""
    language = request.session.get("lang")
    request.session.clear()
    request.session.update(
        {"uid": user_id, "key": key, "at": int(now.timestamp()), "sid": secrets.token_urlsafe(16)}
    )
    if language in LANGUAGES:
        request.session["lang"] = language
    csrf_token(request)


def end_session(request: Request) -> None:
    """Log out (the language choice stays)."""
    language = request.session.get("lang")
    request.session.clear()
    if language in LANGUAGES:
        request.session["lang"] = language


def session_claims(request: Request, *, now: datetime, max_age_s: int) -> tuple[int, str] | None:
    """The ``(user id, key)`` of a live session; ``None`` when absent.

    Raises:
        SessionExpired: the session is older than ``max_age_s`` (it is ended).
    """
    uid, key, at = (request.session.get(k) for k in ("uid", "key", "at"))
    if not isinstance(uid, int) or not isinstance(key, str) or not isinstance(at, int):
        return None
    if now.timestamp() - at > max_age_s or now.timestamp() < at - 300:
        end_session(request)
        raise SessionExpired
    return uid, key


class SessionExpired(Exception):
    """The session is over; the user logs in again (internal to the dashboard routes)."""


class LoginThrottle:
    """Counts failed logins per key (client address, email) in a sliding window.

    The failures live in the process's shared store (:mod:`bot.storage.shared`): in memory by
    default, in Redis when several web replicas must count them together.

    Args:
        max_failures: failures allowed per key in the window; the next attempt is refused.
        window_s: the window, in seconds.
        clock: the current time (the services' clock).
        store: where failures are kept (default: a store of this process only).
    """

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        clock: Callable[[], datetime],
        store: SharedState | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.store: SharedState = store or MemoryState()

    @staticmethod
    def _key(key: str) -> str:
        return "login-failures:" + key

    def wait_s(self, *keys: str) -> float:
        """Seconds before another attempt is allowed for these keys (0: allowed now)."""
        now = self.clock().timestamp()
        waits = [
            self.window_s - (now - times[-self.max_failures])
            for key in keys
            if len(times := self.store.events(self._key(key), now, self.window_s))
            >= self.max_failures
        ]
        return max(waits, default=0.0)

    def attempt(self, *keys: str) -> tuple[float, float]:
        """Count one attempt for each key **before** the password is checked, atomically
        (concurrent attempts each take their turn: none sees a count that misses another),
        and say how long to wait.

        Returns:
            ``(wait_s, at)``: ``wait_s`` > 0 refuses this attempt (it still counts, as a
            failure would); ``at`` names it for :meth:`succeeded`.
        """
        now = self.clock().timestamp()
        over = [key for key in keys if self.store.add_event(self._key(key), now, self.window_s)
                > self.max_failures]  # fmt: skip
        return (max(self.wait_s(*over), 1.0) if over else 0.0), now

    def succeeded(self, *keys: str, at: float | None = None, shared: Sequence[str] = ()) -> None:
        """Forget the failures of these keys; take back the successful attempt ``at`` from the
        ``shared`` keys (a client address many people log in from keeps its failures)."""
        self.store.forget(*(self._key(key) for key in keys))
        if at is not None:
            for key in shared:
                self.store.drop_event(self._key(key), at)


def client_key(request: Request) -> str:
    """The throttle key of the client's address."""
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


def safe_next(value: Any, default: str) -> str:
    """A post-login target inside the dashboard only (no open redirect)."""
    if (
        isinstance(value, str)
        and value.startswith("/dashboard")
        and not any(bad in value for bad in ("//", "\\", "\n", "\r"))
    ):
        return value
    return default
