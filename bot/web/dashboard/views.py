"""What each dashboard page shows: filters, formatted numbers, tables and Plotly figures.

This module turns the results of :mod:`bot.analytics` into page models (:class:`Page`): the
same tables feed the HTML and the CSV export, so a CSV holds exactly what the page shows
(k-anonymity included: a suppressed cell carries its reason, never a number). Figures are
plain Plotly JSON (``{"data", "layout"}``) drawn by ``static/dashboard.js``. Every word comes
from the ``dashboard.*`` catalogue (and the analytics reasons from ``analytics.*``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot import analytics
from bot.analytics import Filters
from bot.company import Company
from bot.domain import AlertKind
from bot.i18n import catalogue, t
from bot.storage.models import AlertOutboxRecord, FeedbackRecord
from bot.web.dashboard.users import User

PERIODS: dict[str, int | None] = {"30d": 30, "90d": 90, "180d": 180, "365d": 365, "all": None}
DEFAULT_PERIOD = "90d"
FILTER_KEYS = ("period", "audience", "language", "channel", "team")
CHANNELS = ("web", "telegram")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLORS = {
    "intended": "#6b5ca5",
    "proposed": "#2f7f8f",
    "expected": "#c28a12",
    "lived": "#c0392b",
    "customers": "#1f5fa8",
    "employees": "#2f7f8f",
    "positive": "#2e8540",
    "neutral": "#8a8f98",
    "negative": "#c0392b",
}
_PLOT_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}


class Forbidden(Exception):
    """The user may not see what was asked (a manager outside their teams)."""


# ---- filters ------------------------------------------------------------------------------------


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


# ---- numbers ------------------------------------------------------------------------------------


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
        """``value`` formatted for its unit (percent, NPS points, hours)."""
        if unit == "hours":
            text = f"{value:.1f}"
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


# ---- page model ---------------------------------------------------------------------------------

Cell = str | StatView


@dataclass
class Table:
    """A table of a page (also its CSV section)."""

    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Chart:
    """A Plotly figure with its accessible title and description."""

    id: str
    title: str
    description: str
    figure: dict[str, Any]


@dataclass
class Card:
    """A headline number."""

    label: str
    stat: StatView
    hint: str = ""


@dataclass
class Page:
    """Everything a dashboard page shows."""

    name: str
    title: str
    cards: list[Card] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    comments: list[dict[str, str]] = field(default_factory=list)


def _layout(words: Words, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": _PLOT_FONT,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 56},
        "height": 320,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ", " if words.language == "fr" else ".,",
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def _bars(
    words: Words,
    names: Sequence[str],
    stats: Sequence[StatView],
    colors: Sequence[str],
    *,
    axis: str,
    value_range: Sequence[float] | None = None,
) -> dict[str, Any]:
    """A bar chart of shown values with their CI as error bars (hidden ones are left out)."""
    xs, ys, plus, minus, texts, cols = [], [], [], [], [], []
    for name, stat, color in zip(names, stats, colors, strict=True):
        if stat.value is None:
            continue
        xs.append(name)
        ys.append(round(stat.value, 1))
        plus.append(round(stat.high - stat.value, 1) if stat.high is not None else 0)
        minus.append(round(stat.value - stat.low, 1) if stat.low is not None else 0)
        texts.append(stat.text)
        cols.append(color)
    trace = {
        "type": "bar",
        "x": xs,
        "y": ys,
        "text": texts,
        "textposition": "inside",
        "insidetextanchor": "start",
        "textfont": {"color": "#ffffff"},
        "marker": {"color": cols},
        "error_y": {
            "type": "data",
            "array": plus,
            "arrayminus": minus,
            "visible": True,
            "color": "#333",
            "thickness": 1.2,
        },
        "hoverinfo": "x+text",
    }
    yaxis: dict[str, Any] = {"title": {"text": axis}, "zeroline": True, "gridcolor": "#e3e5e8"}
    if value_range is not None:
        yaxis["range"] = list(value_range)
    return {"data": [trace], "layout": _layout(words, yaxis=yaxis)}


def _mix_chart(words: Words, mix: Any, *, k: int, min_sample: int) -> dict[str, Any] | None:
    status = str(getattr(mix.status, "value", mix.status))
    if status == "suppressed" or not mix.n:
        return None
    labels, values = [], []
    for key, share in mix.shares.items():
        if share.value is None:
            continue
        labels.append(words.emotion(key) if mix.kind == "emotion" else words.sentiment(key))
        values.append(round(share.value, 1))
    colors = None
    if mix.kind == "sentiment":
        colors = [
            COLORS.get(key, "#888") for key in mix.shares if mix.shares[key].value is not None
        ]
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": labels,
        "text": [words.number(v, "percent") for v in values],
        "textposition": "auto",
        "hoverinfo": "y+text",
        "marker": {"color": colors or "#1f5fa8"},
    }
    layout = _layout(
        words,
        height=max(200, 34 * len(labels) + 70),
        margin={"l": 110, "r": 16, "t": 8, "b": 40},
        xaxis={
            "title": {"text": words("dashboard.axis.share")},
            "gridcolor": "#e3e5e8",
            "rangemode": "tozero",
        },
        yaxis={"autorange": "reversed"},
    )
    return {"data": [trace], "layout": layout}


def _mix_table(
    table_id: str, title: str, words: Words, mix: Any, *, k: int, min_sample: int
) -> Table:
    status = str(getattr(mix.status, "value", mix.status))
    rows: list[list[Cell]] = []
    if status == "suppressed":
        rows.append([words("dashboard.all"), words.count(None, k=k)])
    else:
        for key, share in mix.shares.items():
            name = words.emotion(key) if mix.kind == "emotion" else words.sentiment(key)
            rows.append([name, words.stat(share, k=k, min_sample=min_sample)])
    columns = [words("dashboard.col.label"), words("dashboard.col.share")]
    caption = words("dashboard.stat.n", n=mix.n) if mix.n is not None else ""
    return Table(table_id, title, columns, rows, caption=caption)


def _trend_chart(
    words: Words, series: Mapping[str, Sequence[Any]], *, unit_axis: str, k: int, min_sample: int
) -> dict[str, Any]:
    palette = ["#1f5fa8", "#c28a12", "#2f7f8f", "#6b5ca5", "#c0392b"]
    data = []
    for index, (name, cells) in enumerate(series.items()):
        xs, ys, texts = [], [], []
        for cell in cells:
            view = words.stat(cell.stat, k=k, min_sample=min_sample)
            xs.append(cell.key)
            ys.append(round(view.value, 1) if view.value is not None else None)
            texts.append(f"{view.text} ({view.n_text})" if view.n_text else view.text)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": xs,
                "y": ys,
                "text": texts,
                "hoverinfo": "x+name+text",
                "connectgaps": False,
                "line": {"color": palette[index % len(palette)], "width": 2},
            }
        )
    layout = _layout(
        words,
        showlegend=True,
        legend={"orientation": "h", "y": -0.25},
        xaxis={
            # ISO Mondays as categories: language-neutral labels (plotly.js has no French
            # month names without its locale bundle), in date order.
            "type": "category",
            "categoryorder": "category ascending",
            "gridcolor": "#e3e5e8",
            "title": {"text": words("dashboard.axis.week")},
        },
        yaxis={"title": {"text": unit_axis}, "gridcolor": "#e3e5e8"},
        margin={"l": 56, "r": 16, "t": 8, "b": 90},
    )
    return {"data": data, "layout": layout}


def _trend_table(
    table_id: str,
    title: str,
    words: Words,
    series: Mapping[str, Sequence[Any]],
    *,
    k: int,
    min_sample: int,
) -> Table:
    weeks = sorted({cell.key for cells in series.values() for cell in cells})
    by_name = {name: {cell.key: cell for cell in cells} for name, cells in series.items()}
    rows: list[list[Cell]] = []
    for week in weeks:
        row: list[Cell] = [week]
        for name in series:
            cell = by_name[name].get(week)
            row.append(
                words.stat(
                    cell.stat, k=k, min_sample=min_sample, signed="nps" in str(cell.stat.unit)
                )
                if cell is not None
                else StatView(None, words("dashboard.stat.no_data"), status="no_data")
            )
        rows.append(row)
    return Table(table_id, title, [words("dashboard.col.week"), *series], rows)


# ---- pages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every page builder needs."""

    engine: Engine
    company: Company
    words: Words
    filters: Any
    user: User

    @property
    def k(self) -> int:
        return int(self.company.analytics.k_anonymity)

    @property
    def min_sample(self) -> int:
        return int(self.company.analytics.min_sample)

    def stat(self, stat: Any, *, signed: bool = False) -> StatView:
        return self.words.stat(stat, k=self.k, min_sample=self.min_sample, signed=signed)


