"""The web process: chat page, chat endpoint, JSON API and health check (FastAPI).

Routes:

- ``GET /``: the public chat page (``bot/web/static``); ``GET /i18n.json`` its labels
  (catalogue keys ``web.page.*``); ``GET /static/*`` its script and style.
- ``POST /api/v1/chat``: public (the page uses it); see :mod:`bot.channels.web.chat`. Always answers
  JSON with replies in the user's language: 200, or 400 when the body is unreadable.
- ``GET /api/v1/feedback``: stored feedback, filtered; needs ``Authorization: Bearer
  $VECU_API_TOKEN``. Its ``conversation_id`` filter takes the id the client used in
  ``/api/v1/chat`` (it is pseudonymised with :func:`bot.privacy.pseudonyms.pseudonym` before the
  query)
  or an already pseudonymous id (``p_`` + 32 hex, :func:`bot.privacy.pseudonyms.is_pseudonym`).
- ``POST /telegram/{audience}/webhook``: Telegram's webhook, only for the bots whose token
  is set (``TELEGRAM_CUSTOMER_TOKEN``, ``TELEGRAM_EMPLOYEE_TOKEN``); see
  :mod:`bot.channels.telegram.webhook`.
- ``POST /api/v1/feedback/{id}/acknowledge|resolve|reassign|reopen`` (token) and
  ``GET /api/v1/chat/inbox`` (public): see :mod:`bot.web.workflow_api`.
- ``POST /api/v1/events``, ``GET /api/v1/persons/{id}``, ``GET /api/v1/persons/{id}/decisions``:
  business events (HMAC-signed) and the person view; see :mod:`bot.web.events`.
- ``GET /api/v1/privacy/persons/{id}/export``, ``POST /api/v1/privacy/persons/{id}/erase``:
  a person's rights of access and erasure (token, audited); see :mod:`bot.web.privacy`.
- ``GET /healthz``: Rasa, action server and database; 200 or 503 naming what failed.
- ``GET /livez``: this process answers (a balancer's check: a web replica still answers,
  with its apology and fallback record, when Rasa or the database is down).
- ``GET /api/v1/metrics``: every dashboard number as JSON (k-anonymity applied); see
  :mod:`bot.web.metrics_api`.
- ``/dashboard/*``: the dashboard (login, pages, CSV), see :mod:`bot.web.dashboard.routes`.
- ``POST/GET /api/v1/dev/webhook-sink``: development only (``VECU_ENV=development``), the
  demo alert destination of ``company.yml``: keeps the last alerts received in memory. POST
  is open (the worker posts there like to any webhook); GET needs the token.

Nothing heavy happens at import or in :func:`create_app`: settings, services and the Rasa
client are resolved on first use. ``bot.web.app:app`` (for uvicorn) is built on first access.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import __version__
from bot.channels.installed import CHANNELS
from bot.channels.rasa import RasaClient
from bot.channels.web import links
from bot.channels.web.chat import (
    ChatContext,
    ChatRequest,
    ChatResponse,
    ChatStatus,
    InvalidChatRequest,
    Reply,
    error_response,
    handle_chat,
    parse_audience,
    parse_request,
    web_pseudonym,
    with_request_id,
)
from bot.domain import Audience
from bot.errors import StorageError
from bot.feedback.query import FeedbackView, query
from bot.i18n import (
    API_LANGUAGE,
    LANGUAGES,
    accepted_language,
    catalogue,
    supported_language,
    t,
)
from bot.limits import MAX_JSON_DEPTH, TooDeep, load_json
from bot.privacy.pseudonyms import is_pseudonym
from bot.web.dashboard.routes import mount_dashboard  # issue 5: dashboard
from bot.web.deps import (
    ApiError,
    Runtime,
    app_services,
    documented,
    error_body,
    has_token,
    is_json,
    read_limited,
    require_token,
)
from bot.web.events import mount_events  # issue 6: events and persons API
from bot.web.metrics_api import router as metrics_router  # issue 5: metrics API
from bot.web.privacy import mount_privacy  # issue 6: rights of access and erasure
from bot.web.workflow_api import build_router

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CHAT_PATH = "/api/v1/chat"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CHAT_BODY_BYTES = 1_048_576
"""A chat body above 1 MiB is refused (400): far beyond any message a person types."""
HEALTH_DB_TIMEOUT_S = 3.0

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
}


def _parse_since(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    # A "+02:00" offset arrives as " 02:00" when the client did not URL-encode the "+".
    cleaned = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        since = datetime.fromisoformat(cleaned)
    except ValueError:
        message = t("web.api.bad_since", API_LANGUAGE, value=repr(value[:40]))
        raise ApiError(400, "invalid_request", message) from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def _parse_limit(value: str | None) -> int:
    if value is None or not value.strip():
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        message = t("web.api.bad_limit", API_LANGUAGE, max=MAX_LIMIT, value=repr(value[:40]))
        raise ApiError(400, "invalid_request", message)
    return limit


def _stored_conversation_id(value: str | None, settings: Settings) -> str | None:
    """The client's conversation id → the stored pseudonymous one (kept if already one)."""
    if value is None or not value.strip():
        return None

    value = value.strip()
    return value if is_pseudonym(value) else web_pseudonym(value, settings)


