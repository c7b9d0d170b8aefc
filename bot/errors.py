"""Vécu's exceptions: one tree, so callers can catch at the depth they need.

VecuError
├── ConfigurationError      settings or company.yml are invalid
├── ScoringError            the emotion/sentiment model cannot be loaded or run
├── StorageError            the database refused an operation
├── RoutingError            no team or destination can take an issue
├── DeliveryError           an alert destination failed (retried by the worker)
├── UpstreamError           Rasa or the action server did not answer
└── WorkflowError           an alert workflow action cannot be applied
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


class WorkflowError(VecuError):
    """An alert workflow action cannot be applied (the message says why, in English).

    Attributes:
        code: a stable machine code (``not_found``, ``invalid_transition``, ``unknown_team``,
            ``not_allowed``) that channels turn into a sentence in the actor's language.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