def visible_touchpoints(company: Company, user: User, audience: str = "customer") -> list[str]:
    """The touchpoints of ``audience`` the user may see, in configuration order."""
    return [
        key
        for key, tp in company.touchpoints.items()
        if tp.audience == audience and user.sees_team(tp.team)
    ]


def overview_page(ctx: Context) -> Page:
    """Customers and employees at a glance, then each customer touchpoint."""

    w = ctx.words
    kw = {"engine": ctx.engine, "company": ctx.company, "filters": ctx.filters}
    summary = analytics.summary(**kw)
    page = Page("overview", w("dashboard.overview.title"))
    cust, emp = summary.customer, summary.employee
    page.cards = [
        Card(w("dashboard.metric.volume_customers"), w.count(cust.volume, k=ctx.k)),
        Card(w("dashboard.metric.csat"), ctx.stat(cust.csat), w("dashboard.def.csat")),
        Card(w("dashboard.metric.nps"), ctx.stat(cust.nps, signed=True), w("dashboard.def.nps")),
        Card(w("dashboard.metric.volume_employees"), w.count(emp.volume, k=ctx.k)),
        Card(w("dashboard.metric.enps"), ctx.stat(emp.enps, signed=True), w("dashboard.def.enps")),
    ]
    csat = {c.key: c for c in analytics.breakdown("csat", "touchpoint", **kw)}
    nps = {c.key: c for c in analytics.breakdown("nps", "touchpoint", **kw)}
    keys = visible_touchpoints(ctx.company, ctx.user)
    rows: list[list[Cell]] = []
    names, views = [], []
    for key in keys:
        volume = csat[key].volume if key in csat else 0
        none = StatView(None, w("dashboard.stat.no_data"), status="no_data")
        c_view = ctx.stat(csat[key].stat) if key in csat else none
        n_view = ctx.stat(nps[key].stat, signed=True) if key in nps else none
        rows.append([w.touchpoint(key), w.count(volume, k=ctx.k), c_view, n_view])
        names.append(w.touchpoint(key))
        views.append(c_view)
    page.tables.append(
        Table(
            "touchpoints",
            w("dashboard.overview.touchpoints"),
            [
                w("dashboard.col.touchpoint"),
                w("dashboard.col.volume"),
                w("dashboard.metric.csat"),
                w("dashboard.metric.nps"),
            ],
            rows,
        )
    )
    page.charts.append(
        Chart(
            "csat-by-touchpoint",
            w("dashboard.chart.csat_by_touchpoint"),
            w("dashboard.chart.csat_by_touchpoint_desc"),
            _bars(
                w,
                names,
                views,
                [COLORS["customers"]] * len(views),
                axis=w("dashboard.axis.csat"),
                value_range=[0, 105],
            ),
        )
    )
    series = {
        w("dashboard.metric.csat"): analytics.trend("csat", **kw),
        w("dashboard.metric.nps"): analytics.trend("nps", **kw),
    }
    page.charts.append(
        Chart(
            "trend",
            w("dashboard.chart.trend"),
            w("dashboard.chart.trend_desc"),
            _trend_chart(
                w, series, unit_axis=w("dashboard.axis.score"), k=ctx.k, min_sample=ctx.min_sample
            ),
        )
    )
    page.tables.append(
        _trend_table(
            "trend", w("dashboard.chart.trend"), w, series, k=ctx.k, min_sample=ctx.min_sample
        )
    )
    for mix, chart_id in ((cust.sentiment, "sentiment"), (cust.emotions, "emotions")):
        title = w(f"dashboard.chart.customer_{chart_id}")
        figure = _mix_chart(w, mix, k=ctx.k, min_sample=ctx.min_sample)
        if figure is not None:
            page.charts.append(Chart(chart_id, title, w("dashboard.chart.mix_desc"), figure))
        page.tables.append(_mix_table(chart_id, title, w, mix, k=ctx.k, min_sample=ctx.min_sample))
    page.notes = [w("dashboard.def.csat"), w("dashboard.def.nps"), w("dashboard.def.ci")]
    return page


