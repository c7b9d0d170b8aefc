"""The web chat gateway: one user message in, the assistant's replies out — never silence.

:func:`handle_chat` owns everything between the page's ``POST /api/v1/chat`` and Rasa's
REST channel:

- **input hygiene**: lenient parsing (a bad field never becomes a bare 422), control
  characters and lone surrogates stripped, NFC normalisation, empty/whitespace messages
  answered without bothering Rasa, over-long messages truncated to
  ``settings.max_text_length`` *explicitly* (Rasa gets ``truncated``/``original_length`` in
  its metadata and the user is told), unknown audience → customer;
- **language**: the request's ``language`` if supported, else :func:`bot.language.detect`,
  else the browser's ``Accept-Language`` (when supported), else French. The page sends
  ``language`` only once it is known (chosen with the toggle, or answered by the server), so
  the first message's own language wins over the browser's; a Rasa ``custom`` message
  ``{"language": "en"}`` (sent by the language switch action) updates the language
  reported to the page;
- **privacy**: Rasa only ever sees :func:`bot.privacy.pseudonyms.pseudonym` of the page's id;
- **once**: each message gets an id (the client's ``message_id`` when it sends a fit one,
  else the request's ``X-Request-ID`` header when fit, else a new one), given to Rasa in its
  metadata and to the fallback record, so a message recorded here because Rasa was late and
  then recorded by Rasa's action is stored once. The balancer of ``make run-scaled`` sets
  ``X-Request-ID`` and sends the same request again to another web replica when the first
  died before answering: the retry keeps the id, and the message is stored once;
- **failure**: when the action server does not answer its health check (checked before
  each message: with a dead action server Rasa still answers, e.g. its fallback utterance,
  and the feedback would be lost), when Rasa is down (unreachable, timeout, 5xx) or when it
  is silent (``[]``), the user gets an apology in their language and
  the message is recorded directly with :func:`bot.feedback.intake.record` (unless it is a button
  payload), so a feedback once received is never lost. If even that fails, it is logged and
  the user still gets an answer.

Texts shown to the user come from the ``web.chat.*`` catalogue keys (``bot/locales``).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.channels.inbound import Recorder, default_record, person_text, record_directly
from bot.channels.rasa import BUSY, UP, RasaClient, RasaMessage
from bot.domain import Audience
from bot.errors import BusyError, UpstreamError
from bot.feedback.intake import Message, clean_text
from bot.i18n import (
    API_LANGUAGE,
    DEFAULT_LANGUAGE,
    supported_language,
    t,
)
from bot.language import detect
from bot.privacy.pseudonyms import pseudonym, secret_key

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_CONVERSATION_ID_LENGTH = 200
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
"""A message id a client may give (else the gateway makes one)."""


class ChatStatus(StrEnum):
    """How a chat turn went (``status`` field of the answer; the bench counts non-ok)."""

    OK = "ok"  # Rasa answered
    EMPTY = "empty"  # nothing to send: the user was asked to write something
    INVALID = "invalid"  # the request itself could not be read (HTTP 400)
    UNAVAILABLE = "unavailable"  # Rasa or the action server is down: apology (+ recorded)
    ERROR = "error"  # an unexpected error in the gateway: apology


class Button(BaseModel):
    """A quick-reply button: ``payload`` is sent back as the message when clicked."""

    title: str
    payload: str


class Reply(BaseModel):
    """One bubble of the assistant."""

    text: str
    buttons: list[Button] | None = None


class ChatResponse(BaseModel):
    """The answer of ``POST /api/v1/chat``."""

    replies: list[Reply]
    language: str
    status: ChatStatus = ChatStatus.OK


class ChatRequest(BaseModel):
    """The body of ``POST /api/v1/chat`` (lenient: see the validators)."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1, max_length=MAX_CONVERSATION_ID_LENGTH)
    text: str = ""
    language: str | None = None
    audience: str | None = None
    message_id: str | None = Field(
        default=None,
        description="The client's own id of the message (8-64 of A-Z a-z 0-9 _ . : -), sent "
        "again on a retry so the message is stored once; any other value is ignored.",
    )
    employee_link: str | None = Field(
        default=None, description="The link Vécu issued that opens the chat to employees."
    )

    @field_validator("conversation_id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            return clean_text(value).strip()
        return value

    @field_validator("text", mode="before")
    @classmethod
    def _text_to_str(cls, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value
        return ""  # lists, objects…: treated as an empty message, answered as such

    @field_validator("language", "audience", "employee_link", mode="before")
    @classmethod
    def _optional_str(cls, value: Any) -> str | None:
        return value if isinstance(value, str) else None

    @field_validator("message_id", mode="before")
    @classmethod
    def _message_id(cls, value: Any) -> str | None:
        """A client's own id of the message (a retry sends it again); ignored when unfit."""
        if isinstance(value, str) and MESSAGE_ID.fullmatch(value):
            return value
        return None


class InvalidChatRequest(ValueError):
    """The body is not JSON or has no usable ``conversation_id``."""

    def __init__(self, reason: str, language: str) -> None:
        super().__init__(reason)
        self.language = language


def parse_audience(audience: str | None) -> Audience:
    """The audience asked for, customer when absent or unknown."""
    try:
        return Audience((audience or "").strip().lower())
    except ValueError:
        return Audience.CUSTOMER


def is_payload(text: str) -> bool:
    """Whether ``text`` is a button payload (``/intent{...}``) rather than the user's words."""
    return text.startswith("/")


def with_request_id(request: ChatRequest, request_id: str | None) -> ChatRequest:
    """``request`` whose ``message_id`` is the request's ``X-Request-ID`` when the client
    sent no ``message_id`` of its own and the header is a fit id (see the module docstring)."""
    if request.message_id is None and request_id and MESSAGE_ID.fullmatch(request_id):
        return request.model_copy(update={"message_id": request_id})
    return request


def parse_request(body: Any) -> ChatRequest:
    """Validate a decoded JSON body.

    Raises:
        InvalidChatRequest: no usable ``conversation_id`` (or not a JSON object).
    """
    language = DEFAULT_LANGUAGE
    if isinstance(body, dict):
        raw_language = body.get("language")
        language = supported_language(raw_language if isinstance(raw_language, str) else None) or (
            DEFAULT_LANGUAGE
        )
    if not isinstance(body, dict):
        raise InvalidChatRequest(t("web.api.chat_not_object", API_LANGUAGE), language)
    try:
        return ChatRequest.model_validate(body)
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]) for err in exc.errors() if err.get("loc"))
        raise InvalidChatRequest(
            t("web.api.chat_bad_fields", API_LANGUAGE, fields=fields), language
        ) from exc


