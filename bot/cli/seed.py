"""Demo data: weeks of realistic bilingual customer and employee feedback that tell a story.

This module owns :func:`seed` (the ``vecu demo seed`` command). It writes feedback through
the real path (:func:`bot.feedback.intake.record`: scored by the scorer it is given — the shipped
ONNX model from the CLI — routed, with alert outbox rows), then plays the teams' alert
workflow (acknowledged and resolved after some hours, ``alert_event`` rows) and marks the
outbox as delivered so the worker does not replay history. Everything is drawn from one
``random.Random(seed)``: the same seed and ``now`` give the same database.

The story, on delivery: leadership intends 85 % satisfied customers; week after week the
logistics team says it lacks the means (trucks, scanners, staff: *proposed* falls), customers
keep expecting a good delivery (*expected* stays high), and what they live falls (*lived*),
so the expected-lived gap grows; logistics employees still believe customers are happy
(the *mirror*). The product team has 4 employees: k-anonymity hides every number about them.

``rows=N`` adds N more rows by bulk insert (scores reused from the scored pool, no routing
decisions) for load benchmarks: 100 000 rows take seconds, not minutes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import func, insert, select, update
from sqlalchemy import text as sql

from bot.domain import Audience, Kind, RatingScale
from bot.feedback.intake import Message, record
from bot.services import FixedClock, Services
from bot.settings import get_settings
from bot.storage.engine import make_sessions
from bot.storage.models import AlertEventRecord, AlertOutboxRecord, FeedbackRecord

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.company import Company
    from bot.scoring.base import Scorer, Scores
    from bot.services import FixedClock, Services
    from bot.settings import Settings

TEXTS = Path(__file__).resolve().parent / "seed_texts.yml"
VARIETIES = (("fr-QC", "fr", 0.5), ("fr-FR", "fr", 0.2), ("en", "en", 0.3))
CUSTOMER_MIX = {
    "delivery": 0.4,
    "billing": 0.15,
    "product": 0.15,
    "website": 0.1,
    "store": 0.1,
    "support": 0.1,
}
TEAM_SIZES = {
    "logistics": 12,
    "customer_care": 8,
    "stores": 9,
    "billing": 6,
    "digital": 5,
    "it": 5,
    "product": 4,
    "hr": 3,
}
CUSTOMERS_PER_WEEK = 120
BULK_CHUNK = 5000


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed` wrote."""

    feedback: int
    alerts: int
    bulk: int
    weeks: int
    seconds: float


class CachingScorer:
    """Wraps a scorer and remembers the scores of texts already seen (demo texts repeat)."""

    def __init__(self, inner: Scorer) -> None:
        self.inner = inner
        self.cache: dict[str, Scores] = {}

    @property
    def version(self) -> str:
        return self.inner.version

    def score(self, texts: Sequence[str], *, raw: bool = False) -> list[Scores]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.score(missing, raw=True), strict=True))
        return [self.cache[t] for t in texts]


@cache
def demo_texts() -> dict[str, Any]:
    """The demo messages (``bot/cli/seed_texts.yml``)."""
    data: dict[str, Any] = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    return data


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _variety(rng: random.Random) -> tuple[str, str]:
    name, language, _ = rng.choices(VARIETIES, weights=[w for *_, w in VARIETIES])[0]
    return name, language


def _five(rng: random.Random, favourable: float) -> int:
    """A 1-5 answer that is 4-5 with probability ``favourable``."""
    if rng.random() < favourable:
        return rng.choice((4, 5, 5))
    return rng.choice((1, 2, 2, 3, 3))


def _ten(rng: random.Random, promoter: float, detractor: float) -> int:
    roll = rng.random()
    if roll < promoter:
        return rng.choice((9, 10))
    if roll < promoter + detractor:
        return rng.randint(0, 6)
    return rng.choice((7, 8))


def _tone(rating: int) -> str:
    return "positive" if rating >= 4 else "negative" if rating <= 2 else "neutral"


def _text(rng: random.Random, audience: str, topic: str, tone: str, variety: str) -> str:
    pool = demo_texts()[audience][topic][tone]
    return str(rng.choice(pool.get(variety) or pool["en"]))


def _pseudonym(rng: random.Random) -> str:
    return f"p_{rng.getrandbits(128):032x}"


# ---- the story -----------------------------------------------------------------------------------


