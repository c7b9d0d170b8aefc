"""Tests of bot/company.py: the shipped configuration, lookups, interpolation, clear errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.company import Company, load_company, parse_company
from bot.domain import Audience, RatingScale
from bot.errors import ConfigurationError
from bot.scoring.groups import DEFAULT_GROUPS, GOEMOTIONS_LABELS
from bot.settings import ROOT

SHIPPED = ROOT / "company.yml"


@pytest.fixture
def raw() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def errors_of(data: Any, **kw: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_company(data, env={}, **kw)
    return str(info.value)


def test_shipped_configuration_routes_touchpoints_to_owning_teams(company: Company) -> None:
    owners = {key: tp.team for key, tp in company.touchpoints.items()}
    assert owners == {
        "delivery": "logistics",
        "billing": "billing",
        "product": "product",
        "website": "digital",
        "store": "stores",
        "support": "customer_care",
        "tools": "it",
        "workload": "hr",
        "management": "hr",
        "training": "hr",
        "pay": "hr",
        "safety": "hr",
    }
    assert set(company.touchpoints_for(Audience.EMPLOYEE)) == {
        "tools", "workload", "management", "training", "pay", "safety"
    }  # fmt: skip
    for key, tp in company.touchpoints.items():
        assert tp.labels.keys() == {"fr", "en"}, key
        assert tp.keywords["fr"] and tp.keywords["en"], key


def test_shipped_emotion_groups_are_the_model_defaults(company: Company) -> None:
    assert {g: list(v) for g, v in DEFAULT_GROUPS.items()} == company.emotion_groups
    assert list(company.emotion_groups) == list(DEFAULT_GROUPS)
    assert set(company.label_to_group) <= set(GOEMOTIONS_LABELS)


def test_shipped_teams_have_a_local_demo_webhook(company: Company) -> None:
    for key, team in company.teams.items():
        assert team.labels.keys() == {"fr", "en"}, key
        [dest] = team.destinations
        assert dest.url == "http://127.0.0.1:8000/api/v1/dev/webhook-sink"
        assert team.destination("demo-webhook") is dest
        assert team.destination("nope") is None


def test_webhook_url_comes_from_the_environment() -> None:
    company = load_company(SHIPPED, env={"VECU_ALERT_WEBHOOK_URL": "https://hooks.example/x"})
    assert company.teams["billing"].destinations[0].url == "https://hooks.example/x"


def test_lookups(company: Company) -> None:
    assert company.team_for("delivery") == "logistics"
    assert company.team_for("nope") is None and company.touchpoint(None) is None
    assert company.team("hr") is not None and company.team("") is None
    assert company.touchpoints["delivery"].label("fr") == "Livraison"
    assert company.touchpoints["delivery"].label("de") in ("Livraison", "Delivery")
    assert company.is_low_rating(2, RatingScale.CSAT)
    assert not company.is_low_rating(3, "csat")
    assert company.is_low_rating(6, RatingScale.NPS) and not company.is_low_rating(7, "nps")
    assert company.is_low_rating(1, None) and not company.is_low_rating(None, "csat")
    summary = company.summary()
    assert summary["touchpoints"]["delivery"] == "customer → logistics"
    assert summary["severity_rules"][0] == "safety-or-harassment"


def test_every_problem_is_listed_with_its_yaml_path(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["touchpoints"]["delivery"]["team"] = "logistic"
    data["emotion_groups"]["anger"] = ["anger", "rage"]
    data["severity_rules"][2]["when"]["emotion_in"] = ["fury"]
    data["severity_rules"][0]["when"]["touchpoint_in"] = ["parking"]
    data["severity_rules"][1]["severity"] = "apocalyptic"
    data["teams"]["billing"]["destinations"] = [{"type": "webhook", "url": "not a url"}]
    message = errors_of(data)
    assert "touchpoints.delivery.team: unknown team 'logistic'" in message
    assert "emotion_groups.anger[1]: unknown emotion label 'rage'" in message
    assert "severity_rules[1].severity" in message
    assert "teams.billing.destinations[0].url" in message
    assert "severity_rules[2].when.emotion_in[0]: unknown emotion group 'fury'" in message
    assert "severity_rules[0].when.touchpoint_in[0]: unknown touchpoint 'parking'" in message
    assert "(6 problem(s))" in message


def test_a_label_in_two_groups_is_refused(raw: dict[str, Any]) -> None:
    raw["emotion_groups"]["joy"] = [*raw["emotion_groups"]["joy"], "anger"]
    assert "label 'anger' is already in group 'anger'" in errors_of(raw)


def test_unknown_keys_and_bad_rules_are_refused(raw: dict[str, Any]) -> None:
    raw["severity_rules"][0]["when"]["colour"] = "red"
    raw["touchpoints"]["store"]["audiance"] = "customer"
    message = errors_of(raw)
    assert "severity_rules[0].when.colour" in message
    assert "touchpoints.store.audiance" in message


def test_impossible_rule_and_bad_probability_are_refused(raw: dict[str, Any]) -> None:
    raw["severity_rules"][2]["when"]["rating_at_least"] = 4
    raw["severity_rules"][3]["when"]["sentiment_at_least"] = {"negative": 1.5, "angry": 0.2}
    message = errors_of(raw)
    assert "severity_rules[2].when: rating_at_least is above rating_at_most" in message
    assert (
        "severity_rules[3].when.sentiment_at_least.negative: probability not in [0, 1]" in message
    )
    assert "severity_rules[3].when.sentiment_at_least.angry: unknown sentiment" in message


def test_fallback_team_and_negative_emotions_are_checked(raw: dict[str, Any]) -> None:
    raw["fallback_team"]["customer"] = "nobody"
    raw["negative_emotions"] = ["anger", "boredom"]
    message = errors_of(raw)
    assert "fallback_team.customer: unknown team 'nobody'" in message
    assert "negative_emotions[1]: unknown emotion group 'boredom'" in message


def test_missing_environment_variable_is_reported(raw: dict[str, Any]) -> None:
    raw["teams"]["it"]["destinations"] = [{"type": "webhook", "url": "${IT_HOOK}"}]
    assert "teams.it.destinations[0].url: environment variable IT_HOOK is not set" in errors_of(raw)


def test_duplicate_touchpoint_in_the_file_is_refused(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    extra = "\n  delivery:\n    audience: customer\n    team: stores\n    labels: {fr: X, en: X}\n"
    path = tmp_path / "company.yml"
    path.write_text(
        text.replace("\nseverity_rules:", extra + "\nseverity_rules:"), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError) as info:
        load_company(path, env={})
    assert "duplicate key 'delivery'" in str(info.value)


def test_case_variants_of_a_touchpoint_are_duplicates(raw: dict[str, Any]) -> None:
    raw["touchpoints"]["Delivery"] = raw["touchpoints"]["delivery"]
    assert "touchpoints.Delivery: duplicate touchpoint" in errors_of(raw)


def test_unreadable_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_company(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("teams: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_company(bad)
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must be a YAML mapping"):
        load_company(bad)


def test_service_levels_default_merge_and_must_be_positive(raw: dict[str, Any]) -> None:
    raw["sla_hours"] = {"urgent": 2}
    company = parse_company(raw, env={})
    assert company.sla("urgent") == 2 and company.sla("low") == 168  # the rest keep defaults
    assert company.sla("unheard-of") is None
    raw["sla_hours"] = {"urgent": 0}
    assert "sla_hours" in errors_of(raw)
    raw["sla_hours"] = {"someday": 5}
    assert "sla_hours" in errors_of(raw)
