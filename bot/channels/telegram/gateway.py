"""The Telegram gateway: Telegram updates in, Rasa's REST channel, replies out.

:func:`build_application` builds one python-telegram-bot :class:`~telegram.ext.Application`
per bot (one bot per audience: customer, employee). Its handlers live in
:class:`TelegramGateway`, which owns the rules between Telegram and Rasa:

- **who and what**: only private chats give feedback (groups and channels are ignored);
  text and *edited* text (treated as a new message) go to Rasa through the web app's
  :class:`bot.channels.rasa.RasaClient`, with sender :func:`bot.privacy.pseudonyms.pseudonym` of the
  Telegram user id and metadata ``{"language", "audience", "channel": "telegram"}``. The
  language is the user's ``language_code`` (``fr``/``en``, French by default); the audience
  is the one of the bot that received the update, never anything the user typed.
- **buttons**: Rasa buttons become an inline keyboard whose ``callback_data`` is the
  payload; a press sends the payload to Rasa, answers the callback query and closes the
  pressed keyboard. Telegram limits ``callback_data`` to 64 bytes: a longer payload is
  replaced by a short id kept in the shared store for ``PAYLOAD_TTL_S``.
- **other content** (photos, stickers, voice, files…): a polite reply in the user's
  language (catalogue ``telegram.*``), nothing sent to Rasa.
- **closed loop**: the private chat id is kept as the person's contact route
  (:func:`bot.contact.routes.save_route`, once per chat and language per process), so a
  resolved issue can be announced to them if they agree (never shown to a team).
- **robustness**: a typing indicator while Rasa thinks; replies longer than Telegram's
  limit are split (:func:`bot.channels.telegram.text.split_message`); when Rasa is down or
  silent the user gets an apology and their text is recorded directly with
  :func:`bot.feedback.intake.record` (via :func:`bot.channels.inbound.record_directly`), so nothing
  is lost.
- **flow control**: duplicate ``update_id`` s (Telegram retries a webhook it thinks failed)
  are processed once; updates of one chat are handled one at a time, in order (a lock per
  chat); at most ``TELEGRAM_RATE_PER_MINUTE`` messages per chat in any minute, a flood
  answered with one notice, then silence until the minute has passed. This state lives in
  :mod:`bot.storage.shared`: in memory for one web process, in Redis (``VECU_REDIS_URL``) when
  several web replicas receive the same bot's updates, so a retry or the next message of a
  chat landing on another replica is still deduplicated, ordered and counted.
- **once**: the message id given to Rasa and to the fallback record is the update's, so a
  message recorded here while Rasa was late is not stored again by Rasa's action.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.inbound import (
    Recorder,
    allowed_payload,
    default_record,
    person_text,
    record_directly,
)
from bot.channels.rasa import RasaClient, RasaMessage
from bot.channels.telegram.team import add_team_handlers
from bot.channels.telegram.text import split_message
from bot.contact.routes import save_route
from bot.domain import Audience
from bot.errors import UpstreamError
from bot.feedback.intake import Message, clean_text
from bot.i18n import normalize_language, t
from bot.privacy.pseudonyms import pseudonym, secret_key
from bot.storage.shared import MemoryState, SharedState, shared_state

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_CALLBACK_DATA_BYTES = 64
"""Telegram's limit on a button's ``callback_data``."""
SHORT_PAYLOAD_PREFIX = "k:"
"""Prefix of the short ids standing for payloads too long for ``callback_data``."""
UPDATE_TTL_S = 24 * 3600.0
"""How long an ``update_id`` is remembered (Telegram keeps undelivered updates 24 hours)."""
RATE_WINDOW_S = 60.0
"""The window of ``TELEGRAM_RATE_PER_MINUTE``."""
KEPT_CHATS = 10_000
"""How many chats' contact routes each bot remembers having saved (a cache)."""
PAYLOAD_TTL_S = 30 * 24 * 3600.0
"""How long a long payload is remembered behind its short id."""
CHAT_LOCK_TTL_S = 120.0
"""Longest a chat waits for its previous update (a crashed replica's lock expires)."""
BOT_API_CONNECTIONS = 32
"""HTTP connections each bot keeps to the Bot API (concurrent replies to different chats)."""
TYPING_REFRESH_S = 4.0
"""Telegram shows "typing…" for about 5 s: refresh it while Rasa is slower than that."""