def lived_satisfaction(touchpoint: str, progress: float) -> float:
    """The chance a customer is satisfied (4-5) with ``touchpoint`` at ``progress`` (0..1)."""
    return 0.80 - 0.38 * progress if touchpoint == "delivery" else 0.80


def means_share(team: str, progress: float) -> float:
    """The chance an employee of ``team`` says they have what they need (4-5)."""
    return 0.72 - 0.5 * progress if team == "logistics" else 0.70


def team_touchpoint(company: Company, team: str) -> str | None:
    """The first customer touchpoint ``team`` owns."""
    for key, tp in company.touchpoints.items():
        if tp.team == team and tp.audience == "customer":
            return key
    return None


def _services(
    engine: Engine, company: Company, scorer: Scorer, settings: Settings | None, clock: FixedClock
) -> Services:

    return Services(
        settings=settings or get_settings(),
        company=company,
        engine=engine,
        sessions=make_sessions(engine),
        scorer=CachingScorer(scorer),
        clock=clock,
    )


def seed(
    *,
    engine: Engine,
    company: Company,
    scorer: Scorer,
    weeks: int = 8,
    seed: int = 7,
    rows: int | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    customers_per_week: int = CUSTOMERS_PER_WEEK,
) -> SeedResult:
    """Fill the (migrated) database with ``weeks`` weeks of demo feedback ending at ``now``.

    Args:
        engine: the migrated database.
        company: the company configuration (its teams and touchpoints must include the demo's).
        scorer: scores every text (the shipped model from the CLI).
        weeks: how many weeks of history (1-104).
        seed: the random seed (same seed and ``now``: same data).
        rows: also bulk-insert this many extra rows (load benchmarks).
        now: the end of the history (default: the current time).
        settings: for the text length limit (default :func:`bot.settings.get_settings`).
        customers_per_week: customer conversations per week.

    Raises:
        ValueError: ``weeks`` or ``rows`` out of range.
        StorageError: the database refused a write.
    """
    if not 1 <= weeks <= 104:
        raise ValueError("weeks must be between 1 and 104")
    if rows is not None and not 0 <= rows <= 5_000_000:
        raise ValueError("rows must be between 0 and 5000000")
    started = time.perf_counter()
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    first = end - timedelta(weeks=weeks)
    clock = FixedClock(first)
    services = _services(engine, company, scorer, settings, clock)
    staff = {
        team: [_pseudonym(rng) for _ in range(size)]
        for team, size in TEAM_SIZES.items()
        if company.team(team) is not None
    }
    written: list[int] = []

    def at(week: int) -> None:
        moment = first + timedelta(weeks=week, seconds=rng.uniform(0, 7 * 86400 - 60))
        clock.now = min(moment, end - timedelta(seconds=1))

    for week in range(weeks):
        progress = week / max(weeks - 1, 1)
        for _ in range(customers_per_week):
            touchpoint = _pick(rng, CUSTOMER_MIX)
            if company.touchpoint(touchpoint) is None:
                continue
            variety, language = _variety(rng)
            who = _pseudonym(rng)
            channel = rng.choice(("web", "web", "telegram"))
            at(week)
            base = Message(
                conversation_id=who,
                text="",
                language=language,
                channel=channel,
                touchpoint=touchpoint,
            )
            if touchpoint == "delivery" and rng.random() < 0.6:
                written.append(
                    record(
                        replace(
                            base,
                            kind=Kind.EXPECTATION,
                            scale=RatingScale.EXPECTATION,
                            rating=_five(rng, 0.82),
                        ),
                        services=services,
                    ).feedback_id
                )
                clock.now = min(
                    clock.now + timedelta(seconds=rng.uniform(3600, 3 * 86400)),
                    end - timedelta(seconds=1),
                )
            rating = _five(rng, lived_satisfaction(touchpoint, progress))
            text = _text(rng, "customer", touchpoint, _tone(rating), variety)
            if rng.random() < 0.15 and rating >= 4:
                text = _text(rng, "customer", touchpoint, "neutral", variety)
            written.append(
                record(
                    replace(base, text=text, rating=rating, scale=RatingScale.CSAT),
                    services=services,
                ).feedback_id
            )
            if rng.random() < 0.3:
                satisfied = rating >= 4
                nps = _ten(rng, 0.55 if satisfied else 0.05, 0.1 if satisfied else 0.7)
                written.append(
                    record(
                        replace(base, rating=nps, scale=RatingScale.NPS), services=services
                    ).feedback_id
                )
        for team, people in staff.items():
            owned = team_touchpoint(company, team)
            for who in people:
                if rng.random() > 0.8:
                    continue
                variety, language = _variety(rng)
                at(week)
                means = means_share(team, progress)
                base = Message(
                    conversation_id=who,
                    text="",
                    language=language,
                    audience=Audience.EMPLOYEE,
                    channel="telegram",
                    member_team=team,
                    kind=Kind.PULSE,
                )
                enps = _ten(rng, 0.45 * (means + 0.3), 0.25 + 0.4 * (1 - means))
                topic = "logistics" if team == "logistics" else "other"
                text = ""
                if rng.random() < 0.6:
                    text = _text(
                        rng,
                        "employee",
                        topic,
                        "positive" if enps >= 9 else "negative" if enps <= 6 else "neutral",
                        variety,
                    )
                written.append(
                    record(
                        replace(base, text=text, rating=enps, scale=RatingScale.ENPS),
                        services=services,
                    ).feedback_id
                )
                written.append(
                    record(
                        replace(base, rating=_five(rng, means), scale=RatingScale.ENGAGEMENT),
                        services=services,
                    ).feedback_id
                )
                if owned is not None:
                    written.append(
                        record(
                            replace(
                                base,
                                touchpoint=owned,
                                kind=Kind.PROPOSED,
                                scale=RatingScale.MEANS,
                                rating=_five(rng, means),
                            ),
                            services=services,
                        ).feedback_id
                    )
                    believed = 0.78 if team == "logistics" else lived_satisfaction(owned, progress)
                    written.append(
                        record(
                            replace(
                                base,
                                touchpoint=owned,
                                kind=Kind.MIRROR,
                                scale=RatingScale.MIRROR,
                                rating=_five(rng, believed),
                            ),
                            services=services,
                        ).feedback_id
                    )
    alerts = _play_workflow(services, rng, first, end, weeks)
    bulk = _bulk(services, rng, rows or 0, first, end, staff) if rows else 0
    return SeedResult(
        feedback=len(written),
        alerts=alerts,
        bulk=bulk,
        weeks=weeks,
        seconds=time.perf_counter() - started,
    )


