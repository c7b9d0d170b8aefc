"""Tests of the dashboard's number formats (bot/web/dashboard/filters.py ``Words``)."""

from __future__ import annotations

from bot.company import load_company
from bot.settings import ROOT
from bot.web.dashboard.filters import Words


def test_correlations_get_a_decimal_comma_and_a_real_minus_in_french() -> None:
    company = load_company(ROOT / "company.yml", env={})
    french, english = Words("fr", company), Words("en", company)
    assert french.number(0.55, "correlation") == "+0,55"
    assert french.number(-0.26, "correlation") == "−0,26"
    assert english.number(-0.26, "correlation") == "−0.26"
    assert english.number(0.5, "correlation") == "+0.50"


def test_long_touchpoint_labels_are_wrapped_whole_under_their_bars() -> None:
    from bot.web.dashboard.figures import wrap_label

    assert wrap_label("Service à la clientèle") == "Service à la<br>clientèle"
    assert wrap_label("Livraison") == "Livraison"
    assert wrap_label("Website and app") == "Website and<br>app"


def test_the_trend_legend_sits_above_the_plot_and_weeks_are_whole() -> None:
    from bot.web.dashboard.figures import trend_chart

    company = load_company(ROOT / "company.yml", env={})
    figure = trend_chart(Words("fr", company), {}, unit_axis="%", k=3, min_sample=3)
    legend, xaxis = figure["layout"]["legend"], figure["layout"]["xaxis"]
    assert legend["y"] >= 1 and legend["yanchor"] == "bottom"
    assert xaxis["automargin"] is True and xaxis["type"] == "category"
