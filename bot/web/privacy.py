"""The privacy API (issue 6): a person's rights of access and erasure, token-protected.

Routes (mounted by :func:`mount_privacy` in :func:`bot.web.app.create_app`), both needing
``Authorization: Bearer $VECU_API_TOKEN``:

- ``GET /api/v1/privacy/persons/{person}/export``: everything about the person
  (:func:`bot.privacy.rights.export_person`), 200, or 404 when no such person exists.
- ``POST /api/v1/privacy/persons/{person}/erase``: erase the person
  (:func:`bot.privacy.rights.erase_person`), 200 with the counts of what was removed, or 404.

``{person}`` is a person id, a pseudonym (``p_…``), or ``external:<id>``,
``telegram:<chat id>``, ``web:<session id>`` (:func:`bot.privacy.persons.resolve_person_ref`).
Every call that finds the person writes a ``privacy_audit`` row naming the caller by a
fingerprint of its token (:meth:`bot.privacy.rights.Actor.token`), in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.i18n import API_LANGUAGE, t
from bot.privacy.persons import resolve_person_ref
from bot.privacy.pseudonyms import secret_key
from bot.privacy.rights import Actor, ErasureReport, erase_person, export_person
from bot.web.deps import ApiError, app_services, require_token

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

Work = Callable[[Session, str, "Services"], Any]
"""Work done on a resolved person in one transaction (``None``: nothing found)."""


def actor_from_request(request: Request) -> Actor:
    """The audit actor of an API call: a fingerprint of its bearer token."""
    _, _, given = request.headers.get("authorization", "").partition(" ")
    return Actor.token(given.strip())


def mount_privacy(app: FastAPI, *, services: Services | None = None) -> None:
    """Add the privacy routes to ``app``."""
    router = APIRouter(prefix="/api/v1/privacy", dependencies=[Depends(require_token)])

    def _services() -> Services:
        return services if services is not None else app_services(app)

    def _in_transaction(ref: str, work: Work) -> Any:
        """Resolve ``ref`` and run ``work`` in one transaction (``None``: no such person)."""
        current = _services()
        with current.sessions.begin() as session:
            person = resolve_person_ref(
                session=session, ref=ref, secret=secret_key(current.settings)
            )
            if person is None:
                return None
            return work(session, person.id, current)

    async def _run(ref: str, work: Work) -> Any:
        try:
            result = await run_in_threadpool(_in_transaction, ref, work)
        except SQLAlchemyError:
            log.exception("privacy request failed")
            raise ApiError(503, "unavailable", t("web.api.unavailable", API_LANGUAGE)) from None
        if result is None:
            raise ApiError(404, "not_found", t("privacy.api.unknown_person", API_LANGUAGE))
        return result

    @router.get("/persons/{ref}/export")
    async def export(ref: str, request: Request) -> JSONResponse:
        """Everything Vécu holds about one person (right of access)."""
        actor = actor_from_request(request)

        def work(session: Session, person_id: str, current: Services) -> dict[str, Any] | None:
            return export_person(
                session=session, person_id=person_id, actor=actor, now=current.clock()
            )

        document = await _run(ref, work)
        return JSONResponse(document, headers={"Cache-Control": "no-store"})

    @router.post("/persons/{ref}/erase")
    async def erase(ref: str, request: Request) -> JSONResponse:
        """Erase one person: identities, contact data, ledger and events deleted, feedback
        anonymised (right to erasure)."""
        actor = actor_from_request(request)

        def work(session: Session, person_id: str, current: Services) -> ErasureReport | None:
            return erase_person(
                session=session, person_id=person_id, actor=actor, now=current.clock()
            )

        report = await _run(ref, work)
        return JSONResponse({"erased": True, **asdict(report)})

    app.include_router(router)
