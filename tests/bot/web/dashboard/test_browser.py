"""A real-browser test of the dashboard: headless Chromium logs in and sees the Plotly charts,
and a team works alerts from the inbox with the keyboard, in French and in English.

The app runs under uvicorn on a random local port, on a database filled by the demo seed
(``bot.cli.seed``, six weeks, scored by the shipped model: the delivery story of the README
picture). Skipped, with the reason, only when Chromium or ChromeDriver is absent (``make
browser`` installs them).
Set ``VECU_DASHBOARD_SCREENSHOT=/path.png`` to keep a screenshot of the delivery page (the
README's ``docs/dashboard-touchpoint.png`` is made this way).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from dashboard_helpers import ADMIN, CHEAP, NOW, dashboard_settings

from bot.storage.migrate import upgrade
from bot.web.app import create_app
from bot.web.dashboard.users import add_user

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver are not installed "
    "(apt-get install -y chromium chromium-driver, or `make browser`)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
WAIT_S = 20.0


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The web app on a demo-seeded database (real model), with an admin account."""
    from bot.cli.seed import seed
    from bot.services import FixedClock, build_services

    settings = dashboard_settings(tmp_path_factory.mktemp("browser"))
    services = build_services(settings, clock=FixedClock(NOW))
    upgrade(services.engine)
    seed(
        engine=services.engine,
        company=services.company,
        scorer=services.scorer,
        weeks=6,
        now=NOW,
        settings=settings,
        customers_per_week=60,
    )
    add_user(*ADMIN, role="admin", services=services, cost=CHEAP)
    app = create_app(services=services)
    app.state.dashboard.cost = CHEAP
    yield app
    services.dispose()


@pytest.fixture
def base_url(demo_app: Any) -> Iterator[str]:
    yield from serve(demo_app)


def serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free local port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=WAIT_S)
    sock.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, "--window-size=1100,960", "--lang=fr-CA"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-CA,fr"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait_for(driver: Any, condition: Any) -> Any:
    """Wait until ``condition`` holds, asking again while the page is being replaced.

    Between finding an element and reading it, the page may navigate: Chrome then answers
    either "stale element" or, from its inspector, "Node with given id does not belong to
    the document". Both mean "ask again"; any other error is raised.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def settled(d: Any) -> Any:
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
        except WebDriverException as error:
            if "does not belong to the document" in (error.msg or ""):
                return False
            raise

    return WebDriverWait(driver, WAIT_S).until(settled)


def charts_drawn(driver: Any) -> int:
    """How many charts hold a Plotly SVG with drawn marks (bars, lines or points)."""
    script = """
      return Array.from(document.querySelectorAll('.chart')).filter(function (box) {
        var svg = box.querySelector('svg.main-svg');
        return svg && box.querySelectorAll('g.point path, g.trace path, path.js-line').length > 0;
      }).length;
    """
    return int(driver.execute_script(script))


def errors_in_console(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_login_and_delivery_charts_in_french_and_english(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/dashboard/touchpoints/delivery")
    assert "/dashboard/login" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert browser.find_element(By.ID, "login").text == "Se connecter"

    # A wrong password: a clear message in French, still on the login page.
    browser.find_element(By.ID, "email").send_keys(ADMIN[0])
    browser.find_element(By.ID, "password").send_keys("pas le bon mot de passe")
    browser.find_element(By.ID, "login").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "login-message"))
    assert "Courriel ou mot de passe incorrect" in browser.find_element(By.ID, "login-message").text
    browser.get_log("browser")  # drop the expected 401 of the refused login

    browser.find_element(By.ID, "password").send_keys(ADMIN[1])
    browser.find_element(By.ID, "login").click()
    wait_for(browser, lambda d: "/dashboard/touchpoints/delivery" in d.current_url)
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-charts"))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-charts") == "4"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Point de contact : Livraison"
    wait_for(browser, lambda d: charts_drawn(d) == 4)
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-experiences svg.main-svg g.point")
    assert len(bars) == 4  # intended, proposed, expected, lived
    axis = browser.find_element(By.CSS_SELECTOR, "#chart-experiences .xtick text").text
    assert axis == "Visée"
    assert errors_in_console(browser) == []  # no CSP violation, no script error
    if path := os.environ.get("VECU_DASHBOARD_SCREENSHOT"):
        # The four experiences, their chart and the mirror (the window is 1100 × 960).
        browser.execute_script("document.querySelector('.cards').scrollIntoView()")
        browser.save_screenshot(path)

    # The language switch: the same page, in English, charts drawn again.
    browser.find_element(By.CSS_SELECTOR, "a.lang[hreflang='en']").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    wait_for(browser, lambda d: charts_drawn(d) == 4)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Touchpoint: Delivery"
    ticks = [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, "#chart-experiences .xtick text")
    ]
    assert ticks == ["Intended", "Proposed", "Expected", "Lived"]
    # A long label is shown whole, on two lines (one tspan each)
    mirror = [
        " ".join(line.text for line in e.find_elements(By.TAG_NAME, "tspan")) or e.text
        for e in browser.find_elements(By.CSS_SELECTOR, "#chart-mirror .xtick text")
    ]
    assert mirror == ["Employees' estimate", "Customers' actual rating"]
    assert errors_in_console(browser) == []


# ---- the team inbox ------------------------------------------------------------------------

FR_TEXT = "On m'a facturé deux fois ma facture ce mois-ci, c'est inacceptable"
EN_TEXT = "My parcel never arrived and nobody answers the phone, awful"


@pytest.fixture(scope="module")
def inbox_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, Any, dict[str, int]]]:
    """The web app with two customer alerts scored by the shipped model; the French customer
    agreed to hear back on the web chat."""
    from bot.contact.routes import set_consent
    from bot.feedback.intake import Message, record
    from bot.services import FixedClock, build_services

    settings = dashboard_settings(tmp_path_factory.mktemp("inbox"))
    services = build_services(settings, clock=FixedClock(NOW))
    upgrade(services.engine)
    ids = {}
    for language, who, text in (("fr", "p_inbox_fr", FR_TEXT), ("en", "p_inbox_en", EN_TEXT)):
        message = Message(conversation_id=who, text=text, language=language, audience="customer",
                          channel="web", rating=1)  # fmt: skip
        ids[language] = record(message, services=services).feedback_id
    set_consent(
        "p_inbox_fr", True, channel="web", audience="customer", language="fr", services=services
    )
    add_user(*ADMIN, role="admin", services=services, cost=CHEAP)
    app = create_app(services=services)
    app.state.dashboard.cost = CHEAP
    yield app, services, ids
    services.dispose()


def notice(driver: Any, expected: str) -> str:
    """The inbox's outcome message once it reads ``expected`` (or what it read last)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By

    seen = [""]

    def shown(d: Any) -> bool:
        found = d.find_elements(By.ID, "inbox-notice")
        seen[0] = found[0].text if found else ""
        return seen[0] == expected

    with contextlib.suppress(TimeoutException):
        wait_for(driver, shown)
    return seen[0]


