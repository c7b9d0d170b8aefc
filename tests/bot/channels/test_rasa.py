"""Tests of bot/channels/rasa.py: the HTTP client against a real local server, and the fake."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.channels.rasa import FakeRasaClient, HttpRasaClient, RasaClient, echo_script
from bot.errors import BusyError, UpstreamError

if TYPE_CHECKING:
    from conftest import StandInRasa

METADATA = {"language": "fr", "audience": "customer", "channel": "web"}


async def test_send_posts_the_rest_channel_body_and_returns_messages(
    stand_in: StandInRasa,
) -> None:
    client = HttpRasaClient(stand_in.url, stand_in.url, timeout_s=5)
    try:
        messages = await client.send("p_abc", "Mon colis est arrivé écrasé", METADATA)
    finally:
        await client.aclose()
    assert stand_in.received == [
        {"sender": "p_abc", "message": "Mon colis est arrivé écrasé", "metadata": METADATA}
    ]
    assert messages[0]["text"] == "stand-in:fr"
    assert messages[0]["buttons"][0] == {"title": "1", "payload": '/rate{"rating": 1}'}


async def test_silent_rasa_answers_an_empty_list(stand_in: StandInRasa) -> None:
    stand_in.mode = "empty"
    client = HttpRasaClient(stand_in.url, stand_in.url, timeout_s=5)
    try:
        assert await client.send("p_abc", "bonjour", METADATA) == []
    finally:
        await client.aclose()


@pytest.mark.parametrize("mode", ["error", "garbage"])
async def test_server_errors_and_garbage_are_upstream_errors(
    stand_in: StandInRasa, mode: str
) -> None:
    stand_in.mode = mode
    client = HttpRasaClient(stand_in.url, stand_in.url, timeout_s=5)
    try:
        with pytest.raises(UpstreamError):
            await client.send("p_abc", "bonjour", METADATA)
    finally:
        await client.aclose()


async def test_connection_refused_is_an_upstream_error(refused_url: str) -> None:
    client = HttpRasaClient(refused_url, refused_url, timeout_s=5)
    try:
        with pytest.raises(UpstreamError, match="unreachable"):
            await client.send("p_abc", "bonjour", METADATA)
        assert await client.rasa_ok() is False
        assert await client.actions_ok() is False
    finally:
        await client.aclose()


async def test_timeout_is_an_upstream_error(stand_in: StandInRasa) -> None:
    stand_in.mode = "slow"
    stand_in.delay_s = 1.0
    client = HttpRasaClient(stand_in.url, stand_in.url, timeout_s=0.2)
    try:
        with pytest.raises(UpstreamError, match="ReadTimeout"):
            await client.send("p_abc", "bonjour", METADATA)
    finally:
        await client.aclose()


async def test_health_probes_read_rasa_root_and_actions_health(stand_in: StandInRasa) -> None:
    client = HttpRasaClient(stand_in.url + "/", stand_in.url, timeout_s=5)
    try:
        assert await client.rasa_ok() is True
        assert await client.actions_ok() is True
    finally:
        await client.aclose()


async def test_rasa_probe_wants_rasa_greeting(stand_in: StandInRasa) -> None:
    # The action server's root is not Rasa: pointing RASA_URL at a wrong service is caught.
    client = HttpRasaClient(stand_in.url + "/health-not-here", stand_in.url, timeout_s=5)
    try:
        assert await client.rasa_ok() is False
    finally:
        await client.aclose()


async def test_fake_is_a_rasa_client_and_can_be_down_or_silent() -> None:
    fake = FakeRasaClient()
    assert isinstance(fake, RasaClient)
    assert isinstance(HttpRasaClient("http://x", "http://y"), RasaClient)
    replies = await fake.send("p_1", "salut", METADATA)
    assert replies == echo_script("p_1", "salut", METADATA)
    assert fake.sent == [("p_1", "salut", METADATA)]
    fake.actions_down = True
    assert await fake.send("p_1", "salut", METADATA) == []
    assert await fake.actions_ok() is False
    fake.down = True
    with pytest.raises(UpstreamError):
        await fake.send("p_1", "salut", METADATA)
    assert await fake.rasa_ok() is False


async def test_a_slow_rasa_or_action_server_is_busy_not_down(stand_in: StandInRasa) -> None:
    stand_in.mode = "slow"
    client = HttpRasaClient(stand_in.url, stand_in.url, timeout_s=0.2)
    try:
        with pytest.raises(BusyError):
            await client.send("p_abc", "Bonjour", METADATA)
    finally:
        await client.aclose()
    closed = HttpRasaClient("http://127.0.0.1:9", "http://127.0.0.1:9", timeout_s=0.5)
    try:
        assert await closed.actions_state() == "down"
    finally:
        await closed.aclose()