def _detect(text: str) -> str | None:
    try:
        return supported_language(detect(text))
    except Exception:  # detection is a nicety: never fail the chat for it
        log.exception("language detection failed")
        return None


def web_pseudonym(conversation_id: str, settings: Settings) -> str:
    """The pseudonym Rasa and the database know the web conversation ``conversation_id`` by."""
    return pseudonym(conversation_id, channel=CHANNEL, secret=secret_key(settings))


@dataclass(frozen=True)
class ChatContext:
    """What :func:`handle_chat` depends on (built per request by the app).

    Attributes:
        rasa: the Rasa client.
        settings: the settings (``max_text_length``).
        services: the services given to the app (``None``: the process-wide ones).
        record: the fallback recorder.
    """

    rasa: RasaClient
    settings: Settings
    services: Services | None = None
    record: Recorder = default_record


def _replies_from_rasa(messages: list[RasaMessage]) -> tuple[list[Reply], str | None]:
    """Keep what the page can show (text, buttons); read a ``custom.language`` switch."""
    replies: list[Reply] = []
    switched: str | None = None
    for item in messages:
        custom = item.get("custom")
        if isinstance(custom, Mapping):
            switched = supported_language(str(custom.get("language") or "")) or switched
        text = item.get("text")
        buttons = [
            Button(title=str(b["title"]), payload=str(b["payload"]))
            for b in item.get("buttons") or []
            if isinstance(b, Mapping) and b.get("title") is not None and b.get("payload")
        ]
        if (isinstance(text, str) and text) or buttons:
            replies.append(
                Reply(text=text if isinstance(text, str) else "", buttons=buttons or None)
            )
    return replies, switched