def test_a_team_works_alerts_from_the_inbox_with_the_keyboard(
    browser: Any, inbox_stack: tuple[Any, Any, dict[str, int]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.expected_conditions import alert_is_present
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from sqlalchemy import select

    from bot.storage.models import AlertEventRecord, AlertOutboxRecord, FeedbackRecord

    app, services, ids = inbox_stack
    fr, en = ids["fr"], ids["en"]
    for base in serve(app):
        browser.get(base + "/dashboard/inbox")
        assert "/dashboard/login" in browser.current_url
        browser.find_element(By.ID, "email").send_keys(ADMIN[0])
        browser.find_element(By.ID, "password").send_keys(ADMIN[1], Keys.ENTER)
        wait_for(browser, lambda d: "/dashboard/inbox" in d.current_url)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Boîte de l'équipe"
        article = browser.find_element(By.ID, f"alert-{fr}")
        assert "facturé deux fois" in article.text and "Prendre en charge" in article.text
        if path := os.environ.get("VECU_INBOX_SCREENSHOT"):
            browser.save_screenshot(path)

        # French: take it with Enter, then write to the customer and resolve it with the keyboard.
        browser.find_element(By.ID, f"ack-{fr}").send_keys(Keys.ENTER)
        assert notice(browser, expected := f"Alerte nº {fr} prise en charge.") == expected
        assert browser.find_element(By.ID, f"alert-{fr}").get_attribute("data-status") == (
            "acknowledged"
        )
        words = "Le double prélèvement vous a été remboursé."
        browser.find_element(By.ID, f"message-{fr}").send_keys(words, Keys.TAB)
        assert browser.switch_to.active_element.get_attribute("id") == f"resolve-{fr}"
        browser.switch_to.active_element.send_keys(Keys.ENTER)
        assert (
            notice(browser, expected := f"Alerte nº {fr} réglée ; la personne sera prévenue.")
            == expected
        )
        assert not browser.find_elements(By.ID, f"alert-{fr}")

        # English: hand the parcel to Logistics, then resolve it (nobody asked to hear back).
        browser.find_element(By.CSS_SELECTOR, "a.lang[hreflang='en']").click()
        wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Team inbox")
        assert "never arrived" in browser.find_element(By.ID, f"alert-{en}").text
        Select(browser.find_element(By.ID, f"to-{en}")).select_by_value("billing")
        browser.find_element(By.ID, f"reassign-{en}").send_keys(Keys.ENTER)
        dialog = WebDriverWait(browser, WAIT_S).until(alert_is_present())  # confirmed first
        assert dialog.text == f"Move alert #{en} to the chosen team?"
        dialog.dismiss()  # changed their mind: nothing moves
        assert browser.find_element(By.ID, f"alert-{en}").get_attribute("data-status") == "open"
        shown = [element.text for element in browser.find_elements(By.ID, "inbox-notice")]
        assert not any("handed over" in text for text in shown)
        browser.find_element(By.ID, f"reassign-{en}").send_keys(Keys.ENTER)
        WebDriverWait(browser, WAIT_S).until(alert_is_present()).accept()
        assert notice(browser, expected := f"Alert #{en} handed over to Billing.") == expected
        browser.find_element(By.ID, f"resolve-{en}").send_keys(Keys.ENTER)
        expected = f"Alert #{en} resolved. The person did not ask to hear back, so nothing is sent."
        assert notice(browser, expected) == expected
        assert errors_in_console(browser) == []

    with services.sessions() as session:
        rows = {r.id: r for r in session.scalars(select(FeedbackRecord))}
        assert rows[fr].status == rows[en].status == "resolved" and rows[en].team == "billing"
        actors = session.execute(
            select(AlertEventRecord.feedback_id, AlertEventRecord.action,
                   AlertEventRecord.actor_channel, AlertEventRecord.actor_name)
            .order_by(AlertEventRecord.id)
        ).all()  # fmt: skip
        assert [tuple(a) for a in actors] == [
            (fr, "acknowledged", "dashboard", ADMIN[0]),
            (fr, "resolved", "dashboard", ADMIN[0]),
            (en, "reassigned", "dashboard", ADMIN[0]),
            (en, "resolved", "dashboard", ADMIN[0]),
        ]
        [closing] = session.scalars(
            select(AlertOutboxRecord).where(AlertOutboxRecord.kind == "closing")
        )
        assert closing.feedback_id == fr and closing.payload["message"] == words
