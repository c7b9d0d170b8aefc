"""Tests of bot/limits.py: JSON nested too deep is refused before it is parsed."""

from __future__ import annotations

import json

import pytest

from bot.limits import MAX_JSON_DEPTH, TooDeep, json_depth, load_json


def test_depth_counts_arrays_and_objects_but_not_brackets_inside_strings() -> None:
    assert json_depth('{"a": [1, {"b": []}]}') == 4
    assert json_depth('{"text": "[[[[{{{{"}') == 1
    assert json_depth('{"text": "a \\" [[[ quote"}') == 1
    assert json_depth('"plain"') == 0


def test_a_body_at_the_limit_loads_and_one_deeper_is_refused() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert isinstance(load_json(at_limit), list)
    with pytest.raises(TooDeep):
        load_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_fifty_thousand_levels_are_refused_without_a_recursion_error() -> None:
    deep = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()
    with pytest.raises(TooDeep):
        load_json(deep)
    with pytest.raises(ValueError):
        load_json(b"{not json")
    assert load_json(json.dumps({"text": "ok"}).encode()) == {"text": "ok"}
