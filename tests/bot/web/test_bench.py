"""Tests of bench/bench_chat.py against the web app (fake Rasa) through a TestClient."""

from __future__ import annotations

import importlib
import json
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.channels.rasa import FakeRasaClient
from bot.web.app import create_app


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/bench_chat.py (the repository root is on the path: pyproject's pythonpath)."""
    return importlib.import_module("bench.bench_chat")


def test_the_mix_is_bilingual_with_ratings_and_fresh_conversations(bench: ModuleType) -> None:
    turns = list(bench.turns(200))
    assert len(turns) == 200
    languages = {t.language for t in turns}
    assert languages == {"fr", "en"}
    assert {t.audience for t in turns} == {"customer", "employee"}
    assert sum(t.text.startswith('/rate{"rating":') for t in turns) >= 20
    assert len({t.conversation_id for t in turns}) >= 50


def test_percentile_is_nearest_rank(bench: ModuleType) -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 95) == 95.0
    assert bench.percentile([7.0], 95) == 7.0


def test_run_against_the_app_counts_replies_and_errors(
    bench: ModuleType, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VECU_API_TOKEN", services.settings.api_token)  # employees: a token
    rasa = FakeRasaClient()
    with TestClient(create_app(services=services, rasa=rasa)) as client:
        report = bench.run(client, base_url="http://testserver", count=12)
        assert (report.count, report.ok, report.errors) == (12, 12, 0)
        assert report.p50_ms is not None and report.p50_ms <= report.p95_ms <= report.max_ms
        assert len(rasa.sent) == 12
        rasa.down = True
        report = bench.run(client, base_url="http://testserver", count=3)
    assert report.errors == 3 and report.error_kinds == {"chat_unavailable": 3}


def test_cli_reports_json_and_fails_when_nothing_answers(
    bench: ModuleType, refused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--url", refused_url, "--count", "2", "--json", "--timeout", "2"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 2 and report["error_kinds"] == {"ConnectError": 2}
