"""The issue's "done when": after the demo seed, the delivery page shows the four experiences
and their gaps, the mirror and the emotion mix, in French and in English; the product team
(4 employees) shows no number anywhere on the dashboard (its CSV and the API included).

The demo is seeded through its own function (``bot.cli.seed.seed``) with the in-tree static
scorer (the seed's scoring with the real model is tested with the seed itself).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import ADMIN, CHEAP, NOW, TOKEN, dashboard_settings, login
from fastapi.testclient import TestClient

from bot.company import load_company
from bot.scoring.base import StaticScorer
from bot.services import FixedClock, build_services
from bot.storage.migrate import upgrade
from bot.web.app import create_app
from bot.web.dashboard.users import add_user

pytest.importorskip("bot.cli.seed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from bot.cli.seed import seed

    tmp = Path(tmp_path_factory.mktemp("demo"))
    settings = dashboard_settings(tmp)
    company = load_company(settings.company_config)
    groups = list(company.emotion_groups)
    scorer = StaticScorer(
        {"negative": 0.5, "neutral": 0.3, "positive": 0.2},
        {g: (0.5 if g == "frustration" else 0.5 / (len(groups) - 1)) for g in groups},
    )
    services = build_services(settings, company=company, scorer=scorer, clock=FixedClock(NOW))
    upgrade(services.engine)
    seed(
        engine=services.engine,
        company=company,
        scorer=scorer,
        weeks=6,
        now=NOW,
        settings=settings,
        customers_per_week=60,
    )
    add_user(*ADMIN, role="admin", services=services, cost=CHEAP)
    app = create_app(services=services)
    app.state.dashboard.cost = CHEAP
    with TestClient(app) as client:
        assert login(client, *ADMIN).status_code == 303
        yield client
    services.dispose()


def visible(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "fr",
            [
                "Visée",
                "Proposée",
                "Attendue",
                "Vécue",
                "Attendue − vécue",
                "Visée − proposée",
                "Estimation des employés",
                "Note réelle des clients",
                "Émotions vécues par les clients",
            ],
        ),
        (
            "en",
            [
                "Intended",
                "Proposed",
                "Expected",
                "Lived",
                "Expected − lived",
                "Intended − proposed",
                "Employees' estimate",
                "Customers' actual rating",
                "Emotions customers lived",
            ],
        ),
    ],
)
def test_delivery_after_the_demo_seed(demo: TestClient, lang: str, words: list[str]) -> None:
    response = demo.get(f"/dashboard/touchpoints/delivery?lang={lang}")
    assert response.status_code == 200
    page = visible(response.text)
    for word in words:
        assert word in page, word
    # Every experience and the mirror have a number (the story has data for all of them).
    cards = re.findall(r'<p class="card__stat">(.*?)</p>', response.text, flags=re.S)
    assert len(cards) == 4 and all(re.search(r"\d+\s?%", visible(c)) for c in cards)
    assert response.text.count('class="chart"') == 4


def test_the_four_product_employees_show_no_number(demo: TestClient) -> None:
    page = visible(demo.get("/dashboard/employees?team=product&lang=en").text)
    assert "eNPS Hidden" in page and "Employee feedback Hidden" in page
    assert "n = 4" not in page
    # The overview filtered on product: customers' numbers show, employees' do not.
    overview = visible(demo.get("/dashboard/?team=product&lang=en").text)
    assert "eNPS Hidden" in overview and "Employee feedback Hidden" in overview
    rows = list(
        csv.DictReader(io.StringIO(demo.get("/dashboard/employees/export.csv?team=product").text))
    )
    employee_rows = [r for r in rows if r["section"] != "filter"]
    assert {r["row"] for r in employee_rows} >= {
        "eNPS",
        "Engagement",
        "Employee feedback",
        "Product",
    }
    for row in employee_rows:
        card = row["row"] in ("eNPS", "Engagement", "Employee feedback")
        if card or (row["row"] == "Product" and row["measure"] in ("eNPS", "Engagement")):
            assert row["value"] == row["n"] == row["ci_low"] == "", row
            assert row["status"] == "suppressed", row
    api = demo.get("/api/v1/metrics?team=product", headers={"authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 200
    employee = api.json()["employee"]
    assert employee["volume"] is None and employee["enps"]["value"] is None
