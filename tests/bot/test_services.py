"""Tests of bot/services.py: lazy cached services, replacement in tests, scorer fallback."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.company import Company
from bot.errors import ScoringError
from bot.feedback.intake import Message, record
from bot.services import (
    FixedClock,
    UnavailableScorer,
    build_services,
    default_scorer,
    get_services,
    reset_services,
    set_services,
    utcnow,
)
from bot.settings import ROOT, Settings


def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        VECU_ENV="test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db' / 'vecu.db'}",
        VECU_COMPANY_CONFIG=str(ROOT / "company.yml"),
    )


def test_build_services_defaults(tmp_path: Path) -> None:
    services = build_services(settings(tmp_path))
    try:
        assert services.company.team_for("delivery") == "logistics"
        assert services.engine.url.database == str(tmp_path / "db" / "vecu.db")
        assert services.clock is utcnow
        assert type(services.scorer).__name__ in ("OnnxScorer", "UnavailableScorer")
    finally:
        services.dispose()


def test_get_services_is_cached_and_replaceable(
    make_services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_services()
    try:
        built: list[int] = []

        def fake_build() -> Any:
            built.append(1)
            return make_services()

        monkeypatch.setattr("bot.services.build_services", fake_build)
        first = get_services()
        assert get_services() is first and built == [1]
        replacement = make_services()
        set_services(replacement)
        assert get_services() is replacement
        reset_services()
        assert get_services() is not replacement and built == [1, 1]
    finally:
        reset_services()


def test_missing_model_module_still_records(
    tmp_path: Path, company: Company, monkeypatch: pytest.MonkeyPatch, make_services: Any
) -> None:
    real_import = builtins.__import__

    def no_onnx(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "bot.scoring.onnx":
            raise ImportError("no module named onnxruntime")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    scorer = default_scorer(settings(tmp_path), company)
    assert isinstance(scorer, UnavailableScorer) and scorer.version == "unavailable"
    with pytest.raises(ScoringError, match="onnxruntime"):
        scorer.score(["x"])
    services = make_services(scorer)
    outcome = record(Message("p_x", "Le colis est en retard", "fr"), services=services)
    assert outcome.touchpoint == "delivery" and outcome.sentiment == "unknown"


def test_a_scorer_that_cannot_be_built_is_replaced(
    tmp_path: Path, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.scoring.onnx

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ScoringError("bad groups")

    monkeypatch.setattr(bot.scoring.onnx, "OnnxScorer", broken)
    scorer = default_scorer(settings(tmp_path), company)
    assert isinstance(scorer, UnavailableScorer) and "bad groups" in scorer.reason


def test_fixed_clock() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(90)
    assert clock() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)
    assert utcnow().tzinfo is UTC
