"""Tests of the issue-5 parts of bot/company.py: touchpoint targets and the analytics section."""

from __future__ import annotations

from typing import Any

import pytest

from bot.company import Company, parse_company
from bot.errors import ConfigurationError


def _data(company: Company) -> dict[str, Any]:
    return company.model_dump(mode="json", exclude_none=True)


def test_shipped_targets_and_analytics(company: Company) -> None:
    delivery = company.touchpoints["delivery"].targets
    assert delivery is not None and delivery.csat == 85 and delivery.nps == 30
    assert delivery.emotions_wanted == ["joy", "gratitude"]
    assert company.analytics.k_anonymity == 5 and company.analytics.min_sample == 30
    summary = company.summary()
    assert summary["analytics"]["k_anonymity"] == 5 and summary["targets"]["delivery"]["csat"] == 85


def test_every_target_problem_is_reported_with_its_path(company: Company) -> None:
    data = _data(company)
    data["touchpoints"]["delivery"]["targets"] = {
        "csat": 120,
        "emotions_wanted": ["joy", "euphoria"],
        "emotions_unwanted": ["joy"],
    }
    data["touchpoints"]["tools"]["targets"] = {"csat": 80}
    data["analytics"] = {"k_anonymity": 1, "confidence": 2}
    with pytest.raises(ConfigurationError) as caught:
        parse_company(data, env={})
    message = str(caught.value)
    for expected in (
        "touchpoints.delivery.targets.csat",
        "touchpoints.delivery.targets.emotions_wanted[1]: unknown emotion group 'euphoria'",
        "both wanted and unwanted",
        "touchpoints.tools.targets: targets are for customer touchpoints only",
        "analytics.k_anonymity",
        "analytics.confidence",
    ):
        assert expected in message, expected


def test_targets_are_optional(company: Company) -> None:
    data = _data(company)
    for tp in data["touchpoints"].values():
        tp.pop("targets", None)
    data.pop("analytics")
    parsed = parse_company(data, env={})
    assert parsed.touchpoints["delivery"].targets is None
    assert parsed.analytics.k_anonymity == 5
