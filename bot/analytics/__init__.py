"""Analytics: the Total Experience numbers behind the dashboard and ``GET /api/v1/metrics``.

Modules: :mod:`~bot.analytics.model` (filters and result types), :mod:`~bot.analytics.stats`
(intervals and correlations), :mod:`~bot.analytics.queries` (SQL aggregation and employee
k-anonymity), :mod:`~bot.analytics.metrics` (the functions pages call),
:mod:`~bot.analytics.report` (the API's JSON). Importing this package does no work.
"""

from __future__ import annotations

from bot.analytics import metrics
from bot.analytics.metrics import (
    alert_times,
    breakdown,
    comments,
    ex_cx,
    experiences,
    mirror,
    mix,
    summary,
    trend,
)
from bot.analytics.model import (
    AlertTimes,
    Cell,
    Comment,
    ExCx,
    ExCxPoint,
    Filters,
    FourExperiences,
    Gap,
    Mirror,
    Mix,
    Stat,
    Status,
    Summary,
)
from bot.analytics.report import report, to_json

__all__ = [
    "AlertTimes",
    "Cell",
    "Comment",
    "ExCx",
    "ExCxPoint",
    "Filters",
    "FourExperiences",
    "Gap",
    "Mirror",
    "Mix",
    "Stat",
    "Status",
    "Summary",
    "alert_times",
    "breakdown",
    "comments",
    "ex_cx",
    "experiences",
    "metrics",
    "mirror",
    "mix",
    "report",
    "summary",
    "to_json",
    "trend",
]