def telegram_pseudonym(user_id: int, settings: Settings) -> str:
    """The pseudonym Rasa and the database know the Telegram user ``user_id`` by."""
    return pseudonym(str(user_id), channel=CHANNEL, secret=secret_key(settings))


@dataclass
class TelegramGateway:
    """The handlers of one bot and their in-memory state (see the module docstring).

    Attributes:
        audience: the audience of this bot.
        rasa: the Rasa client (shared with the web app).
        settings: the settings (pseudonym key, rate limit).
        services: the services given to the fallback recorder (``None``: process-wide).
        record: the fallback recorder (default :func:`bot.feedback.intake.record`).
        clock: the clock of the rate limit (seconds; wall time, shared by replicas).
        store: the flow-control state (:func:`bot.storage.shared.shared_state`).
    """

    audience: Audience
    rasa: RasaClient
    settings: Settings
    services: Services | None = None
    record: Recorder = default_record
    clock: Callable[[], float] = time.time
    store: SharedState = field(default_factory=MemoryState)
    _routes: OrderedDict[tuple[int, str], None] = field(default_factory=OrderedDict)

    # -- state -------------------------------------------------------------------------

    def _key(self, kind: str, name: object) -> str:
        return f"telegram:{self.audience}:{kind}:{name}"

    def first_time(self, update_id: int) -> bool:
        """Remember ``update_id``; ``False`` when it was already seen (a retry)."""
        return self.store.first(self._key("update", update_id), UPDATE_TTL_S)

    def allowed(self, chat_id: int) -> bool:
        """Count one message of ``chat_id``; ``False`` when over the rate limit."""
        key, now = self._key("rate", chat_id), self.clock()
        if (
            len(self.store.events(key, now, RATE_WINDOW_S))
            >= self.settings.telegram_rate_per_minute
        ):
            return False
        self.store.add_event(key, now, RATE_WINDOW_S)
        return True

    def chat_lock(self, chat_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while one update of ``chat_id`` is handled (across replicas)."""
        return self.store.lock(self._key("chat", chat_id), CHAT_LOCK_TTL_S)

    def callback_data(self, payload: str) -> str:
        """The ``callback_data`` of a button: the payload, or a short id when too long."""
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            return payload
        key = SHORT_PAYLOAD_PREFIX + secrets.token_urlsafe(12)
        self.store.put(self._key("payload", key), payload, PAYLOAD_TTL_S)
        return key

    def payload(self, data: str) -> str | None:
        """The payload a pressed button stands for (``None``: a forgotten short id)."""
        if data.startswith(SHORT_PAYLOAD_PREFIX):
            return self.store.get(self._key("payload", data))
        return data

    def keyboard(self, buttons: list[Any]) -> InlineKeyboardMarkup | None:
        """Rasa's buttons as an inline keyboard (one row of up to 5, else one per row)."""
        keys = [
            InlineKeyboardButton(
                str(b["title"]), callback_data=self.callback_data(str(b["payload"]))
            )
            for b in buttons
            if isinstance(b, dict) and b.get("title") is not None and b.get("payload")
        ]
        if not keys:
            return None
        rows = [keys] if len(keys) <= 5 else [[key] for key in keys]
        return InlineKeyboardMarkup(rows)

    # -- handlers ----------------------------------------------------------------------

    async def on_any_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """First handler of every update: drop retries and updates over the rate limit.

        Raises:
            ApplicationHandlerStop: the update must not be processed further.
        """
        if not self.first_time(update.update_id):
            log.info("telegram %s: duplicate update %s dropped", self.audience, update.update_id)
            raise ApplicationHandlerStop
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            return  # the other handlers only answer private chats
        if self.allowed(chat.id):
            return
        minute = int(self.clock() // RATE_WINDOW_S)  # one notice per minute of a flood
        if self.store.first(self._key("limited", f"{chat.id}:{minute}"), RATE_WINDOW_S):
            language = self._language(update)
            await context.bot.send_message(chat.id, t("telegram.rate_limited", language))
        if update.callback_query is not None:
            with contextlib.suppress(Exception):
                await update.callback_query.answer()
        raise ApplicationHandlerStop

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message, or an edited one (handled as a new message)."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not message.text:
            return
        text = person_text(clean_text(message.text).strip())
        if not text:
            return
        await self._converse(update, context, text, is_payload=text.startswith("/"))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, sticker, voice note, file…: say politely that only text is read."""
        chat = update.effective_chat
        if chat is None:
            return
        async with self.chat_lock(chat.id):
            await context.bot.send_message(chat.id, t("telegram.not_text", self._language(update)))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: answer it, close its keyboard, send its payload to Rasa."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        if query.message is not None and query.message.chat.type == ChatType.PRIVATE:
            with contextlib.suppress(Exception):  # already closed, or too old to edit
                await query.edit_message_reply_markup(reply_markup=None)
        else:
            return
        payload = self.payload(query.data or "")
        if payload is None:
            log.info("telegram %s: a forgotten button was pressed", self.audience)
            return
        issued = (query.data or "").startswith(SHORT_PAYLOAD_PREFIX)  # stored by Vécu itself
        if not issued and not allowed_payload(payload):  # a client can forge callback data
            log.warning(
                "telegram %s: a button payload no button offers: %r", self.audience, payload[:60]
            )
            return
        await self._converse(update, context, payload, is_payload=True)

    # -- the conversation ----------------------------------------------------------------

    @staticmethod
    def _language(update: Update) -> str:
        user = update.effective_user
        return normalize_language(user.language_code if user else None)

    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_S)
            with contextlib.suppress(Exception):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def _ask_rasa(
        self, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[RasaMessage]:
        if not await self.rasa.actions_ok():
            log.warning("action server down: telegram message of %s not sent to Rasa", sender)
            return []
        try:
            return await self.rasa.send(sender, text, metadata)
        except UpstreamError as exc:
            log.warning("Rasa unavailable for telegram sender %s: %s", sender, exc)
            return []

    async def _converse(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, is_payload: bool
    ) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        language = self._language(update)
        sender = telegram_pseudonym(user.id, self.settings)
        message_id = f"tg-{self.audience}-{update.update_id}"
        metadata = {
            "language": language,
            "audience": str(self.audience),
            "channel": CHANNEL,
            "message_id": message_id,
        }
        async with self.chat_lock(chat.id):
            await self._remember_route(sender, chat.id, language)
            with contextlib.suppress(Exception):
                await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
            typing = asyncio.create_task(self._typing(context, chat.id))
            try:
                messages = await self._ask_rasa(sender, text, metadata)
            finally:
                typing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await typing
            sent = await self._send_replies(context, chat.id, messages)
            if not sent:
                await self._apologise(
                    context, chat.id, sender, text, language, is_payload, message_id
                )

    async def _remember_route(self, sender: str, chat_id: int, language: str) -> None:
        """Keep how to reach this person back (closed loop), once per chat and language."""
        key = (chat_id, language)
        if key in self._routes:
            return

        try:
            await asyncio.to_thread(
                save_route,
                conversation_id=sender,
                audience=str(self.audience),
                channel=CHANNEL,
                address=str(chat_id),
                language=language,
                services=self.services,
            )
        except Exception:  # the conversation matters more than the closed loop
            log.warning("telegram %s: contact route not saved", self.audience, exc_info=True)
            return
        self._routes[key] = None
        while len(self._routes) > KEPT_CHATS:
            self._routes.popitem(last=False)

    async def _send_replies(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, messages: list[RasaMessage]
    ) -> int:
        """Send Rasa's messages (text split to fit, buttons on the last piece)."""
        sent = 0
        for item in messages:
            text = item.get("text")
            keyboard = self.keyboard(list(item.get("buttons") or []))
            pieces = split_message(text) if isinstance(text, str) else []
            if not pieces and keyboard is not None:
                pieces = ["…"]  # Telegram needs text to carry a keyboard
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await context.bot.send_message(
                    chat_id, piece, reply_markup=keyboard if last else None
                )
                sent += 1
        return sent

    async def _apologise(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        sender: str,
        text: str,
        language: str,
        is_payload: bool,
        message_id: str,
    ) -> None:
        """Rasa gave nothing: record the user's words directly, then apologise."""
        kept = False
        if not is_payload:
            message = Message(
                conversation_id=sender,
                text=text,
                language=language,
                audience=self.audience,
                channel=CHANNEL,
                message_id=message_id,
            )
            kept = await record_directly(message, record=self.record, services=self.services)
        keys = ["telegram.unavailable"] + (["telegram.kept"] if kept else []) + ["telegram.retry"]
        await context.bot.send_message(chat_id, "\n\n".join(t(key, language) for key in keys))


def build_application(
    *,
    token: str,
    audience: Audience,
    rasa: RasaClient,
    settings: Settings,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    services: Services | None = None,
    record: Recorder | None = None,
    clock: Callable[[], float] | None = None,
    polling: bool = False,
    team_actions: bool = False,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the python-telegram-bot application of one bot (nothing is contacted here).

    Args:
        token: the bot's token (from BotFather).
        audience: the audience of this bot (customer or employee).
        rasa: the Rasa client.
        settings: the settings.
        base_url: the Bot API base URL (default ``TELEGRAM_API_BASE_URL``).
        request: the Bot API transport (tests pass an offline fake).
        services: the services of the fallback recorder (tests).
        record: the fallback recorder (default :func:`bot.feedback.intake.record`).
        clock: the clock of the rate limit (tests).
        polling: build an updater for :meth:`Application.run_polling` (development);
            webhook mode (the default) has none: the web app feeds the updates.
        team_actions: also handle the team alerts' workflow buttons (the employee bot
            does when there is no ``TELEGRAM_TEAM_TOKEN``).

    Returns:
        The application; ``application.bot_data["gateway"]`` is its :class:`TelegramGateway`.
    """
    builder = ApplicationBuilder().token(token)
    builder = builder.base_url(base_url or settings.telegram_api_base_url)
    if request is not None:
        builder = builder.request(request)
        if polling:
            builder = builder.get_updates_request(request)
    else:
        # python-telegram-bot's default pool has one connection: every chat's replies would
        # queue behind each other's Bot API round trips.
        builder = builder.connection_pool_size(BOT_API_CONNECTIONS).pool_timeout(10.0)
    if not polling:
        builder = builder.updater(None)
    application = builder.concurrent_updates(True).build()
    gateway = TelegramGateway(
        audience=audience,
        rasa=rasa,
        settings=settings,
        services=services,
        store=shared_state(settings),
    )
    if record is not None:
        gateway.record = record
    if clock is not None:
        gateway.clock = clock
    application.bot_data["gateway"] = gateway

    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGES
    application.add_handler(TypeHandler(Update, gateway.on_any_update), group=-1)
    application.add_handler(MessageHandler(private & filters.TEXT, gateway.on_text))
    application.add_handler(MessageHandler(private & ~filters.TEXT, gateway.on_other))
    application.add_handler(CallbackQueryHandler(gateway.on_button))
    if team_actions:
        add_team_handlers(application, services=services)
    return application


def build_team_application(
    *,
    token: str,
    settings: Settings,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    services: Services | None = None,
    polling: bool = False,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the team bot's application: only the alerts' workflow buttons.

    Args:
        token: ``TELEGRAM_TEAM_TOKEN``.
        settings: the settings.
        base_url: the Bot API base URL (default ``TELEGRAM_API_BASE_URL``).
        request: the Bot API transport (tests).
        services: the services (tests).
        polling: build an updater (development).
    """
    builder = ApplicationBuilder().token(token)
    builder = builder.base_url(base_url or settings.telegram_api_base_url)
    if request is not None:
        builder = builder.request(request)
        if polling:
            builder = builder.get_updates_request(request)
    if not polling:
        builder = builder.updater(None)
    application = builder.concurrent_updates(True).build()
    add_team_handlers(application, services=services)
    return application