def touchpoint_page(ctx: Context, touchpoint: str) -> Page:
    """One touchpoint: the four experiences and their gaps, the mirror, emotions, trend."""

    w = ctx.words
    kw = {"engine": ctx.engine, "company": ctx.company, "filters": ctx.filters}
    four = analytics.experiences(touchpoint, **kw)
    mirror = analytics.mirror(touchpoint, **kw)
    page = Page("touchpoint", w("dashboard.touchpoint.title", touchpoint=w.touchpoint(touchpoint)))

    intended = (
        StatView(
            float(four.intended),
            w.number(four.intended, "percent"),
            status="target",
            note=w("dashboard.exp.target_note"),
        )
        if four.intended is not None
        else StatView(
            None,
            w("dashboard.exp.no_target"),
            status="no_data",
            note=w("dashboard.exp.no_target_note"),
        )
    )
    kinds = ("intended", "proposed", "expected", "lived")
    views = [intended, ctx.stat(four.proposed), ctx.stat(four.expected), ctx.stat(four.lived)]
    names = [w(f"dashboard.exp.{kind}") for kind in kinds]
    page.cards = [
        Card(name, view, w(f"dashboard.exp.{kind}_def"))
        for name, kind, view in zip(names, kinds, views, strict=True)
    ]
    page.charts.append(
        Chart(
            "experiences",
            w("dashboard.chart.experiences"),
            w("dashboard.chart.experiences_desc"),
            _bars(
                w,
                names,
                views,
                [COLORS[k] for k in kinds],
                axis=w("dashboard.axis.top2"),
                value_range=[0, 105],
            ),
        )
    )
    page.tables.append(
        Table(
            "experiences",
            w("dashboard.chart.experiences"),
            [
                w("dashboard.col.experience"),
                w("dashboard.col.score"),
                w("dashboard.col.definition"),
            ],
            [
                [name, view, w(f"dashboard.exp.{kind}_def")]
                for name, kind, view in zip(names, kinds, views, strict=True)
            ],
        )
    )
    gap_rows: list[list[Cell]] = []
    for gap in four.gaps:
        gap_rows.append(
            [
                w(f"dashboard.gap.{gap.name}"),
                _gap_view(ctx, gap),
                w(f"dashboard.gap.{gap.name}_means"),
            ]
        )
    page.tables.append(
        Table(
            "gaps",
            w("dashboard.touchpoint.gaps"),
            [w("dashboard.col.gap"), w("dashboard.col.points"), w("dashboard.col.meaning")],
            gap_rows,
            caption=w("dashboard.touchpoint.gaps_caption"),
        )
    )

    mirror_views = [ctx.stat(mirror.employees), ctx.stat(mirror.customers)]
    mirror_names = [w("dashboard.mirror.employees"), w("dashboard.mirror.customers")]
    page.charts.append(
        Chart(
            "mirror",
            w("dashboard.mirror.title"),
            w("dashboard.mirror.desc"),
            _bars(
                w,
                mirror_names,
                mirror_views,
                [COLORS["employees"], COLORS["customers"]],
                axis=w("dashboard.axis.top2"),
                value_range=[0, 105],
            ),
        )
    )
    page.tables.append(
        Table(
            "mirror",
            w("dashboard.mirror.title"),
            [w("dashboard.col.who"), w("dashboard.col.score")],
            [
                [mirror_names[0], mirror_views[0]],
                [mirror_names[1], mirror_views[1]],
                [w("dashboard.gap.mirror"), _gap_view(ctx, mirror.gap)],
            ],
            caption=w("dashboard.mirror.desc"),
        )
    )

    emotions_title = w("dashboard.chart.lived_emotions")
    figure = _mix_chart(w, four.emotions, k=ctx.k, min_sample=ctx.min_sample)
    if figure is not None:
        page.charts.append(Chart("emotions", emotions_title, w("dashboard.chart.mix_desc"), figure))
    page.tables.append(
        _mix_table("emotions", emotions_title, w, four.emotions, k=ctx.k, min_sample=ctx.min_sample)
    )
    wanted = ", ".join(w.emotion(e) for e in four.emotions_wanted) or w("dashboard.none")
    unwanted = ", ".join(w.emotion(e) for e in four.emotions_unwanted) or w("dashboard.none")
    page.tables.append(
        Table(
            "intended-emotions",
            w("dashboard.touchpoint.intended_emotions"),
            [w("dashboard.col.emotions"), w("dashboard.col.which"), w("dashboard.col.share")],
            [
                [w("dashboard.touchpoint.wanted"), wanted, ctx.stat(four.wanted_share)],
                [w("dashboard.touchpoint.unwanted"), unwanted, ctx.stat(four.unwanted_share)],
            ],
        )
    )

    series = {
        w("dashboard.exp.lived"): analytics.trend("csat", **kw),
        w("dashboard.exp.expected"): analytics.trend("expected", **kw),
        w("dashboard.exp.proposed"): analytics.trend("proposed", **kw),
    }
    page.charts.append(
        Chart(
            "trend",
            w("dashboard.chart.trend"),
            w("dashboard.chart.trend_tp_desc"),
            _trend_chart(
                w, series, unit_axis=w("dashboard.axis.top2"), k=ctx.k, min_sample=ctx.min_sample
            ),
        )
    )
    page.tables.append(
        _trend_table(
            "trend", w("dashboard.chart.trend"), w, series, k=ctx.k, min_sample=ctx.min_sample
        )
    )
    page.notes = [
        w("dashboard.def.top2"),
        w("dashboard.def.gap"),
        w("dashboard.def.ci"),
        w("dashboard.def.k", k=ctx.k),
    ]
    return page


