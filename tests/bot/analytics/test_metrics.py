"""Tests of bot/analytics/metrics.py: hand-computed scores, gaps, mirror, EX ↔ CX and alerts.

Every test runs on SQLite and, when it answers, PostgreSQL (the ``engine`` fixture), so the
SQL of both dialects (weeks, durations) is checked against the same hand-computed numbers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from analytics_rows import MONDAY, Rows
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bot import analytics as a
from bot.analytics.model import Status
from bot.company import Company
from bot.errors import AnalyticsError
from bot.storage.models import FeedbackRecord


def _employees(
    rows: Rows,
    team: str,
    people: int,
    *,
    scale: str,
    ratings: list[int],
    week: int = 0,
    touchpoint: str | None = "delivery",
    prefix: str = "e",
) -> None:
    for i in range(people):
        rows.add(
            who=f"{prefix}-{team}-{i}",
            audience="employee",
            scale=scale,
            rating=ratings[i % len(ratings)],
            member_team=team,
            week=week,
            touchpoint=touchpoint,
        )


def test_csat_and_nps_match_hand_computed_values(
    rows: Rows, engine: Engine, company: Company
) -> None:
    rows.ratings([5, 5, 4, 3, 1])
    rows.ratings([9, 10, 7, 3], scale="nps")
    rows.ratings([2, 2], touchpoint="billing")
    rows.flush()
    summary = a.summary(engine=engine, company=company, filters=a.Filters(touchpoint="delivery"))
    csat = summary.customer.csat
    assert (csat.n, csat.respondents, csat.parts) == (5, 5, {"top2": 3, "other": 2})
    assert csat.value == pytest.approx(60.0)
    assert (round(csat.low or 0, 1), round(csat.high or 0, 1)) == (23.1, 88.2)
    assert csat.status is Status.SMALL_SAMPLE  # 5 < min_sample 30
    nps = summary.customer.nps
    assert nps.value == pytest.approx(25.0) and nps.n == 4
    assert nps.parts == {"promoters": 2, "passives": 1, "detractors": 1}
    assert summary.customer.volume == 9
    everything = a.summary(engine=engine, company=company, filters=a.Filters())
    assert everything.customer.csat.value == pytest.approx(300 / 7)
    assert everything.customer.expected.status is Status.NO_DATA


def test_min_sample_turns_a_score_ok(rows: Rows, engine: Engine, company: Company) -> None:
    rows.ratings([5] * 24 + [1] * 6)
    rows.flush()
    csat = a.summary(engine=engine, company=company, filters=a.Filters()).customer.csat
    assert csat.status is Status.OK and csat.value == pytest.approx(80.0) and csat.n == 30


def test_breakdowns_and_weekly_trend(rows: Rows, engine: Engine, company: Company) -> None:
    rows.ratings([5, 4], week=0)
    rows.ratings([1, 2, 5], week=1, day=6)  # Sunday of the second week
    rows.ratings([4], week=1, touchpoint="billing", language="en", channel="telegram")
    rows.flush()
    args = {"engine": engine, "company": company}
    weeks = a.trend("csat", filters=a.Filters(touchpoint="delivery"), **args)
    assert [c.key for c in weeks] == ["2026-11-02", "2026-11-09"]
    assert [round(c.stat.value or 0, 1) for c in weeks] == [100.0, 33.3]
    by_tp = {c.key: c for c in a.breakdown("csat", "touchpoint", filters=a.Filters(), **args)}
    assert by_tp["billing"].stat.n == 1 and by_tp["billing"].label == {
        "fr": "Facturation",
        "en": "Billing",
    }
    by_team = {c.key: c.stat.n for c in a.breakdown("csat", "team", filters=a.Filters(), **args)}
    assert by_team == {"billing": 1, "logistics": 5}
    by_language = {
        c.key: c.stat.n for c in a.breakdown("csat", "language", filters=a.Filters(), **args)
    }
    assert by_language == {"en": 1, "fr": 5}
    telegram = a.summary(filters=a.Filters(channel="telegram"), **args).customer.csat
    assert telegram.n == 1
    team = a.summary(filters=a.Filters(team="logistics"), **args).customer.csat
    assert team.n == 5
    first_week = a.summary(
        filters=a.Filters(start=MONDAY - timedelta(hours=10), end=MONDAY + timedelta(days=7)),
        **args,
    ).customer.csat
    assert first_week.n == 2
    volume = a.breakdown("volume", "week", filters=a.Filters(), **args)
    assert [c.volume for c in volume] == [2, 4]
    with pytest.raises(AnalyticsError):
        a.breakdown("csat", "colour", filters=a.Filters(), **args)


def test_four_experiences_and_gaps(rows: Rows, engine: Engine, company: Company) -> None:
    # lived: 6 of 10 satisfied (60 %); expected: 8 of 10 expect 4-5 (80 %);
    # proposed: 2 of 6 employees have what they need (33.3 %); target CSAT 85 (company.yml).
    rows.ratings([5] * 6 + [2] * 4, text="")
    rows.ratings([5] * 8 + [3] * 2, scale="expectation")
    _employees(rows, "logistics", 6, scale="means", ratings=[5, 4, 2, 2, 1, 1])
    rows.add(scale=None, text="colis écrasé", emotion="anger", sentiment="negative")
    rows.add(scale=None, text="merci au livreur", emotion="gratitude", sentiment="positive")
    rows.add(scale=None, text="rapide", emotion="joy", sentiment="positive")
    rows.add(scale=None, text="ok", emotion="neutral", sentiment="neutral")
    rows.flush()
    four = a.experiences("delivery", engine=engine, company=company, filters=a.Filters())
    assert four.intended == 85 and four.intended_nps == 30
    assert four.lived.value == pytest.approx(60.0)
    assert four.expected.value == pytest.approx(80.0)
    assert four.proposed.value == pytest.approx(100 / 3) and four.proposed.respondents == 6
    gaps = {g.name: g for g in four.gaps}
    assert list(gaps) == ["intended_proposed", "expected_lived", "proposed_lived", "intended_lived"]
    assert gaps["intended_proposed"].value == pytest.approx(85 - 100 / 3)
    # a target has no error: the gap's interval is the target minus the share's interval
    assert gaps["intended_proposed"].low == pytest.approx(85 - (four.proposed.high or 0))
    assert gaps["expected_lived"].value == pytest.approx(20.0)
    from bot.analytics.stats import newcombe

    expected_ci = newcombe(8, 10, 6, 10)
    assert expected_ci is not None
    assert gaps["expected_lived"].low == pytest.approx(100 * expected_ci.low)
    assert gaps["proposed_lived"].value == pytest.approx(100 / 3 - 60)
    assert gaps["intended_lived"].value == pytest.approx(25.0)
    assert four.emotions.n == 4 and four.emotions.shares["anger"].parts == {"count": 1}
    assert four.emotions_wanted == ["joy", "gratitude"]
    assert four.wanted_share.value == pytest.approx(50.0)  # joy + gratitude: 2 of 4
    assert four.unwanted_share.value == pytest.approx(25.0)  # anger: 1 of 4
    with pytest.raises(AnalyticsError):
        a.experiences("tools", engine=engine, company=company, filters=a.Filters())


def test_mirror_beside_customers(rows: Rows, engine: Engine, company: Company) -> None:
    rows.ratings([5, 5, 1, 1])  # customers: 50 %
    _employees(rows, "logistics", 5, scale="mirror", ratings=[4, 4, 4, 5, 2])  # employees: 80 %
    rows.flush()
    result = a.mirror("delivery", engine=engine, company=company, filters=a.Filters())
    assert result.employees.value == pytest.approx(80.0)
    assert result.customers.value == pytest.approx(50.0)
    assert result.gap.name == "mirror" and result.gap.value == pytest.approx(30.0)


def test_ex_cx_correlation_and_plain_words(rows: Rows, engine: Engine, company: Company) -> None:
    # five weeks; EX favourable share 20/40/60/80/100 % with CX 40/50/60/70/80 %: r = 1
    for week in range(5):
        favourable = week + 1
        _employees(
            rows,
            "logistics",
            5,
            scale="engagement",
            ratings=[5] * favourable + [1] * (5 - favourable),
            week=week,
            touchpoint=None,
            prefix=f"w{week}",
        )
        happy = 4 + week
        rows.ratings([5] * happy + [1] * (10 - happy), week=week)
    rows.flush()
    results = {x.team: x for x in a.ex_cx(engine=engine, company=company, filters=a.Filters())}
    logistics = results["logistics"]
    assert logistics.touchpoints == ["delivery"]
    assert logistics.n == 5 and logistics.r == pytest.approx(1.0)
    assert (
        logistics.verdict == "positive_strong"
        and logistics.words == "analytics.excx.positive_strong"
    )
    assert [p.ex for p in logistics.points] == pytest.approx([20.0, 40.0, 60.0, 80.0, 100.0])
    assert results["billing"].verdict == "too_few" and results["billing"].r is None
    three = a.ex_cx(
        "logistics",
        engine=engine,
        company=company,
        filters=a.Filters(end=MONDAY + timedelta(weeks=3)),
    )
    assert three[0].n == 3 and three[0].verdict == "too_few"


def test_ex_cx_no_evidence(rows: Rows, engine: Engine, company: Company) -> None:
    ex = [1, 5, 2, 4, 3]
    cx = [6, 5, 7, 5, 6]
    for week in range(5):
        _employees(
            rows,
            "logistics",
            5,
            scale="means",
            ratings=[5] * ex[week] + [1] * (5 - ex[week]),
            week=week,
            prefix=f"w{week}",
        )
        rows.ratings([5] * cx[week] + [1] * (10 - cx[week]), week=week)
    rows.flush()
    (result,) = a.ex_cx("logistics", engine=engine, company=company, filters=a.Filters())
    assert result.n == 5 and result.low is not None and result.low < 0 < (result.high or 0)
    assert result.verdict == "no_evidence"


def test_alert_times_median_and_counts(rows: Rows, engine: Engine, company: Company) -> None:
    for _ in range(4):
        rows.add(rating=1, team="logistics")
    rows.add(rating=5, team="logistics")  # no alert: not counted
    ids = rows.flush()
    created = MONDAY
    hours = [1, 2, 4, None]
    for fid in ids[:4]:
        rows.alert(fid, created)
    with engine.begin() as conn:
        for fid, h in zip(ids[:4], hours, strict=True):
            if h is not None:
                conn.execute(
                    update(FeedbackRecord)
                    .where(FeedbackRecord.id == fid)
                    .values(acknowledged_at=created + timedelta(hours=h), status="acknowledged")
                )
        conn.execute(
            update(FeedbackRecord)
            .where(FeedbackRecord.id == ids[0])
            .values(resolved_at=created + timedelta(hours=10), status="resolved")
        )
    times = a.alert_times(engine=engine, company=company, filters=a.Filters())
    # by current status, so they add up: 2 being worked + 1 resolved + 1 open = 4
    assert (times.alerts, times.acknowledged, times.resolved, times.open) == (4, 2, 1, 1)
    assert times.acknowledged + times.resolved + times.open == times.alerts
    assert times.ack_hours.value == pytest.approx(2.0, abs=1e-3)  # median of 1, 2, 4
    assert times.ack_hours.parts["mean_s"] == pytest.approx(7 / 3 * 3600, abs=1)
    assert times.resolve_hours.value == pytest.approx(10.0, abs=1e-3)
    assert [c.key for c in times.by_team] == ["logistics"]
    assert times.by_team[0].stat.value == pytest.approx(2.0, abs=1e-3)
    from bot.analytics import queries

    # an even count: the mean of the two middle values (1 h and 2 h → 1.5 h)
    two = a.Filters(end=MONDAY + timedelta(minutes=1))
    with engine.begin() as conn:
        conn.execute(
            update(FeedbackRecord).where(FeedbackRecord.id == ids[2]).values(acknowledged_at=None)
        )
    medians = queries.median_seconds("ack", engine=engine, filters=two, by_team=True)
    assert medians == {"logistics": pytest.approx(5400.0, abs=1)}


def test_comments_are_deidentified_and_carry_no_id(
    rows: Rows, engine: Engine, company: Company
) -> None:
    # stored before redaction existed (redacted false): redacted as it is read
    rows.add(
        scale=None,
        text="Le livreur Marc : écrivez-moi à jean.tremblay@exemple.ca ou au 514 555-0199",
        emotion="anger",
        sentiment="negative",
    )
    # stored redacted: only the manager-view masks apply (a handle here)
    rows.add(
        scale=None,
        text="[NOM] m'a écrit via @jtremblay",
        emotion="anger",
        sentiment="negative",
        redacted=True,
        day=1,
    )
    rows.flush()
    newest, legacy = a.comments(engine=engine, company=company, filters=a.Filters())
    assert "jean.tremblay" not in legacy.text and "555" not in legacy.text
    assert "Marc" not in legacy.text
    assert legacy.text == "Le livreur [NOM] : écrivez-moi à [COURRIEL] ou au [TÉLÉPHONE]"
    assert newest.text == "[NOM] m'a écrit via [PSEUDO]"
    assert legacy.week == "2026-11-02"
    assert not hasattr(legacy, "conversation_id")


def test_all_touchpoints_at_once_equal_one_by_one(
    rows: Rows, engine: Engine, company: Company
) -> None:
    rows.ratings([5, 4, 1, 2, 5, 5])
    rows.ratings([3, 5], touchpoint="billing", scale="expectation")
    _employees(rows, "logistics", 5, scale="means", ratings=[5, 1])
    _employees(rows, "logistics", 6, scale="mirror", ratings=[4], prefix="m")
    _employees(rows, "billing", 3, scale="means", ratings=[5], touchpoint="billing")
    rows.add(scale=None, text="colis écrasé", emotion="anger", sentiment="negative")
    rows.flush()
    four, mirrors = a.metrics.experiences_all(engine=engine, company=company, filters=a.Filters())
    assert set(four) == {"delivery", "billing", "product", "website", "store", "support"}
    for key in four:
        assert four[key] == a.experiences(key, engine=engine, company=company, filters=a.Filters())
        assert mirrors[key] == a.mirror(key, engine=engine, company=company, filters=a.Filters())
    assert four["billing"].proposed.status is Status.SUPPRESSED
