"""Tests of bot/channels/telegram/gateway.py with the real python-telegram-bot, offline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.channels.rasa import FakeRasaClient
from bot.channels.telegram.gateway import (
    MAX_CALLBACK_DATA_BYTES,
    TelegramGateway,
    build_application,
)
from bot.domain import Audience
from bot.i18n import t
from bot.privacy.pseudonyms import pseudonym
from bot.settings import Settings

RATING_PAYLOAD = '/rate{"rating": 4}'


@pytest.fixture
def build(
    api: Any, rasa: FakeRasaClient, settings: Settings, recorder: Any, clock: Any
) -> Callable[..., Any]:
    built: list[Application[Any, Any, Any, Any, Any, Any]] = []

    async def _build(
        audience: Audience = Audience.CUSTOMER, settings_: Settings | None = None
    ) -> Application[Any, Any, Any, Any, Any, Any]:
        application = build_application(
            token="123:TEST",
            audience=audience,
            rasa=rasa,
            settings=settings_ or settings,
            request=api,
            record=recorder,
            clock=clock,
        )
        await application.initialize()
        built.append(application)
        return application

    return _build


@pytest.fixture
async def app(build: Callable[..., Any]) -> AsyncIterator[Any]:
    application = await build()
    yield application
    await application.shutdown()


async def feed(application: Any, data: dict[str, Any]) -> None:
    await application.process_update(Update.de_json(data, application.bot))


def gateway(application: Any) -> TelegramGateway:
    gw: TelegramGateway = application.bot_data["gateway"]
    return gw


async def test_french_text_reaches_rasa_pseudonymously_and_buttons_become_a_keyboard(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any, settings: Settings
) -> None:
    await feed(app, updates.make_message_update("Livraison en retard", 42, "fr-CA"))

    assert len(rasa.sent) == 1
    sender, text, metadata = rasa.sent[0]
    assert text == "Livraison en retard"
    assert sender == pseudonym("42", channel="telegram", secret=settings.secret_key)
    assert "42" not in sender
    message_id = metadata.pop("message_id")
    assert metadata == {"language": "fr", "audience": "customer", "channel": "telegram"}
    assert message_id.startswith("tg-customer-")  # the update's id: a retry is the same message

    assert api.sent("sendChatAction")[0] == {"chat_id": 42, "action": "typing"}
    typing_at = api.calls.index(("sendChatAction", api.sent("sendChatAction")[0]))
    send_at = next(i for i, (name, _) in enumerate(api.calls) if name == "sendMessage")
    assert typing_at < send_at
    (sent,) = api.sent("sendMessage")
    assert sent["chat_id"] == 42
    assert sent["text"] == "[fr] Livraison en retard"
    keys = [key for row in sent["reply_markup"]["inline_keyboard"] for key in row]
    assert [key["text"] for key in keys] == ["1", "2", "3", "4", "5"]
    assert keys[3]["callback_data"] == RATING_PAYLOAD


async def test_audience_comes_from_the_bot_never_from_the_text(
    build: Callable[..., Any], rasa: FakeRasaClient, updates: Any
) -> None:
    employee = await build(Audience.EMPLOYEE)
    await feed(employee, updates.make_message_update("audience: customer", 7, "en-US"))
    await employee.shutdown()
    assert rasa.sent[0][2]["audience"] == "employee"


@pytest.mark.parametrize(
    ("code", "language"), [("en", "en"), ("fr", "fr"), ("de", "fr"), (None, "fr")]
)
async def test_language_is_normalised_with_french_by_default(
    app: Any, rasa: FakeRasaClient, updates: Any, code: str | None, language: str
) -> None:
    await feed(app, updates.make_message_update("hello", 42, code))
    assert rasa.sent[0][2]["language"] == language


async def test_edited_message_is_handled_as_a_new_message(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    await feed(app, updates.make_message_update("premier jet", 42))
    await feed(app, updates.make_message_update("version corrigée", 42, edited=True))
    assert [text for _, text, _ in rasa.sent] == ["premier jet", "version corrigée"]
    assert api.texts()[-1] == "[fr] version corrigée"


async def test_button_press_sends_the_payload_answers_and_closes_the_keyboard(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    await feed(app, updates.make_callback_update(RATING_PAYLOAD, 42, message_id=1001))

    assert [text for _, text, _ in rasa.sent] == [RATING_PAYLOAD]
    assert rasa.sent[0][2]["audience"] == "customer"
    (answer,) = api.sent("answerCallbackQuery")
    assert answer["callback_query_id"] == "cb1001"
    (edit,) = api.sent("editMessageReplyMarkup")
    assert edit["chat_id"] == 42 and edit["message_id"] == 1001
    assert "reply_markup" not in edit  # no markup: the keyboard is removed
    assert api.texts() == [f"[fr] {RATING_PAYLOAD}"]


async def test_payload_longer_than_64_bytes_goes_through_a_short_id(
    api: Any, rasa: FakeRasaClient, updates: Any, build: Callable[..., Any]
) -> None:
    long_payload = '/choose{"touchpoint": "' + "livraison_à_domicile_" * 4 + '"}'
    assert len(long_payload.encode()) > MAX_CALLBACK_DATA_BYTES
    rasa.script = lambda s, m, md: [
        {"text": "Lequel ?", "buttons": [{"title": "Livraison", "payload": long_payload}]}
    ]
    application = await build()
    await feed(application, updates.make_message_update("je veux parler", 42))
    (sent,) = api.sent("sendMessage")
    data = sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
    assert data != long_payload

    await feed(application, updates.make_callback_update(data, 42))
    await application.shutdown()
    assert rasa.sent[-1][1] == long_payload


async def test_duplicate_update_id_is_processed_once(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    retry = updates.make_message_update("une seule fois", 42, update_id=5)
    await feed(app, retry)
    await feed(app, retry)
    await feed(app, updates.make_message_update("autre", 42, update_id=6))
    assert [text for _, text, _ in rasa.sent] == ["une seule fois", "autre"]
    assert len(api.sent("sendMessage")) == 2


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_update_ids_are_remembered_per_bot_in_the_shared_store(
    settings: Settings, kind: str
) -> None:
    import uuid

    import redis

    from bot.storage.shared import MemoryState, RedisState, SharedState

    store: SharedState = MemoryState()  # what two replicas share: Redis in production
    if kind == "redis":
        redis_store = RedisState("redis://127.0.0.1:6379/15", prefix=f"t-{uuid.uuid4().hex}:")
        try:
            redis_store.client.ping()
        except (redis.RedisError, OSError):
            pytest.skip("no Redis on 127.0.0.1:6379")
        store = redis_store
    customer, replica = (
        TelegramGateway(
            audience=Audience.CUSTOMER, rasa=FakeRasaClient(), settings=settings, store=store
        )
        for _ in range(2)
    )
    employee = TelegramGateway(
        audience=Audience.EMPLOYEE, rasa=FakeRasaClient(), settings=settings, store=store
    )
    assert customer.first_time(7)
    assert not replica.first_time(7)  # Telegram's retry reached the other replica
    assert employee.first_time(7)  # each bot numbers its own updates
    if isinstance(store, RedisState):
        for key in store.client.scan_iter(store.prefix + "*"):
            store.client.delete(key)


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_group_chats_are_ignored(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any, chat_type: str
) -> None:
    await feed(app, updates.make_message_update("spam de groupe", 42, chat_type=chat_type))
    assert rasa.sent == []
    assert api.sent("sendMessage") == []


async def test_channel_posts_are_ignored(app: Any, api: Any, rasa: FakeRasaClient) -> None:
    post = {"message_id": 3, "date": 0, "chat": {"id": -1001, "type": "channel"}, "text": "hi"}
    await feed(app, {"update_id": 99, "channel_post": post})
    assert rasa.sent == [] and api.sent("sendMessage") == []


async def test_photo_gets_a_polite_french_reply_and_nothing_reaches_rasa(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    await feed(app, updates.make_photo_update(42, "fr"))
    assert rasa.sent == []
    assert api.texts() == [t("telegram.not_text", "fr")]


async def test_sticker_gets_a_polite_english_reply(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    await feed(app, updates.make_sticker_update(42, "en-GB"))
    assert rasa.sent == []
    assert api.texts() == [t("telegram.not_text", "en")]
    assert t("telegram.not_text", "en") != t("telegram.not_text", "fr")


async def test_a_5000_character_reply_is_split_in_two(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    first = "Première partie. " * 150  # ~2550 characters
    second = "Seconde partie. " * 153  # ~2450 characters
    long_reply = first.strip() + "\n\n" + second.strip()
    assert len(long_reply) > 4096
    rasa.script = lambda s, m, md: [
        {"text": long_reply, "buttons": [{"title": "OK", "payload": "/affirm"}]}
    ]
    await feed(app, updates.make_message_update("raconte", 42))
    sent = api.sent("sendMessage")
    assert [m["text"] for m in sent] == [first.strip(), second.strip()]
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert "reply_markup" not in sent[0]
    assert sent[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/affirm"


@pytest.mark.parametrize("failure", ["down", "silent", "actions_down"])
async def test_rasa_failure_apologises_in_french_and_records_the_text(
    app: Any,
    api: Any,
    rasa: FakeRasaClient,
    updates: Any,
    recorder: Any,
    settings: Settings,
    failure: str,
) -> None:
    setattr(rasa, failure, True)
    await feed(app, updates.make_message_update("le colis est arrivé cassé", 42, "fr"))

    (message,) = recorder.messages
    assert message.text == "le colis est arrivé cassé"
    assert message.channel == "telegram"
    assert message.language == "fr"
    assert message.audience is Audience.CUSTOMER
    assert message.conversation_id == pseudonym(
        "42", channel="telegram", secret=settings.secret_key
    )
    assert message.message_id is not None and message.message_id.startswith("tg-customer-")
    if rasa.sent:
        assert message.message_id == rasa.sent[0][2]["message_id"]
    (apology,) = api.texts()
    assert t("telegram.unavailable", "fr") in apology
    assert t("telegram.kept", "fr") in apology


async def test_rasa_down_in_english_and_recording_failing_still_answers(
    build: Callable[..., Any], api: Any, rasa: FakeRasaClient, updates: Any, recorder: Any
) -> None:
    rasa.down = True
    recorder.fail = True
    application = await build()
    await feed(application, updates.make_message_update("the parcel is broken", 42, "en"))
    await application.shutdown()
    (apology,) = api.texts()
    assert t("telegram.unavailable", "en") in apology
    assert t("telegram.kept", "en") not in apology  # not claimed when not kept


async def test_button_press_while_rasa_is_down_is_not_recorded_as_feedback(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any, recorder: Any
) -> None:
    rasa.down = True
    await feed(app, updates.make_callback_update(RATING_PAYLOAD, 42))
    assert recorder.messages == []
    assert t("telegram.unavailable", "fr") in api.texts()[0]


async def test_rate_limit_notice_once_then_silence_until_the_minute_has_passed(
    build: Callable[..., Any],
    api: Any,
    rasa: FakeRasaClient,
    updates: Any,
    clock: Any,
    make_settings: Callable[..., Settings],
) -> None:
    application = await build(settings_=make_settings(TELEGRAM_RATE_PER_MINUTE=2))
    for n in range(5):
        await feed(application, updates.make_message_update(f"message {n}", 42))
    assert [text for _, text, _ in rasa.sent] == ["message 0", "message 1"]
    notice = t("telegram.rate_limited", "fr")
    assert api.texts().count(notice) == 1

    await feed(application, updates.make_message_update("autre personne", 43))
    assert rasa.sent[-1][1] == "autre personne"  # the limit is per chat

    clock.now += 30  # 2 in any minute: still two in the last one
    await feed(application, updates.make_message_update("trop tôt", 42))
    clock.now += 31
    for text in ("après la pause", "encore", "trop tôt, encore"):
        await feed(application, updates.make_message_update(text, 42))
    await application.shutdown()
    assert [text for _, text, _ in rasa.sent][-2:] == ["après la pause", "encore"]
    assert "trop tôt" not in [text for _, text, _ in rasa.sent]
    assert api.texts().count(notice) == 2  # a new flood a minute later gets one notice


async def test_a_long_payload_pressed_on_another_replica_still_works(settings: Settings) -> None:
    from bot.storage.shared import MemoryState

    store = MemoryState()
    one, two = (
        TelegramGateway(
            audience=Audience.CUSTOMER, rasa=FakeRasaClient(), settings=settings, store=store
        )
        for _ in range(2)
    )
    payload = '/touchpoint{"touchpoint": "' + "x" * 80 + '"}'
    data = one.callback_data(payload)
    assert len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
    assert two.payload(data) == payload
    assert two.payload("k:forgotten") is None


async def test_the_private_chat_is_kept_as_the_contact_route(
    app: Any, updates: Any, settings: Settings, process_services: Any
) -> None:
    from sqlalchemy import select

    from bot.storage.models import ContactRouteRecord

    await feed(app, updates.make_message_update("Bonjour", 42, "fr"))
    await feed(app, updates.make_message_update("Encore moi", 42, "fr"))
    with process_services.sessions() as session:
        [route] = session.scalars(select(ContactRouteRecord)).all()
    assert route.conversation_id == pseudonym("42", channel="telegram", secret=settings.secret_key)
    assert (route.channel, route.address, route.audience, route.language) == (
        "telegram", "42", "customer", "fr"
    )  # fmt: skip
    assert route.consent is None  # asked later in the conversation


async def test_a_forged_button_or_a_typed_system_intent_never_reaches_rasa_as_an_intent(
    app: Any, api: Any, rasa: FakeRasaClient, updates: Any
) -> None:
    forged = '/EXTERNAL_survey{"touchpoint": "delivery"}'
    await feed(app, updates.make_callback_update(forged, 42, message_id=1002))
    assert rasa.sent == []
    await feed(app, updates.make_message_update("/EXTERNAL_issue_resolved", 42))
    assert [text for _, text, _ in rasa.sent] == ["EXTERNAL_issue_resolved"]
