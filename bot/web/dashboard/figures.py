"""The page model (:class:`Page`: cards, tables, charts) and the Plotly figures drawn by
``static/dashboard.js`` (plain ``{"data", "layout"}`` JSON): bars, mixes and trends, each with
the table that says the same numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.web.dashboard.filters import StatView, Words

Cell = str | StatView
"""A table cell: a word, or a number with its sample and reason."""

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


PLOT_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}


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


def base_layout(words: Words, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": PLOT_FONT,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 56},
        "height": 320,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ", " if words.language == "fr" else ".,",
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def bars(
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
        xs.append(wrap_label(name))
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
    xaxis = {"automargin": True, "tickangle": 0}  # whole labels, on two lines when long
    return {"data": [trace], "layout": base_layout(words, yaxis=yaxis, xaxis=xaxis)}


def wrap_label(name: str, width: int = 14) -> str:
    """``name`` on lines of about ``width`` characters (Plotly's ``<br>``), so a touchpoint
    such as "Service à la clientèle" is shown whole under its bar, never cut."""
    lines: list[str] = []
    for word in name.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines) or name


def mix_chart(words: Words, mix: Any, *, k: int, min_sample: int) -> dict[str, Any] | None:
    status = str(getattr(mix.status, "value", mix.status))
    if status == "suppressed" or not mix.n:
        return None
    labels, values, texts = [], [], []
    for key, share in mix.shares.items():
        if share.value is None:
            continue
        labels.append(words.emotion(key) if mix.kind == "emotion" else words.sentiment(key))
        values.append(round(share.value, 1))
        # the words of the table beside it: one rounding, never "2 %" here and "1 %" there
        texts.append(words.stat(share, k=k, min_sample=min_sample).text)
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
        "text": texts,
        "textposition": "auto",
        "hoverinfo": "y+text",
        "marker": {"color": colors or "#1f5fa8"},
    }
    layout = base_layout(
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


def mix_table(
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


def trend_chart(
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
    layout = base_layout(
        words,
        showlegend=True,
        # the legend above the plot: below, it sat on the week axis' title
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        xaxis={
            # ISO Mondays as categories: language-neutral labels (plotly.js has no French
            # month names without its locale bundle), in date order.
            "type": "category",
            "categoryorder": "category ascending",
            "gridcolor": "#e3e5e8",
            "title": {"text": words("dashboard.axis.week")},
            "tickangle": -45,
            "automargin": True,  # the whole ISO date of the last week, never "2026-12"
        },
        yaxis={"title": {"text": unit_axis}, "gridcolor": "#e3e5e8"},
        margin={"l": 56, "r": 16, "t": 48, "b": 90},
    )
    return {"data": data, "layout": layout}


def trend_table(
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


def add_trend(
    page: Page,
    words: Words,
    series: Mapping[str, Sequence[Any]],
    *,
    title: str,
    description: str,
    unit_axis: str,
    k: int,
    min_sample: int,
) -> None:
    """Put a weekly trend on ``page``: its chart, and the table that says the same numbers
    (the CSV export reads the table)."""
    figure = trend_chart(words, series, unit_axis=unit_axis, k=k, min_sample=min_sample)
    page.charts.append(Chart("trend", title, description, figure))
    page.tables.append(trend_table("trend", title, words, series, k=k, min_sample=min_sample))
