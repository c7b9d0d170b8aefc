"""A real-browser test of the chat page (bot/web/static): headless Chromium via Selenium.

The app runs under uvicorn on a random local port with the in-tree fake Rasa. Skipped, with
the reason, only when Chromium or ChromeDriver is absent (``make browser`` installs them).
Set ``VECU_WEB_SCREENSHOT=/path.png`` to keep a screenshot of the conversation.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import uvicorn

from bot.channels.rasa import FakeRasaClient
from bot.web.app import create_app

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
)
WAIT_S = 15.0


def realistic(sender: str, message: str, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A scripted assistant (test data) answering in the metadata's language."""
    fr = metadata.get("language") == "fr"
    if message.startswith("/rate"):
        return [{"text": "Merci pour votre note !" if fr else "Thanks for your rating!"}]
    if "<" in message:
        return [{"text": ("Vous avez écrit : " if fr else "You wrote: ") + message}]
    question = (
        "Désolé pour ce désagrément. Sur 5, comment évaluez-vous la livraison ?"
        if fr
        else "Sorry about that. Out of 5, how would you rate the delivery?"
    )
    buttons = [{"title": str(n), "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
    return [{"text": question, "buttons": buttons}]


@pytest.fixture
def rasa() -> FakeRasaClient:
    return FakeRasaClient(script=realistic)


@pytest.fixture
def base_url(services: Any, rasa: FakeRasaClient) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(services=services, rasa=rasa)
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
    for flag in (*FLAGS, "--window-size=820,900", "--lang=fr-CA"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-CA,fr"})
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait_for(driver: Any, condition: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition)


def bot_texts(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".msg--bot .msg__text")]


def send(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    before = len(bot_texts(driver))
    box = driver.find_element(By.ID, "input")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()
    wait_for(driver, lambda d: len(bot_texts(d)) > before)


def test_chat_page_end_to_end_in_a_real_browser(
    browser: Any, base_url: str, rasa: FakeRasaClient
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert browser.find_element(By.ID, "send").text == "Envoyer"
    assert bot_texts(browser)[0].startswith("Bonjour")

    send(browser, "Mon colis est arrivé écrasé !")
    assert bot_texts(browser)[-1].startswith("Désolé pour ce désagrément")
    buttons = browser.find_elements(By.CSS_SELECTOR, ".choices .choice")
    assert [b.text for b in buttons] == ["1", "2", "3", "4", "5"]
    sender, message, metadata = rasa.sent[0]
    assert message == "Mon colis est arrivé écrasé !"
    assert metadata["language"] == "fr" and metadata["audience"] == "customer"
    conversation = browser.execute_script("return sessionStorage.getItem('vecu.conversation_id')")
    assert conversation and sender.startswith("p_") and conversation not in sender

    if path := os.environ.get("VECU_WEB_SCREENSHOT"):
        browser.save_screenshot(path)

    buttons[3].click()
    wait_for(browser, lambda d: bot_texts(d)[-1] == "Merci pour votre note !")
    assert rasa.sent[-1][1] == '/rate{"rating": 4}'
    assert rasa.sent[-1][0] == sender  # same conversation
    assert all(not b.is_enabled() for b in buttons)  # a choice is made once
    user = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg--user .msg__text")]
    assert user == ["Mon colis est arrivé écrasé !", "4"]

    # HTML is shown as text, never interpreted.
    send(browser, "<img src=x onerror=alert(1)><b>gras</b>")
    assert bot_texts(browser)[-1] == "Vous avez écrit : <img src=x onerror=alert(1)><b>gras</b>"
    assert browser.find_elements(By.CSS_SELECTOR, "#log img, #log b") == []

    # The language toggle switches the labels and the language sent to the assistant.
    browser.find_element(By.CSS_SELECTOR, ".lang__btn[data-lang='en']").click()
    assert browser.find_element(By.ID, "send").text == "Send"
    send(browser, "The box was crushed")
    assert rasa.sent[-1][2]["language"] == "en"
    assert bot_texts(browser)[-1].startswith("Sorry about that")


def test_chat_page_employee_audience_and_network_error(
    browser: Any, base_url: str, rasa: FakeRasaClient, services: Any
) -> None:
    from selenium.webdriver.common.by import By

    from bot.channels.web import links

    link = links.issue(services.settings.secret_key, campaign="page-test", days=1)
    browser.get(base_url + "/?audience=employee&link=" + link)
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert browser.find_element(By.ID, "send").text == "Envoyer"  # a French browser
    # The first message's own language wins over the browser's, and the page follows it.
    send(browser, "The workload has been crazy for weeks, I'm exhausted")
    metadata = dict(rasa.sent[-1][2])
    assert metadata.pop("message_id")  # the gateway gives each message an id
    assert metadata == {"language": "en", "audience": "employee", "channel": "web"}
    assert browser.find_element(By.ID, "send").text == "Send"
    send(browser, "😩")
    assert rasa.sent[-1][2]["language"] == "en"  # now known: sent by the page
    browser.find_element(By.CSS_SELECTOR, ".lang__btn[data-lang='fr']").click()

    browser.execute_script("window.fetch = () => Promise.reject(new TypeError('offline'));")
    box = browser.find_element(By.ID, "input")
    box.send_keys("Est-ce que ça marche ?")
    browser.find_element(By.ID, "send").click()
    error = browser.find_element(By.ID, "error")
    wait_for(browser, lambda d: error.is_displayed())
    assert error.text.startswith("Problème de connexion")
    assert box.get_attribute("value") == "Est-ce que ça marche ?"  # kept for a retry


def test_the_greeting_follows_the_page_language(
    browser: Any, base_url: str, rasa: FakeRasaClient
) -> None:
    from selenium.webdriver.common.by import By

    # An English link opened by a person who then writes in French (issue 19): the page
    # follows them, greeting included, and the toggle switches the greeting back.
    browser.get(base_url + "/?lang=en")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert bot_texts(browser)[0].startswith("Hello")
    send(browser, "Ma facture est fausse, c'est la deuxième fois")
    assert rasa.sent[-1][2]["language"] == "fr"
    assert browser.find_element(By.ID, "send").text == "Envoyer"
    assert bot_texts(browser)[0].startswith("Bonjour")
    browser.find_element(By.CSS_SELECTOR, ".lang__btn[data-lang='en']").click()
    assert bot_texts(browser)[0].startswith("Hello")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    # a French link opens in French, whatever this tab chose before
    browser.get(base_url + "/?lang=fr")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert bot_texts(browser)[0].startswith("Bonjour")