def _play_workflow(
    services: Services, rng: random.Random, first: datetime, end: datetime, weeks: int
) -> int:
    """Acknowledge and resolve the demo's alerts like busy teams would; mark the outbox sent."""
    handled = 0
    with services.sessions.begin() as session:
        alerted = session.scalars(
            select(FeedbackRecord)
            .where(FeedbackRecord.id.in_(select(AlertOutboxRecord.feedback_id)))
            .order_by(FeedbackRecord.id)
        ).all()
        for row in alerted:
            handled += 1
            progress = (row.created_at - first) / (end - first) if end > first else 1.0
            slow = 1 + 6 * progress if row.team == "logistics" else 1.0
            ack = row.created_at + timedelta(hours=rng.uniform(0.5, 4) * slow)
            if ack >= end or rng.random() < 0.05:
                continue
            row.acknowledged_at = ack
            row.status = "acknowledged"
            session.add(
                AlertEventRecord(
                    feedback_id=row.id,
                    action="acknowledged",
                    team=row.team,
                    actor_channel="demo",
                    created_at=ack,
                )
            )
            resolved = ack + timedelta(hours=rng.uniform(2, 48) * slow)
            if resolved < end and rng.random() < 0.85:
                row.resolved_at = resolved
                row.status = "resolved"
                session.add(
                    AlertEventRecord(
                        feedback_id=row.id,
                        action="resolved",
                        team=row.team,
                        actor_channel="demo",
                        created_at=resolved,
                    )
                )
        session.execute(
            update(AlertOutboxRecord)
            .where(AlertOutboxRecord.status.in_(("pending", "failed")))
            .values(status="sent", sent_at=AlertOutboxRecord.created_at, attempts=1)
        )
    return handled


