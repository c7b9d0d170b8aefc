"""Splitting replies to fit Telegram's message length limit.

Telegram refuses a message longer than 4096 characters, counted in UTF-16 code units (an
emoji outside the Basic Multilingual Plane counts twice). :func:`split_message` cuts a
long reply on the best boundary it finds: a paragraph, then a line, then a sentence,
then a word, and only as a last resort in the middle of a word.
"""

from __future__ import annotations

import re

TELEGRAM_MAX_LENGTH = 4096
"""Telegram's limit on the text of one message (UTF-16 code units)."""

_SENTENCE_END = re.compile(r"[.!?…](?:[\"'»)\]]*)\s")


def utf16_length(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The number of characters of the longest prefix of ``text`` within ``limit`` units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut_point(window: str) -> int:
    """Where to cut ``window`` (a prefix that fits), preferring natural boundaries."""
    half = len(window) // 2  # never cut so early that pieces become tiny
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at > half:
            return at + len(separator)
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] > half:
        return ends[-1]
    at = window.rfind(" ")
    if at > half:
        return at + 1
    return len(window)


def split_message(text: str, limit: int = TELEGRAM_MAX_LENGTH) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units, on natural boundaries.

    Args:
        text: the reply.
        limit: the maximum length of one piece (Telegram's by default).

    Returns:
        The pieces, in order, stripped of the whitespace at the cuts; ``[text]`` when it fits,
        ``[]`` when ``text`` is blank.
    """
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_length(rest) <= limit:
            pieces.append(rest)
            break
        window = rest[: _fitting_prefix(rest, limit)]
        cut = _cut_point(window)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    return pieces
