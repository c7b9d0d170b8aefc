"""The dashboard's filters (period, audience, language, channel, team: read from the query
string, checked against what the account may see) and how its numbers are written
(:class:`StatView`, :class:`Words`: the ``dashboard.*`` catalogue, French or English formats)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bot.analytics import Filters
from bot.company import Company
from bot.i18n import catalogue, t
from bot.web.dashboard.users import User

PERIODS: dict[str, int | None] = {"30d": 30, "90d": 90, "180d": 180, "365d": 365, "all": None}


DEFAULT_PERIOD = "90d"


FILTER_KEYS = ("period", "audience", "language", "channel", "team")


CHANNELS = ("web", "telegram")


class Forbidden(Exception):
    """The user may not see what was asked (a manager outside their teams)."""


@dataclass(frozen=True)
class FilterState:
    """The filters of a page as chosen in its form (query parameters), normalised.

    Attributes:
        period: a key of :data:`PERIODS`.
        audience: ``customer``, ``employee`` or empty (both).
        language: ``fr``, ``en`` or empty.
        channel: a channel or empty.
        team: a team key or empty (all the user may see).
    """

    period: str = DEFAULT_PERIOD
    audience: str = ""
    language: str = ""
    channel: str = ""
    team: str = ""

    def params(self, **override: str) -> dict[str, str]:
        """The non-empty query parameters (``override`` replaces some)."""
        values = {k: getattr(self, k) for k in FILTER_KEYS} | override
        return {k: v for k, v in values.items() if v}

    def query(self, **override: str) -> str:
        """The query string of these filters (with ``override``), starting with ``?``."""
        return "?" + urlencode(self.params(**override))


def read_filters(params: Mapping[str, str], *, company: Company, user: User) -> FilterState:
    """The filters asked in ``params``, cleaned (unknown values are dropped, not errors).

    A manager is held to their teams: no team asked means their first team.

    Raises:
        Forbidden: a manager asked for a team that is not theirs, or has no team.
    """
    period = params.get("period", DEFAULT_PERIOD)
    audience = params.get("audience", "")
    language = params.get("language", "")
    channel = params.get("channel", "")
    team = params.get("team", "")
    state = FilterState(
        period=period if period in PERIODS else DEFAULT_PERIOD,
        audience=audience if audience in ("customer", "employee") else "",
        language=language if language in company.languages else "",
        channel=channel if channel in CHANNELS else "",
        team=team if team in company.teams else "",
    )
    if not user.sees_team(state.team or None):
        if state.team or not user.teams:
            raise Forbidden
        state = FilterState(
            period=state.period,
            audience=state.audience,
            language=state.language,
            channel=state.channel,
            team=user.teams[0],
        )
    return state


def analytics_filters(
    state: FilterState,
    *,
    company: Company,
    now: datetime,
    touchpoint: str | None = None,
    audience: str | None = None,
) -> Any:
    """The :class:`bot.analytics.Filters` of a page."""
    days = PERIODS[state.period]
    start = None
    if days is not None:
        start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    params: dict[str, str | None] = {
        "touchpoint": touchpoint,
        "team": state.team or None,
        "audience": audience or state.audience or None,
        "language": state.language or None,
        "channel": state.channel or None,
        "start": start.isoformat() if start is not None else None,
        "end": None,
    }
    return Filters.parse(params, company=company)


@dataclass(frozen=True)
class StatView:
    """One number as shown: its text, confidence interval, sample size and status.

    A suppressed or missing value has ``value`` ``None`` and a ``note`` saying why.
    """

    value: float | None
    text: str
    low: float | None = None
    high: float | None = None
    ci: str = ""
    n: int | None = None
    n_text: str = ""
    status: str = "ok"
    note: str = ""

    @property
    def shown(self) -> bool:
        """Whether a number is shown (not suppressed, not missing)."""
        return self.value is not None


class Words:
    """Translation and number formatting in one language."""

    def __init__(self, language: str, company: Company) -> None:
        self.language = language
        self.company = company
        self._catalogue = catalogue(language)

    def __call__(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)

    def optional(self, key: str, default: str) -> str:
        """The message ``key`` if a catalogue has it, else ``default``."""
        template = self._catalogue.get(key) or catalogue("en").get(key)
        return template if template is not None else default

    def number(self, value: float, unit: str, *, signed: bool = False) -> str:
        """``value`` formatted for its unit (percent, NPS points, hours, a correlation):
        a decimal comma in French and a real minus sign in both languages."""
        if unit == "hours":
            text = f"{value:.1f}"
        elif unit == "correlation":
            text = f"{value:+.2f}"
        else:
            text = f"{value:+.0f}" if signed or unit in ("nps", "points") else f"{value:.0f}"
        if self.language == "fr":
            text = text.replace(".", ",").replace("-", "−")
        else:
            text = text.replace("-", "−")
        if unit == "percent":
            return text + ("\u202f%" if self.language == "fr" else "%")
        if unit == "hours":
            return text + "\u00a0h"
        return text

    def touchpoint(self, key: str | None) -> str:
        """A touchpoint's label (or the ``none`` word)."""
        tp = self.company.touchpoint(key)
        return tp.label(self.language) if tp else self("dashboard.none")

    def team(self, key: str | None) -> str:
        """A team's label."""
        team = self.company.team(key)
        return team.label(self.language) if team else (key or self("dashboard.none"))

    def emotion(self, key: str) -> str:
        """An emotion group's name."""
        return self.optional(f"alerts.emotion.{key}", key).capitalize()

    def sentiment(self, key: str) -> str:
        """A sentiment's name."""
        return self.optional(f"alerts.sentiment.{key}", key).capitalize()

    def reason(self, key: str | None, **values: object) -> str:
        """The explanation of a non-OK status (analytics catalogue keys)."""
        if not key:
            return ""
        template = self._catalogue.get(key) or catalogue("en").get(key)
        if template is None:
            return key
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return template

    def stat(self, stat: Any, *, k: int, min_sample: int, signed: bool = False) -> StatView:
        """Format an analytics ``Stat`` (value, CI, n; or why there is none)."""
        status = str(getattr(stat.status, "value", stat.status))
        if status == "suppressed":
            note = self("dashboard.stat.suppressed", k=k)
            return StatView(None, self("dashboard.stat.hidden"), status=status, note=note)
        if stat.value is None:
            key = "dashboard.stat.no_data" if status == "no_data" else "dashboard.stat.unavailable"
            note = self.reason(stat.reason, k=k, min_sample=min_sample) if stat.reason else ""
            return StatView(None, self(key), status=status, note=note)
        ci = ""
        if stat.low is not None and stat.high is not None:
            ci = self(
                "dashboard.stat.ci",
                low=self.number(stat.low, stat.unit, signed=signed),
                high=self.number(stat.high, stat.unit, signed=signed),
            )
        n_text = self("dashboard.stat.n", n=stat.n) if stat.n is not None else ""
        note = (
            self("dashboard.stat.small_sample", min=min_sample) if status == "small_sample" else ""
        )
        return StatView(
            value=float(stat.value),
            text=self.number(stat.value, stat.unit, signed=signed),
            low=stat.low,
            high=stat.high,
            ci=ci,
            n=stat.n,
            n_text=n_text,
            status=status,
            note=note,
        )

    def count(self, value: int | None, *, k: int) -> StatView:
        """A plain count (``None``: suppressed by k-anonymity)."""
        if value is None:
            note = self("dashboard.stat.suppressed", k=k)
            return StatView(None, self("dashboard.stat.hidden"), status="suppressed", note=note)
        return StatView(float(value), f"{value:,}".replace(",", "\u202f"), n=value)