def _gap_view(ctx: Context, gap: Any) -> StatView:
    w = ctx.words
    status = str(getattr(gap.status, "value", gap.status))
    if status == "suppressed":
        return StatView(
            None,
            w("dashboard.stat.hidden"),
            status=status,
            note=w("dashboard.stat.suppressed", k=ctx.k),
        )
    if gap.value is None:
        note = w.reason(gap.reason, k=ctx.k, min_sample=ctx.min_sample)
        return StatView(None, w("dashboard.stat.no_data"), status=status, note=note)
    ci = ""
    if gap.low is not None and gap.high is not None:
        ci = w(
            "dashboard.stat.ci", low=w.number(gap.low, "points"), high=w.number(gap.high, "points")
        )
    return StatView(
        float(gap.value),
        w("dashboard.gap.points", value=w.number(gap.value, "nps")),
        low=gap.low,
        high=gap.high,
        ci=ci,
        status=status,
    )


def employees_page(ctx: Context) -> Page:
    """Employees: eNPS, engagement, per team (k-anonymity), emotions, EX ↔ CX, comments."""

    w = ctx.words
    kw = {"engine": ctx.engine, "company": ctx.company, "filters": ctx.filters}
    summary = analytics.summary(**kw)
    emp = summary.employee
    page = Page("employees", w("dashboard.employees.title"))
    page.cards = [
        Card(w("dashboard.metric.volume_employees"), w.count(emp.volume, k=ctx.k)),
        Card(w("dashboard.metric.enps"), ctx.stat(emp.enps, signed=True), w("dashboard.def.enps")),
        Card(
            w("dashboard.metric.engagement"),
            ctx.stat(emp.engagement),
            w("dashboard.def.engagement"),
        ),
    ]
    enps = {c.key: c for c in analytics.breakdown("enps", "team", **kw)}
    engagement = {c.key: c for c in analytics.breakdown("engagement", "team", **kw)}
    hidden = StatView(
        None,
        w("dashboard.stat.hidden"),
        status="suppressed",
        note=w("dashboard.stat.too_few", k=ctx.k),
    )
    rows: list[list[Cell]] = []
    for team in ctx.company.teams:
        # A team absent from the results had fewer than k respondents, or none: the page
        # cannot tell which without revealing it, so both read the same.
        if not ctx.user.sees_team(team) or (ctx.filters.team and team != ctx.filters.team):
            continue
        scores = [
            ctx.stat(found.stat, signed=signed) if (found := cells.get(team)) else hidden
            for cells, signed in ((enps, True), (engagement, False))
        ]
        rows.append([w.team(team), *scores])
    page.tables.append(
        Table(
            "teams",
            w("dashboard.employees.by_team"),
            [w("dashboard.col.team"), w("dashboard.metric.enps"), w("dashboard.metric.engagement")],
            rows,
            caption=w("dashboard.def.k", k=ctx.k),
        )
    )
    series = {w("dashboard.metric.enps"): analytics.trend("enps", **kw)}
    page.charts.append(
        Chart(
            "trend",
            w("dashboard.chart.enps_trend"),
            w("dashboard.chart.trend_desc"),
            _trend_chart(
                w, series, unit_axis=w("dashboard.axis.score"), k=ctx.k, min_sample=ctx.min_sample
            ),
        )
    )
    page.tables.append(
        _trend_table(
            "trend", w("dashboard.chart.enps_trend"), w, series, k=ctx.k, min_sample=ctx.min_sample
        )
    )
    title = w("dashboard.chart.employee_emotions")
    figure = _mix_chart(w, emp.emotions, k=ctx.k, min_sample=ctx.min_sample)
    if figure is not None:
        page.charts.append(Chart("emotions", title, w("dashboard.chart.mix_desc"), figure))
    page.tables.append(
        _mix_table("emotions", title, w, emp.emotions, k=ctx.k, min_sample=ctx.min_sample)
    )
    excx_rows: list[list[Cell]] = []
    for item in analytics.ex_cx(**kw):
        if not ctx.user.sees_team(item.team):
            continue
        r_text = f"{item.r:+.2f}" if item.r is not None else w("dashboard.stat.no_data")
        ci = (
            w("dashboard.stat.ci", low=f"{item.low:+.2f}", high=f"{item.high:+.2f}")
            if item.low is not None and item.high is not None
            else ""
        )
        r_view = StatView(
            item.r,
            r_text,
            low=item.low,
            high=item.high,
            ci=ci,
            n=item.n,
            n_text=w("dashboard.excx.weeks", n=item.n),
            status="ok" if item.r is not None else "no_data",
        )
        excx_rows.append([w.team(item.team), r_view, w.reason(item.words)])
    page.tables.append(
        Table(
            "ex-cx",
            w("dashboard.excx.title"),
            [w("dashboard.col.team"), w("dashboard.excx.r"), w("dashboard.col.meaning")],
            excx_rows,
            caption=w("dashboard.excx.caption"),
        )
    )
    for comment in analytics.comments(**kw, limit=20):
        if comment.audience != "employee":
            continue
        page.comments.append(
            {
                "text": comment.text,
                "week": comment.week,
                "touchpoint": w.touchpoint(comment.touchpoint),
                "emotion": w.emotion(comment.emotion),
            }
        )
    page.notes = [
        w("dashboard.def.enps"),
        w("dashboard.def.engagement"),
        w("dashboard.def.ci"),
        w("dashboard.def.k", k=ctx.k),
    ]
    return page


