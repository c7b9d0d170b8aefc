"""Who is looking at the dashboard: the logged-in user of a request, and API access.

This module owns :func:`current_user` (a live session's account, or ``None``) and
:func:`require_token_or_session`, the dependency of ``GET /api/v1/metrics``: the bearer
token, or a dashboard session (a manager only for one of their teams).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bot.i18n import API_LANGUAGE, t
from bot.storage.shared import SharedState, shared_state
from bot.web.dashboard.security import SessionExpired, end_session, session_claims
from bot.web.dashboard.users import get_user
from bot.web.deps import ApiError, require_token, services_of

if TYPE_CHECKING:
    from bot.services import Services
    from bot.web.dashboard.users import User


ENDED_PREFIX = "session-ended:"
"""Shared-state key of a session logged out (its cookie may have been copied before)."""


def _ended_sessions(request: Request, services: Services) -> SharedState:
    store: SharedState | None = getattr(request.app.state, "ended_sessions", None)
    if store is None:
        store = request.app.state.ended_sessions = shared_state(services.settings)
    return store


def log_out(request: Request, services: Services) -> None:
    """End this session for good: its id is remembered as ended (in Redis for every replica
    when ``VECU_REDIS_URL`` is set) until it would have expired anyway, so a copy of the
    cookie taken before the logout opens nothing after it."""
    sid = request.session.get("sid")
    if isinstance(sid, str) and sid:
        ttl = services.settings.dashboard_session_max_age_s + 300
        _ended_sessions(request, services).put(ENDED_PREFIX + sid, "1", ttl)
    end_session(request)


def current_user(request: Request, services: Services) -> User | None:
    """The account of the request's live session, else ``None``.

    Raises:
        SessionExpired: the session is too old (it has been ended).
    """
    if "session" not in request.scope:
        return None
    claims = session_claims(
        request,
        now=services.clock(),
        max_age_s=services.settings.dashboard_session_max_age_s,
    )
    if claims is None:
        return None
    sid = request.session.get("sid")
    if not isinstance(sid, str) or _ended_sessions(request, services).get(ENDED_PREFIX + sid):
        end_session(request)  # logged out (a copied cookie) or from before session ids
        return None

    user = get_user(claims[0], services=services)
    if user is None or user.session_key != claims[1]:
        end_session(request)  # removed account or new password
        return None
    return user


async def require_token_or_session(request: Request) -> None:
    """Dependency: the API token, or a dashboard session allowed to see the ``team`` asked.

    A request carrying an ``Authorization`` header is judged on the token alone. An admin's
    session sees everything; a manager's only with ``team=`` one of their teams.

    Raises:
        ApiError: 401 (no token, no session), 403 (a manager outside their teams).
    """
    if request.headers.get("authorization"):
        require_token(request)
        return
    services = services_of(request)
    try:
        user = await run_in_threadpool(current_user, request, services)
    except SessionExpired:
        user = None
    if user is None:
        require_token(request)  # raises the API's usual 401
        return
    if not user.sees_team(request.query_params.get("team") or None):
        raise ApiError(403, "forbidden", t("dashboard.api.forbidden_team", API_LANGUAGE))
