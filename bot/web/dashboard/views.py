"""What each dashboard page shows: filters, formatted numbers, tables and Plotly figures.

This module turns the results of :mod:`bot.analytics` into page models (:class:`Page`): the
same tables feed the HTML and the CSV export, so a CSV holds exactly what the page shows
(k-anonymity included: a suppressed cell carries its reason, never a number). Figures are
plain Plotly JSON (``{"data", "layout"}``) drawn by ``static/dashboard.js``. Every word comes
from the ``dashboard.*`` catalogue (and the analytics reasons from ``analytics.*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot import analytics
from bot.analytics.queries import recent_customer_alerts
from bot.company import Company
from bot.i18n import plural_key
from bot.web.dashboard.figures import (
    COLORS,
    Card,
    Cell,
    Chart,
    Page,
    Table,
    add_trend,
    bars,
    mix_chart,
    mix_table,
)
from bot.web.dashboard.filters import StatView, Words
from bot.web.dashboard.users import User

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
            bars(
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
    add_trend(
        page, w, series, title=w("dashboard.chart.trend"),
        description=w("dashboard.chart.trend_desc"),
        unit_axis=w("dashboard.axis.score"), k=ctx.k, min_sample=ctx.min_sample,
    )  # fmt: skip
    for mix, chart_id in ((cust.sentiment, "sentiment"), (cust.emotions, "emotions")):
        title = w(f"dashboard.chart.customer_{chart_id}")
        figure = mix_chart(w, mix, k=ctx.k, min_sample=ctx.min_sample)
        if figure is not None:
            page.charts.append(Chart(chart_id, title, w("dashboard.chart.mix_desc"), figure))
        page.tables.append(mix_table(chart_id, title, w, mix, k=ctx.k, min_sample=ctx.min_sample))
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
            bars(
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
            bars(
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
    figure = mix_chart(w, four.emotions, k=ctx.k, min_sample=ctx.min_sample)
    if figure is not None:
        page.charts.append(Chart("emotions", emotions_title, w("dashboard.chart.mix_desc"), figure))
    page.tables.append(
        mix_table("emotions", emotions_title, w, four.emotions, k=ctx.k, min_sample=ctx.min_sample)
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
    add_trend(
        page, w, series, title=w("dashboard.chart.trend"),
        description=w("dashboard.chart.trend_tp_desc"),
        unit_axis=w("dashboard.axis.top2"), k=ctx.k, min_sample=ctx.min_sample,
    )  # fmt: skip
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
    add_trend(
        page, w, series, title=w("dashboard.chart.enps_trend"),
        description=w("dashboard.chart.trend_desc"),
        unit_axis=w("dashboard.axis.score"), k=ctx.k, min_sample=ctx.min_sample,
    )  # fmt: skip
    title = w("dashboard.chart.employee_emotions")
    figure = mix_chart(w, emp.emotions, k=ctx.k, min_sample=ctx.min_sample)
    if figure is not None:
        page.charts.append(Chart("emotions", title, w("dashboard.chart.mix_desc"), figure))
    page.tables.append(
        mix_table("emotions", title, w, emp.emotions, k=ctx.k, min_sample=ctx.min_sample)
    )
    excx_rows: list[list[Cell]] = []
    for item in analytics.ex_cx(**kw):
        if not ctx.user.sees_team(item.team):
            continue
        r_text = (
            w.number(item.r, "correlation") if item.r is not None else w("dashboard.stat.no_data")
        )
        ci = (
            w(
                "dashboard.stat.ci",
                low=w.number(item.low, "correlation"),
                high=w.number(item.high, "correlation"),
            )
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
            n_text=w(plural_key("dashboard.excx.weeks", w.language, item.n), n=item.n),
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
    found = recent_customer_alerts(ctx.engine, ctx.filters, limit=limit)

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


PageBuilder = Callable[[Context], Page]