def alerts_page(ctx: Context) -> Page:
    """Alerts: open, acknowledged, resolved; acknowledge and resolve times; recent ones."""

    w = ctx.words
    kw = {"engine": ctx.engine, "company": ctx.company, "filters": ctx.filters}
    times = analytics.alert_times(**kw)
    page = Page("alerts", w("dashboard.alerts.title"))
    page.cards = [
        Card(w("dashboard.alerts.total"), w.count(times.alerts, k=ctx.k)),
        Card(w("dashboard.alerts.open"), w.count(times.open, k=ctx.k)),
        Card(w("dashboard.alerts.acknowledged"), w.count(times.acknowledged, k=ctx.k)),
        Card(w("dashboard.alerts.resolved"), w.count(times.resolved, k=ctx.k)),
        Card(
            w("dashboard.alerts.ack_time"), ctx.stat(times.ack_hours), w("dashboard.alerts.median")
        ),
        Card(
            w("dashboard.alerts.resolve_time"),
            ctx.stat(times.resolve_hours),
            w("dashboard.alerts.median"),
        ),
    ]
    team_rows: list[list[Cell]] = [
        [w.team(cell.key), ctx.stat(cell.stat)]
        for cell in times.by_team
        if ctx.user.sees_team(cell.key)
    ]
    page.tables.append(
        Table(
            "ack-by-team",
            w("dashboard.alerts.by_team"),
            [w("dashboard.col.team"), w("dashboard.alerts.ack_time")],
            team_rows,
        )
    )
    page.tables.append(recent_alerts(ctx))
    page.notes = [w("dashboard.alerts.note")]
    return page


