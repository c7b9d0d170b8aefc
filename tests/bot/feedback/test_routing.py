"""Tests of bot/feedback/routing.py: ordered severity rules, teams, alert kinds (pure, no
database)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.company import Company, SeverityRule
from bot.domain import AlertKind, Audience, Kind, RatingScale, Severity
from bot.feedback.routing import Signals, is_negative, route, rule_matches


def signals(
    fakes: Any,
    *,
    text: str = "",
    touchpoint: str | None = "delivery",
    sentiment: tuple[float, float, float] = (0.1, 0.8, 0.1),
    emotion: str = "neutral",
    audience: Audience = Audience.CUSTOMER,
    scored: bool = True,
    **kw: Any,
) -> Signals:
    return Signals(
        audience=audience,
        text=text,
        touchpoint=touchpoint,
        sentiment=fakes.sentiment(*sentiment) if scored else {},
        emotions=fakes.emotions(emotion) if scored else {},
        scored=scored,
        **kw,
    )


def test_harassment_keyword_is_urgent_and_confidential(company: Company, fakes: Any) -> None:
    decision = route(
        signals(fakes, text="Il y a du harcèlement", touchpoint="store"), company=company
    )
    assert decision.severity is Severity.URGENT and decision.confidential
    assert decision.rule == "safety-or-harassment" and decision.team == "stores"


def test_safety_touchpoint_is_urgent_and_confidential(company: Company, fakes: Any) -> None:
    decision = route(
        signals(fakes, touchpoint="safety", audience=Audience.EMPLOYEE, sentiment=(0.2, 0.7, 0.1)),
        company=company,
    )
    assert (decision.severity, decision.confidential, decision.team) == (
        Severity.URGENT,
        True,
        "hr",
    )
    assert decision.alert is AlertKind.ISSUE  # not negative-looking, still a human must see it


@pytest.mark.parametrize(
    ("sentiment", "emotion", "rating", "severity", "rule"),
    [
        ((0.7, 0.2, 0.1), "anger", 2, Severity.URGENT, "angry-low-rating"),
        ((0.7, 0.2, 0.1), "anger", 3, Severity.NORMAL, "negative"),
        ((0.85, 0.1, 0.05), "sadness", None, Severity.HIGH, "very-negative"),
        ((0.8, 0.1, 0.1), "sadness", None, Severity.HIGH, "very-negative"),
        ((0.79, 0.11, 0.1), "sadness", None, Severity.NORMAL, "negative"),
        ((0.1, 0.6, 0.3), "frustration", None, Severity.NORMAL, "negative"),
        ((0.1, 0.7, 0.2), "neutral", 1, Severity.NORMAL, "negative"),
        ((0.05, 0.1, 0.85), "joy", 5, Severity.LOW, "praise"),
        ((0.1, 0.8, 0.1), "neutral", 4, Severity.LOW, "neutral"),
    ],
)
def test_ordered_rules(
    company: Company,
    fakes: Any,
    sentiment: tuple[float, float, float],
    emotion: str,
    rating: int | None,
    severity: Severity,
    rule: str,
) -> None:
    decision = route(
        signals(
            fakes,
            sentiment=sentiment,
            emotion=emotion,
            rating=rating,
            scale=RatingScale.CSAT if rating is not None else None,
        ),
        company=company,
    )
    assert (decision.severity, decision.rule) == (severity, rule)
    assert rule in decision.reason


def test_alert_kinds(company: Company, fakes: Any) -> None:
    negative = route(signals(fakes, sentiment=(0.9, 0.05, 0.05), emotion="anger"), company=company)
    assert negative.alert is AlertKind.ISSUE and negative.negative
    praise = route(signals(fakes, sentiment=(0.0, 0.1, 0.9), emotion="joy"), company=company)
    assert praise.alert is AlertKind.PRAISE and not praise.negative and praise.team == "logistics"
    neutral = route(signals(fakes), company=company)
    assert neutral.alert is None and neutral.team == "logistics"
    assert "no alert" in neutral.reason


def test_no_touchpoint(company: Company, fakes: Any) -> None:
    neutral = route(signals(fakes, touchpoint=None), company=company)
    assert neutral.team is None and neutral.alert is None
    praise = route(
        signals(fakes, touchpoint=None, sentiment=(0, 0.1, 0.9), emotion="joy"), company=company
    )
    assert praise.team is None and praise.alert is None  # no owner to praise
    unhappy = route(
        signals(fakes, touchpoint=None, sentiment=(0.9, 0.1, 0), emotion="anger"),
        company=company,
    )
    assert unhappy.team == "customer_care" and unhappy.alert is AlertKind.ISSUE
    employee = route(
        signals(
            fakes,
            touchpoint=None,
            sentiment=(0.9, 0.1, 0),
            emotion="sadness",
            audience=Audience.EMPLOYEE,
        ),
        company=company,
    )
    assert employee.team == "hr"


def test_unscored_message_is_routed_by_touchpoint_and_rating(company: Company, fakes: Any) -> None:
    plain = route(signals(fakes, scored=False), company=company)
    assert (plain.severity, plain.rule, plain.alert) == (
        Severity.NORMAL,
        "unscored",
        AlertKind.ISSUE,
    )
    assert "model unavailable" in plain.reason
    low = route(
        signals(fakes, scored=False, rating=1, scale=RatingScale.CSAT, touchpoint=None),
        company=company,
    )
    assert low.negative and low.team == "customer_care"


def test_followup_goes_to_the_parent_team(company: Company, fakes: Any) -> None:
    decision = route(
        signals(fakes, touchpoint=None, kind=Kind.FOLLOWUP), company=company, parent_team="billing"
    )
    assert decision.team == "billing" and decision.alert is AlertKind.FOLLOWUP


def test_is_negative(company: Company, fakes: Any) -> None:
    assert is_negative(signals(fakes, sentiment=(0.6, 0.3, 0.1)), company)
    assert is_negative(signals(fakes, emotion="fear"), company)
    assert not is_negative(signals(fakes, emotion="surprise"), company)
    assert is_negative(signals(fakes, rating=6, scale=RatingScale.NPS), company)
    assert not is_negative(signals(fakes, rating=7, scale=RatingScale.NPS), company)
    assert not is_negative(signals(fakes, scored=False), company)


def test_every_condition(company: Company, fakes: Any) -> None:
    base = signals(
        fakes,
        text="colis perdu",
        sentiment=(0.7, 0.2, 0.1),
        emotion="fear",
        rating=3,
        scale=RatingScale.CSAT,
    )

    def match(**when: Any) -> bool:
        rule = SeverityRule.model_validate({"name": "r", "when": when, "severity": "high"})
        return rule_matches(rule, base, company)

    assert match()
    assert match(audience="customer") and not match(audience="employee")
    assert match(touchpoint_in=["delivery"]) and not match(touchpoint_in=["store"])
    assert match(keywords_any=["perdu"]) and not match(keywords_any=["volé"])
    assert match(sentiment_in=["negative"]) and not match(sentiment_in=["positive"])
    assert match(sentiment_at_least={"negative": 0.7})
    assert not match(sentiment_at_least={"negative": 0.71})
    assert match(emotion_in=["fear"]) and not match(emotion_in=["anger"])
    assert match(emotion_at_least={"fear": 0.5}) and not match(emotion_at_least={"joy": 0.5})
    assert match(rating_at_most=3) and not match(rating_at_most=2)
    assert match(rating_at_least=3) and not match(rating_at_least=4)
    assert match(scale_in=["csat"]) and not match(scale_in=["nps"])
    assert match(negative=True) and not match(negative=False)
    assert match(scored=True) and not match(scored=False)


def test_configuration_without_catch_all_stores_without_alert(company: Company, fakes: Any) -> None:
    strict = company.model_copy(update={"severity_rules": company.severity_rules[:1]})
    decision = route(signals(fakes, sentiment=(0.9, 0.05, 0.05)), company=strict)
    assert decision.alert is None and decision.severity is Severity.LOW and decision.rule == ""


def test_a_question_is_an_issue_for_its_team_whatever_its_tone(
    company: Company, fakes: Any
) -> None:
    cheerful = route(
        signals(fakes, sentiment=(0.0, 0.2, 0.8), emotion="joy", intent="ask"), company=company
    )
    assert cheerful.alert is AlertKind.ISSUE and cheerful.team == "logistics"
    assert cheerful.rule == "question" and cheerful.severity is Severity.NORMAL
    nowhere = route(signals(fakes, touchpoint=None, intent="ask"), company=company)
    assert nowhere.team == "customer_care" and nowhere.alert is AlertKind.ISSUE
    # the same words without the intent stay a neutral remark (no alert)
    assert route(signals(fakes), company=company).alert is None


def test_intent_in_condition(company: Company, fakes: Any) -> None:
    [rule] = [r for r in company.severity_rules if r.name == "question"]
    assert rule_matches(rule, signals(fakes, intent="ask"), company)
    assert not rule_matches(rule, signals(fakes, intent="suggest"), company)
    assert not rule_matches(rule, signals(fakes), company)


def test_a_complaint_is_negative_whatever_the_model_reads(company: Company, fakes: Any) -> None:
    # "la qualité est vraiment décevante": our model reads it positive, NLU a complaint
    cheerful = signals(fakes, sentiment=(0.1, 0.3, 0.6), emotion="joy", intent="complain")
    assert is_negative(cheerful, company)
    decision = route(cheerful, company=company)
    assert decision.negative and decision.alert is AlertKind.ISSUE
    assert decision.team == "logistics"
    nowhere = route(
        signals(fakes, touchpoint=None, sentiment=(0.1, 0.3, 0.6), intent="complain"),
        company=company,
    )
    assert nowhere.negative and nowhere.team == "customer_care"
    # praise read positive stays praise; the intent alone never makes a message positive
    praise = signals(fakes, sentiment=(0.1, 0.3, 0.6), emotion="joy", intent="praise")
    assert not is_negative(praise, company)
    assert route(praise, company=company).alert is AlertKind.PRAISE
    assert is_negative(
        signals(fakes, sentiment=(0.8, 0.1, 0.1), emotion="anger", intent="praise"), company
    )