def _bulk(
    services: Services,
    rng: random.Random,
    count: int,
    first: datetime,
    end: datetime,
    staff: dict[str, list[str]],
) -> int:
    """Insert ``count`` extra rows quickly (executemany in chunks, scores from the pool)."""
    company = services.company
    scorer = services.scorer
    assert isinstance(scorer, CachingScorer)
    pool = [t for t in scorer.cache if t]
    if not pool:
        pool = [_text(rng, "customer", "delivery", "negative", "fr-QC")]
        scorer.score(pool)
    span = (end - first).total_seconds()
    more_staff = {
        team: people + [_pseudonym(rng) for _ in range(len(people) * 4)]
        for team, people in staff.items()
    }
    with services.engine.begin() as conn:
        next_id = (
            int(conn.execute(select(func.coalesce(func.max(FeedbackRecord.id), 0))).scalar_one())
            + 1
        )
    written = 0
    while written < count:
        size = min(BULK_CHUNK, count - written)
        feedback: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        for _ in range(size):
            created = first + timedelta(seconds=rng.uniform(0, span - 1))
            progress = (created - first).total_seconds() / span
            employee = rng.random() < 0.2
            text = rng.choice(pool) if rng.random() < 0.5 else ""
            scores = scorer.cache.get(text) if text else None
            if employee:
                team = rng.choice(list(more_staff))
                who = rng.choice(more_staff[team])
                scale = rng.choice(("enps", "engagement", "means", "mirror"))
                touchpoint = (
                    team_touchpoint(company, team) if scale in ("means", "mirror") else None
                )
                if scale in ("means", "mirror") and touchpoint is None:
                    scale = "engagement"
                means = means_share(team, progress)
                rating = _ten(rng, 0.4, 0.3) if scale == "enps" else _five(rng, means)
            else:
                team = None
                who = _pseudonym(rng)
                touchpoint = _pick(rng, CUSTOMER_MIX)
                scale = rng.choice(("csat", "csat", "csat", "nps", "expectation"))
                satisfied = lived_satisfaction(touchpoint, progress)
                if scale == "expectation":
                    satisfied = 0.82  # customers keep expecting a good experience
                rating = (
                    _ten(rng, satisfied * 0.6, 0.3) if scale == "nps" else _five(rng, satisfied)
                )
            negative = rating <= (6 if scale in ("nps", "enps") else 2)
            row = {
                "id": next_id,
                "conversation_id": who,
                "audience": "employee" if employee else "customer",
                "channel": rng.choice(("web", "telegram")),
                "language": rng.choice(("fr", "fr", "en")),
                "kind": "comment" if not employee else "pulse",
                "parent_id": None,
                "touchpoint": touchpoint,
                "touchpoint_source": "nlu",
                "rating": rating,
                "scale": scale,
                "text": text,
                "original_length": len(text),
                "truncated": False,
                "sentiment_label": scores.sentiment_label if scores else "unknown",
                "sentiment_scores": dict(scores.sentiment) if scores else {},
                "emotion_label": scores.emotion_label if scores else "unknown",
                "emotion_scores": dict(scores.emotions) if scores else {},
                "raw_emotions": None,
                "model_version": scores.model_version if scores else "not-scored",
                "team": company.team_for(touchpoint) if touchpoint else None,
                "severity": "normal" if negative else "low",
                "confidential": False,
                "negative": negative,
                "created_at": created,
                "updated_at": created,
                "status": "open",
                "acknowledged_at": None,
                "resolved_at": None,
                "member_team": team,
            }
            if negative and not employee and row["team"] and rng.random() < 0.5:
                ack = created + timedelta(hours=rng.uniform(0.5, 12))
                if ack < end:
                    row["acknowledged_at"] = ack
                    row["status"] = "acknowledged"
                    done = ack + timedelta(hours=rng.uniform(1, 48))
                    if done < end and rng.random() < 0.8:
                        row["resolved_at"] = done
                        row["status"] = "resolved"
                outbox.append(
                    {
                        "alert_id": f"bulk-{next_id}",
                        "feedback_id": next_id,
                        "team": row["team"],
                        "destination": "demo-webhook",
                        "kind": "issue",
                        "severity": "normal",
                        "payload": {},
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "last_error": None,
                        "created_at": created,
                        "sent_at": created,
                    }
                )
            feedback.append(row)
            next_id += 1
        with services.engine.begin() as conn:
            conn.execute(insert(FeedbackRecord), feedback)
            if outbox:
                conn.execute(insert(AlertOutboxRecord), outbox)
        written += size
    if services.engine.dialect.name == "postgresql":
        with services.engine.begin() as conn:
            conn.execute(
                sql(
                    "SELECT setval(pg_get_serial_sequence('feedback', 'id'), "
                    "(SELECT max(id) FROM feedback))"
                )
            )
            conn.execute(
                sql(
                    "SELECT setval(pg_get_serial_sequence('alert_outbox', 'id'), "
                    "(SELECT coalesce(max(id), 1) FROM alert_outbox))"
                )
            )
    return written
