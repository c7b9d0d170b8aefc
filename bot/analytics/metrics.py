"""The dashboard's numbers: scores with their n and intervals, mixes, gaps, mirror, EX ↔ CX, alerts.

This module owns the functions pages and ``GET /api/v1/metrics`` call (all keyword-only
``engine``, ``company``, ``filters``): :func:`summary`, :func:`breakdown`, :func:`trend`,
:func:`experiences` (Lefranc's four experiences and their gaps), :func:`mirror`,
:func:`ex_cx`, :func:`alert_times` and :func:`comments`. It turns the sums of
:mod:`bot.analytics.queries` into :class:`~bot.analytics.model.Stat` objects: no value without
its n, intervals at ``company.analytics.confidence``, employee groups below k suppressed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.analytics import queries as q
from bot.analytics.model import (
    REASON_K,
    REASON_NO_DATA,
    REASON_NO_TARGET,
    REASON_SMALL,
    AlertTimes,
    Cell,
    Comment,
    CustomerSummary,
    EmployeeSummary,
    ExCx,
    ExCxPoint,
    Filters,
    FourExperiences,
    Gap,
    Mirror,
    Mix,
    Stat,
    Status,
    Summary,
    widen_to_weeks,
)
from bot.analytics.stats import fisher_interval, newcombe, nps, pearson, wilson
from bot.errors import AnalyticsError
from bot.privacy.deidentify import deidentify

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.company import Company

SENTIMENTS = ("negative", "neutral", "positive")
MIN_CORRELATION_WEEKS = 4


# ---- building Stat objects -----------------------------------------------------------------------


def _hidden(metric: str, unit: str, status: Status, reason: str) -> Stat:
    return Stat(metric, unit, None, None, None, None, None, status, reason)


def suppressed(metric: str, unit: str = "percent") -> Stat:
    """A score hidden by k-anonymity (no value, no n, no interval)."""
    return _hidden(metric, unit, Status.SUPPRESSED, REASON_K)


def not_applicable(metric: str, reason: str, unit: str = "percent") -> Stat:
    """A score the filters cannot apply to."""
    return _hidden(metric, unit, Status.NOT_APPLICABLE, reason)


def _shown_status(n: int, company: Company) -> tuple[Status, str | None]:
    if n >= company.analytics.min_sample:
        return Status.OK, None
    return Status.SMALL_SAMPLE, REASON_SMALL


def stat_from_counts(metric: str, counts: q.Counts | None, *, company: Company) -> Stat:
    """The :class:`Stat` of ``metric`` from its sums (k-anonymity for employee metrics).

    Top-2 metrics: % of answers 4-5, Wilson interval. NPS metrics: %9-10 minus %0-6, trinomial
    interval. Employee metrics with fewer than k respondents are suppressed entirely.
    """
    spec = q.METRICS[metric]
    unit = "nps" if spec.method == "nps" else "percent"
    counts = counts or q.Counts()
    if spec.audience == "employee" and counts.respondents < company.analytics.k_anonymity:
        return suppressed(metric, unit)
    if counts.n == 0:
        return Stat(metric, unit, None, None, None, 0, 0, Status.NO_DATA, REASON_NO_DATA)
    confidence = company.analytics.confidence
    status, reason = _shown_status(counts.n, company)
    if spec.method == "nps":
        interval = nps(counts.promoters, counts.passives, counts.detractors, confidence=confidence)
        parts = {
            "promoters": counts.promoters,
            "passives": counts.passives,
            "detractors": counts.detractors,
        }
        assert interval is not None
        return Stat(
            metric,
            unit,
            interval.value,
            interval.low,
            interval.high,
            counts.n,
            counts.respondents,
            status,
            reason,
            parts,
        )
    share = wilson(counts.top2, counts.n, confidence=confidence)
    assert share is not None
    return Stat(
        metric,
        unit,
        100 * share.value,
        100 * share.low,
        100 * share.high,
        counts.n,
        counts.respondents,
        status,
        reason,
        {"top2": counts.top2, "other": counts.n - counts.top2},
    )


def _score(
    metric: str, *, engine: Engine, company: Company, filters: Filters, extra: Any = ()
) -> Stat:
    spec = q.METRICS[metric]
    try:
        counts = q.score_counts(
            metric, None, engine=engine, company=company, filters=filters, extra=extra
        )
    except q.NotApplicable as exc:
        return not_applicable(metric, exc.reason, "nps" if spec.method == "nps" else "percent")
    return stat_from_counts(metric, counts.get(q.ALL), company=company)


def _mix(
    kind: str,
    audience: str,
    labels: dict[str, int],
    people: int,
    *,
    company: Company,
) -> Mix:
    if audience == "employee" and people < company.analytics.k_anonymity:
        return Mix(kind, None, {}, Status.SUPPRESSED, REASON_K)
    n = sum(labels.values())
    if n == 0:
        return Mix(kind, 0, {}, Status.NO_DATA, REASON_NO_DATA)
    order = SENTIMENTS if kind == "sentiment" else tuple(company.emotion_groups)
    status, reason = _shown_status(n, company)
    shares: dict[str, Stat] = {}
    for label in (*order, *sorted(set(labels) - set(order))):
        count = labels.get(label, 0)
        share = wilson(count, n, confidence=company.analytics.confidence)
        assert share is not None
        shares[label] = Stat(
            "share",
            "percent",
            100 * share.value,
            100 * share.low,
            100 * share.high,
            n,
            people,
            status,
            reason,
            {"count": count},
        )
    return Mix(kind, n, shares, status, reason)


def mix(kind: str, audience: str, *, engine: Engine, company: Company, filters: Filters) -> Mix:
    """The sentiment (``kind="sentiment"``) or emotion-group mix of one audience's messages.

    Each message with text counts once, under its main label; shares carry Wilson intervals.
    """
    try:
        counts, people = q.label_counts(
            kind, audience, None, engine=engine, company=company, filters=filters
        )
    except q.NotApplicable as exc:
        return Mix(kind, None, {}, Status.NOT_APPLICABLE, exc.reason)
    return _mix(kind, audience, counts.get(q.ALL, {}), people.get(q.ALL, 0), company=company)


def _volume(audience: str, *, engine: Engine, company: Company, filters: Filters) -> int | None:
    try:
        counts = q.volume_counts(audience, None, engine=engine, company=company, filters=filters)
    except q.NotApplicable:
        return None
    found = counts.get(q.ALL, q.Counts())
    if audience == "employee" and found.respondents < company.analytics.k_anonymity:
        return None
    return found.n


def _messages(
    audience: str, *, engine: Engine, company: Company, filters: Filters
) -> tuple[int | None, Mix, Mix]:
    """:func:`_volume` and both :func:`mix` of ``audience`` from one scan (two queries)."""
    try:
        found = q.message_counts(audience, None, engine=engine, company=company, filters=filters)
    except q.NotApplicable as exc:
        return (
            None,
            Mix("sentiment", None, {}, Status.NOT_APPLICABLE, exc.reason),
            Mix("emotion", None, {}, Status.NOT_APPLICABLE, exc.reason),
        )
    counts = found.get(q.ALL, q.MessageCounts(q.Counts(), {}, 0, {}, 0))
    volume: int | None = counts.volume.n
    if audience == "employee" and counts.volume.respondents < company.analytics.k_anonymity:
        volume = None
    return (
        volume,
        _mix("sentiment", audience, counts.sentiment, counts.sentiment_people, company=company),
        _mix("emotion", audience, counts.emotion, counts.emotion_people, company=company),
    )


# ---- public functions ----------------------------------------------------------------------------


def summary(*, engine: Engine, company: Company, filters: Filters) -> Summary:
    """Customers' and employees' headline numbers (volume, scores, sentiment and emotion mixes).

    Raises:
        StorageError: the database failed.
    """
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": filters}
    customer_volume, customer_sentiment, customer_emotions = _messages("customer", **args)
    customer = CustomerSummary(
        volume=customer_volume,
        csat=_score("csat", **args),
        nps=_score("nps", **args),
        expected=_score("expected", **args),
        sentiment=customer_sentiment,
        emotions=customer_emotions,
    )
    employee_volume, employee_sentiment, employee_emotions = _messages("employee", **args)
    employee = EmployeeSummary(
        volume=employee_volume,
        enps=_score("enps", **args),
        engagement=_score("engagement", **args),
        proposed=_score("proposed", **args),
        mirror=_score("mirror", **args),
        sentiment=employee_sentiment,
        emotions=employee_emotions,
    )
    start, end = widen_to_weeks(filters.start, filters.end)
    return Summary(
        filters=filters,
        employee_start=start,
        employee_end=end,
        k=company.analytics.k_anonymity,
        min_sample=company.analytics.min_sample,
        confidence=company.analytics.confidence,
        customer=customer,
        employee=employee,
    )


def _label(by: str, key: str, company: Company) -> dict[str, str] | None:
    if by == "touchpoint" and (tp := company.touchpoint(key)) is not None:
        return dict(tp.labels)
    if by == "team" and (team := company.team(key)) is not None:
        return dict(team.labels)
    return None


def breakdown(
    metric: str, by: str, *, engine: Engine, company: Company, filters: Filters
) -> list[Cell]:
    """``metric`` per value of ``by`` (touchpoint, team, language, channel, audience or week).

    ``metric`` is a score of :data:`bot.analytics.queries.METRICS` or ``volume`` (then per
    audience of ``filters.audience``, customers by default). Employee cells below k are
    suppressed (their atoms never count anywhere); keys are sorted (weeks chronologically).

    Raises:
        AnalyticsError: unknown metric or dimension.
        StorageError: the database failed.
    """
    if by not in q.DIMENSIONS:
        raise AnalyticsError(f"by: expected one of {', '.join(q.DIMENSIONS)}")
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": filters}
    if metric == "volume":
        audience = filters.audience or "customer"
        try:
            vols = q.volume_counts(audience, by, **args)
        except q.NotApplicable:
            return []
        cells = []
        for key in sorted(vols):
            c = vols[key]
            hidden = audience == "employee" and c.respondents < company.analytics.k_anonymity
            stat = (
                suppressed("volume", "count")
                if hidden
                else Stat("volume", "count", float(c.n), None, None, c.n, c.respondents, Status.OK)
            )
            cells.append(Cell(key, _label(by, key, company), stat, None if hidden else c.n))
        return cells
    if metric not in q.METRICS:
        raise AnalyticsError(f"metric: expected volume or one of {', '.join(q.METRICS)}")
    try:
        counts = q.score_counts(metric, by, **args)
    except q.NotApplicable:
        return []
    out = []
    for key in sorted(counts):
        stat = stat_from_counts(metric, counts[key], company=company)
        out.append(Cell(key, _label(by, key, company), stat, stat.n))
    return out


def trend(metric: str, *, engine: Engine, company: Company, filters: Filters) -> list[Cell]:
    """``metric`` week by week (key: the ISO Monday, ``2026-11-16``)."""
    return breakdown(metric, "week", engine=engine, company=company, filters=filters)


def _gap_from_shares(
    name: str,
    a: Stat,
    b: Stat,
    *,
    company: Company,
) -> Gap:
    for side in (a, b):
        if not side.shown:
            reason = side.reason or REASON_NO_DATA
            status = Status.SUPPRESSED if side.status is Status.SUPPRESSED else Status.NO_DATA
            if side.status is Status.NOT_APPLICABLE:
                status = Status.NOT_APPLICABLE
            return Gap(name, None, None, None, status, reason)
    interval = newcombe(
        a.parts["top2"],
        a.n or 0,
        b.parts["top2"],
        b.n or 0,
        confidence=company.analytics.confidence,
    )
    assert interval is not None
    status = Status.OK if a.status is Status.OK and b.status is Status.OK else Status.SMALL_SAMPLE
    return Gap(
        name,
        100 * interval.value,
        100 * interval.low,
        100 * interval.high,
        status,
        None if status is Status.OK else REASON_SMALL,
    )


def _gap_from_target(name: str, target: float | None, b: Stat) -> Gap:
    if target is None:
        return Gap(name, None, None, None, Status.NO_DATA, REASON_NO_TARGET)
    if not b.shown or b.value is None or b.low is None or b.high is None:
        status = b.status if b.status is not Status.SMALL_SAMPLE else Status.NO_DATA
        return Gap(name, None, None, None, status, b.reason or REASON_NO_DATA)
    return Gap(name, target - b.value, target - b.high, target - b.low, b.status, b.reason)


def _share_of(
    labels: dict[str, int], wanted: list[str], people: int, *, company: Company, metric: str
) -> Stat:
    n = sum(labels.values())
    if n == 0:
        return Stat(metric, "percent", None, None, None, 0, 0, Status.NO_DATA, REASON_NO_DATA)
    hits = sum(labels.get(g, 0) for g in wanted)
    share = wilson(hits, n, confidence=company.analytics.confidence)
    assert share is not None
    status, reason = _shown_status(n, company)
    return Stat(
        metric,
        "percent",
        100 * share.value,
        100 * share.low,
        100 * share.high,
        n,
        people,
        status,
        reason,
        {"count": hits},
    )


def _touchpoint_filters(touchpoint: str, filters: Filters, company: Company) -> Filters:
    tp = company.touchpoint(touchpoint)
    if tp is None or tp.audience != "customer":
        raise AnalyticsError(f"touchpoint: unknown customer touchpoint {touchpoint!r}")
    return Filters(
        touchpoint=touchpoint,
        team=filters.team,
        audience=None,
        language=filters.language,
        channel=filters.channel,
        start=filters.start,
        end=filters.end,
    )


def _scores_by_touchpoint(
    metric: str, *, engine: Engine, company: Company, filters: Filters
) -> dict[str, Stat]:
    spec = q.METRICS[metric]
    try:
        counts = q.score_counts(
            metric, "touchpoint", engine=engine, company=company, filters=filters
        )
    except q.NotApplicable as exc:
        hidden = not_applicable(metric, exc.reason, "nps" if spec.method == "nps" else "percent")
        return {key: hidden for key in company.touchpoints}
    return {
        key: stat_from_counts(metric, counts.get(key), company=company)
        for key in company.touchpoints
    }


def _four(
    touchpoint: str,
    scores: dict[str, dict[str, Stat]],
    labels: dict[str, int],
    who: int,
    *,
    company: Company,
) -> FourExperiences:
    tp = company.touchpoints[touchpoint]
    proposed = scores["proposed"][touchpoint]
    expected = scores["expected"][touchpoint]
    lived = scores["csat"][touchpoint]
    targets = tp.targets
    wanted = list(targets.emotions_wanted) if targets else []
    unwanted = list(targets.emotions_unwanted) if targets else []
    intended = targets.csat if targets else None
    gaps = [
        _gap_from_target("intended_proposed", intended, proposed),
        _gap_from_shares("expected_lived", expected, lived, company=company),
        _gap_from_shares("proposed_lived", proposed, lived, company=company),
        _gap_from_target("intended_lived", intended, lived),
    ]
    return FourExperiences(
        touchpoint=touchpoint,
        label=dict(tp.labels),
        team=tp.team,
        intended=intended,
        intended_nps=targets.nps if targets else None,
        proposed=proposed,
        expected=expected,
        lived=lived,
        lived_nps=scores["nps"][touchpoint],
        emotions=_mix("emotion", "customer", labels, who, company=company),
        emotions_wanted=wanted,
        emotions_unwanted=unwanted,
        wanted_share=_share_of(labels, wanted, who, company=company, metric="wanted_share"),
        unwanted_share=_share_of(labels, unwanted, who, company=company, metric="unwanted_share"),
        gaps=gaps,
    )


def experiences_all(
    *, engine: Engine, company: Company, filters: Filters
) -> tuple[dict[str, FourExperiences], dict[str, Mirror]]:
    """:func:`experiences` and :func:`mirror` of every customer touchpoint, in 7 queries.

    Each score is one GROUP BY touchpoint (the same rows and employee atoms as one query per
    touchpoint would read), so the numbers equal those of :func:`experiences`.

    Raises:
        StorageError: the database failed.
    """
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": filters}
    scores = {
        metric: _scores_by_touchpoint(metric, **args)
        for metric in ("proposed", "expected", "csat", "nps", "mirror")
    }
    try:
        counts, people = q.label_counts("emotion", "customer", "touchpoint", **args)
    except q.NotApplicable:
        counts, people = {}, {}
    four: dict[str, FourExperiences] = {}
    mirrors: dict[str, Mirror] = {}
    for key, tp in company.touchpoints.items():
        if tp.audience != "customer":
            continue
        four[key] = _four(key, scores, counts.get(key, {}), people.get(key, 0), company=company)
        employees, customers = scores["mirror"][key], scores["csat"][key]
        mirrors[key] = Mirror(
            key,
            employees,
            customers,
            _gap_from_shares("mirror", employees, customers, company=company),
        )
    return four, mirrors


def experiences(
    touchpoint: str, *, engine: Engine, company: Company, filters: Filters
) -> FourExperiences:
    """Lefranc's four experiences of a customer touchpoint, on the common 0-100 scale, and gaps.

    Gaps (first minus second, percentage points): intended − proposed (strategy vs means),
    expected − lived (satisfaction), proposed − lived, intended − lived. A target has no
    error; two measured shares get Newcombe's interval.

    Raises:
        AnalyticsError: not a customer touchpoint.
        StorageError: the database failed.
    """
    tp_filters = _touchpoint_filters(touchpoint, filters, company)
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": tp_filters}
    scores = {
        metric: {touchpoint: _score(metric, **args)}
        for metric in ("proposed", "expected", "csat", "nps")
    }
    counts, people = q.label_counts("emotion", "customer", None, **args)
    return _four(touchpoint, scores, counts.get(q.ALL, {}), people.get(q.ALL, 0), company=company)


def mirror(touchpoint: str, *, engine: Engine, company: Company, filters: Filters) -> Mirror:
    """Employees' estimate of customers' CSAT for ``touchpoint`` beside the customers' own.

    Raises:
        AnalyticsError: not a customer touchpoint.
        StorageError: the database failed.
    """
    tp_filters = _touchpoint_filters(touchpoint, filters, company)
    args: dict[str, Any] = {"engine": engine, "company": company, "filters": tp_filters}
    employees = _score("mirror", **args)
    customers = _score("csat", **args)
    return Mirror(
        touchpoint,
        employees,
        customers,
        _gap_from_shares("mirror", employees, customers, company=company),
    )


def _verdict(r: float | None, low: float | None, high: float | None, n: int) -> str:
    if r is None or low is None or high is None or n < MIN_CORRELATION_WEEKS:
        return "too_few"
    if low <= 0 <= high:
        return "no_evidence"
    size = abs(r)
    strength = "weak" if size < 0.3 else "moderate" if size < 0.5 else "strong"
    return f"{'positive' if r > 0 else 'negative'}_{strength}"


def ex_cx(
    team: str | None = None, *, engine: Engine, company: Company, filters: Filters
) -> list[ExCx]:
    """Per team owning customer touchpoints: weekly EX beside weekly CX, and their correlation.

    EX = % favourable (4-5) answers of the team's employees to the 1-5 questions (engagement,
    means), k-anonymous per week; CX = CSAT % on the customer touchpoints the team owns.
    Pearson's r over the weeks that have both, Fisher-z interval, and a verdict in words
    (``analytics.excx.<verdict>``): too few weeks, no evidence (interval spans 0), or the
    direction and strength.

    Raises:
        AnalyticsError: unknown team.
        StorageError: the database failed.
    """
    if team is not None and company.team(team) is None:
        raise AnalyticsError(f"team: unknown team {team!r}")
    teams = [team] if team else list(company.teams)
    out = []
    for key in teams:
        owned = q.owned_touchpoints(company, key)
        if not owned:
            continue
        base = Filters(start=filters.start, end=filters.end)
        try:
            cx = q.score_counts(
                "csat",
                "week",
                engine=engine,
                company=company,
                filters=base,
                extra=[q.F.c.touchpoint.in_(owned)],
            )
            ex = q.score_counts(
                "ex",
                "week",
                engine=engine,
                company=company,
                filters=Filters(team=key, start=filters.start, end=filters.end),
            )
        except q.NotApplicable:  # pragma: no cover - these filters always apply
            continue
        points = []
        xs: list[float] = []
        ys: list[float] = []
        k = company.analytics.k_anonymity
        for week in sorted(set(cx) | set(ex)):
            c = cx.get(week)
            e = ex.get(week)
            cx_value = 100 * c.top2 / c.n if c and c.n else None
            ex_value = 100 * e.top2 / e.n if e and e.n and e.respondents >= k else None
            points.append(
                ExCxPoint(
                    week,
                    ex_value,
                    cx_value,
                    e.n if ex_value is not None and e else None,
                    c.n if c else 0,
                )
            )
            if ex_value is not None and cx_value is not None:
                xs.append(ex_value)
                ys.append(cx_value)
        r = pearson(xs, ys) if len(xs) >= 2 else None
        interval = (
            fisher_interval(r, len(xs), confidence=company.analytics.confidence)
            if r is not None
            else None
        )
        low, high = (interval.low, interval.high) if interval else (None, None)
        verdict = _verdict(r, low, high, len(xs))
        out.append(
            ExCx(
                team=key,
                label=dict(company.teams[key].labels),
                touchpoints=owned,
                points=points,
                r=r,
                low=low,
                high=high,
                n=len(xs),
                verdict=verdict,
                words=f"analytics.excx.{verdict}",
            )
        )
    return out


def _hours_stat(metric: str, median_s: float | None, n: int, mean_s: float | None) -> Stat:
    if median_s is None or n == 0:
        return Stat(metric, "hours", None, None, None, 0, None, Status.NO_DATA, REASON_NO_DATA)
    parts = {"mean_s": round(mean_s)} if mean_s is not None else {}
    return Stat(metric, "hours", median_s / 3600, None, None, n, None, Status.OK, None, parts)


def alert_times(*, engine: Engine, company: Company, filters: Filters) -> AlertTimes:
    """Alerts and the median hours to acknowledge and to resolve them, overall and per team.

    Raises:
        StorageError: the database failed.
    """
    per_team = q.alert_counts(engine=engine, filters=filters)
    acked = sum(v[1] for v in per_team.values())
    resolved = sum(v[2] for v in per_team.values())

    def weighted(index: int, count_index: int) -> float | None:
        pairs = [(float(v[index] or 0.0), int(v[count_index] or 0)) for v in per_team.values()]
        pairs = [(mean, n) for mean, n in pairs if n]
        den = sum(n for _, n in pairs)
        return sum(mean * n for mean, n in pairs) / den if den else None

    team_medians = q.median_seconds("ack", engine=engine, filters=filters, by_team=True)
    by_team = []
    for key in sorted(per_team):
        n, a, _, mean_ack, _ = per_team[key]
        stat = _hours_stat("ack_hours", team_medians.get(key), a, mean_ack)
        by_team.append(Cell(key, _label("team", key, company), stat, n))
    statuses = q.alert_statuses(engine=engine, filters=filters)
    return AlertTimes(
        alerts=sum(statuses.values()),
        acknowledged=statuses.get("acknowledged", 0),
        resolved=statuses.get("resolved", 0),
        open=statuses.get("open", 0),
        ack_hours=_hours_stat(
            "ack_hours",
            q.median_seconds("ack", engine=engine, filters=filters).get(q.ALL),
            acked,
            weighted(3, 1),
        ),
        resolve_hours=_hours_stat(
            "resolve_hours",
            q.median_seconds("resolve", engine=engine, filters=filters).get(q.ALL),
            resolved,
            weighted(4, 2),
        ),
        by_team=by_team,
    )


def comments(
    *,
    engine: Engine,
    company: Company,
    filters: Filters,
    limit: int = 50,
    redact: Callable[..., str] = deidentify,
) -> list[Comment]:
    """The newest comments for the filters, de-identified, week only, without any id.

    Each text goes through ``redact`` (:func:`bot.privacy.deidentify.deidentify`: called with the
    text, its language and the keywords ``redacted`` and ``company``), so a comment stored
    before redaction existed is redacted as it is read.

    Customers' and employees' comments both (``filters.audience`` picks one); employees' only
    from groups of at least k people and only with the filters employee data accepts.

    Raises:
        StorageError: the database failed.
    """
    limit = max(1, min(int(limit), 500))
    audiences = [filters.audience] if filters.audience else ["customer", "employee"]
    rows: list[Any] = []
    for audience in audiences:
        try:
            found = q.comment_rows(
                audience, engine=engine, company=company, filters=filters, limit=limit
            )
        except q.NotApplicable:
            continue
        rows.extend((audience, row) for row in found)
    rows.sort(key=lambda pair: pair[1].week, reverse=True)
    return [
        Comment(
            text=redact(row.text, row.language, redacted=bool(row.redacted), company=company),
            audience=audience,
            touchpoint=row.touchpoint,
            language=row.language,
            sentiment=row.sentiment_label,
            emotion=row.emotion_label,
            rating=row.rating,
            scale=row.scale,
            week=str(row.week),
        )
        for audience, row in rows[:limit]
    ]


def rounded(value: Any, digits: int = 1) -> Any:
    """Floats rounded for JSON (``None`` and non-finite values become ``None``)."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    return value
