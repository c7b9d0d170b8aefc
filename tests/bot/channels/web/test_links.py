"""Tests of bot/channels/web/links.py and ``vecu employees link``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from bot.channels.web import links
from bot.cli.main import main

KEY = "k" * 32


def test_a_link_names_its_campaign_and_expires() -> None:
    token = links.issue(KEY, campaign="pulse-2026.q4", days=2, now=1_000)
    found = links.verify(KEY, token, now=1_000 + 86_400)
    assert found is not None and found.campaign == "pulse-2026.q4"
    assert links.verify(KEY, token, now=1_000 + 3 * 86_400) is None  # expired


@pytest.mark.parametrize("token", [None, "", "nonsense", "x" * 600])
def test_anything_but_a_link_vecu_signed_is_refused(token: str | None) -> None:
    assert links.verify(KEY, token) is None


def test_a_link_signed_with_another_key_or_altered_is_refused() -> None:
    token = links.issue(KEY, campaign="q4", days=5)
    assert links.verify("another-key-" + "0" * 20, token) is None
    assert links.verify(KEY, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None


@pytest.mark.parametrize(("campaign", "days"), [("", 3), ("a b", 3), ("q4", 0), ("q4", 400)])
def test_bad_campaigns_and_lifetimes_are_refused(campaign: str, days: int) -> None:
    with pytest.raises(ValueError):
        links.issue(KEY, campaign=campaign, days=days)


def test_the_command_prints_a_working_link(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VECU_SECRET_KEY", KEY)
    monkeypatch.setenv("VECU_CLI_LANGUAGE", "en")
    from bot.settings import get_settings

    get_settings.cache_clear()
    try:
        code = main(["employees", "link", "--campaign", "q4", "--days", "14",
                     "--base-url", "https://vecu.example.org/"])  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert code == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    query = parse_qs(urlparse(url).query)
    assert url.startswith("https://vecu.example.org/?") and query["audience"] == ["employee"]
    found = links.verify(KEY, query["link"][0])
    assert found is not None and found.campaign == "q4"
