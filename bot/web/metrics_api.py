"""``GET /api/v1/metrics``: every dashboard number as JSON, with k-anonymity applied.

This module owns the router: it parses the filters (``touchpoint``, ``team``, ``audience``,
``language``, ``channel``, ``start``, ``end``; see :meth:`bot.analytics.Filters.parse`), runs
:func:`bot.analytics.report` in a worker thread and answers its document (the same numbers
the dashboard pages show). Access: the API token, or a dashboard session (a manager only for
their own teams) through :func:`bot.web.dashboard.access.require_token_or_session`. Errors:
400 ``invalid_request`` for a bad filter (message names the field), 503 when the database fails.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.analytics import Filters, report
from bot.errors import AnalyticsError, StorageError
from bot.i18n import API_LANGUAGE, t
from bot.web.dashboard.access import require_token_or_session
from bot.web.deps import ApiError, services_of

log = logging.getLogger(__name__)

router = APIRouter()
FILTER_NAMES = ("touchpoint", "team", "audience", "language", "channel", "start", "end")


def _metrics(request: Request) -> dict[str, Any]:
    services = services_of(request)
    params = {name: request.query_params.get(name) for name in FILTER_NAMES}
    filters = Filters.parse(params, company=services.company)
    return report(engine=services.engine, company=services.company, filters=filters)


@router.get("/api/v1/metrics", dependencies=[Depends(require_token_or_session)])
async def metrics(request: Request) -> JSONResponse:
    """Every metric for the filters in the query string (see the module docstring)."""
    try:
        body = await run_in_threadpool(_metrics, request)
    except AnalyticsError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    except StorageError:
        log.exception("metrics query failed")
        raise ApiError(503, "unavailable", t("web.api.unavailable", API_LANGUAGE)) from None
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
