"""Routing: which team is told about a message, how urgently, and whether the text is hidden.

This module owns the evaluation of the company's ordered severity rules (first match wins)
and the team decision:

* the team is the touchpoint's owner; a *negative* message with no touchpoint goes to the
  audience's ``fallback_team`` (if configured); anything else without a touchpoint has no team;
* the matched rule gives the severity, ``confidential`` (no excerpt in alerts) and ``alert``
  (whether the team is told at all: by default neutral messages are stored, not alerted);
* a message is *negative* when the model reads it negative (sentiment or main emotion), when it
  is mixed, when its rating is low, or when NLU calls it a complaint (:data:`COMPLAINT_INTENTS`);
* the alert kind is ``issue`` for negative messages, ``praise`` for positive ones (praise
  reaches the team too), ``followup`` for answers to the empathetic follow-up, and
  ``issue`` when the model was unavailable (a human should look).

It is pure: no database, no I/O; :func:`bot.feedback.intake.record` calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.company import Company, RuleConditions, SeverityRule
from bot.domain import AlertKind, Audience, Kind, RatingScale, Severity
from bot.feedback.touchpoints import KeywordMatcher

UNKNOWN = "unknown"

COMPLAINT_INTENTS: frozenset[str] = frozenset({"complain"})
"""NLU intents that make a message negative whatever the model reads. Our sentiment head
misreads some plain French complaints ("la qualité est vraiment décevante": positive 0.53,
"votre service client est injoignable": 0.53) where the intent classifier, which reads the
words and the original encoder, says complaint (0.71, 0.77): such a message must get the
empathetic reply, the follow-up and an issue alert, never "great to hear"."""


@dataclass(frozen=True)
class Signals:
    """What the rules look at for one message.

    Attributes:
        audience: who speaks.
        text: the message.
        touchpoint: the touchpoint decided for it (or ``None``).
        sentiment: probability per sentiment label (empty when unscored).
        emotions: probability per emotion group (empty when unscored).
        rating: the rating given, if any.
        scale: the scale of ``rating``.
        kind: comment, follow-up or pulse.
        scored: ``False`` when the model was unavailable (empty scores then mean "unknown").
        mixed: the message praises one thing and reports a problem with another
            (:mod:`bot.scoring.polarity`): the problem makes it negative.
        intent: the NLU intent, when known (rules may ask for it: ``intent_in``).
    """

    audience: Audience
    text: str
    touchpoint: str | None
    sentiment: Mapping[str, float]
    emotions: Mapping[str, float]
    rating: int | None = None
    scale: RatingScale | None = None
    kind: Kind = Kind.COMMENT
    scored: bool = True
    mixed: bool = False
    intent: str | None = None

    @property
    def sentiment_label(self) -> str:
        """The most probable sentiment, or ``unknown``."""
        if not self.sentiment:
            return UNKNOWN
        return max(self.sentiment, key=lambda k: self.sentiment[k])

    @property
    def emotion_label(self) -> str:
        """The most probable emotion group, or ``unknown``."""
        if not self.emotions:
            return UNKNOWN
        return max(self.emotions, key=lambda k: self.emotions[k])


@dataclass(frozen=True)
class RoutingDecision:
    """The routing of one message.

    Attributes:
        team: the team told (``None`` when nobody owns it).
        severity: from the first matching rule.
        confidential: alerts carry no excerpt.
        alert: the kind of alert to send, or ``None`` when the team is not told.
        rule: the name of the rule that matched.
        reason: a short, log-friendly explanation (not user-facing).
        negative: whether the message is negative (calls for the empathetic follow-up).
    """

    team: str | None
    severity: Severity
    confidential: bool
    alert: AlertKind | None
    rule: str
    reason: str
    negative: bool


def is_negative(signals: Signals, company: Company) -> bool:
    """Negative or mixed sentiment, a negative main emotion, a complaint (the NLU intent), or a
    low rating on its scale."""
    if signals.mixed or signals.sentiment_label == "negative":
        return True
    if signals.intent in COMPLAINT_INTENTS:
        return True
    if signals.emotions and signals.emotion_label in company.negative_emotions:
        return True
    return company.is_low_rating(signals.rating, signals.scale)


_KEYWORD_MATCHERS: dict[int, tuple[SeverityRule, KeywordMatcher]] = {}


def _keywords(rule: SeverityRule) -> KeywordMatcher:
    cached = _KEYWORD_MATCHERS.get(id(rule))
    if cached is not None and cached[0] is rule:
        return cached[1]
    matcher = KeywordMatcher(rule.when.keywords_any or ())
    if len(_KEYWORD_MATCHERS) > 256:
        _KEYWORD_MATCHERS.clear()
    _KEYWORD_MATCHERS[id(rule)] = (rule, matcher)
    return matcher


def rule_matches(
    rule: SeverityRule, signals: Signals, company: Company, *, negative: bool | None = None
) -> bool:
    """Whether every condition of ``rule`` holds for ``signals``."""
    cond: RuleConditions = rule.when
    if cond.audience is not None and cond.audience != signals.audience.value:
        return False
    if cond.intent_in is not None and signals.intent not in cond.intent_in:
        return False
    if cond.touchpoint_in is not None and signals.touchpoint not in cond.touchpoint_in:
        return False
    if cond.keywords_any is not None and not _keywords(rule).matches(signals.text):
        return False
    if cond.sentiment_in is not None and signals.sentiment_label not in cond.sentiment_in:
        return False
    if cond.sentiment_at_least is not None and any(
        signals.sentiment.get(label, -1.0) < p for label, p in cond.sentiment_at_least.items()
    ):
        return False
    if cond.emotion_in is not None and signals.emotion_label not in cond.emotion_in:
        return False
    if cond.emotion_at_least is not None and any(
        signals.emotions.get(group, -1.0) < p for group, p in cond.emotion_at_least.items()
    ):
        return False
    if cond.rating_at_most is not None and (
        signals.rating is None or signals.rating > cond.rating_at_most
    ):
        return False
    if cond.rating_at_least is not None and (
        signals.rating is None or signals.rating < cond.rating_at_least
    ):
        return False
    if cond.scale_in is not None and (
        signals.scale is None or RatingScale(signals.scale).value not in cond.scale_in
    ):
        return False
    if cond.negative is not None:
        value = is_negative(signals, company) if negative is None else negative
        if value != cond.negative:
            return False
    return cond.scored is None or cond.scored == signals.scored


def route(signals: Signals, *, company: Company, parent_team: str | None = None) -> RoutingDecision:
    """Decide team, severity, confidentiality and alert for one message.

    Args:
        signals: what is known about the message.
        company: the company configuration (rules, teams, fallback teams).
        parent_team: for a follow-up, the team told about the feedback it answers.

    Returns:
        The decision. When no rule matches (a configuration without a catch-all rule), the
        message is stored with ``low`` severity and no alert.
    """
    negative = is_negative(signals, company)
    matched: SeverityRule | None = None
    for rule in company.severity_rules:
        if rule_matches(rule, signals, company, negative=negative):
            matched = rule
            break
    team = company.team_for(signals.touchpoint)
    team_reason = f"touchpoint {signals.touchpoint} is owned by {team}" if team else ""
    if team is None and signals.kind is Kind.FOLLOWUP and parent_team:
        team, team_reason = parent_team, f"follow-up of a feedback routed to {parent_team}"
    answer = matched is not None and matched.answer  # a question: the team must answer it
    if team is None and (negative or answer or (matched is not None and matched.confidential)):
        team = company.fallback_team.get(signals.audience.value)
        team_reason = f"no touchpoint: fallback team {team}" if team else "no touchpoint"
    if matched is None:
        return RoutingDecision(
            team, Severity.LOW, False, None, "", "no severity rule matched", negative
        )
    alert: AlertKind | None = None
    if team is not None and (matched.alert or (signals.kind is Kind.FOLLOWUP and parent_team)):
        if signals.kind is Kind.FOLLOWUP:
            alert = AlertKind.FOLLOWUP
        elif negative or not signals.scored or answer:
            alert = AlertKind.ISSUE
        elif signals.sentiment_label == "positive":
            alert = AlertKind.PRAISE
        else:
            alert = AlertKind.ISSUE
    reason = "; ".join(
        part
        for part in (
            f"rule {matched.name} → {matched.severity.value}",
            team_reason,
            "negative" if negative else "",
            "" if signals.scored else "model unavailable",
            "" if alert else "no alert",
        )
        if part
    )
    return RoutingDecision(
        team=team,
        severity=Severity(matched.severity),
        confidential=matched.confidential,
        alert=alert,
        rule=matched.name,
        reason=reason,
        negative=negative,
    )
