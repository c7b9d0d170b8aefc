"""Tests of bot/channels/web/chat.py: the chat rules (cleaning, language, truncation, replies,
fallback)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.rasa import FakeRasaClient
from bot.channels.web.chat import (
    ChatContext,
    ChatRequest,
    ChatStatus,
    InvalidChatRequest,
    handle_chat,
    parse_audience,
    parse_request,
    web_pseudonym,
)
from bot.domain import Audience, Severity
from bot.feedback.intake import Message, Outcome, clean_text
from bot.i18n import supported_language, t
from bot.settings import Settings


class Recorder:
    """A fake ``bot.feedback.intake.record`` that keeps the messages (or fails on demand)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.messages: list[Message] = []

    def __call__(self, message: Message, *, services: Any = None) -> Outcome:
        if self.fail:
            raise RuntimeError("database on fire")
        self.messages.append(message)
        return Outcome(
            feedback_id=len(self.messages),
            touchpoint=None,
            team=None,
            severity=Severity.NORMAL,
            sentiment="neutral",
            emotion="neutral",
            negative=False,
        )


@pytest.fixture
def settings() -> Settings:
    return Settings(
        VECU_ENV="test", VECU_SECRET_KEY="k" * 32, VECU_MAX_TEXT_LENGTH=50, VECU_API_TOKEN="t"
    )


def context(settings: Settings, rasa: FakeRasaClient, recorder: Recorder) -> ChatContext:
    return ChatContext(rasa=rasa, settings=settings, record=recorder)


def ask(text: Any, language: str | None = None, audience: str | None = None) -> ChatRequest:
    body: dict[str, Any] = {"conversation_id": "web-123", "text": text}
    if language is not None:
        body["language"] = language
    if audience is not None:
        body["audience"] = audience
    return parse_request(body)


def test_clean_text_strips_controls_and_surrogates_but_keeps_emoji_sequences() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ sequence
    assert clean_text("a\x00b\x07c\x1bd\ud800e") == "abcde"
    assert clean_text("line\r\nnext\ttab") == "line\nnext\ttab"
    assert clean_text(family) == family
    assert clean_text("e\u0301") == "é"  # NFC


