"""The events and persons API (issue 6): business events in, one person view out.

Routes (mounted by :func:`mount_events` in :func:`bot.web.app.create_app`):

- ``POST /api/v1/events``: a business event, signed (``X-Vecu-Signature: sha256=<hex>``,
  HMAC-SHA256 of the raw body with ``VECU_EVENTS_SECRET``; no bearer token). 401 and nothing
  stored on a missing or bad signature; 422 with every problem named on a malformed body;
  202 ``accepted`` with the ledger's decision, or 200 ``duplicate`` when ``event_id`` was
  already received (one survey, never two). A solicitation the ledger lets through is sent
  right after the answer (background task), so the survey reaches the person within
  seconds; the worker retries it if Rasa or Telegram is down.
- ``GET /api/v1/persons/{id}``: the person view (identities, consent, a timeline of
  touchpoint events, ledger decisions, feedback and, for customers, alerts). Employees are
  pseudonymous: their identities are shown as pseudonyms, never raw ids, and no alert or
  event attribute is shown.
- ``GET /api/v1/persons/{id}/decisions``: every decision of the contact ledger for that
  person (sent, suppressed, deferred) with its reason.

The two ``GET`` need ``Authorization: Bearer $VECU_API_TOKEN``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.contact.events import (
    SIGNATURE_HEADER,
    InvalidEvent,
    parse_event,
    receive,
    verify_signature,
)
from bot.contact.surveys import default_outbound, send_one
from bot.i18n import API_LANGUAGE, t
from bot.privacy.persons import linked
from bot.privacy.pseudonyms import pseudonym, secret_key
from bot.privacy.redaction import stored_text
from bot.privacy.rights import audit
from bot.settings import PLACEHOLDER
from bot.storage.models import (
    AlertEventRecord,
    AlertOutboxRecord,
    AuditAction,
    ContactDecisionRecord,
    ContactOutcome,
    PersonKind,
    TouchpointEventRecord,
)
from bot.web.deps import ApiError, app_services, documented, read_limited, require_token
from bot.web.privacy import actor_from_request

if TYPE_CHECKING:
    from bot.contact.surveys import Outbound
    from bot.privacy.persons import PersonLinks
    from bot.privacy.rights import Actor
    from bot.services import Services

log = logging.getLogger(__name__)

MAX_EVENT_BODY_BYTES = 262_144
"""An event body above 256 KiB is refused (422)."""


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def decision_item(row: ContactDecisionRecord, event_ids: dict[int, str]) -> dict[str, Any]:
    """The JSON shape of one ledger decision."""
    return {
        "id": row.id,
        "decided_at": _iso(row.decided_at),
        "purpose": row.purpose,
        "touchpoint": row.touchpoint,
        "outcome": row.outcome,
        "reason": row.reason,
        "detail": row.detail,
        "not_before": _iso(row.not_before),
        "event_id": event_ids.get(row.event_id) if row.event_id else None,
    }


def person_view(
    links: PersonLinks, *, secret: str, session: Any, company: Any = None
) -> dict[str, Any]:
    """The person view: identities, consents and one timeline, oldest first.

    Employees (and people who are both) are shown pseudonymously: identities as pseudonyms,
    no event attributes, no alerts. Feedback text is shown redacted
    (:func:`bot.privacy.redaction.stored_text`, with ``company``'s order patterns).
    """
    person = links.person
    customer_only = person.kind == PersonKind.CUSTOMER.value
    identities = []
    for identity in links.identities:
        item: dict[str, Any] = {"kind": identity.kind, "scope": identity.scope}
        if customer_only:
            item["value"] = identity.value
        else:
            item["pseudonym"] = identity.conversation_id or pseudonym(
                identity.value, channel=identity.kind, secret=secret
            )
        identities.append(item)
    event_ids = {event.id: event.event_id for event in links.events}
    timeline: list[dict[str, Any]] = []
    for event in links.events:
        entry: dict[str, Any] = {
            "at": _iso(event.received_at),
            "type": "event",
            "event_id": event.event_id,
            "touchpoint": event.touchpoint,
            "kind": event.kind,
            "occurred_at": _iso(event.occurred_at),
        }
        if customer_only:
            entry["attributes"] = event.attributes
        timeline.append(entry)
    for decision in links.decisions:
        timeline.append(
            {"at": _iso(decision.decided_at), "type": "decision"}
            | decision_item(decision, event_ids)
        )
    feedback_ids = [f.id for f in links.feedback]
    for feedback in links.feedback:
        timeline.append(
            {
                "at": _iso(feedback.created_at),
                "type": "feedback",
                "id": feedback.id,
                "channel": feedback.channel,
                "kind": feedback.kind,
                "touchpoint": feedback.touchpoint,
                "rating": feedback.rating,
                "scale": feedback.scale,
                "text": stored_text(feedback, company=company),
                "sentiment": feedback.sentiment_label,
                "emotion": feedback.emotion_label,
                "team": feedback.team,
                "severity": feedback.severity,
                "status": feedback.status,
            }
        )
    if customer_only and feedback_ids:
        for alert in session.scalars(
            select(AlertOutboxRecord).where(AlertOutboxRecord.feedback_id.in_(feedback_ids))
        ).all():
            timeline.append(
                {
                    "at": _iso(alert.created_at),
                    "type": "alert",
                    "feedback_id": alert.feedback_id,
                    "team": alert.team,
                    "severity": alert.severity,
                    "status": alert.status,
                }
            )
        for action in session.scalars(
            select(AlertEventRecord).where(AlertEventRecord.feedback_id.in_(feedback_ids))
        ).all():
            timeline.append(
                {
                    "at": _iso(action.created_at),
                    "type": "alert_action",
                    "feedback_id": action.feedback_id,
                    "action": action.action,
                    "team": action.team,
                    "to_team": action.to_team,
                }
            )
    order = {"event": 0, "decision": 1, "feedback": 2, "alert": 3, "alert_action": 4}
    timeline.sort(key=lambda item: (item["at"] or "", order.get(item["type"], 9)))
    return {
        "id": person.id,
        "kind": person.kind,
        "language": person.language,
        "time_zone": person.time_zone,
        "created_at": _iso(person.created_at),
        "identities": identities,
        "consent": {
            c.purpose: {"granted": c.granted, "source": c.source, "updated_at": _iso(c.updated_at)}
            for c in links.consents
        },
        "timeline": timeline,
    }


def mount_events(app: FastAPI, *, services: Services | None = None) -> None:
    """Add the events and persons routes to ``app``.

    The outbound used for the immediate send is ``app.state.contact_outbound`` when set
    (tests set a :class:`bot.contact.surveys.FakeOutbound`), else built on first use from the
    settings (:func:`bot.contact.surveys.default_outbound`).
    """
    router = APIRouter()

    def _services() -> Services:
        return services if services is not None else app_services(app)

    def _outbound() -> Outbound:
        outbound = getattr(app.state, "contact_outbound", None)
        if outbound is None:
            current = _services()
            outbound = app.state.contact_outbound = default_outbound(
                current.settings, services=current
            )
        return outbound

    async def _send_now(outbox_id: int) -> None:
        try:
            await send_one(outbox_id, sender=_outbound(), services=_services())
        except Exception:  # the worker retries it: never lose the row, never crash the app
            log.exception("immediate send of contact %s failed; the worker will retry", outbox_id)

    @router.post(
        "/api/v1/events",
        status_code=202,
        responses={200: {"description": "A duplicate: the event was already received."},
                   **documented(400, 401, 413, 422, 503)},
        openapi_extra={"parameters": [{
            "name": SIGNATURE_HEADER, "in": "header", "required": True,
            "description": "HMAC-SHA256 of the raw body with VECU_EVENTS_SECRET, hex.",
            "schema": {"type": "string"},
        }]},
    )  # fmt: skip
    async def post_event(request: Request, background: BackgroundTasks) -> JSONResponse:
        """Receive one signed business event (see the module docstring)."""
        raw = await read_limited(request, MAX_EVENT_BODY_BYTES)
        current = _services()
        secret = current.settings.events_secret
        if not secret or secret == PLACEHOLDER:
            log.warning("VECU_EVENTS_SECRET is not set: POST /api/v1/events refuses every event")
            secret = ""
        if raw is None:
            # Too large to check: refuse without reading further (and without storing).
            message = t("events.api.too_large", API_LANGUAGE, max=MAX_EVENT_BODY_BYTES)
            raise ApiError(422, "invalid_event", message)
        if not verify_signature(raw, request.headers.get(SIGNATURE_HEADER), secret):
            raise ApiError(401, "bad_signature", t("events.api.bad_signature", API_LANGUAGE))
        try:
            event = parse_event(raw, current)
        except InvalidEvent as exc:
            message = t("events.api.invalid", API_LANGUAGE, problems="; ".join(exc.problems))
            body = {"error": {"code": "invalid_event", "message": message,
                              "problems": exc.problems}}  # fmt: skip
            return JSONResponse(body, status_code=422)
        outcome = await run_in_threadpool(receive, event, services=current)
        if (
            not outcome.duplicate
            and outcome.outbox_id is not None
            and outcome.outcome == ContactOutcome.SENT.value
        ):
            background.add_task(_send_now, outcome.outbox_id)
        return JSONResponse(outcome.as_json(), status_code=200 if outcome.duplicate else 202)

    def _links(person_id: str, actor: Actor, route: str) -> tuple[Any, Any]:
        current = _services()
        with current.sessions.begin() as session:
            links = linked(session=session, person_id=person_id)
            if links is None:
                return None, None
            # privacy (issue 6): every read of a person's data is logged, in this transaction
            audit(
                session=session,
                actor=actor,
                action=AuditAction.VIEW,
                person_id=person_id,
                now=current.clock(),
                detail={"route": route},
            )
            view = person_view(
                links, secret=secret_key(current.settings), session=session, company=current.company
            )
            event_ids = {
                e.id: e.event_id
                for e in session.scalars(
                    select(TouchpointEventRecord).where(
                        TouchpointEventRecord.person_id == person_id
                    )
                ).all()
            }
            decisions = [decision_item(d, event_ids) for d in links.decisions]
            return view, decisions

    @router.get("/api/v1/persons/{person_id}", dependencies=[Depends(require_token)])
    async def get_person(person_id: str, request: Request) -> JSONResponse:
        """The person view (identities, consent, timeline); audited."""
        actor = actor_from_request(request)
        view, _ = await run_in_threadpool(_links, person_id, actor, "person")
        if view is None:
            raise ApiError(404, "not_found", t("events.api.person_not_found", API_LANGUAGE))
        return JSONResponse(view)

    @router.get("/api/v1/persons/{person_id}/decisions", dependencies=[Depends(require_token)])
    async def get_decisions(person_id: str, request: Request) -> JSONResponse:
        """Every contact-ledger decision for the person, oldest first; audited."""
        actor = actor_from_request(request)
        view, decisions = await run_in_threadpool(_links, person_id, actor, "decisions")
        if view is None:
            raise ApiError(404, "not_found", t("events.api.person_not_found", API_LANGUAGE))
        return JSONResponse({"person_id": person_id, "items": decisions})

    app.include_router(router)
