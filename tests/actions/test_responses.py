"""Every response an action names exists in domain.yml, in English and in French.

Rasa's validator cannot see responses uttered by custom actions or asked by forms (it
warns that they are "not used in any story or rule"); this test checks them instead:
each response is used by the dialogue data, a form, or an action, and none is missing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from bot.settings import ROOT

DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
ACTION_SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
DIALOGUE = "\n".join(
    (ROOT / "nlu" / name).read_text(encoding="utf-8") for name in ("rules.yml", "stories.yml")
)
USED_BY_ACTIONS = set(re.findall(r'"(utter_\w+)"', ACTION_SOURCES))
FORM_ASKS = {
    f"utter_ask_{slot}" for form in DOMAIN["forms"].values() for slot in form["required_slots"]
} | {  # a form asks utter_ask_<form>_<slot> first, when it exists
    f"utter_ask_{name}_{slot}"
    for name, form in DOMAIN["forms"].items()
    for slot in form["required_slots"]
}


def _languages(variations: list[dict[str, Any]]) -> set[str]:
    found = set()
    for variation in variations:
        condition = variation.get("condition") or []
        languages = [c["value"] for c in condition if c["name"] == "language"]
        found.update(languages or ["en"])  # the unconditioned variation is English
    return found


def test_actions_only_name_existing_responses() -> None:
    assert USED_BY_ACTIONS, "the pattern should find the actions' responses"
    assert set(RESPONSES) >= USED_BY_ACTIONS


def test_every_response_is_used_somewhere() -> None:
    in_dialogue = set(re.findall(r"action: (utter_\w+)", DIALOGUE))
    unused = set(RESPONSES) - in_dialogue - FORM_ASKS - USED_BY_ACTIONS
    assert not unused


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_exists_in_english_and_french(name: str) -> None:
    variations = RESPONSES[name]
    assert [v for v in variations if not v.get("condition")], "an English default is needed"
    assert _languages(variations) == {"en", "fr"}


def _can_match_together(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a[name] == b[name] for name in a.keys() & b.keys())


def test_conditional_variations_never_overlap() -> None:
    # Rasa picks at random among the conditional variations that match: at most one may.
    for name, variations in RESPONSES.items():
        conditions = [
            {c["name"]: c["value"] for c in v["condition"]}
            for v in variations
            if v.get("condition")
        ]
        for i, a in enumerate(conditions):
            for b in conditions[i + 1 :]:
                assert not _can_match_together(a, b), f"{name}: {a} and {b} can both match"


def _buttons() -> list[tuple[str, str]]:
    return [
        (name, button["payload"])
        for name, variations in RESPONSES.items()
        for variation in variations
        for button in variation.get("buttons", [])
    ]


@pytest.mark.parametrize(("name", "payload"), _buttons())
def test_button_payloads_name_a_domain_intent_and_entities(name: str, payload: str) -> None:
    # Rasa formats response texts: doubled braces come out single, and nothing else changes.
    sent = payload.format()
    match = re.fullmatch(r"/(\w+)(\{.*\})?", sent)
    assert match, f"{name}: {sent!r} is not an intent payload"
    assert match.group(1) in DOMAIN["intents"]
    entity_names = {next(iter(e)) if isinstance(e, dict) else e for e in DOMAIN["entities"]}
    assert set(json.loads(match.group(2) or "{}")) <= entity_names