def feedback_item(view: FeedbackView) -> dict[str, Any]:
    """The JSON shape of one stored feedback in ``GET /api/v1/feedback``."""
    return {
        "id": view.id,
        "conversation_id": view.conversation_id,
        "created_at": view.created_at,
        "audience": view.audience,
        "channel": view.channel,
        "language": view.language,
        "kind": view.kind,
        "touchpoint": view.touchpoint,
        "touchpoints": view.touchpoints,
        "team": view.team,
        "severity": view.severity,
        "rating": view.rating,
        "scale": view.scale,
        "text": view.text,
        "truncated": view.truncated,
        "original_length": view.original_length,
        "sentiment": {"label": view.sentiment_label, "scores": view.sentiment_scores},
        "mixed": view.mixed,
        "emotion": {"label": view.emotion_label, "scores": view.emotion_scores},
        "model_version": view.model_version,
        "parent_id": view.parent_id,
    }


def _database_ok(services: Services) -> bool:
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


def _page_labels() -> dict[str, Any]:
    prefix = "web.page."
    return {
        "languages": list(LANGUAGES),
        "messages": {
            lang: {k[len(prefix) :]: v for k, v in catalogue(lang).items() if k.startswith(prefix)}
            for lang in LANGUAGES
        },
    }


def create_app(*, services: Services | None = None, rasa: RasaClient | None = None) -> FastAPI:
    """Build the web application (cheap: nothing is connected or loaded here).

    Args:
        services: the services to use (tests); default the process-wide
            :func:`bot.services.get_services`, resolved on first use.
        rasa: the Rasa client (tests pass :class:`bot.channels.rasa.FakeRasaClient`); default an
            :class:`bot.channels.rasa.HttpRasaClient` on ``RASA_URL``/``ACTIONS_URL``.

    Returns:
        The FastAPI application.
    """
    runtime = Runtime(services, rasa)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        telegram = getattr(app.state, "telegram", None)
        if telegram is not None:
            await telegram.aclose()
        await runtime.aclose()

    app = FastAPI(
        title="Vécu",
        version=__version__,
        docs_url=None,  # Swagger UI loads from a CDN: Vécu works offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        body = error_body(
            "invalid_request", t("web.api.bad_request", API_LANGUAGE), details=details
        )
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        message = (
            t("web.api.not_found", API_LANGUAGE) if exc.status_code == 404 else str(exc.detail)
        )
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        if request.url.path == CHAT_PATH:
            return JSONResponse(error_response(None).model_dump(mode="json"), status_code=200)
        body = error_body("internal_error", t("web.api.internal_error", API_LANGUAGE))
        return JSONResponse(body, status_code=500)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/i18n.json", include_in_schema=False)
    async def labels() -> JSONResponse:
        return JSONResponse(_page_labels(), headers={"Cache-Control": "max-age=300"})

    @app.post(
        CHAT_PATH,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ChatRequest.model_json_schema()}},
            }
        },
        responses={
            200: {"model": ChatResponse},
            400: {"model": ChatResponse, "description": "Unreadable: not JSON, too deep, too big."},
            403: {"model": ChatResponse, "description": "The employee audience without a link."},
            415: documented(415)[415],
        },
    )
    async def chat(request: Request) -> JSONResponse:
        """Send one message to the assistant (public: the chat page uses it)."""
        language: str | None = None
        try:
            if not is_json(request):
                # a form or text/plain post needs no CORS preflight: any web page could post
                # into the chat in a visitor's name; JSON (and the preflight) is required
                return JSONResponse(
                    {
                        "error": {
                            "code": "unsupported_media_type",
                            "message": t("web.api.chat_json_only", API_LANGUAGE),
                        }
                    },
                    status_code=415,
                )
            raw = await read_limited(request, MAX_CHAT_BODY_BYTES)
            if raw is None:
                raise InvalidChatRequest(
                    t("web.api.chat_too_large", API_LANGUAGE, max=MAX_CHAT_BODY_BYTES), "fr"
                )
            try:
                body = load_json(raw)
            except TooDeep:
                raise InvalidChatRequest(
                    t("web.api.too_deep", API_LANGUAGE, max=MAX_JSON_DEPTH), "fr"
                ) from None
            except (ValueError, UnicodeDecodeError):
                raise InvalidChatRequest(t("web.api.chat_not_json", API_LANGUAGE), "fr") from None
            if isinstance(body, dict) and isinstance(body.get("language"), str):
                language = body["language"]
            chat_request = with_request_id(parse_request(body), request.headers.get("x-request-id"))
            if parse_audience(chat_request.audience) is Audience.EMPLOYEE and not (
                has_token(request)
                or links.verify(runtime.settings().secret_key, chat_request.employee_link)
            ):
                # the public chat is the customers' door: an employee comes through a link
                # Vécu issued (vecu employees link) or a trusted integration's API token
                said = supported_language(chat_request.language) or accepted_language(
                    request.headers.get("accept-language")
                )
                refusal = error_response(said, ChatStatus.INVALID)
                refusal.replies = [Reply(text=t("web.chat.employee_link", refusal.language))]
                body = refusal.model_dump(mode="json", exclude_none=True)
                message = t("web.api.employee_link", API_LANGUAGE)
                body["error"] = {"code": "employee_link_required", "message": message}
                return JSONResponse(body, status_code=403)
            ctx = ChatContext(
                rasa=runtime.rasa(), settings=runtime.settings(), services=runtime.services
            )
            browser_language = accepted_language(request.headers.get("accept-language"))
            answer = await handle_chat(chat_request, ctx, fallback_language=browser_language)
        except InvalidChatRequest as exc:
            log.info("unreadable chat request: %s", exc)
            answer = error_response(exc.language, ChatStatus.INVALID)
            body = answer.model_dump(mode="json", exclude_none=True)
            body["error"] = {"code": "invalid_request", "message": str(exc)}
            return JSONResponse(body, status_code=400)
        except Exception:
            log.exception("unexpected error in the chat gateway")
            answer = error_response(language)
        return JSONResponse(answer.model_dump(mode="json", exclude_none=True))

    @app.get(
        "/api/v1/feedback",
        dependencies=[Depends(require_token)],
        responses=documented(400, 401, 503),
    )
    async def feedback(
        conversation_id: str | None = None,
        since: str | None = None,
        touchpoint: str | None = None,
        team: str | None = None,
        limit: str | None = None,
    ) -> JSONResponse:
        """Stored feedback, newest first, filtered (needs the API token)."""
        kwargs: dict[str, Any] = {
            "conversation_id": _stored_conversation_id(conversation_id, runtime.settings()),
            "since": _parse_since(since),
            "touchpoint": touchpoint or None,
            "team": team or None,
            "limit": _parse_limit(limit),
        }
        try:
            views = await run_in_threadpool(query, services=runtime.services, **kwargs)
        except StorageError:
            log.exception("feedback query failed")
            raise ApiError(503, "unavailable", t("web.api.unavailable", API_LANGUAGE)) from None
        return JSONResponse({"items": [feedback_item(v) for v in views]})

    @app.get("/livez")
    async def livez() -> JSONResponse:
        """This process answers (no dependency is checked)."""
        return JSONResponse({"status": "ok"})

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Rasa, the action server and the database answer (short timeouts)."""
        client = runtime.rasa()

        async def database() -> bool:
            try:
                return await asyncio.wait_for(
                    run_in_threadpool(_database_ok, app_services(app)), HEALTH_DB_TIMEOUT_S
                )
            except Exception as exc:
                log.warning("health: database check failed: %s", type(exc).__name__)
                return False

        rasa_ok, actions_ok, database_ok = await asyncio.gather(
            client.rasa_ok(), client.actions_ok(), database()
        )
        checks = {
            "rasa": "ok" if rasa_ok else "down",
            "actions": "ok" if actions_ok else "down",
            "database": "ok" if database_ok else "down",
        }
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status_code=200 if healthy else 503,
        )

    def _development_only() -> None:
        if runtime.settings().environment != "development":
            raise ApiError(404, "not_found", t("web.api.not_found", API_LANGUAGE))

    @app.post("/api/v1/dev/webhook-sink", dependencies=[Depends(_development_only)])
    async def sink_post(request: Request) -> JSONResponse:
        """Development alert destination: keep what the worker posts (last 100)."""
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = raw.decode("utf-8", errors="replace")
        runtime.sink.append({"received_at": datetime.now(UTC).isoformat(), "body": body})
        return JSONResponse({"received": len(runtime.sink)})

    @app.get(
        "/api/v1/dev/webhook-sink",
        dependencies=[Depends(_development_only), Depends(require_token)],
    )
    async def sink_get() -> JSONResponse:
        """What the development alert destination received, oldest first (token needed)."""
        return JSONResponse({"items": list(runtime.sink)})

    app.include_router(build_router())

    mount_events(app)

    mount_privacy(app)

    app.include_router(metrics_router)
    settings = runtime.settings()

    mount_dashboard(
        app,
        secret_key=settings.secret_key,
        max_age_s=settings.dashboard_session_max_age_s,
        secure=settings.environment != "development",
        cache_s=settings.dashboard_cache_s,
    )
    for channel in CHANNELS:
        if channel.enabled(settings):
            channel.mount(app, settings=settings, rasa=runtime.rasa, services=runtime.services)
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    """Build ``app`` (for ``uvicorn bot.web.app:app``) on first access only."""
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
