"""Tests of the dashboard pages and CSV exports on known data (real app, real SQLite queries).

The numbers asserted are computed by hand from ``dashboard_helpers.seed_rows``: delivery CSAT
30/40 = 75 %, NPS (10 − 6)/20 = +20, expected 18/20 = 90 %, proposed 2/6 ≈ 33 %, mirror
5/6 ≈ 83 %, target (company.yml) 85 %; the billing team has 4 employees (< k = 5).
"""

from __future__ import annotations

import csv
import io
import re

from dashboard_helpers import MANAGER, NOW, login, seed_rows
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bot.services import FixedClock, Services
from bot.storage.models import FeedbackRecord


def text_of(html: str) -> str:
    """The visible text of a page (scripts and tags removed, all spaces, narrow no-break
    ones included, collapsed into one plain space)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r"<head>.*?</head>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def table_of(html: str, table: str) -> str:
    """The visible text of one table of a page (``data-table`` attribute)."""
    found = re.search(rf'<table[^>]*data-table="{table}".*?</table>', html, flags=re.S)
    assert found, f"no table {table}"
    return text_of(found.group(0))


def test_the_delivery_page_in_french(admin: TestClient) -> None:
    response = admin.get("/dashboard/touchpoints/delivery?lang=fr")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = text_of(response.text)
    assert '<html lang="fr">' in response.text
    assert "Point de contact : Livraison" in page
    for words in ("Visée 85 %", "Proposée 33 %", "Attendue 90 %", "Vécue 75 %"):
        assert words in page, words
    assert "IC 95 % : 60 % à 86 %" in page and "n = 40" in page
    assert "Attendue − vécue +15 pts" in page  # 90 − 75
    assert "Visée − proposée +52 pts" in page  # 85 − 33.3
    assert "Estimation des employés 83 %" in page
    assert "Note réelle des clients 75 %" in page
    assert "Émotions vécues par les clients" in page and "Joie" in page
    # The charts are there as Plotly JSON, drawn by our script from our own plotly.min.js.
    assert response.text.count('class="chart"') == 4
    assert '<script src="/dashboard/assets/plotly.min.js"' in response.text
    assert "cdn" not in response.text.lower()


def test_the_delivery_page_in_english_by_accept_language(admin: TestClient) -> None:
    admin.headers["accept-language"] = "en-GB,en;q=0.9"
    page = text_of(admin.get("/dashboard/touchpoints/delivery").text)
    assert "Touchpoint: Delivery" in page
    for words in ("Intended 85%", "Proposed 33%", "Expected 90%", "Lived 75%"):
        assert words in page, words
    assert "95% CI: 60% to 86%" in page
    assert "Expected − lived +15 pts" in page
    assert "Employees' estimate 83%" in page
    # The language switch is remembered for the session, whatever the browser says.
    assert "Point de contact" in text_of(admin.get("/dashboard/touchpoints/delivery?lang=fr").text)
    assert "Point de contact" in text_of(admin.get("/dashboard/touchpoints/delivery").text)


def test_overview_states_definitions_and_scores_with_n(admin: TestClient) -> None:
    page = text_of(admin.get("/dashboard/?lang=en").text)
    assert "promoters 9–10, passives 7–8, detractors 0–6" in page
    assert "NPS +20" in page and "n = 20" in page
    assert "CSAT 75%" in page
    admin.get("/dashboard/?lang=fr")
    page = text_of(admin.get("/dashboard/").text)
    assert "promoteurs 9–10, passifs 7–8, détracteurs 0–6" in page


def test_a_group_of_four_employees_shows_no_score(admin: TestClient) -> None:
    response = admin.get("/dashboard/employees?lang=en&team=billing")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Hidden to protect anonymity: fewer than 5 people in this group." in page
    # All four answered 0 (eNPS −100): no card, row or chart says so.
    assert "eNPS Hidden" in page and "Engagement Hidden" in page
    assert "−100 " not in page.replace("(−100 to +100)", "") and "n = 4" not in page
    assert "−100" not in "".join(
        re.findall(r'<script type="application/json".*?</script>', response.text, flags=re.S)
    )
    # The team breakdown: billing's row says why, with no number; logistics (6 people) shows.
    teams = table_of(admin.get("/dashboard/employees?lang=en").text, "teams")
    row = re.search(r"Billing (.*?) Product", teams)
    assert row and "Hidden" in row.group(1)
    assert not re.search(r"\d", row.group(1).replace("fewer than 5 people", ""))
    assert re.search(r"Logistics \+0 .*? n = 6", teams)  # 3 promoters, 3 detractors
    csv_text = admin.get("/dashboard/employees/export.csv?team=billing").text
    assert "-100" not in csv_text and ",4," not in csv_text
    assert "suppressed" in csv_text


def test_csv_export_holds_what_the_page_shows(admin: TestClient) -> None:
    response = admin.get("/dashboard/touchpoints/delivery/export.csv?lang=en&period=90d")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "vecu-touchpoint-delivery.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0] == {
        "section": "filter",
        "row": "period",
        "measure": "",
        "value": "90d",
        "ci_low": "",
        "ci_high": "",
        "n": "",
        "status": "",
        "note": "",
    }
    lived = next(
        r
        for r in rows
        if r["section"] == "The four experiences"
        and r["row"] == "Lived"
        and r["measure"] == "Score"
    )
    assert (lived["value"], lived["n"], lived["status"]) == ("75.0", "40", "ok")
    assert float(lived["ci_low"]) < 75 < float(lived["ci_high"])
    gap = next(r for r in rows if r["row"] == "Expected − lived" and r["measure"] == "Points")
    assert gap["value"] == "15.0"
    for path in ("/dashboard/overview/export.csv", "/dashboard/alerts/export.csv"):
        exported = admin.get(path)
        assert exported.status_code == 200 and exported.text.startswith("section,row,measure")


def test_alerts_page(admin: TestClient) -> None:
    page = text_of(admin.get("/dashboard/alerts?lang=en").text)
    assert "Latest customer alerts" in page
    assert page.count(" Delivery Logistics Low Open — — ") == 10  # the ten unhappy ratings


def test_managers_see_only_their_teams(client: TestClient) -> None:
    assert login(client, *MANAGER).status_code == 303
    overview = client.get("/dashboard/?lang=en")
    assert overview.status_code == 200
    assert 'href="/dashboard/touchpoints/delivery"' in overview.text
    assert 'href="/dashboard/touchpoints/billing"' not in overview.text
    forbidden = client.get("/dashboard/touchpoints/billing")
    assert forbidden.status_code == 403 and "another team" in forbidden.text
    assert client.get("/dashboard/employees?team=hr").status_code == 403
    assert client.get("/dashboard/touchpoints/delivery").status_code == 200


def test_bad_input_gets_a_page_never_a_500(admin: TestClient) -> None:
    assert admin.get("/dashboard/touchpoints/nope?lang=en").status_code == 404
    weird = admin.get("/dashboard/?period=forever&audience=robots&team=<x>&language=zz")
    assert weird.status_code == 200  # unknown filter values are ignored
    assert admin.get("/dashboard/assets/../../settings.py").status_code == 404
    plotly = admin.get("/dashboard/assets/plotly.min.js")
    assert plotly.status_code == 200 and b"plotly.js v" in plotly.content[:200]


def test_a_page_is_rebuilt_after_the_cache_time(
    admin: TestClient, services: Services, clock: FixedClock
) -> None:
    assert services.settings.dashboard_cache_s == 60
    assert "Vécue 75 %" in text_of(admin.get("/dashboard/touchpoints/delivery").text)
    rows = [seed_rows()[0] | {"rating": 1, "created_at": NOW, "updated_at": NOW} for _ in range(10)]
    with services.engine.begin() as connection:
        connection.execute(insert(FeedbackRecord), rows)
    assert "Vécue 75 %" in text_of(admin.get("/dashboard/touchpoints/delivery").text)  # kept
    assert "Vécue 60 %" in text_of(admin.get("/dashboard/touchpoints/delivery?period=30d").text)
    clock.advance(61)
    assert "Vécue 60 %" in text_of(admin.get("/dashboard/touchpoints/delivery").text)  # 30/50


def test_the_employees_page_offers_only_the_filters_that_apply(admin: TestClient) -> None:
    employees = admin.get("/dashboard/employees?lang=fr").text
    assert 'name="language"' not in employees and 'name="channel"' not in employees
    assert 'name="team"' in employees and 'name="period"' in employees
    overview = admin.get("/dashboard/?lang=fr").text
    assert 'name="language"' in overview and 'name="channel"' in overview
    footers = re.findall(r"<footer>([^<]*)</footer>", employees.split('class="comments"')[1])
    assert footers and all(f.startswith("semaine du ") for f in footers), footers
