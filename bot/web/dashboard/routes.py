"""The dashboard's routes: login, logout, the four pages, their CSV export, the team inbox, assets.

The inbox (``/dashboard/inbox``) lists the open alerts of the teams the account sees
(:func:`bot.alerts.inbox.open_alerts`); its forms acknowledge, resolve (with closing words to
the person) and reassign through :func:`bot.alerts.workflow.apply`, the account as the actor
(audited in ``alert_event``), then redirect back with the outcome (post/redirect/get).

Pages are server-rendered (Jinja2, ``templates/``), French or English, behind a login.
Every page takes the filters as query parameters (``period``, ``audience``, ``language``,
``channel``, ``team``) and has a CSV twin (``…/export.csv`` with the same parameters).
No page answers a 500: a database failure gives a 503 page in the user's language.
plotly.js is served from the installed ``plotly`` package (no CDN).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from bot.alerts.inbox import open_alerts
from bot.alerts.workflow import Actor, Transition, apply, current
from bot.domain import Severity
from bot.errors import StorageError, VecuError, WorkflowError
from bot.i18n import LANGUAGES, plural_key
from bot.storage.shared import shared_state
from bot.web.dashboard.access import current_user, log_out
from bot.web.dashboard.export import page_csv
from bot.web.dashboard.figures import Page
from bot.web.dashboard.filters import FilterState, Forbidden, Words, analytics_filters, read_filters
from bot.web.dashboard.passwords import DEFAULT_COST, Cost
from bot.web.dashboard.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    LoginThrottle,
    SessionExpired,
    client_key,
    csrf_ok,
    csrf_token,
    page_language,
    safe_next,
    session_key,
    start_session,
)
from bot.web.dashboard.users import authenticate
from bot.web.dashboard.views import (
    Context,
    alerts_page,
    employees_page,
    overview_page,
    touchpoint_page,
    visible_touchpoints,
)
from bot.web.deps import known_id, services_of

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
MAX_FORM_BYTES = 16_384
PAGE_HEADERS = {
    # Plotly sets inline styles on the SVG it draws: styles may be inline, scripts may not.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled with the installed ``plotly`` Python package."""
    import plotly  # noqa: PLC0415 (plotly (1 s to import) only to find its file)

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@dataclass
class DashboardConfig:
    """What the routes share: templates, login throttle, password cost, failure pause, pages."""

    templates: jinja2.Environment
    throttle: LoginThrottle | None
    cost: Cost
    failure_delay_s: float | None
    pages: PageCache = field(default_factory=lambda: PageCache(0))


