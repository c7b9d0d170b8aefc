"""De-identification of free text shown to managers: the one place every comment goes through.

This module owns :func:`deidentify`. It removes what directly identifies a person in a
comment before a dashboard, export or API shows it: Vécu pseudonyms (``p_`` + 32 hex),
e-mail addresses, phone numbers, long digit runs (account, card and order numbers) and
``@handles``. Issue 6 brings full PII redaction (names, addresses); it will replace the body of
this function, and every caller already goes through it.
"""

from __future__ import annotations

import re

MASK_EMAIL = "[email]"
MASK_PHONE = "[phone]"
MASK_NUMBER = "[number]"
MASK_ID = "[id]"
MASK_HANDLE = "[handle]"

_PSEUDONYM = re.compile(r"\bp_[0-9a-f]{32}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# +1 (514) 555-0199, 514.555.0199, 06 12 34 56 78, +33 6 12 34 56 78
_PHONE = re.compile(
    r"(?<![\w])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}(?![\w])"
)
_LONG_NUMBER = re.compile(r"(?<![\w])\d{7,}(?![\w])")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}\b")


def deidentify(text: str) -> str:
    """Mask direct identifiers in ``text`` (pseudonyms, e-mails, phones, long numbers, handles).

    Args:
        text: a comment as stored.

    Returns:
        The text with each identifier replaced by a bracketed placeholder (``[email]``…).
    """
    text = _PSEUDONYM.sub(MASK_ID, text)
    text = _EMAIL.sub(MASK_EMAIL, text)
    text = _PHONE.sub(
        lambda m: MASK_PHONE if sum(c.isdigit() for c in m.group()) >= 9 else m.group(), text
    )
    text = _LONG_NUMBER.sub(MASK_NUMBER, text)
    return _HANDLE.sub(MASK_HANDLE, text)