async def _record_fallback(ctx: ChatContext, message: Message) -> bool:
    """Record ``message`` directly (Rasa is down); ``False`` when even that failed."""
    return await record_directly(message, record=ctx.record, services=ctx.services)


async def handle_chat(
    request: ChatRequest, ctx: ChatContext, *, fallback_language: str | None = None
) -> ChatResponse:
    """Answer one chat message (see the module docstring for the rules).

    Args:
        request: the validated request.
        ctx: the dependencies.
        fallback_language: used when the request names no language and detection is
            unsure, before French (the app passes the browser's ``Accept-Language``).

    Raises:
        Exception: only programming errors; the route turns them into an apology.
    """
    text = person_text(clean_text(request.text).strip())
    request_language = language = supported_language(request.language)
    audience = parse_audience(request.audience)
    fallback = supported_language(fallback_language) or DEFAULT_LANGUAGE
    if not text:
        language = language or fallback
        return ChatResponse(
            replies=[Reply(text=t("web.chat.empty", language))],
            language=language,
            status=ChatStatus.EMPTY,
        )
    payload = is_payload(text)
    if language is None:
        language = (None if payload else _detect(text)) or fallback

    limit = ctx.settings.max_text_length
    truncated = len(text) > limit
    sent_text = text[:limit] if truncated else text
    notices = [Reply(text=t("web.chat.truncated", language, limit=limit))] if truncated else []

    sender = web_pseudonym(request.conversation_id, ctx.settings)
    message_id = request.message_id or uuid.uuid4().hex
    metadata: dict[str, Any] = {
        "language": language,
        "audience": str(audience),
        "channel": CHANNEL,
        "message_id": message_id,
    }
    if truncated:
        metadata.update(truncated=True, original_length=len(text))

    messages: list[RasaMessage] | None = None
    busy = False
    state = await ctx.rasa.actions_state()
    if state != UP:
        busy = state == BUSY
        log.warning("action server %s: message of sender %s not sent to Rasa", state, sender)
    else:
        try:
            messages = await ctx.rasa.send(sender, sent_text, metadata)
        except BusyError as exc:
            busy = True
            log.warning("Rasa busy for sender %s: %s", sender, exc)
        except UpstreamError as exc:
            log.warning("Rasa unavailable for sender %s: %s", sender, exc)
    replies, switched = _replies_from_rasa(messages or [])
    if replies:
        if not switched and request_language is None:
            # No language given: the assistant's own words say which one the conversation is in.
            switched = _detect(" ".join(reply.text for reply in replies))
        return ChatResponse(replies=notices + replies, language=switched or language)

    if messages is not None:
        log.warning("Rasa gave no reply to sender %s", sender)
    kept = False
    if not payload:
        kept = await _record_fallback(
            ctx,
            Message(
                conversation_id=sender,
                text=text,
                language=language,
                audience=audience,
                channel=CHANNEL,
                message_id=message_id,
            ),
        )
    if kept and busy:  # only slow: the message is in, the team will have it
        busy_replies = [Reply(text=t("web.chat.busy", language))]
        return ChatResponse(
            replies=notices + busy_replies, language=language, status=ChatStatus.UNAVAILABLE
        )
    apology = [Reply(text=t("web.chat.unavailable", language))]
    if kept:
        apology.append(Reply(text=t("web.chat.kept", language)))
    apology.append(Reply(text=t("web.chat.retry", language)))
    return ChatResponse(replies=notices + apology, language=language, status=ChatStatus.UNAVAILABLE)


def error_response(language: str | None, status: ChatStatus = ChatStatus.ERROR) -> ChatResponse:
    """The apology for an unexpected error (or an unreadable request)."""
    language = supported_language(language) or DEFAULT_LANGUAGE
    key = "web.chat.bad_request" if status is ChatStatus.INVALID else "web.chat.error"
    return ChatResponse(replies=[Reply(text=t(key, language))], language=language, status=status)
