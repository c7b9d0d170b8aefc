"""Tests of bench/bench_dashboard.py: a small run end to end (real app over HTTP, SQLite)."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from types import ModuleType

import pytest

from bot.company import Company, load_company
from bot.settings import ROOT


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/bench_dashboard.py (the repository root is on the path: pyproject's pythonpath)."""
    return importlib.import_module("bench.bench_dashboard")


@pytest.fixture(scope="module")
def company() -> Company:
    return load_company(ROOT / "company.yml", env={})


def test_generated_rows_cover_both_audiences_and_every_question(
    bench: ModuleType, company: Company
) -> None:
    rows = bench.generate(2000, 12, company, datetime(2026, 11, 23, tzinfo=UTC))
    assert len(rows) == 2000
    scales = {r["scale"] for r in rows}
    assert {"csat", "nps", "expectation", "enps", "engagement", "means", "mirror", None} == scales
    employees = [r for r in rows if r["audience"] == "employee"]
    assert 0.1 < len(employees) / len(rows) < 0.3
    assert all(r["member_team"] in company.teams for r in employees)
    assert all(r["conversation_id"].startswith("p_") for r in rows)


def test_a_small_run_times_every_page(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--rows", "600", "--repeat", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 600 and report["cache_s"] == 0
    assert [p["page"] for p in report["pages"]] == list(bench.PAGES)
    for page in report["pages"]:
        assert page["requests"] == 2 and 0 < page["p50_ms"] <= page["p95_ms"] <= page["max_ms"]
        assert page["bytes"] > 1000
