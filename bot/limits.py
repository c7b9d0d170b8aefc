"""What Vécu accepts from outside before reading it: JSON nested at most :data:`MAX_JSON_DEPTH`
deep (a 20,000-deep body made Python's parser raise ``RecursionError``: a 500 and a reset
connection). Imports nothing from ``bot``."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32
"""Far deeper than any body Vécu reads (an event is 3 levels deep, a chat message 1)."""
_STRING = re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class TooDeep(ValueError):
    """A JSON body nested deeper than allowed."""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (strings skipped; not parsed)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads``, refusing a body nested deeper than ``max_depth`` before parsing it.

    Raises:
        TooDeep: nested deeper than ``max_depth``.
        ValueError: not JSON (``UnicodeDecodeError`` for bytes that are not UTF-8).
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if json_depth(text) > max_depth:
        raise TooDeep(f"nested deeper than {max_depth} levels")
    return json.loads(text)
