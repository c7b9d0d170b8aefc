"""De-identification of free text shown to managers: the one place every comment goes through.

This module owns :func:`deidentify`, what a comment becomes before a dashboard, export or
API shows it. It is the PII redaction of :mod:`bot.privacy.redaction` (names, e-mail addresses,
phone numbers, postal codes, card and order numbers, with placeholders in the comment's
language) plus what only a manager's view needs on top: Vécu pseudonyms (``p_`` + 32 hex),
``@handles`` and any remaining long digit run (an account or customer number no pattern
knows). Text stored before redaction existed (``feedback.redacted`` false) is redacted on
read through :func:`bot.privacy.redaction.stored_text`; text stored redacted is not redacted twice.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.i18n import normalize_language, t
from bot.privacy.redaction import stored_text

if TYPE_CHECKING:
    from bot.company import Company
    from bot.privacy.redaction import Redactor

_PSEUDONYM = re.compile(r"\bp_[0-9a-f]{32}\b")
_LONG_NUMBER = re.compile(r"(?<![\w])\d{7,}(?![\w])")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}\b")


def deidentify(
    text: str,
    language: str | None = None,
    *,
    redacted: bool = False,
    company: Company | None = None,
    redactor: Redactor | None = None,
) -> str:
    """The comment as a manager may read it: redacted, and without pseudonyms or handles.

    Args:
        text: a comment as stored.
        language: its language (``fr``/``en``): the language of the placeholders.
        redacted: whether ``text`` was stored redacted (``feedback.redacted``); if not, it is
            redacted now (if that fails, nothing is shown: the empty string).
        company: the configuration giving order-number patterns and name models
            (default: the process-wide services' company).
        redactor: a ready redactor (tests); wins over ``company``.

    Returns:
        The text with each identifier replaced by a placeholder (``[COURRIEL]``, ``[NAME]``…).
    """
    lang = normalize_language(language)
    row = _Stored(text, lang, redacted)
    text = stored_text(row, company=company, redactor=redactor)
    text = _PSEUDONYM.sub(t("privacy.placeholder.id", lang), text)
    text = _LONG_NUMBER.sub(t("privacy.placeholder.number", lang), text)
    return _HANDLE.sub(t("privacy.placeholder.handle", lang), text)


class _Stored:
    """The fields of a feedback row :func:`bot.privacy.redaction.stored_text` reads."""

    def __init__(self, text: str, language: str, redacted: bool) -> None:
        self.text = text
        self.language = language
        self.redacted = redacted