class PageCache:
    """Recently built pages, reused for ``ttl_s`` seconds (0: never).

    A page is the same for everyone with the same filters, language and scope (role and
    teams), so the key holds all of them. Bounded: the oldest entries go first.
    """

    def __init__(self, ttl_s: float, max_entries: int = 256) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._pages: OrderedDict[Hashable, tuple[float, Page]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float) -> Page | None:
        """The page kept under ``key`` if it is fresh enough."""
        if self.ttl_s <= 0:
            return None
        with self._lock:
            found = self._pages.get(key)
            if found is None or now - found[0] > self.ttl_s or now < found[0]:
                return None
            return found[1]

    def put(self, key: Hashable, page: Page, now: float) -> None:
        """Keep ``page`` under ``key``."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._pages[key] = (now, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _config(request: Request) -> DashboardConfig:
    config: DashboardConfig = request.app.state.dashboard
    return config


def render(
    request: Request,
    template: str,
    *,
    language: str,
    status_code: int = 200,
    user: Any = None,
    **values: Any,
) -> HTMLResponse:
    """Render a page in ``language`` with the common context."""
    services = services_of(request)
    words = Words(language, services.company)
    path = request.url.path
    values.setdefault("current", "")
    values.setdefault("touchpoint", None)
    others = {k: v for k, v in request.query_params.items() if k != "lang"}
    switch = {lang: path + "?" + urlencode({**others, "lang": lang}) for lang in LANGUAGES}
    html = (
        _config(request)
        .templates.get_template(template)
        .render(
            t=words,
            lang=language,
            languages=LANGUAGES,
            switch=switch,
            user=user,
            csrf=csrf_token(request),
            csrf_field=CSRF_FIELD,
            prefix=PREFIX,
            path=path,
            company=services.company,
            touchpoints=visible_touchpoints(services.company, user) if user is not None else [],
            **values,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def error_page(
    request: Request,
    language: str,
    user: Any,
    status: int,
    message: str,
    *,
    filters: FilterState | None = None,
) -> HTMLResponse:
    """The error page (``message``: a catalogue key) with ``status``, in ``language``."""
    return render(
        request,
        "error.html",
        language=language,
        user=user,
        status_code=status,
        message=message,
        filters=filters or FilterState(),
    )


def _login_redirect(request: Request, *, expired: bool = False) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target} | ({"expired": "1"} if expired else {})
    return RedirectResponse(f"{PREFIX}/login?{urlencode(query)}", status_code=303)


async def _read_form(request: Request) -> dict[str, str] | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


def build_router() -> APIRouter:
    """The dashboard router (pages under ``/dashboard``)."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    async def user_or_redirect(request: Request) -> Any:
        services = services_of(request)
        try:
            return await run_in_threadpool(current_user, request, services)
        except SessionExpired:
            return _login_redirect(request, expired=True)

    async def signed_in(request: Request) -> Any:
        """The logged-in user, or the response that sends the browser to log in."""
        user = await user_or_redirect(request)
        return _login_redirect(request) if user is None else user

    # ---- assets ---------------------------------------------------------------------------
    assets: dict[str, tuple[Callable[[], Path], str]] = {
        "plotly.min.js": (plotly_js_path, "text/javascript"),
        "dashboard.js": (lambda: HERE / "static" / "dashboard.js", "text/javascript"),
        "dashboard.css": (lambda: HERE / "static" / "dashboard.css", "text/css"),
    }

    @router.get("/assets/{name}")
    async def asset(name: str) -> Response:
        if name not in assets:
            return Response(status_code=404)
        locate, media_type = assets[name]
        cache = "public, max-age=86400" if name == "plotly.min.js" else "no-cache"
        return FileResponse(locate(), media_type=media_type, headers={"Cache-Control": cache})

    # ---- login / logout -------------------------------------------------------------------
    @router.get("/login")
    async def login_page(request: Request) -> Response:
        language = page_language(request)
        user = await user_or_redirect(request)
        if user is not None and not isinstance(user, Response):
            return RedirectResponse(safe_next(request.query_params.get("next"), PREFIX + "/"), 303)
        message = "dashboard.login.expired" if request.query_params.get("expired") else None
        return render(
            request,
            "login.html",
            language=language,
            message=message,
            message_values={},
            next=safe_next(request.query_params.get("next"), PREFIX + "/"),
            email="",
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        language = page_language(request)
        services = services_of(request)
        config = _config(request)
        form = await _read_form(request)
        target = safe_next((form or {}).get("next"), PREFIX + "/")
        email = (form or {}).get("email", "")[:254]

        def again(message: str, status: int, **values: Any) -> HTMLResponse:
            return render(
                request,
                "login.html",
                language=language,
                status_code=status,
                message=message,
                message_values=values,
                next=target,
                email=email,
            )

        if form is None:
            return again("dashboard.login.bad_form", 400)
        if not csrf_ok(request, form):
            return again("dashboard.login.csrf", 400)
        throttle = config.throttle or LoginThrottle(
            services.settings.dashboard_login_max_failures,
            services.settings.dashboard_login_window_s,
            services.clock,
            shared_state(services.settings),
        )
        config.throttle = throttle
        keys = (client_key(request), "email:" + email.strip().lower())
        wait, attempt = throttle.attempt(*keys)  # counted before the password is checked
        if wait > 0:
            minutes = max(1, round(wait / 60))
            key = plural_key("dashboard.login.throttled", language, minutes)
            return again(key, 429, minutes=minutes)

        try:
            user = await run_in_threadpool(
                authenticate, email, form.get("password", ""), services=services, cost=config.cost
            )
        except Exception as exc:  # never a 500 on the login page
            log.error("login failed on the database: %s", type(exc).__name__)
            return again("dashboard.error.unavailable", 503)
        if user is None:  # the attempt already counts as a failure
            delay = config.failure_delay_s
            if delay is None:
                delay = services.settings.dashboard_login_failure_delay_s
            if delay:
                await asyncio.sleep(delay)
            return again("dashboard.login.wrong", 401)
        throttle.succeeded(keys[1], at=attempt, shared=keys[:1])
        start_session(request, user_id=user.id, key=user.session_key, now=services.clock())
        return RedirectResponse(target, status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await _read_form(request) or {}
        if csrf_ok(request, form):
            log_out(request, services_of(request))
        return RedirectResponse(PREFIX + "/login", status_code=303)

    # ---- pages ----------------------------------------------------------------------------
    async def show(
        request: Request,
        name: str,
        build: Callable[[Context], Page],
        *,
        touchpoint: str | None = None,
        audience: str | None = None,
        csv: bool = False,
    ) -> Response:
        language = page_language(request)
        user = await signed_in(request)
        if isinstance(user, Response):
            return user
        services = services_of(request)
        company = services.company
        words = Words(language, company)
        try:
            state = read_filters(dict(request.query_params), company=company, user=user)
            if touchpoint is not None:
                tp = company.touchpoint(touchpoint)
                if tp is None:
                    return error_page(request, language, user, 404, "dashboard.error.not_found")
                if not user.sees_team(tp.team):
                    raise Forbidden
        except Forbidden:
            return error_page(request, language, user, 403, "dashboard.error.forbidden")

        key = (
            name,
            touchpoint,
            audience,
            tuple(sorted(state.params().items())),
            user.role,
            user.teams,
            language,
        )
        cache = _config(request).pages

        def work() -> Page:
            now = services.clock().timestamp()
            if (kept := cache.get(key, now)) is not None:
                return kept
            filters = analytics_filters(
                state,
                company=company,
                now=services.clock(),
                touchpoint=touchpoint,
                audience=audience,
            )
            ctx = Context(services.engine, company, words, filters, user)
            page = build(ctx)
            cache.put(key, page, now)
            return page

        try:
            page = await run_in_threadpool(work)
        except StorageError:
            log.exception("dashboard page %s: database failure", name)
            return error_page(
                request, language, user, 503, "dashboard.error.unavailable", filters=state
            )
        except VecuError as exc:  # invalid filters (AnalyticsError) and the like
            log.info("dashboard page %s: %s", name, exc)
            return error_page(
                request, language, user, 400, "dashboard.error.bad_filters", filters=state
            )
        except Exception:
            log.exception("dashboard page %s failed", name)
            return error_page(
                request, language, user, 503, "dashboard.error.unexpected", filters=state
            )
        if csv:
            filename = f"vecu-{name}{'-' + touchpoint if touchpoint else ''}.csv"
            return Response(
                page_csv(page, words, state),
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{quote(filename)}"',
                    "Cache-Control": "no-store",
                },
            )
        base = request.url.path.rstrip("/") or PREFIX
        export = (base if base != PREFIX else PREFIX + "/overview") + "/export.csv"
        return render(
            request,
            "page.html",
            language=language,
            user=user,
            page=page,
            filters=state,
            export=export + state.query(),
            current=name,
            touchpoint=touchpoint,
            show_audience=name == "overview",
            # employees' pages do not split by language or channel (k-anonymity groups)
            show_language_channel=name != "employees",
        )

    @router.get("")
    @router.get("/")
    async def overview(request: Request) -> Response:
        return await show(request, "overview", overview_page)

    @router.get("/overview/export.csv")
    async def overview_csv(request: Request) -> Response:
        return await show(request, "overview", overview_page, csv=True)

    @router.get("/touchpoints/{key}")
    async def touchpoint(request: Request, key: str) -> Response:
        return await show(
            request, "touchpoint", lambda ctx: touchpoint_page(ctx, key), touchpoint=key
        )

    @router.get("/touchpoints/{key}/export.csv")
    async def touchpoint_csv(request: Request, key: str) -> Response:
        return await show(
            request, "touchpoint", lambda ctx: touchpoint_page(ctx, key), touchpoint=key, csv=True
        )

    @router.get("/employees")
    async def employees(request: Request) -> Response:
        return await show(request, "employees", employees_page, audience="employee")

    @router.get("/employees/export.csv")
    async def employees_csv(request: Request) -> Response:
        return await show(request, "employees", employees_page, audience="employee", csv=True)

    @router.get("/alerts")
    async def alerts(request: Request) -> Response:
        return await show(request, "alerts", alerts_page)

    @router.get("/alerts/export.csv")
    async def alerts_csv(request: Request) -> Response:
        return await show(request, "alerts", alerts_page, csv=True)

    # ---- team inbox -----------------------------------------------------------------------
    @router.get("/inbox")
    async def inbox(request: Request) -> Response:
        language = page_language(request)
        user = await signed_in(request)
        if isinstance(user, Response):
            return user
        services = services_of(request)
        params = request.query_params
        view = InboxFilters.read(params, services.company, user)
        if view is None:
            return error_page(request, language, user, 403, "dashboard.error.forbidden")

        try:
            found = await run_in_threadpool(
                open_alerts,
                teams=view.teams,
                status=view.status or None,
                severity=view.severity or None,
                overdue=view.overdue,
                limit=INBOX_PAGE,
                offset=(view.page - 1) * INBOX_PAGE,
                services=services,
            )
        except StorageError:
            log.exception("dashboard inbox: database failure")
            return error_page(request, language, user, 503, "dashboard.error.unavailable")
        return render(
            request,
            "inbox.html",
            language=language,
            user=user,
            current="inbox",
            inbox=found,
            view=view,
            done=_inbox_notice(params),
            reassign_teams=list(services.company.teams),
            pages=max(1, -(-found.total // INBOX_PAGE)),
            page_size=INBOX_PAGE,
        )

    @router.post("/inbox/{feedback_id}/{action}")
    async def inbox_action(request: Request, feedback_id: int, action: str) -> Response:
        known_id(feedback_id)
        language = page_language(request)
        user = await signed_in(request)
        if isinstance(user, Response):
            return user
        services = services_of(request)
        form = await _read_form(request)
        back = {k: v for k, v in (form or {}).items() if k in ("team", "status") and v}
        back["lang"] = language

        def again(**outcome: str) -> RedirectResponse:
            query = urlencode({**back, **outcome})
            return RedirectResponse(f"{PREFIX}/inbox?{query}#inbox-notice", status_code=303)

        if form is None or not csrf_ok(request, form):
            return again(error="csrf")
        if action not in INBOX_ACTIONS:
            return again(error="invalid_transition", ref=str(feedback_id))
        transition = Transition(action)
        try:
            state = await run_in_threadpool(current, feedback_id, services=services)
            if not user.sees_team(state.team):
                return again(error="forbidden", ref=str(feedback_id))
            result = await run_in_threadpool(
                apply,
                feedback_id,
                transition,
                Actor("dashboard", f"user:{user.id}", user.email),
                to_team=(form.get("to_team") or None)
                if transition is Transition.REASSIGN
                else None,
                message=form.get("message") if transition is Transition.RESOLVE else None,
                services=services,
            )
        except WorkflowError as exc:
            return again(error=exc.code, ref=str(feedback_id))
        except StorageError:
            log.exception("dashboard inbox: database failure on %s", transition.value)
            return again(error="unavailable", ref=str(feedback_id))
        outcome = {"done": transition.value, "ref": str(feedback_id)}
        if not result.changed:
            outcome["done"] = "already_" + transition.value
        if transition is Transition.RESOLVE and result.changed:
            outcome["told"] = "1" if result.contacted else "0"
        if transition is Transition.REASSIGN and result.team:
            outcome["to"] = result.team
        return again(**outcome)

    return router


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters: one team (or all the account sees), one status (or both), one
    severity (or all), only the overdue ones, and the page."""

    team: str
    status: str
    teams: tuple[str, ...] | None
    severity: str = ""
    overdue: bool = False
    page: int = 1

    def query(self, **changes: Any) -> str:
        """The query string of these filters (with ``changes``), for links between pages."""
        values = {"team": self.team, "status": self.status, "severity": self.severity,
                  "overdue": "1" if self.overdue else "", "page": str(self.page)}  # fmt: skip
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v and (k != "page" or v != "1")})

    @classmethod
    def read(cls, params: Any, company: Any, user: Any) -> InboxFilters | None:
        """The filters asked for (``None``: a team the account may not see)."""
        team = params.get("team", "")
        if team not in company.teams:
            team = ""
        status = params.get("status", "")
        if status not in ("open", "acknowledged"):
            status = ""
        severity = params.get("severity", "")
        if severity not in {level.value for level in Severity}:
            severity = ""
        overdue = params.get("overdue", "") == "1"
        raw_page = params.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) <= 6 else 1
        extra = {"severity": severity, "overdue": overdue, "page": max(1, page)}
        if team:
            if not user.sees_team(team):
                return None
            return cls(team, status, (team,), **extra)
        if user.role.value == "admin":
            return cls("", status, None, **extra)
        return cls("", status, tuple(user.teams), **extra)


INBOX_PAGE = 50
"""Alerts per inbox page."""
INBOX_ACTIONS = ("acknowledge", "resolve", "reassign")
"""The workflow transitions the inbox offers (reopening a resolved alert is not in the inbox)."""
_NOTICES = frozenset({*INBOX_ACTIONS, *(f"already_{action}" for action in INBOX_ACTIONS)})
_ERRORS = frozenset(
    {"csrf", "forbidden", "invalid_transition", "unknown_team", "not_found", "unavailable"}
)


def _inbox_notice(params: Any) -> dict[str, str] | None:
    """The outcome of the last action (from the redirect's query), checked against known keys."""
    ref = params.get("ref", "")
    ref = ref if ref.isdigit() else ""
    done, error = params.get("done", ""), params.get("error", "")
    if done in _NOTICES:
        key = "dashboard.inbox.done." + done
        if done == "resolve" and params.get("told") in ("0", "1"):
            key += ".told" if params.get("told") == "1" else ".not_told"
        return {"key": key, "ref": ref, "to": params.get("to", "")[:64], "kind": "ok"}
    if error in _ERRORS:
        return {"key": "dashboard.inbox.error." + error, "ref": ref, "to": "", "kind": "error"}
    return None


def mount_dashboard(
    app: Any,
    *,
    secret_key: str,
    max_age_s: int,
    secure: bool,
    cost: Cost = DEFAULT_COST,
    failure_delay_s: float | None = None,
    cache_s: float = 0,
) -> None:
    """Add the dashboard to ``app``: session cookies, routes, shared state.

    Args:
        app: the FastAPI application.
        secret_key: ``VECU_SECRET_KEY`` (the cookie key is derived from it).
        max_age_s: session lifetime (cookie and server-side check).
        secure: send the cookie over HTTPS only (outside development).
        cost: scrypt cost of new hashes (tests pass a cheap one).
        failure_delay_s: pause after a failed login (``None``: from the settings).
        cache_s: how long a built page is reused for the same filters (0: never).
    """
    app.state.dashboard = DashboardConfig(
        _templates(), None, cost, failure_delay_s, PageCache(cache_s)
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(secret_key),
        session_cookie=SESSION_COOKIE,
        max_age=max_age_s,
        same_site="lax",
        https_only=secure,
    )
    app.include_router(build_router())