def test_accept_language_header_gives_the_first_supported_language() -> None:
    from bot.i18n import accepted_language

    assert accepted_language("fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert accepted_language("de-DE, en-GB;q=0.7") == "en"
    assert accepted_language("de, es") is None
    assert accepted_language("") is None and accepted_language(None) is None


def test_language_and_audience_parsing() -> None:
    assert supported_language("fr-CA") == "fr"
    assert supported_language("EN_us") == "en"
    assert supported_language("de") is None
    assert supported_language(None) is None
    assert parse_audience("employee") is Audience.EMPLOYEE
    assert parse_audience("martian") is Audience.CUSTOMER
    assert parse_audience(None) is Audience.CUSTOMER


def test_parse_request_is_lenient_on_fields_but_needs_a_conversation() -> None:
    request = parse_request({"conversation_id": 42, "text": 5, "language": 3, "extra": 1})
    assert (request.conversation_id, request.text, request.language) == ("42", "5", None)
    assert parse_request({"conversation_id": "c", "text": ["x"]}).text == ""
    with pytest.raises(InvalidChatRequest) as missing:
        parse_request({"text": "hello", "language": "en"})
    assert missing.value.language == "en"
    with pytest.raises(InvalidChatRequest):
        parse_request({"conversation_id": "\x00\x01", "text": "hello"})
    with pytest.raises(InvalidChatRequest):
        parse_request(["not", "an", "object"])


async def test_message_goes_to_rasa_under_a_pseudonym_with_metadata(settings: Settings) -> None:
    rasa, recorder = FakeRasaClient(), Recorder()
    answer = await handle_chat(
        ask("Bonjour", "fr-CA", "employee"), context(settings, rasa, recorder)
    )
    sender, message, metadata = rasa.sent[0]
    assert sender == web_pseudonym("web-123", settings) and sender.startswith("p_")
    assert "web-123" not in sender
    assert message == "Bonjour"
    message_id = metadata.pop("message_id")
    assert metadata == {"language": "fr", "audience": "employee", "channel": "web"}
    assert len(message_id) == 32  # a new id for each message (the page gave none)
    assert answer.status is ChatStatus.OK and answer.language == "fr"
    assert answer.replies[0].text == "[fr] Bonjour"
    buttons = answer.replies[0].buttons or []
    assert [b.payload for b in buttons] == [f'/rate{{"rating": {n}}}' for n in range(1, 6)]
    assert recorder.messages == []  # Rasa is up: the action records, not the gateway


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Mon colis est arrivé écrasé, c'est inacceptable !", None, "fr"),
        ("My parcel arrived crushed, this is unacceptable!", None, "en"),
        ("Das Paket kam beschädigt an", None, "fr"),  # unsure → French default
        ("Das Paket kam beschädigt an", "en", "en"),  # the page's choice wins
        ("My parcel arrived crushed", "fr", "fr"),
    ],
)
async def test_language_is_request_then_detection_then_french(
    settings: Settings, text: str, language: str | None, expected: str
) -> None:
    rasa = FakeRasaClient()
    answer = await handle_chat(ask(text, language), context(settings, rasa, Recorder()))
    assert answer.language == expected
    assert rasa.sent[0][2]["language"] == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Thank you. In your own words, what happened?", "en"),
        ("Merci. Dans vos mots, que s'est-il passé ?", "fr"),
    ],
)
async def test_a_button_without_language_answers_in_the_language_the_assistant_speaks(
    settings: Settings, reply: str, expected: str
) -> None:
    def script(sender: str, message: str, metadata: Any) -> list[Any]:
        return [{"recipient_id": sender, "text": reply}]

    rasa = FakeRasaClient(script=script)
    answer = await handle_chat(ask('/rate{"rating": 5}'), context(settings, rasa, Recorder()))
    assert answer.language == expected


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x02", None])
@pytest.mark.parametrize("language", ["fr", "en"])
async def test_empty_messages_are_answered_without_rasa(
    settings: Settings, text: Any, language: str
) -> None:
    rasa, recorder = FakeRasaClient(), Recorder()
    answer = await handle_chat(ask(text, language), context(settings, rasa, recorder))
    assert answer.status is ChatStatus.EMPTY
    assert [r.text for r in answer.replies] == [t("web.chat.empty", language)]
    assert rasa.sent == [] and recorder.messages == []


async def test_long_message_is_truncated_for_rasa_and_the_user_is_told(settings: Settings) -> None:
    rasa = FakeRasaClient()
    text = "é" * 120
    answer = await handle_chat(ask(text, "fr"), context(settings, rasa, Recorder()))
    _, sent, metadata = rasa.sent[0]
    assert sent == "é" * 50
    assert metadata["truncated"] is True and metadata["original_length"] == 120
    assert answer.replies[0].text == t("web.chat.truncated", "fr", limit=50)
    assert "50" in answer.replies[0].text
    assert answer.replies[1].text.startswith("[fr] ")


@pytest.mark.parametrize("failure", ["down", "actions_down", "silent"])
@pytest.mark.parametrize("language", ["fr", "en"])
async def test_failure_apologises_in_language_and_records_the_full_message(
    settings: Settings, failure: str, language: str
) -> None:
    rasa, recorder = FakeRasaClient(**{failure: True}), Recorder()
    text = "x" * 80
    answer = await handle_chat(ask(text, language, "robot"), context(settings, rasa, recorder))
    assert answer.status is ChatStatus.UNAVAILABLE
    texts = [r.text for r in answer.replies]
    assert texts == [
        t("web.chat.truncated", language, limit=50),
        t("web.chat.unavailable", language),
        t("web.chat.kept", language),
        t("web.chat.retry", language),
    ]
    (message,) = recorder.messages
    assert len(rasa.sent) == (1 if failure == "silent" else 0)  # actions down: not sent
    assert message.text == text  # the full text: record() truncates explicitly
    assert message.conversation_id == web_pseudonym("web-123", settings)
    assert (message.language, message.audience, message.channel) == (
        language,
        Audience.CUSTOMER,
        "web",
    )
    if rasa.sent:  # the fallback record carries the id Rasa got: a late Rasa finds it
        assert message.message_id == rasa.sent[0][2]["message_id"]
    assert message.message_id


