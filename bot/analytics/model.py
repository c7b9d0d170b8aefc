"""The analytics vocabulary: filters in, typed results out (no database, no math here).

This module owns :class:`Filters` (what a dashboard page or ``GET /api/v1/metrics`` asks for,
parsed from query strings with clear errors) and the result dataclasses every page, the API
and the CSV export share: :class:`Stat` (a score with its n and confidence interval, or the
reason there is none), :class:`Mix`, :class:`Cell`, :class:`Gap`, :class:`FourExperiences`,
:class:`Mirror`, :class:`ExCx`, :class:`AlertTimes`, :class:`Comment`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from bot.errors import AnalyticsError

if TYPE_CHECKING:
    from bot.company import Company


class Status(StrEnum):
    """Whether a number can be shown, and how."""

    OK = "ok"  # shown; n >= min_sample
    SMALL_SAMPLE = "small_sample"  # shown as indicative; 0 < n < min_sample
    NO_DATA = "no_data"  # nothing to show (customers: n == 0)
    SUPPRESSED = "suppressed"  # k-anonymity: no value, no n, no interval
    NOT_APPLICABLE = "not_applicable"  # the filter cannot apply (e.g. language on employees)


SHOWN = (Status.OK, Status.SMALL_SAMPLE)

REASON_K = "analytics.reason.k_anonymity"
REASON_EMPLOYEE_FILTER = "analytics.reason.employee_filter"
REASON_NO_DATA = "analytics.reason.no_data"
REASON_SMALL = "analytics.reason.small_sample"
REASON_NO_TARGET = "analytics.reason.no_target"
REASON_NOT_PULSE = "analytics.reason.touchpoint_filter"

AudienceName = Literal["customer", "employee"]
_FILTER_NAMES = ("touchpoint", "team", "audience", "language", "channel", "start", "end")
_CHANNEL = re.compile(r"^[a-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class Filters:
    """What to aggregate (all given filters combine with AND).

    Attributes:
        touchpoint: one touchpoint key.
        team: a team key: for customers, the touchpoints it owns; for employees, the team
            they work in (``feedback.member_team``, else the owner of the touchpoint asked about).
        audience: customer or employee.
        language: ``fr`` or ``en`` (customers only: refused on employee data).
        channel: ``web``, ``telegram``… (customers only).
        start: inclusive start (UTC-aware). Employee data is widened to whole ISO weeks.
        end: exclusive end (UTC-aware).
    """

    touchpoint: str | None = None
    team: str | None = None
    audience: AudienceName | None = None
    language: str | None = None
    channel: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=UTC))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise AnalyticsError("end must be after start")

    @property
    def employee_refused(self) -> bool:
        """Whether a filter is set that employee data never takes (language, channel)."""
        return self.language is not None or self.channel is not None

    def validate(self, company: Company) -> Filters:
        """Check the values against the company configuration.

        Raises:
            AnalyticsError: an unknown touchpoint, team, audience, language or channel.
        """
        if self.touchpoint is not None and company.touchpoint(self.touchpoint) is None:
            raise AnalyticsError(f"touchpoint: unknown touchpoint {self.touchpoint!r}")
        if self.team is not None and company.team(self.team) is None:
            raise AnalyticsError(f"team: unknown team {self.team!r}")
        if self.audience is not None and self.audience not in ("customer", "employee"):
            raise AnalyticsError(f"audience: expected customer or employee, got {self.audience!r}")
        if self.language is not None and self.language not in company.languages:
            raise AnalyticsError(f"language: expected one of {company.languages}")
        if self.channel is not None and not _CHANNEL.match(self.channel):
            raise AnalyticsError("channel: expected a channel name such as web or telegram")
        return self

    @classmethod
    def parse(cls, params: Mapping[str, str | None], *, company: Company) -> Filters:
        """Filters from query-string values (empty values mean "no filter").

        Dates are ISO 8601 dates (``2026-11-02``, midnight UTC) or date-times.

        Raises:
            AnalyticsError: a value is unknown or unreadable (the message names the field).
        """
        values: dict[str, str] = {}
        for name in _FILTER_NAMES:
            raw = params.get(name)
            if raw is not None and raw.strip():
                values[name] = raw.strip()
        dates = {
            name: _parse_time(name, values.pop(name)) for name in ("start", "end") if name in values
        }
        audience = values.pop("audience", None)
        if audience is not None and audience not in ("customer", "employee"):
            raise AnalyticsError(f"audience: expected customer or employee, got {audience[:40]!r}")
        return cls(
            touchpoint=values.get("touchpoint"),
            team=values.get("team"),
            audience=audience,  # type: ignore[arg-type]
            language=values.get("language", "").lower() or None,
            channel=values.get("channel", "").lower() or None,
            start=dates.get("start"),
            end=dates.get("end"),
        ).validate(company)

    def as_dict(self) -> dict[str, str | None]:
        """The filters as JSON-ready strings."""
        return {
            "touchpoint": self.touchpoint,
            "team": self.team,
            "audience": self.audience,
            "language": self.language,
            "channel": self.channel,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def _parse_time(name: str, value: str) -> datetime:
    cleaned = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise AnalyticsError(
            f"{name}: expected an ISO 8601 date or date-time, got {value[:40]!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week containing ``moment``."""
    moment = moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def widen_to_weeks(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The smallest whole-ISO-week period containing ``[start, end)`` (employee periods)."""
    wide_start = week_start(start) if start is not None else None
    wide_end = None
    if end is not None:
        wide_end = week_start(end)
        if wide_end < end:
            wide_end += timedelta(days=7)
    return wide_start, wide_end


@dataclass(frozen=True)
class Stat:
    """One score with its sample size and confidence interval, or why it is not shown.

    ``value``, ``low``, ``high``, ``n`` and ``respondents`` are ``None`` when ``status`` is
    suppressed or not applicable; ``value``/``low``/``high`` are ``None`` for no data.
    """

    metric: str
    unit: str
    value: float | None
    low: float | None
    high: float | None
    n: int | None
    respondents: int | None
    status: Status
    reason: str | None = None
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        """Whether a value may be displayed."""
        return self.status in SHOWN


@dataclass(frozen=True)
class Mix:
    """The mix of sentiment or emotion-group labels of messages with text."""

    kind: str
    n: int | None
    shares: dict[str, Stat]
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class Cell:
    """One row of a breakdown or trend: a key (touchpoint, team, week…) and its score."""

    key: str
    label: dict[str, str] | None
    stat: Stat
    volume: int | None = None


@dataclass(frozen=True)
class Gap:
    """The difference ``first - second`` between two experiences, in points of the common scale."""

    name: str
    value: float | None
    low: float | None
    high: float | None
    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class FourExperiences:
    """Lefranc's four experiences of one touchpoint, on a common 0-100 scale, and their gaps.

    The common scale is the share of answers 4-5 on a 1-5 scale (``top2_percent``): the
    target CSAT for *intended*, employees' "I have what I need" for *proposed*, customers'
    expected level for *expected*, customers' CSAT for *lived*.
    """

    touchpoint: str
    label: dict[str, str]
    team: str
    intended: float | None
    intended_nps: float | None
    proposed: Stat
    expected: Stat
    lived: Stat
    lived_nps: Stat
    emotions: Mix
    emotions_wanted: list[str]
    emotions_unwanted: list[str]
    wanted_share: Stat
    unwanted_share: Stat
    gaps: list[Gap]
    scale: str = "top2_percent"


@dataclass(frozen=True)
class Mirror:
    """Employees' estimate of customers' CSAT beside customers' actual CSAT."""

    touchpoint: str
    employees: Stat
    customers: Stat
    gap: Gap


@dataclass(frozen=True)
class ExCxPoint:
    """One week of a team: employees' favourable share and its customers' CSAT."""

    week: str
    ex: float | None
    cx: float | None
    ex_n: int | None
    cx_n: int


@dataclass(frozen=True)
class ExCx:
    """How a team's employee experience moves with its customers' experience, week by week."""

    team: str
    label: dict[str, str]
    touchpoints: list[str]
    points: list[ExCxPoint]
    r: float | None
    low: float | None
    high: float | None
    n: int
    verdict: str
    words: str


@dataclass(frozen=True)
class AlertTimes:
    """How fast teams acknowledge and resolve alerts (median hours)."""

    alerts: int
    acknowledged: int
    resolved: int
    open: int
    ack_hours: Stat
    resolve_hours: Stat
    by_team: list[Cell]


@dataclass(frozen=True)
class Comment:
    """A comment as a manager may see it: de-identified, no id, week only."""

    text: str
    audience: str
    touchpoint: str | None
    language: str
    sentiment: str
    emotion: str
    rating: int | None
    scale: str | None
    week: str


@dataclass(frozen=True)
class CustomerSummary:
    """Customers' headline numbers."""

    volume: int | None
    csat: Stat
    nps: Stat
    expected: Stat
    sentiment: Mix
    emotions: Mix


@dataclass(frozen=True)
class EmployeeSummary:
    """Employees' headline numbers (k-anonymous: ``volume`` is ``None`` when suppressed)."""

    volume: int | None
    enps: Stat
    engagement: Stat
    proposed: Stat
    mirror: Stat
    sentiment: Mix
    emotions: Mix


@dataclass(frozen=True)
class Summary:
    """The overview: customers' and employees' headline numbers for the filters."""

    filters: Filters
    employee_start: datetime | None
    employee_end: datetime | None
    k: int
    min_sample: int
    confidence: float
    customer: CustomerSummary
    employee: EmployeeSummary