def recent_alerts(ctx: Context, limit: int = 50) -> Table:
    """The latest customer alerts (employee alerts are counted, never listed)."""

    w = ctx.words
    f = FeedbackRecord
    query = (
        select(
            f.id,
            f.created_at,
            f.touchpoint,
            f.team,
            f.severity,
            f.status,
            f.acknowledged_at,
            f.resolved_at,
        )
        .where(f.audience == "customer")
        .where(
            f.id.in_(
                select(AlertOutboxRecord.feedback_id).where(
                    AlertOutboxRecord.kind == AlertKind.ISSUE
                )
            )
        )
        .order_by(f.created_at.desc())
        .limit(limit)
    )
    filters = ctx.filters
    if getattr(filters, "start", None) is not None:
        query = query.where(f.created_at >= filters.start)
    if getattr(filters, "end", None) is not None:
        query = query.where(f.created_at < filters.end)
    if getattr(filters, "team", None):
        query = query.where(f.team == filters.team)
    if getattr(filters, "language", None):
        query = query.where(f.language == filters.language)
    if getattr(filters, "channel", None):
        query = query.where(f.channel == filters.channel)
    with ctx.engine.connect() as connection:
        found = connection.execute(query).all()

    def when(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value is not None else "—"

    rows: list[list[Cell]] = [
        [
            f"#{row.id}",
            when(row.created_at),
            w.touchpoint(row.touchpoint),
            w.team(row.team),
            w.optional(f"alerts.severity.{row.severity}", row.severity),
            w(f"dashboard.alerts.status.{row.status}"),
            when(row.acknowledged_at),
            when(row.resolved_at),
        ]
        for row in found
        if ctx.user.sees_team(row.team)
    ]
    columns = [
        w("dashboard.col.reference"),
        w("dashboard.col.created"),
        w("dashboard.col.touchpoint"),
        w("dashboard.col.team"),
        w("dashboard.col.severity"),
        w("dashboard.col.status"),
        w("dashboard.col.acknowledged"),
        w("dashboard.col.resolved"),
    ]
    return Table(
        "recent",
        w("dashboard.alerts.recent"),
        columns,
        rows,
        caption=w("dashboard.alerts.recent_caption", limit=limit),
    )


# ---- CSV ----------------------------------------------------------------------------------------


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_CSV_FORMULA_START) else value


