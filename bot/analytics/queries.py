"""The SQL of the dashboard: every number is a GROUP BY in the database, never a loop over rows.

This module owns the metric definitions (:data:`METRICS`: which audience and rating scales
each score reads, and how it is computed), the SQL expressions they share (ISO week of a
row on SQLite and PostgreSQL, owning team of a touchpoint, employee's team), the filter
conditions, and **the employee k-anonymity cells**: employee rows are grouped into *atoms*
(employee team × ISO week × touchpoint; team × week for the company-wide pulse scores eNPS and
engagement, which refuse a touchpoint filter) and an atom with
fewer than k distinct respondents is dropped from every aggregate before anything is summed.
Every allowed employee filter (team, touchpoint, whole weeks) selects whole atoms, so the
difference between any two answers is itself a union of atoms of at least k people: two
overlapping filters cannot be subtracted to single someone out. Language and channel
filters would cut atoms, so employee data refuses them (:attr:`Status.NOT_APPLICABLE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.model import Filters, widen_to_weeks
from bot.domain import AlertKind
from bot.errors import StorageError
from bot.storage.models import AlertOutboxRecord, FeedbackRecord

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.company import Company

F = FeedbackRecord.__table__
ALL = "all"
TOUCHPOINT_SCALES = ("means", "mirror")
DIMENSIONS = ("touchpoint", "team", "language", "channel", "audience", "week")
ATOM_WITH_TOUCHPOINT = ["team_ex", "week", "tp"]
"""Employee cells of every query a touchpoint filter may cut (mixes, volumes, comments…)."""


@dataclass(frozen=True)
class MetricDef:
    """What one score reads and how it is computed.

    Attributes:
        name: the metric name in results.
        audience: whose answers it reads.
        scales: the rating scales of those answers.
        method: ``top2`` (% of 4-5 on 1-5) or ``nps`` (%9-10 minus %0-6 on 0-10).
        per_touchpoint: whether the question names a touchpoint (employee atoms then include it).
    """

    name: str
    audience: str
    scales: tuple[str, ...]
    method: str
    per_touchpoint: bool = True


METRICS: dict[str, MetricDef] = {
    "csat": MetricDef("csat", "customer", ("csat",), "top2"),
    "nps": MetricDef("nps", "customer", ("nps",), "nps"),
    "expected": MetricDef("expected", "customer", ("expectation",), "top2"),
    "enps": MetricDef("enps", "employee", ("enps",), "nps", per_touchpoint=False),
    "engagement": MetricDef(
        "engagement", "employee", ("engagement",), "top2", per_touchpoint=False
    ),
    "proposed": MetricDef("proposed", "employee", ("means",), "top2"),
    "mirror": MetricDef("mirror", "employee", ("mirror",), "top2"),
    "ex": MetricDef("ex", "employee", ("engagement", "means"), "top2", per_touchpoint=False),
}


@dataclass(frozen=True)
class Counts:
    """The sums one score is computed from (one group)."""

    n: int = 0
    respondents: int = 0
    top2: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


class NotApplicable(Exception):
    """The filters or the breakdown cannot apply to this audience (reason: catalogue key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---- shared expressions -----------------------------------------------------------------------


def week_expr(dialect: str, column: Any = None) -> ColumnElement[Any]:
    """The ISO week of ``column`` (default ``feedback.created_at``) as ``'YYYY-MM-DD'`` (Monday)."""
    column = F.c.created_at if column is None else column
    if dialect == "sqlite":
        return func.date(column, "weekday 0", "-6 days")
    return func.to_char(func.date_trunc("week", func.timezone("UTC", column)), "YYYY-MM-DD")


def owner_expr(company: Company) -> ColumnElement[Any]:
    """The team owning the row's touchpoint (``NULL`` for none)."""
    mapping = {key: tp.team for key, tp in company.touchpoints.items()}
    return case(mapping, value=F.c.touchpoint, else_=None)


def employee_team_expr(company: Company) -> ColumnElement[Any]:
    """The team an employee row belongs to: their own team, else (touchpoint questions) the
    owner of the touchpoint asked about, else ``''`` (unknown team: its own cells)."""
    return func.coalesce(
        F.c.member_team,
        case((F.c.scale.in_(TOUCHPOINT_SCALES), owner_expr(company)), else_=None),
        literal(""),
    )


def owned_touchpoints(company: Company, team: str, audience: str = "customer") -> list[str]:
    """The touchpoints of ``audience`` that ``team`` owns, in configuration order."""
    return [
        k for k, tp in company.touchpoints.items() if tp.team == team and tp.audience == audience
    ]


def _conditions(
    filters: Filters, company: Company, audience: str, *, employee: bool
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [F.c.audience == audience]
    start, end = (
        widen_to_weeks(filters.start, filters.end) if employee else (filters.start, filters.end)
    )
    if start is not None:
        conds.append(F.c.created_at >= start)
    if end is not None:
        conds.append(F.c.created_at < end)
    if filters.touchpoint is not None:
        conds.append(F.c.touchpoint == filters.touchpoint)
    if filters.team is not None:
        if employee:
            conds.append(employee_team_expr(company) == filters.team)
        else:
            owned = owned_touchpoints(company, filters.team)
            conds.append(F.c.touchpoint.in_(owned) if owned else false())
    if not employee:
        if filters.language is not None:
            conds.append(F.c.language == filters.language)
        if filters.channel is not None:
            conds.append(F.c.channel == filters.channel)
    return conds


def _key_expr(by: str | None, company: Company, dialect: str, *, employee: bool) -> Any:
    if by is None:
        return literal(ALL)
    if by == "touchpoint":
        return func.coalesce(F.c.touchpoint, literal(""))
    if by == "team":
        return employee_team_expr(company) if employee else func.coalesce(owner_expr(company), "")
    if by == "week":
        return week_expr(dialect)
    if by in ("language", "channel", "audience"):
        return F.c[by]
    raise ValueError(f"unknown dimension {by!r}")


def check_applicable(
    audience: str, filters: Filters, by: str | None, *, per_touchpoint: bool = True
) -> None:
    """Raise :class:`NotApplicable` when these filters/breakdown cannot apply to ``audience``."""
    if filters.audience is not None and filters.audience != audience:
        raise NotApplicable("analytics.reason.audience_filter")
    if audience == "employee":
        if filters.employee_refused or by in ("language", "channel"):
            raise NotApplicable("analytics.reason.employee_filter")
        if not per_touchpoint and (filters.touchpoint is not None or by == "touchpoint"):
            raise NotApplicable("analytics.reason.touchpoint_filter")


def _atom_columns(company: Company, dialect: str, *, per_touchpoint: bool) -> list[Any]:
    columns = [employee_team_expr(company).label("team_ex"), week_expr(dialect).label("week")]
    if per_touchpoint:
        columns.append(func.coalesce(F.c.touchpoint, literal("")).label("tp"))
    return columns


def _in_kept_atoms(
    base: Any, k: int, atom_columns: Sequence[str], subset: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """Whether a row of ``base`` is in an atom of at least ``k`` distinct respondents.

    The atoms (counted among the rows of ``subset``, default all) are a non-correlated
    ``(atom columns) IN (SELECT … GROUP BY … HAVING COUNT(DISTINCT person) >= k)``: the
    database builds it once and probes it per row (an ephemeral index on SQLite, a hashed
    semi-join on PostgreSQL). A join of the rows to a grouped copy of themselves, which this
    replaced, was planned by SQLite as nested loops when no period bounded the rows (seconds).
    Atom columns are never NULL (see :func:`_atom_columns`).
    """
    atom = [base.c[c] for c in atom_columns]
    atoms = select(*atom).group_by(*atom).having(func.count(distinct(base.c.conversation_id)) >= k)
    if subset is not None:
        atoms = atoms.where(subset)
    # never correlated: the subquery reads its own copy of ``base``, whole
    return tuple_(*atom).in_(atoms.correlate(None))


def _kept(base: Any, k: int, atom_columns: Sequence[str]) -> Any:
    """The rows of ``base`` whose atom has at least ``k`` distinct respondents (same columns)."""
    return select(*base.c).where(_in_kept_atoms(base, k, atom_columns)).subquery("kept")


def _run(engine: Engine, statement: Any) -> list[Any]:
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement))
    except SQLAlchemyError as exc:
        raise StorageError(f"the metrics could not be read: {exc.__class__.__name__}") from exc


# ---- scores ------------------------------------------------------------------------------------


def score_counts(
    metric: str,
    by: str | None,
    *,
    engine: Engine,
    company: Company,
    filters: Filters,
    extra: Iterable[ColumnElement[bool]] = (),
) -> dict[str, Counts]:
    """The sums of ``metric`` per value of ``by`` (``{"all": …}`` when ``by`` is ``None``).

    Employee metrics are k-anonymous: rows of atoms with fewer than k respondents are left out.

    Raises:
        NotApplicable: the filters or breakdown cannot apply to this metric's audience.
        StorageError: the database failed.
    """
    spec = METRICS[metric]
    employee = spec.audience == "employee"
    check_applicable(spec.audience, filters, by, per_touchpoint=spec.per_touchpoint)
    dialect = engine.dialect.name
    conds = [
        *_conditions(filters, company, spec.audience, employee=employee),
        F.c.scale.in_(spec.scales),
        F.c.rating.is_not(None),
        *extra,
    ]
    columns = [
        _key_expr(by, company, dialect, employee=employee).label("key"),
        F.c.conversation_id,
        F.c.rating,
    ]
    if employee:
        columns += _atom_columns(company, dialect, per_touchpoint=spec.per_touchpoint)
    base = select(*columns).where(*conds).subquery("base")
    if employee:
        atom_columns = ATOM_WITH_TOUCHPOINT if spec.per_touchpoint else ["team_ex", "week"]
        base = _kept(base, company.analytics.k_anonymity, atom_columns)
    source: Any = base
    rating = base.c.rating
    statement = (
        select(
            base.c.key,
            func.count(),
            func.count(distinct(base.c.conversation_id)),
            func.sum(case((rating >= 4, 1), else_=0)),
            func.sum(case((rating >= 9, 1), else_=0)),
            func.sum(case((and_(rating >= 7, rating <= 8), 1), else_=0)),
            func.sum(case((rating <= 6, 1), else_=0)),
        )
        .select_from(source)
        .group_by(base.c.key)
    )
    out: dict[str, Counts] = {}
    for key, n, people, top2, prom, pas, det in _run(engine, statement):
        out[str(key)] = Counts(
            int(n), int(people), int(top2 or 0), int(prom or 0), int(pas or 0), int(det or 0)
        )
    return out


# ---- mixes and volume ----------------------------------------------------------------------------


def label_counts(
    kind: str,
    audience: str,
    by: str | None,
    *,
    engine: Engine,
    company: Company,
    filters: Filters,
    extra: Iterable[ColumnElement[bool]] = (),
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Messages with text per (group key, sentiment or emotion label), and respondents per key.

    Raises:
        NotApplicable: the filters or breakdown cannot apply to this audience.
        StorageError: the database failed.
    """
    employee = audience == "employee"
    check_applicable(audience, filters, by)
    dialect = engine.dialect.name
    column = F.c.sentiment_label if kind == "sentiment" else F.c.emotion_label
    columns = [
        _key_expr(by, company, dialect, employee=employee).label("key"),
        column.label("label"),
        F.c.conversation_id,
    ]
    if employee:
        columns += _atom_columns(company, dialect, per_touchpoint=True)
    # A message without text is never scored: its labels are "unknown" (text is not read).
    base = (
        select(*columns)
        .where(
            *_conditions(filters, company, audience, employee=employee),
            column != "unknown",
            *extra,
        )
        .subquery("base")
    )
    if employee:
        base = _kept(base, company.analytics.k_anonymity, ATOM_WITH_TOUCHPOINT)
    source: Any = base
    rows = _run(
        engine,
        select(base.c.key, base.c.label, func.count())
        .select_from(source)
        .group_by(base.c.key, base.c.label),
    )
    people = _run(
        engine,
        select(base.c.key, func.count(distinct(base.c.conversation_id)))
        .select_from(source)
        .group_by(base.c.key),
    )
    counts: dict[str, dict[str, int]] = {}
    for key, label, n in rows:
        counts.setdefault(str(key), {})[str(label)] = int(n)
    return counts, {str(key): int(n) for key, n in people}


@dataclass
class MessageCounts:
    """Volume and both label mixes of one group (see :func:`message_counts`)."""

    volume: Counts
    sentiment: dict[str, int]
    sentiment_people: int
    emotion: dict[str, int]
    emotion_people: int


def message_counts(
    audience: str, by: str | None, *, engine: Engine, company: Company, filters: Filters
) -> dict[str, MessageCounts]:
    """:func:`volume_counts` and :func:`label_counts` (sentiment and emotion) in two queries.

    The numbers equal those three functions': each keeps its own employee atoms (all the
    rows for the volume; the rows with a sentiment, resp. emotion label, for the mixes), here
    as three flags per atom, so one scan of the rows feeds the three.

    Raises:
        NotApplicable: the filters or breakdown cannot apply to this audience.
        StorageError: the database failed.
    """
    employee = audience == "employee"
    check_applicable(audience, filters, by)
    dialect = engine.dialect.name
    columns = [
        _key_expr(by, company, dialect, employee=employee).label("key"),
        F.c.sentiment_label.label("sentiment"),
        F.c.emotion_label.label("emotion"),
        F.c.conversation_id,
    ]
    if employee:
        columns += _atom_columns(company, dialect, per_touchpoint=True)
    base = (
        select(*columns)
        .where(*_conditions(filters, company, audience, employee=employee))
        .subquery("base")
    )
    has_sentiment = base.c.sentiment != "unknown"
    has_emotion = base.c.emotion != "unknown"
    if employee:
        k = company.analytics.k_anonymity
        all_ok: Any = _in_kept_atoms(base, k, ATOM_WITH_TOUCHPOINT)
        sentiment_ok: Any = and_(
            has_sentiment, _in_kept_atoms(base, k, ATOM_WITH_TOUCHPOINT, has_sentiment)
        )
        emotion_ok: Any = and_(
            has_emotion, _in_kept_atoms(base, k, ATOM_WITH_TOUCHPOINT, has_emotion)
        )
        flags = [case((cond, 1), else_=0) for cond in (all_ok, sentiment_ok, emotion_ok)]
    else:
        all_ok, sentiment_ok, emotion_ok = true(), has_sentiment, has_emotion
        flags = []
    source: Any = base
    if employee:
        # Employees are few: one row per (key, person, labels, flags) and sums in Python
        # (the kept atoms are computed in this one query, not once per query).
        detail = _run(
            engine,
            select(
                base.c.key,
                base.c.conversation_id,
                base.c.sentiment,
                base.c.emotion,
                *flags,
                func.count(),
            )
            .select_from(source)
            .group_by(base.c.key, base.c.conversation_id, base.c.sentiment, base.c.emotion, *flags),
        )
        return _employee_messages(detail)
    rows = _run(
        engine,
        select(base.c.key, base.c.sentiment, base.c.emotion, *flags, func.count())
        .select_from(source)
        .group_by(base.c.key, base.c.sentiment, base.c.emotion, *flags),
    )

    # Respondents: one row per (key, person) with whether any of their rows counts for each
    # of the three, then sums (one sort instead of three COUNT(DISTINCT) trees).
    def any_of(cond: Any, name: str) -> Any:
        return func.max(case((cond, 1), else_=0)).label(name)

    persons = (
        select(
            base.c.key,
            any_of(all_ok, "a"),
            any_of(sentiment_ok, "s"),
            any_of(emotion_ok, "e"),
        )
        .select_from(source)
        .group_by(base.c.key, base.c.conversation_id)
        .subquery("persons")
    )
    people = _run(
        engine,
        select(
            persons.c.key, func.sum(persons.c.a), func.sum(persons.c.s), func.sum(persons.c.e)
        ).group_by(persons.c.key),
    )
    n: dict[str, int] = {}
    sentiments: dict[str, dict[str, int]] = {}
    emotions: dict[str, dict[str, int]] = {}
    for key, sentiment, emotion, count in rows:
        key, count = str(key), int(count)
        n[key] = n.get(key, 0) + count
        if sentiment != "unknown":
            group = sentiments.setdefault(key, {})
            group[str(sentiment)] = group.get(str(sentiment), 0) + count
        if emotion != "unknown":
            group = emotions.setdefault(key, {})
            group[str(emotion)] = group.get(str(emotion), 0) + count
    return {
        str(key): MessageCounts(
            Counts(n=n.get(str(key), 0), respondents=int(p_all or 0)),
            sentiments.get(str(key), {}),
            int(p_s or 0),
            emotions.get(str(key), {}),
            int(p_e or 0),
        )
        for key, p_all, p_s, p_e in people
    }


def _employee_messages(detail: Iterable[Any]) -> dict[str, MessageCounts]:
    """:class:`MessageCounts` per key from rows (key, person, sentiment, emotion, the three
    kept flags, count) of :func:`message_counts`."""
    n: dict[str, int] = {}
    labels: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    people: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for key, person, sentiment, emotion, a_ok, s_ok, e_ok, count in detail:
        key, count = str(key), int(count)
        sentiments, emotions = labels.setdefault(key, ({}, {}))
        everyone, by_sentiment, by_emotion = people.setdefault(key, (set(), set(), set()))
        if a_ok:
            n[key] = n.get(key, 0) + count
            everyone.add(person)
        if s_ok:
            sentiments[str(sentiment)] = sentiments.get(str(sentiment), 0) + count
            by_sentiment.add(person)
        if e_ok:
            emotions[str(emotion)] = emotions.get(str(emotion), 0) + count
            by_emotion.add(person)
    return {
        key: MessageCounts(
            Counts(n=n.get(key, 0), respondents=len(people[key][0])),
            labels[key][0],
            len(people[key][1]),
            labels[key][1],
            len(people[key][2]),
        )
        for key in people
    }


def volume_counts(
    audience: str, by: str | None, *, engine: Engine, company: Company, filters: Filters
) -> dict[str, Counts]:
    """Messages and respondents per key (employees: atoms of fewer than k left out).

    Raises:
        NotApplicable: the filters or breakdown cannot apply to this audience.
        StorageError: the database failed.
    """
    employee = audience == "employee"
    check_applicable(audience, filters, by)
    dialect = engine.dialect.name
    columns = [_key_expr(by, company, dialect, employee=employee).label("key"), F.c.conversation_id]
    if employee:
        columns += _atom_columns(company, dialect, per_touchpoint=True)
    base = (
        select(*columns)
        .where(*_conditions(filters, company, audience, employee=employee))
        .subquery("base")
    )
    if employee:
        base = _kept(base, company.analytics.k_anonymity, ATOM_WITH_TOUCHPOINT)
    source: Any = base
    rows = _run(
        engine,
        select(base.c.key, func.count(), func.count(distinct(base.c.conversation_id)))
        .select_from(source)
        .group_by(base.c.key),
    )
    return {str(key): Counts(n=int(n), respondents=int(p)) for key, n, p in rows}


# ---- alerts ------------------------------------------------------------------------------------


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _alerted() -> ColumnElement[bool]:
    # A correlated EXISTS: the feedback side is read from ix_feedback_alerts (period range)
    # and each row probes the outbox index, instead of one lookup per outbox row.
    # An alert is an issue a team must work (what the inbox lists); praise is not counted.
    outbox = AlertOutboxRecord.__table__
    return (
        select(literal(1))
        .where(outbox.c.feedback_id == F.c.id, outbox.c.kind == AlertKind.ISSUE.value)
        .exists()
    )


def _alert_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [_alerted()]
    if filters.audience is not None:
        conds.append(F.c.audience == filters.audience)
    if filters.start is not None:
        conds.append(F.c.created_at >= filters.start)
    if filters.end is not None:
        conds.append(F.c.created_at < filters.end)
    if filters.touchpoint is not None:
        conds.append(F.c.touchpoint == filters.touchpoint)
    if filters.team is not None:
        conds.append(F.c.team == filters.team)
    if filters.language is not None:
        conds.append(F.c.language == filters.language)
    if filters.channel is not None:
        conds.append(F.c.channel == filters.channel)
    return conds


def alert_statuses(*, engine: Engine, filters: Filters) -> dict[str, int]:
    """Issue alerts per current status (open, acknowledged, resolved): the three add up to
    the alerts of the period.

    Raises:
        StorageError: the database failed.
    """
    rows = _run(
        engine,
        select(F.c.status, func.count()).where(*_alert_conditions(filters)).group_by(F.c.status),
    )
    return {str(status): int(n) for status, n in rows}


def alert_counts(
    *, engine: Engine, filters: Filters
) -> dict[str, tuple[int, int, int, float | None, float | None]]:
    """Per team: alerts, acknowledged, resolved, mean seconds to acknowledge and to resolve.

    An alert is a feedback with at least one alert outbox row; "acknowledged" counts those
    with ``acknowledged_at`` (a resolution without acknowledgement counts as one at that time).

    Raises:
        StorageError: the database failed.
    """
    dialect = engine.dialect.name
    ack_at = func.coalesce(F.c.acknowledged_at, F.c.resolved_at)
    ack = _seconds(dialect, ack_at, F.c.created_at)
    res = _seconds(dialect, F.c.resolved_at, F.c.created_at)
    team_key = func.coalesce(F.c.team, literal_column("''"))
    rows = _run(
        engine,
        select(
            team_key,
            func.count(),
            func.count(ack_at),
            func.count(F.c.resolved_at),
            func.avg(ack),
            func.avg(res),
        )
        .where(*_alert_conditions(filters))
        .group_by(team_key),
    )
    return {
        str(team): (
            int(n),
            int(a),
            int(r),
            float(ma) if ma is not None else None,
            float(mr) if mr is not None else None,
        )
        for team, n, a, r, ma, mr in rows
    }


def median_seconds(
    which: str, *, engine: Engine, filters: Filters, by_team: bool = False
) -> dict[str, float]:
    """Median seconds from creation to acknowledgement (``ack``) or resolution (``resolve``).

    One SQL query with window functions (``row_number``/``count`` over the ordered durations,
    then the mean of the one or two middle values), on SQLite and PostgreSQL alike.

    Returns:
        ``{team: median}`` when ``by_team`` (``""`` for no team), else ``{"all": median}``;
        groups without any duration are absent.

    Raises:
        StorageError: the database failed.
    """
    dialect = engine.dialect.name
    at = func.coalesce(F.c.acknowledged_at, F.c.resolved_at) if which == "ack" else F.c.resolved_at
    group = func.coalesce(F.c.team, literal_column("''")) if by_team else literal_column("'all'")
    durations = (
        select(group.label("grp"), _seconds(dialect, at, F.c.created_at).label("secs"))
        .where(*_alert_conditions(filters), at.is_not(None))
        .subquery("durations")
    )
    ranked = select(
        durations.c.grp,
        durations.c.secs,
        func.row_number().over(partition_by=durations.c.grp, order_by=durations.c.secs).label("rn"),
        func.count().over(partition_by=durations.c.grp).label("cnt"),
    ).subquery("ranked")
    middle = (
        select(ranked.c.grp, func.avg(ranked.c.secs))
        .where(ranked.c.rn.in_([(ranked.c.cnt + 1) // 2, (ranked.c.cnt + 2) // 2]))
        .group_by(ranked.c.grp)
    )
    return {str(grp): float(value) for grp, value in _run(engine, middle) if value is not None}


# ---- comments ----------------------------------------------------------------------------------


def comment_rows(
    audience: str, *, engine: Engine, company: Company, filters: Filters, limit: int
) -> list[Any]:
    """The newest comments with text (employees: only from atoms of at least k people).

    Raises:
        NotApplicable: the filters cannot apply to this audience.
        StorageError: the database failed.
    """
    employee = audience == "employee"
    check_applicable(audience, filters, None)
    dialect = engine.dialect.name
    base = (
        select(
            F.c.id,
            F.c.text,
            F.c.redacted,
            F.c.touchpoint,
            F.c.language,
            F.c.sentiment_label,
            F.c.emotion_label,
            F.c.rating,
            F.c.scale,
            F.c.created_at,
            F.c.conversation_id,
            *_atom_columns(company, dialect, per_touchpoint=True),
        )
        .where(*_conditions(filters, company, audience, employee=employee), F.c.text != "")
        .subquery("base")
    )
    if employee:
        base = _kept(base, company.analytics.k_anonymity, ATOM_WITH_TOUCHPOINT)
    source: Any = base
    statement = (
        select(
            base.c.text,
            base.c.redacted,
            base.c.touchpoint,
            base.c.language,
            base.c.sentiment_label,
            base.c.emotion_label,
            base.c.rating,
            base.c.scale,
            base.c.week,
        )
        .select_from(source)
        .order_by(base.c.created_at.desc(), base.c.id.desc())
        .limit(limit)
    )
    return _run(engine, statement)


def recent_customer_alerts(engine: Engine, filters: Any, *, limit: int) -> list[Any]:
    """The latest customer feedback that raised an issue alert, newest first (at most
    ``limit``; employee alerts are counted elsewhere, never listed). ``filters`` narrows by
    period, team, language and channel when it has them."""
    f = FeedbackRecord
    query = (
        select(
            f.id, f.created_at, f.touchpoint, f.team, f.severity, f.status,
            f.acknowledged_at, f.resolved_at,
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
    )  # fmt: skip
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
    try:
        with engine.connect() as connection:
            return list(connection.execute(query).all())
    except SQLAlchemyError as exc:
        raise StorageError(f"the recent alerts could not be read: {type(exc).__name__}") from exc
