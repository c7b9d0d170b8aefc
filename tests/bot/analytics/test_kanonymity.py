"""k-anonymity of employee data: small groups show nothing, and differencing attacks learn nothing.

The attacks: subtract a filtered query from a wider one (team minus one language, period vs
period + 1 day, several weeks vs one more, all teams vs one team) and read a small group's
answers off the difference. Each test checks the defence gives the attacker nothing new.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from analytics_rows import MONDAY, Rows
from sqlalchemy.engine import Engine

from bot import analytics as a
from bot.analytics.model import Status
from bot.company import Company, parse_company
from bot.errors import ConfigurationError


def _people(
    rows: Rows,
    team: str | None,
    n: int,
    *,
    rating: int,
    week: int = 0,
    scale: str = "enps",
    tag: str = "",
    **kw: Any,
) -> None:
    for i in range(n):
        rows.add(
            who=f"{tag}{team}-{week}-{i}",
            audience="employee",
            scale=scale,
            rating=rating,
            member_team=team,
            week=week,
            touchpoint=kw.get("touchpoint"),
            **{k: v for k, v in kw.items() if k != "touchpoint"},
        )


def _numbers(value: Any) -> list[float]:
    """Every number in a JSON document (to check that nothing leaks anywhere)."""
    if isinstance(value, dict):
        return [
            x
            for k, v in value.items()
            if k not in ("k_anonymity", "min_sample", "confidence")
            for x in _numbers(v)
        ]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []


def test_a_group_of_four_shows_no_score_anywhere(
    rows: Rows, engine: Engine, company: Company
) -> None:
    _people(rows, "logistics", 4, rating=2)
    _people(rows, "logistics", 4, rating=1, scale="engagement")
    _people(rows, "logistics", 4, rating=1, scale="means", touchpoint="delivery")
    _people(rows, "logistics", 4, rating=5, scale="mirror", touchpoint="delivery")
    rows.add(
        who="logistics-0-0",
        audience="employee",
        scale=None,
        text="mon gestionnaire me harcèle",
        emotion="anger",
        sentiment="negative",
        member_team="logistics",
        touchpoint="management",
    )
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    for filters in (a.Filters(), a.Filters(team="logistics"), a.Filters(audience="employee")):
        summary = a.summary(filters=filters, **args)
        employee = summary.employee
        for stat in (employee.enps, employee.engagement, employee.proposed, employee.mirror):
            assert stat.status is Status.SUPPRESSED
            assert (stat.value, stat.n, stat.respondents, stat.low, stat.parts) == (
                None,
                None,
                None,
                None,
                {},
            )
        assert employee.volume is None
        assert employee.emotions.status is Status.SUPPRESSED and employee.emotions.shares == {}
        report = a.report(filters=filters, **args)
        assert _numbers(report["employee"]) == []
        for tp in report["touchpoints"]:
            assert _numbers(tp["experiences"]["proposed"]) == []
            assert _numbers(tp["mirror"]["employees"]) == []
        assert report["trends"]["enps"] == [] and report["trends"]["proposed"] == []
        for team in report["ex_cx"]:
            assert all(p["ex"] is None and p["ex_n"] is None for p in team["points"])
    for metric in ("enps", "engagement", "proposed", "mirror", "ex"):
        for by in ("team", "week", "touchpoint"):
            assert a.breakdown(metric, by, filters=a.Filters(), **args) == []
    assert a.breakdown("volume", "team", filters=a.Filters(audience="employee"), **args) == []
    assert a.comments(filters=a.Filters(audience="employee"), **args) == []


def test_five_people_are_shown(rows: Rows, engine: Engine, company: Company) -> None:
    _people(rows, "logistics", 5, rating=9)
    rows.flush()
    enps = a.summary(engine=engine, company=company, filters=a.Filters()).employee.enps
    assert enps.status is Status.SMALL_SAMPLE and enps.value == 100.0 and enps.respondents == 5


def test_team_minus_one_language_is_refused(rows: Rows, engine: Engine, company: Company) -> None:
    # 6 French and 1 English employee: "team" minus "team in French" would be the English one.
    _people(rows, "logistics", 6, rating=9, language="fr")
    _people(rows, "logistics", 1, rating=0, language="en", tag="en")
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    team = a.summary(filters=a.Filters(team="logistics"), **args).employee.enps
    french = a.summary(filters=a.Filters(team="logistics", language="fr"), **args).employee.enps
    assert team.shown and team.respondents == 7
    assert french.status is Status.NOT_APPLICABLE and french.value is None
    assert french.reason == "analytics.reason.employee_filter"
    channel = a.summary(filters=a.Filters(team="logistics", channel="web"), **args).employee.enps
    assert channel.status is Status.NOT_APPLICABLE
    assert a.breakdown("enps", "language", filters=a.Filters(), **args) == []
    assert a.breakdown("enps", "channel", filters=a.Filters(), **args) == []
    assert a.comments(filters=a.Filters(audience="employee", language="fr"), **args) == []


def test_period_plus_one_day_reveals_nothing(rows: Rows, engine: Engine, company: Company) -> None:
    # 6 people answer on Monday; 1 more on Tuesday of the same week.
    _people(rows, "logistics", 6, rating=9)
    _people(rows, "logistics", 1, rating=0, tag="late", day=1)
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    monday = a.Filters(start=MONDAY - timedelta(hours=10), end=MONDAY + timedelta(days=1))
    plus_a_day = a.Filters(start=MONDAY - timedelta(hours=10), end=MONDAY + timedelta(days=2))
    one = a.summary(filters=monday, **args).employee.enps
    two = a.summary(filters=plus_a_day, **args).employee.enps
    assert one == two  # both periods are widened to the same whole week
    assert one.respondents == 7
    assert a.summary(filters=monday, **args).employee_end == MONDAY.replace(hour=0) + timedelta(
        days=7
    )


def test_one_more_week_with_a_small_group_reveals_nothing(
    rows: Rows, engine: Engine, company: Company
) -> None:
    # week 0: 6 people; week 1: 2 people. "weeks 0-1" minus "week 0" would be those two.
    _people(rows, "logistics", 6, rating=9, week=0)
    _people(rows, "logistics", 2, rating=0, week=1)
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    week0 = a.summary(filters=a.Filters(end=MONDAY + timedelta(days=7)), **args).employee.enps
    both = a.summary(filters=a.Filters(end=MONDAY + timedelta(days=14)), **args).employee.enps
    assert week0 == both and both.respondents == 6  # the small week is left out of every total
    weekly = a.trend("enps", filters=a.Filters(), **args)
    assert [c.key for c in weekly] == ["2026-11-02"]


def test_all_teams_minus_one_team_reveals_nothing(
    rows: Rows, engine: Engine, company: Company
) -> None:
    # logistics: 6 people; billing: 2 people. "all" minus "logistics" would be billing's two.
    _people(rows, "logistics", 6, rating=9)
    _people(rows, "billing", 2, rating=0)
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    everyone = a.summary(filters=a.Filters(), **args).employee
    logistics = a.summary(filters=a.Filters(team="logistics"), **args).employee
    assert everyone.enps == logistics.enps and everyone.volume == logistics.volume == 6
    assert (
        a.summary(filters=a.Filters(team="billing"), **args).employee.enps.status
        is Status.SUPPRESSED
    )
    by_team = a.breakdown("enps", "team", filters=a.Filters(), **args)
    assert [c.key for c in by_team] == ["logistics"]


def test_touchpoint_questions_use_touchpoint_cells(
    rows: Rows, engine: Engine, company: Company
) -> None:
    # 5 logistics people answer "means" about delivery, 2 about billing: billing is hidden
    # and never counted in the team's total either.
    _people(rows, "logistics", 5, rating=5, scale="means", touchpoint="delivery")
    _people(rows, "logistics", 2, rating=1, scale="means", touchpoint="billing", tag="b")
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    team = a.summary(filters=a.Filters(team="logistics"), **args).employee.proposed
    delivery = a.experiences("delivery", filters=a.Filters(), **args).proposed
    billing = a.experiences("billing", filters=a.Filters(), **args).proposed
    assert team.value == delivery.value == 100.0 and team.n == delivery.n == 5
    assert billing.status is Status.SUPPRESSED
    assert a.summary(filters=a.Filters(touchpoint="delivery"), **args).employee.enps.status is (
        Status.NOT_APPLICABLE
    )


def test_employee_comments_only_from_large_groups(
    rows: Rows, engine: Engine, company: Company
) -> None:
    for i in range(5):
        rows.add(
            who=f"big-{i}",
            audience="employee",
            scale=None,
            text=f"outil lent {i}",
            member_team="logistics",
            emotion="frustration",
            sentiment="negative",
        )
    rows.add(
        who="alone",
        audience="employee",
        scale=None,
        text="appelez p_0123456789abcdef0123456789abcdef",
        member_team="billing",
        emotion="anger",
        sentiment="negative",
    )
    rows.flush()
    found = a.comments(engine=engine, company=company, filters=a.Filters(audience="employee"))
    assert sorted(c.text for c in found) == [f"outil lent {i}" for i in range(5)]
    assert {c.week for c in found} == {"2026-11-02"}
    dump = json.dumps(a.to_json(found))
    assert "big-" not in dump and "p_0123" not in dump


def test_customers_are_not_subject_to_k(rows: Rows, engine: Engine, company: Company) -> None:
    rows.ratings([5])
    rows.flush()
    csat = a.summary(engine=engine, company=company, filters=a.Filters(language="fr")).customer.csat
    assert csat.value == 100.0 and csat.n == 1


def test_k_is_configurable_and_never_below_three(company: Company) -> None:
    data = company.model_dump(mode="json", exclude_none=True)
    data["analytics"] = {"k_anonymity": 8}
    assert parse_company(data, env={}).analytics.k_anonymity == 8
    data["analytics"] = {"k_anonymity": 2}
    with pytest.raises(ConfigurationError, match=r"analytics\.k_anonymity"):
        parse_company(data, env={})


def test_mix_minus_one_touchpoint_reveals_nothing(
    rows: Rows, engine: Engine, company: Company
) -> None:
    # 5 logistics employees write about tools (frustrated), 2 about pay (angry): "all" minus
    # "tools" would be the two angry ones. Their cell is below k, so it is in neither.
    for i in range(5):
        rows.add(
            who=f"t{i}",
            audience="employee",
            scale=None,
            text="outil lent",
            touchpoint="tools",
            member_team="logistics",
            emotion="frustration",
            sentiment="negative",
        )
    for i in range(2):
        rows.add(
            who=f"p{i}",
            audience="employee",
            scale=None,
            text="paie en retard",
            touchpoint="pay",
            member_team="logistics",
            emotion="anger",
            sentiment="negative",
        )
    rows.flush()
    args: dict[str, Any] = {"engine": engine, "company": company}
    everything = a.summary(filters=a.Filters(team="logistics"), **args).employee.emotions
    tools = a.summary(filters=a.Filters(team="logistics", touchpoint="tools"), **args).employee
    assert everything == tools.emotions and everything.n == 5
    assert everything.shares["anger"].parts == {"count": 0}
    pay = a.summary(filters=a.Filters(team="logistics", touchpoint="pay"), **args).employee
    assert pay.emotions.status is Status.SUPPRESSED and pay.volume is None
    assert {c.text for c in a.comments(filters=a.Filters(audience="employee"), **args)} == {
        "outil lent"
    }