def page_csv(page: Page, words: Words, filters: FilterState) -> str:
    """The page's key figures and tables as one tidy CSV: one line per number, unformatted.

    Columns: section, row, measure, value, ci_low, ci_high, n, status, note. A suppressed
    cell has an empty value, n and CI, status ``suppressed`` and the reason in ``note``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["section", "row", "measure", "value", "ci_low", "ci_high", "n", "status", "note"]
    )
    for key, value in filters.params().items():
        writer.writerow(["filter", key, "", _csv_text(value), "", "", "", "", ""])

    def num(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    headline = words("dashboard.headline")
    for card in page.cards:
        stat = card.stat
        writer.writerow(
            [
                headline,
                _csv_text(card.label),
                words("dashboard.col.score"),
                num(stat.value),
                num(stat.low),
                num(stat.high),
                "" if stat.n is None else stat.n,
                stat.status,
                _csv_text(stat.note),
            ]
        )
    for table in page.tables:
        for row in table.rows:
            label = row[0] if isinstance(row[0], str) else row[0].text
            for column, cell in zip(table.columns[1:], row[1:], strict=False):
                if isinstance(cell, StatView):
                    writer.writerow(
                        [
                            table.title,
                            _csv_text(label),
                            column,
                            num(cell.value),
                            num(cell.low),
                            num(cell.high),
                            "" if cell.n is None else cell.n,
                            cell.status,
                            _csv_text(cell.note),
                        ]
                    )
                else:
                    writer.writerow(
                        [table.title, _csv_text(label), column, _csv_text(cell), "", "", "", "", ""]
                    )
    return out.getvalue()


PageBuilder = Callable[[Context], Page]