async def test_a_client_message_id_is_kept_and_an_unfit_one_replaced(settings: Settings) -> None:
    rasa, recorder = FakeRasaClient(), Recorder()
    ctx = context(settings, rasa, recorder)
    for given in ("page-0001-abcd", "bad id!", "short", 12345678, None):
        body = {"conversation_id": "web-123", "text": "Bonjour", "message_id": given}
        await handle_chat(parse_request(body), ctx)
    ids = [metadata["message_id"] for _, _, metadata in rasa.sent]
    assert ids[0] == "page-0001-abcd"
    assert all(len(found) == 32 for found in ids[1:]) and len(set(ids)) == len(ids)


async def test_button_payload_is_not_recorded_when_rasa_is_down(settings: Settings) -> None:
    rasa, recorder = FakeRasaClient(down=True), Recorder()
    answer = await handle_chat(ask('/rate{"rating": 4}', "en"), context(settings, rasa, recorder))
    assert answer.status is ChatStatus.UNAVAILABLE
    assert recorder.messages == []
    assert t("web.chat.kept", "en") not in [r.text for r in answer.replies]


async def test_failed_fallback_still_answers_without_promising_anything(
    settings: Settings,
) -> None:
    rasa, recorder = FakeRasaClient(down=True), Recorder(fail=True)
    answer = await handle_chat(ask("Livraison en retard", "fr"), context(settings, rasa, recorder))
    assert [r.text for r in answer.replies] == [
        t("web.chat.unavailable", "fr"),
        t("web.chat.retry", "fr"),
    ]


async def test_rasa_language_switch_and_non_displayable_messages(settings: Settings) -> None:
    def script(sender: str, message: str, metadata: Any) -> list[dict[str, Any]]:
        return [
            {"recipient_id": sender, "custom": {"language": "en"}},
            {"recipient_id": sender, "image": "http://example.invalid/x.png"},
            {"recipient_id": sender, "text": "Sure, let's speak English."},
            {"recipient_id": sender, "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        ]

    rasa = FakeRasaClient(script=script)
    answer = await handle_chat(ask("in English please", "fr"), context(settings, rasa, Recorder()))
    assert answer.language == "en"
    assert len(answer.replies) == 2
    assert (answer.replies[0].text, answer.replies[0].buttons) == (
        "Sure, let's speak English.",
        None,
    )
    assert answer.replies[1].text == ""
    assert (
        answer.replies[1].buttons is not None and answer.replies[1].buttons[0].payload == "/affirm"
    )


async def test_a_system_intent_typed_in_the_chat_never_reaches_rasa_as_an_intent(
    settings: Settings,
) -> None:
    rasa, recorder = FakeRasaClient(), Recorder()
    for typed in ("/EXTERNAL_issue_resolved", '/EXTERNAL_survey{"touchpoint":"delivery"}'):
        await handle_chat(ask(typed, "fr"), context(settings, rasa, recorder))
    assert [text for _, text, _ in rasa.sent] == [
        "EXTERNAL_issue_resolved",
        'EXTERNAL_survey{"touchpoint":"delivery"}',
    ]
    await handle_chat(ask('/rate{"rating": 4}', "fr"), context(settings, rasa, recorder))
    assert rasa.sent[-1][1] == '/rate{"rating": 4}'


async def test_a_busy_action_server_is_said_busy_and_the_message_kept(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    rasa, recorder = FakeRasaClient(busy=True), Recorder()
    answer = await handle_chat(
        ask("Mon colis est arrivé écrasé", "fr"), context(settings, rasa, recorder)
    )
    assert answer.status is ChatStatus.UNAVAILABLE
    assert [r.text for r in answer.replies] == [t("web.chat.busy", "fr")]
    assert "problème" not in answer.replies[0].text and len(recorder.messages) == 1
    assert "action server busy" in caplog.text and "down" not in caplog.text


async def test_a_down_action_server_still_gets_the_apology(settings: Settings) -> None:
    rasa, recorder = FakeRasaClient(actions_down=True), Recorder()
    answer = await handle_chat(
        ask("Mon colis est arrivé écrasé", "fr"), context(settings, rasa, recorder)
    )
    texts = [r.text for r in answer.replies]
    assert texts[0] == t("web.chat.unavailable", "fr") and t("web.chat.kept", "fr") in texts
