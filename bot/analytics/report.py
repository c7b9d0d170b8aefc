"""The JSON of ``GET /api/v1/metrics``: every number the dashboard shows, in one document.

This module owns :func:`report` (what the API returns and the pages may render from) and
:func:`to_json` (dataclasses → JSON-ready values, floats rounded: percentages and hours to one
decimal, correlations to three).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from bot.analytics import metrics as m
from bot.analytics.model import Filters

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.company import Company

TREND_METRICS = ("csat", "nps", "expected", "enps", "proposed", "mirror")
_THREE_DIGITS = {"r", "low", "high"}


def to_json(value: Any, *, _key: str = "") -> Any:
    """A JSON-ready copy of ``value`` (dataclasses, enums, datetimes, floats rounded)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, Filters):
            return value.as_dict()
        return {
            f.name: to_json(getattr(value, f.name), _key=f.name) for f in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v, _key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float):
        return m.rounded(value, 1)
    return value


def _excx_json(item: Any) -> dict[str, Any]:
    data = to_json(item)
    for name in ("r", "low", "high"):
        value = getattr(item, name)
        data[name] = m.rounded(value, 3) if value is not None else None
    return data


def report(*, engine: Engine, company: Company, filters: Filters) -> dict[str, Any]:
    """Every metric for ``filters``, k-anonymity applied (the body of ``GET /api/v1/metrics``).

    Raises:
        StorageError: the database failed.
    """
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": filters}
    overview = m.summary(**args)
    four, mirrors = m.experiences_all(**args)
    touchpoints = []
    for key, experience in four.items():
        tp = company.touchpoints[key]
        if filters.touchpoint is not None and key != filters.touchpoint:
            continue
        if filters.team is not None and tp.team != filters.team:
            continue
        if filters.audience == "employee":
            continue
        touchpoints.append(
            {
                "touchpoint": key,
                "audience": tp.audience,
                "team": tp.team,
                "label": dict(tp.labels),
                "csat": to_json(experience.lived),
                "nps": to_json(experience.lived_nps),
                "emotions": to_json(experience.emotions),
                "experiences": to_json(experience),
                "mirror": to_json(mirrors[key]),
            }
        )
    return {
        "filters": filters.as_dict(),
        "employee_period": {
            "start": overview.employee_start.isoformat() if overview.employee_start else None,
            "end": overview.employee_end.isoformat() if overview.employee_end else None,
        },
        "k_anonymity": overview.k,
        "min_sample": overview.min_sample,
        "confidence": overview.confidence,
        "customer": to_json(overview.customer),
        "employee": to_json(overview.employee),
        "touchpoints": touchpoints,
        "trends": {name: to_json(m.trend(name, **args)) for name in TREND_METRICS},
        "ex_cx": [_excx_json(item) for item in m.ex_cx(filters.team, **args)],
        "alerts": to_json(m.alert_times(**args)),
    }
