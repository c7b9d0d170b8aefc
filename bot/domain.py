"""The shared vocabulary of Vécu: who speaks, on which scale, how urgent, what kind of message,
why a team is told. Every layer may import it; it imports nothing from ``bot``."""

from __future__ import annotations

from enum import StrEnum


class Audience(StrEnum):
    """Who speaks."""

    CUSTOMER = "customer"
    EMPLOYEE = "employee"


class RatingScale(StrEnum):
    """The scale a rating was given on."""

    CSAT = "csat"  # 1-5
    NPS = "nps"  # 0-10
    ENPS = "enps"  # 0-10
    ENGAGEMENT = "engagement"  # 1-5
    EXPECTATION = "expectation"  # 1-5: the level a customer expects from a touchpoint (before it)
    MEANS = "means"  # 1-5: an employee has what they need to deliver a touchpoint well (proposed)
    MIRROR = "mirror"  # 1-5: how an employee thinks customers rate a touchpoint


class Severity(StrEnum):
    """How fast the owning team should react."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Kind(StrEnum):
    """What the message is in the conversation."""

    COMMENT = "comment"  # the person's own words about a touchpoint (prompted or not)
    FOLLOWUP = "followup"  # the answer to "what would have made it right?"
    PULSE = "pulse"  # an employee pulse answer
    EXPECTATION = "expectation"  # a customer's expectation of a touchpoint (Lefranc's "expected")
    PROPOSED = "proposed"  # an employee's answer about the means to deliver a touchpoint
    MIRROR = "mirror"  # an employee's estimate of how customers rate a touchpoint


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.LOW: 0,
    Severity.NORMAL: 1,
    Severity.HIGH: 2,
    Severity.URGENT: 3,
}


class AlertKind(StrEnum):
    """Why a team is told."""

    ISSUE = "issue"
    PRAISE = "praise"
    FOLLOWUP = "followup"
    ESCALATION = "escalation"  # a later rating raised the severity of a recorded feedback
    CLOSING = "closing"  # the message that tells the person how their issue was settled


NO_DESTINATION = "none"


PERSON_DESTINATION = "person"
"""Reserved destination of the closed loop's rows (the person who gave the feedback)."""
