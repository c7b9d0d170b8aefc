"""Vécu's exceptions: one tree, so callers can catch at the depth they need.

VecuError
├── ConfigurationError      settings or company.yml are invalid
├── ScoringError            the emotion/sentiment model cannot be loaded or run
├── StorageError            the database refused an operation
├── RoutingError            no team or destination can take an issue
├── DeliveryError           an alert destination failed (retried by the worker)
├── UpstreamError           Rasa or the action server did not answer
├── WorkflowError           an alert workflow action cannot be applied
├── AccountError            a dashboard account operation was refused (duplicate, unknown, weak)
└── AnalyticsError          a metrics query is invalid (a 400, not a 500)
"""

from __future__ import annotations


class VecuError(Exception):
    """Base class of every error raised by :mod:`bot`."""


class ConfigurationError(VecuError):
    """Settings or the company configuration are invalid."""


class ScoringError(VecuError):
    """The emotion/sentiment model cannot be loaded or run."""


class StorageError(VecuError):
    """The database refused an operation."""


class RoutingError(VecuError):
    """No team or destination can take an issue."""


class DeliveryError(VecuError):
    """An alert destination failed; the worker retries with backoff."""


class UpstreamError(VecuError):
    """Rasa or the action server did not answer as expected."""


class BusyError(UpstreamError):
    """Rasa or the action server is there but did not answer in time: busy, not down."""


class WorkflowError(VecuError):
    """An alert workflow action cannot be applied (the message says why, in English).

    Attributes:
        code: a stable machine code (``not_found``, ``invalid_transition``, ``unknown_team``,
            ``not_allowed``) that channels turn into a sentence in the actor's language.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AccountError(VecuError):
    """A dashboard account operation was refused (duplicate or unknown email, weak password).

    Attributes:
        code: a stable reason (``exists``, ``unknown``, ``weak_password``, ``bad_email``,
            ``bad_role``, ``bad_team``), used to pick the message in the user's language.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AnalyticsError(VecuError):
    """A metrics query is invalid (unknown touchpoint or team, bad period…): a 400, not a 500."""
