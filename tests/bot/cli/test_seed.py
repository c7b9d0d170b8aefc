"""Tests of bot/cli/seed.py: deterministic, bilingual, the delivery story, bulk rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot import analytics as a
from bot.cli.seed import CachingScorer, seed
from bot.company import Company
from bot.scoring.base import StaticScorer
from bot.storage.models import AlertOutboxRecord, FeedbackRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _scorer() -> StaticScorer:
    groups = (
        "anger",
        "frustration",
        "confusion",
        "fear",
        "sadness",
        "disgust",
        "surprise",
        "joy",
        "gratitude",
        "neutral",
    )
    return StaticScorer(
        {"negative": 0.7, "neutral": 0.2, "positive": 0.1},
        {g: (0.5 if g == "frustration" else 0.05) for g in groups},
    )


def _fingerprint(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    FeedbackRecord.conversation_id,
                    FeedbackRecord.rating,
                    FeedbackRecord.scale,
                    FeedbackRecord.text,
                    FeedbackRecord.created_at,
                ).order_by(FeedbackRecord.id)
            )
        )


def test_seed_tells_the_delivery_story(engine: Engine, company: Company) -> None:
    result = seed(
        engine=engine,
        company=company,
        scorer=_scorer(),
        weeks=6,
        seed=3,
        now=NOW,
        customers_per_week=80,
    )
    assert result.feedback > 1000 and result.alerts > 0
    with engine.connect() as conn:
        languages = set(conn.scalars(select(FeedbackRecord.language).distinct()))
        pending = conn.scalar(
            select(func.count())
            .select_from(AlertOutboxRecord)
            .where(AlertOutboxRecord.status != "sent")
        )
        latest = conn.scalar(select(func.max(FeedbackRecord.created_at)))
    assert languages == {"fr", "en"}
    assert pending == 0  # the worker will not replay history
    assert latest is not None and latest < NOW
    args = {"engine": engine, "company": company}
    four = a.experiences("delivery", filters=a.Filters(), **args)
    for stat in (four.proposed, four.expected, four.lived):
        assert stat.shown
    proposed = [
        c.stat.value for c in a.trend("proposed", filters=a.Filters(touchpoint="delivery"), **args)
    ]
    lived = [
        c.stat.value for c in a.trend("csat", filters=a.Filters(touchpoint="delivery"), **args)
    ]
    assert proposed[0] is not None and proposed[-1] is not None and proposed[-1] < proposed[0] - 20
    assert lived[0] is not None and lived[-1] is not None and lived[-1] < lived[0]
    mirror = a.mirror("delivery", filters=a.Filters(), **args)
    assert (mirror.employees.value or 0) > (mirror.customers.value or 0)  # employees overestimate
    product_team = a.summary(filters=a.Filters(team="product"), **args).employee.enps
    assert product_team.status is a.Status.SUPPRESSED  # a team of 4: no score anywhere
    times = a.alert_times(filters=a.Filters(), **args)
    assert times.acknowledged > 0 and times.resolved > 0


def test_seed_is_deterministic(engine: Engine, company: Company, tmp_path: object) -> None:
    from bot.storage.engine import make_engine
    from bot.storage.migrate import upgrade

    seed(
        engine=engine,
        company=company,
        scorer=_scorer(),
        weeks=1,
        seed=11,
        now=NOW,
        customers_per_week=20,
    )
    other = make_engine(f"sqlite:///{tmp_path}/other.db")
    upgrade(other)
    seed(
        engine=other,
        company=company,
        scorer=_scorer(),
        weeks=1,
        seed=11,
        now=NOW,
        customers_per_week=20,
    )
    assert _fingerprint(engine) == _fingerprint(other)
    other.dispose()


def test_bulk_rows(engine: Engine, company: Company) -> None:
    result = seed(
        engine=engine,
        company=company,
        scorer=_scorer(),
        weeks=1,
        seed=1,
        now=NOW,
        customers_per_week=10,
        rows=12_000,
    )
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(FeedbackRecord))
    assert result.bulk == 12_000 and total == result.feedback + 12_000
    summary = a.summary(engine=engine, company=company, filters=a.Filters())
    assert summary.customer.csat.status is a.Status.OK and (summary.customer.csat.n or 0) > 5000


def test_caching_scorer_scores_each_text_once() -> None:
    calls: list[list[str]] = []
    inner = _scorer()

    class Counting:
        version = "counting"

        def score(self, texts: list[str], *, raw: bool = False) -> list[object]:
            calls.append(list(texts))
            return inner.score(texts, raw=raw)  # type: ignore[return-value]

    scorer = CachingScorer(Counting())  # type: ignore[arg-type]
    scorer.score(["a", "b", "a"])
    scorer.score(["b"])
    assert calls == [["a", "b"]]


def test_bad_arguments(engine: Engine, company: Company) -> None:
    with pytest.raises(ValueError):
        seed(engine=engine, company=company, scorer=_scorer(), weeks=0)
