"""The alert workflow over the JSON API, and the web chat's closed-loop inbox.

Routes (all under the API token, ``Authorization: Bearer $VECU_API_TOKEN``, except the
inbox, which the public chat page polls):

- ``POST /api/v1/feedback/{id}/acknowledge|resolve|reassign|reopen``: body (optional for
  all but reassign) ``{"actor": {"id": "...", "name": "..."}, "to_team": "billing",
  "note": "...", "closing_message": "..."}``; applies :func:`bot.alerts.workflow.apply` with
  actor channel ``api``. ``note`` stays with the team; ``closing_message`` (resolve only, at
  most 500 characters) is said to the person after "it's resolved" when they agreed to hear back.
  Answers 200 ``{"feedback_id", "action", "changed", "status", "team", "acknowledged_at",
  "resolved_at", "contacted", "event", "message"}`` (``changed: false`` when already in
  effect), 404 for an unknown feedback, 409 for a transition that makes no sense now, 400
  for an unknown team or an unreadable body.
- ``GET /api/v1/chat/inbox?conversation_id=…``: the closed loop's messages waiting for a
  web conversation (the id the page uses; pseudonymised like ``/api/v1/chat``), marked read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.alerts.closing import MAX_CLOSING_MESSAGE
from bot.alerts.workflow import Actor, Transition, WorkflowResult, apply
from bot.channels.web.chat import web_pseudonym
from bot.contact.routes import collect_inbox
from bot.errors import StorageError, WorkflowError
from bot.i18n import API_LANGUAGE, t
from bot.limits import MAX_JSON_DEPTH, TooDeep, load_json
from bot.services import get_services
from bot.web.deps import ApiError, app_runtime, documented, known_id, require_token

MAX_BODY_BYTES = 16_384


def _result_body(result: WorkflowResult) -> dict[str, Any]:
    event = result.event
    key = "web.api.workflow.done" if result.changed else "web.api.workflow.already"
    return {
        "feedback_id": result.feedback_id,
        "action": result.transition.value,
        "changed": result.changed,
        "status": result.status.value,
        "team": result.team,
        "previous_team": result.previous_team,
        "acknowledged_at": result.acknowledged_at.isoformat() if result.acknowledged_at else None,
        "resolved_at": result.resolved_at.isoformat() if result.resolved_at else None,
        "contacted": result.contacted,
        "event": None
        if event is None
        else {
            "action": event.action,
            "team": event.team,
            "to_team": event.to_team,
            "actor": {
                "channel": event.actor_channel,
                "id": event.actor_id,
                "name": event.actor_name,
            },
            "note": event.note,
            "created_at": event.created_at.isoformat(),
        },
        "message": t(key, API_LANGUAGE, feedback_id=result.feedback_id, status=result.status.value),
    }


def _text(value: Any, field: str, length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or len(str(value)) > length:
        raise ApiError(400, "invalid_request", t("web.api.bad_request", API_LANGUAGE))
    return str(value)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, "invalid_request", t("web.api.bad_request", API_LANGUAGE))
    try:
        body = load_json(raw)
    except TooDeep:
        message = t("web.api.too_deep", API_LANGUAGE, max=MAX_JSON_DEPTH)
        raise ApiError(400, "invalid_request", message) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_request", t("web.api.chat_not_json", API_LANGUAGE)) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", t("web.api.chat_not_object", API_LANGUAGE))
    return body


def build_router() -> APIRouter:
    """The routes of this module (mounted by :func:`bot.web.app.create_app`)."""
    router = APIRouter()

    @router.post(
        "/api/v1/feedback/{feedback_id}/{action}",
        dependencies=[Depends(require_token)],
        responses=documented(400, 401, 404, 409, 503),
    )
    async def workflow(
        feedback_id: int,
        action: Annotated[str, Path(json_schema_extra={"enum": [t.value for t in Transition]})],
        request: Request,
    ) -> JSONResponse:
        """Acknowledge, resolve, reassign or reopen a feedback's issue (API token)."""
        known_id(feedback_id)
        try:
            transition = Transition(action)
        except ValueError:
            raise ApiError(404, "not_found", t("web.api.not_found", API_LANGUAGE)) from None
        body = await _body(request)
        actor_body = body.get("actor") or {}
        if not isinstance(actor_body, dict):
            raise ApiError(400, "invalid_request", t("web.api.bad_request", API_LANGUAGE))
        actor = Actor(
            channel="api",
            id=_text(actor_body.get("id"), "actor.id", 128),
            name=_text(actor_body.get("name"), "actor.name", 128),
        )
        to_team = _text(body.get("to_team"), "to_team", 64)
        note = _text(body.get("note"), "note", 2000)
        closing = _text(body.get("closing_message"), "closing_message", MAX_CLOSING_MESSAGE)
        services = app_runtime(request).services
        try:
            result = await run_in_threadpool(
                apply,
                feedback_id,
                transition,
                actor,
                to_team=to_team,
                note=note,
                message=closing,
                services=services,
            )
        except WorkflowError as exc:
            if exc.code == "not_found":
                message = t("web.api.workflow.not_found", API_LANGUAGE, feedback_id=feedback_id)
                raise ApiError(404, "not_found", message) from None
            if exc.code == "unknown_team":
                teams = ", ".join((services or get_services()).company.teams)
                message = t(
                    "web.api.workflow.unknown_team", API_LANGUAGE, team=repr(to_team), teams=teams
                )
                raise ApiError(400, "unknown_team", message) from None
            reason = t(f"alerts.workflow.invalid_transition.{transition.value}", API_LANGUAGE)
            message = t(
                "web.api.workflow.invalid",
                API_LANGUAGE,
                action=transition.value,
                feedback_id=feedback_id,
                reason=reason,
            )
            raise ApiError(409, "invalid_transition", message) from None
        except StorageError:
            raise ApiError(503, "unavailable", t("web.api.unavailable", API_LANGUAGE)) from None
        return JSONResponse(_result_body(result))

    @router.get("/api/v1/chat/inbox")
    async def inbox(request: Request, conversation_id: str = "") -> JSONResponse:
        """The closed loop's messages waiting for this web conversation (public)."""
        if not 1 <= len(conversation_id.strip()) <= 200:
            raise ApiError(400, "invalid_request", t("web.api.workflow.inbox_bad_id", API_LANGUAGE))
        runtime = app_runtime(request)
        sender = web_pseudonym(conversation_id.strip(), runtime.settings())
        try:
            messages = await run_in_threadpool(collect_inbox, sender, services=runtime.services)
        except Exception:
            raise ApiError(503, "unavailable", t("web.api.unavailable", API_LANGUAGE)) from None
        return JSONResponse({"replies": messages})

    return router
