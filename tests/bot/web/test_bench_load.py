"""Tests of bench/bench_load.py: the open-loop load, against the web app (fake Rasa) in process."""

from __future__ import annotations

import asyncio
import importlib
import os
from types import ModuleType
from typing import Any

import httpx
import pytest

from bot.channels.rasa import FakeRasaClient
from bot.web.app import create_app


@pytest.fixture(scope="module")
def bench_load() -> ModuleType:
    """bench/bench_load.py (the repository root is on the path: pyproject's pythonpath)."""
    return importlib.import_module("bench.bench_load")


def test_percentiles_and_cpu_of_this_process(bench_load: ModuleType) -> None:
    values = [float(v) for v in range(1, 101)]
    assert [bench_load.percentile(values, q) for q in (0.5, 0.95, 0.99)] == [50.0, 95.0, 99.0]
    assert bench_load.percentile([], 0.5) is None
    sum(i * i for i in range(200_000))  # burn a little CPU
    assert bench_load._cpu_seconds([os.getpid()]) > 0
    assert 10 < bench_load._rss_mb(os.getpid()) < 10_000  # this pytest process, in MiB
    assert bench_load._rss_mb(2**22 + 7) == 0.0  # no such process


def test_conversations_start_at_the_rate_and_errors_are_counted(
    bench_load: ModuleType, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VECU_API_TOKEN", services.settings.api_token)  # employees: a token
    rasa = FakeRasaClient()
    app = create_app(services=services, rasa=rasa)
    transport = httpx.ASGITransport(app=app)
    result = asyncio.run(bench_load.run_rate("http://testserver", 30.0, 1.0, 10.0, transport))
    # 30 msg/s for 1 s: a conversation (3 messages) every 0.1 s -> 10 conversations, 30 messages
    assert result.sent == 30 and result.ok == 30 and result.errors == 0
    assert result.p50_ms is not None and result.p50_ms <= result.p95_ms <= result.p99_ms
    assert len(rasa.sent) == 30
    rasa.down = True
    down = asyncio.run(bench_load.run_rate("http://testserver", 6.0, 1.0, 10.0, transport))
    assert down.ok == 0 and down.errors == down.sent == 2  # each conversation stops at its error
