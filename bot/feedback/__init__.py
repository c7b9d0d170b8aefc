"""Feedback: what people said, scored, routed and stored.

:mod:`~bot.feedback.intake` records a message (score, redact, touchpoint, team, severity, alert
rows, in one transaction) and a later rating; :mod:`~bot.feedback.query` reads feedback back;
:mod:`~bot.feedback.touchpoints` and :mod:`~bot.feedback.routing` decide where it goes;
:mod:`~bot.feedback.lefranc` and :mod:`~bot.feedback.declines` record the gaps' questions and
refusals. The names below are the package's public surface.
"""

from bot.feedback.intake import (
    Message,
    Outcome,
    clean_text,
    cut_text,
    names_touchpoint,
    record,
    set_rating,
    valid_rating,
)
from bot.feedback.query import FeedbackView, iter_feedback, query

__all__ = [
    "FeedbackView",
    "Message",
    "Outcome",
    "clean_text",
    "cut_text",
    "iter_feedback",
    "names_touchpoint",
    "query",
    "record",
    "set_rating",
    "valid_rating",
]
