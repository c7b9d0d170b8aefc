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
