"""Outbound messages: trigger an intent in a person's conversation, deliver the replies.

Vécu sometimes speaks first: to tell a person their issue is resolved (the closed loop), to
send a survey. The words still come from Rasa (``utter_*`` in ``domain.yml``, in the language
of the conversation's ``language`` slot); this module only starts Rasa and carries its
answer to the person's channel. It is self-contained (httpx and :mod:`bot.errors` only) and
synchronous (the alert worker calls it), so other features can reuse it as is.

The interface, in three parts:

- :class:`Route`: where a person is (conversation id known to Rasa, audience, channel,
  channel address, language).
- :class:`IntentTrigger` → :class:`RasaIntentTrigger`: ``POST {RASA_URL}/conversations/
  {conversation_id}/trigger_intent?token=…`` with ``{"name": intent, "entities": {...}}``.
  With no ``output_channel`` parameter Rasa collects the bot's messages and returns them
  in the answer's ``messages`` (the same shape as its REST channel: ``text``, ``buttons``,
  ``custom``…). Intents triggered this way are named ``EXTERNAL_*`` by convention and have
  a rule in ``nlu/rules.yml`` answering with an ``utter_*``.
- :class:`ChannelSender` → :class:`TelegramSender` (``sendMessage`` through the bot of the
  person's audience, text split at Telegram's 4096-character limit, buttons as an inline
  keyboard whose ``callback_data`` is the payload) and :class:`InboxSender` (hands the
  messages to a callable, e.g. the web chat inbox); :class:`RoutingSender` picks one by
  ``route.channel``.

:func:`notify` composes them. The fakes :class:`FakeIntentTrigger` and :class:`FakeSender`
record what they are given. Every failure raises :class:`~bot.errors.DeliveryError`
(retryable) or :class:`PermanentOutboundError` (retrying cannot help: unknown channel,
no bot token for that audience, Telegram refusing the chat): callers such as the outbox
worker retry the first and give up on the second.

Note on retries: if Rasa answered but the channel failed, a retry triggers the intent
again (Rasa's tracker then shows it twice); the person still receives the message once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from bot.errors import DeliveryError

OutboundMessage = dict[str, Any]
"""One bot message as Rasa returns it (``text``, ``buttons``, ``image``, ``custom``…)."""

TELEGRAM_MAX_TEXT = 4096


class PermanentOutboundError(DeliveryError):
    """An outbound delivery retrying cannot fix (no such channel, no token, chat refused)."""


@dataclass(frozen=True)
class Route:
    """Where a person can be reached.

    Attributes:
        conversation_id: the conversation id Rasa knows (a pseudonym).
        audience: ``customer`` or ``employee`` (on Telegram: which bot speaks).
        channel: ``telegram`` or ``web``.
        address: the channel's address: a Telegram chat id; on the web, the pseudonymous
            conversation id whose page collects the inbox.
        language: the person's language (``fr``/``en``).
    """

    conversation_id: str
    audience: str
    channel: str
    address: str
    language: str


class IntentTrigger(Protocol):
    """Starts an intent in a conversation and returns the bot's messages."""

    def trigger(
        self, conversation_id: str, intent: str, *, entities: Mapping[str, Any] | None = None
    ) -> list[OutboundMessage]:
        """Trigger ``intent`` in ``conversation_id``; raise ``DeliveryError`` on failure."""
        ...


class ChannelSender(Protocol):
    """Delivers messages to a person's channel."""

    def send(self, route: Route, messages: Sequence[OutboundMessage]) -> None:
        """Deliver ``messages`` to ``route``; raise ``DeliveryError`` on failure."""
        ...


class RasaIntentTrigger:
    """:class:`IntentTrigger` over Rasa's HTTP API (needs ``--enable-api``).

    Args:
        rasa_url: Rasa's base URL.
        token: Rasa's ``--auth-token`` (sent as ``?token=``).
        timeout_s: how long Rasa may take (it runs the actions of the triggered intent).
        client: an ``httpx.Client`` to share (default: one of its own).
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        rasa_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(transport=transport)

    def trigger(
        self, conversation_id: str, intent: str, *, entities: Mapping[str, Any] | None = None
    ) -> list[OutboundMessage]:
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/trigger_intent"
        try:
            response = self._client.post(
                url,
                params={"token": self.token},
                json={"name": intent, "entities": dict(entities or {})},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Rasa unreachable: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code in (401, 403, 404):
            raise PermanentOutboundError(
                f"Rasa refused trigger_intent: HTTP {response.status_code}"
            )
        if not response.is_success:
            raise DeliveryError(f"Rasa trigger_intent failed: HTTP {response.status_code}")
        try:
            messages = response.json().get("messages")
        except (ValueError, AttributeError):
            raise DeliveryError("Rasa trigger_intent answered something that is not JSON") from None
        if not isinstance(messages, list):
            raise DeliveryError("Rasa trigger_intent answered without messages")
        return [m for m in messages if isinstance(m, dict)]

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def split_text(text: str, limit: int = TELEGRAM_MAX_TEXT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at line or word breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        pieces.append(rest)
    return pieces


class TelegramSender:
    """:class:`ChannelSender` for Telegram: ``sendMessage`` through the audience's bot.

    Args:
        tokens: the bot token of each audience (``{"customer": …, "employee": …}``).
        base_url: the Bot API base URL, token appended (``https://api.telegram.org/bot``).
        timeout_s: timeout of one Bot API call.
        client: an ``httpx.Client`` to share.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        tokens: Mapping[str, str],
        *,
        base_url: str = "https://api.telegram.org/bot",
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.tokens = {k: v for k, v in tokens.items() if v}
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(transport=transport)

    def call(self, token: str, method: str, body: Mapping[str, Any]) -> Any:
        """Call the Bot API method ``method`` and return its ``result``.

        Raises:
            PermanentOutboundError: Telegram refused the call (4xx other than 429).
            DeliveryError: network failure, 429 or 5xx.
        """
        try:
            response = self._client.post(
                f"{self.base_url}{token}/{method}", json=dict(body), timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Telegram unreachable: {exc.__class__.__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(f"Telegram {method} failed: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError(f"Telegram {method} answered something that is not JSON") from None
        if not response.is_success or not answer.get("ok"):
            description = str(answer.get("description", ""))[:200]
            raise PermanentOutboundError(
                f"Telegram refused {method}: HTTP {response.status_code} {description}"
            )
        return answer.get("result")

    @staticmethod
    def keyboard(buttons: Sequence[Any]) -> dict[str, Any] | None:
        """Rasa buttons as an inline keyboard (payloads longer than 64 bytes are dropped)."""
        keys = [
            {"text": str(b["title"]), "callback_data": str(b["payload"])}
            for b in buttons
            if isinstance(b, dict)
            and b.get("title") is not None
            and b.get("payload")
            and len(str(b["payload"]).encode("utf-8")) <= 64
        ]
        return {"inline_keyboard": [keys]} if keys else None

    def send(self, route: Route, messages: Sequence[OutboundMessage]) -> None:
        token = self.tokens.get(route.audience)
        if not token:
            raise PermanentOutboundError(f"no Telegram bot token for audience {route.audience!r}")
        for message in messages:
            text = message.get("text")
            keyboard = self.keyboard(list(message.get("buttons") or []))
            pieces = split_text(text) if isinstance(text, str) else []
            for index, piece in enumerate(pieces):
                body: dict[str, Any] = {"chat_id": route.address, "text": piece}
                if keyboard is not None and index == len(pieces) - 1:
                    body["reply_markup"] = keyboard
                self.call(token, "sendMessage", body)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


class InboxSender:
    """:class:`ChannelSender` that hands the messages to ``store(route, messages)``.

    The web channel uses it: the messages are kept in an inbox the chat page collects.
    """

    def __init__(self, store: Callable[[Route, list[OutboundMessage]], None]) -> None:
        self.store = store

    def send(self, route: Route, messages: Sequence[OutboundMessage]) -> None:
        self.store(route, [dict(m) for m in messages])


class RoutingSender:
    """:class:`ChannelSender` that picks the sender of ``route.channel``."""

    def __init__(self, senders: Mapping[str, ChannelSender]) -> None:
        self.senders = dict(senders)

    def send(self, route: Route, messages: Sequence[OutboundMessage]) -> None:
        sender = self.senders.get(route.channel)
        if sender is None:
            raise PermanentOutboundError(f"no outbound sender for channel {route.channel!r}")
        sender.send(route, messages)


@dataclass
class FakeIntentTrigger:
    """The in-tree fake trigger: answers scripted messages, records the calls.

    Attributes:
        replies: intent → the messages answered (default: one text naming the intent).
        fail_times: how many calls fail (``DeliveryError``) before succeeding.
        calls: ``(conversation_id, intent, entities)`` in order.
    """

    replies: dict[str, list[OutboundMessage]] = field(default_factory=dict)
    fail_times: int = 0
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def trigger(
        self, conversation_id: str, intent: str, *, entities: Mapping[str, Any] | None = None
    ) -> list[OutboundMessage]:
        self.calls.append((conversation_id, intent, dict(entities or {})))
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("fake Rasa is down")
        return [dict(m) for m in self.replies.get(intent, [{"text": f"<{intent}>"}])]


@dataclass
class FakeSender:
    """The in-tree fake sender: records ``(route, messages)``; can fail first."""

    fail_times: int = 0
    sent: list[tuple[Route, list[OutboundMessage]]] = field(default_factory=list)

    def send(self, route: Route, messages: Sequence[OutboundMessage]) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("fake channel is down")
        self.sent.append((route, [dict(m) for m in messages]))


def notify(
    route: Route,
    intent: str,
    *,
    trigger: IntentTrigger,
    sender: ChannelSender,
    entities: Mapping[str, Any] | None = None,
) -> list[OutboundMessage]:
    """Trigger ``intent`` in the person's conversation and deliver Rasa's replies.

    Args:
        route: where the person is.
        intent: the intent to trigger (``EXTERNAL_…``).
        trigger: starts the intent (:class:`RasaIntentTrigger`).
        sender: delivers the replies (:class:`RoutingSender` of the channels).
        entities: entities given with the intent (slots Rasa may use in the reply).

    Returns:
        The messages delivered.

    Raises:
        DeliveryError: Rasa or the channel failed (retry later).
        PermanentOutboundError: retrying cannot help.
    """
    messages = trigger.trigger(route.conversation_id, intent, entities=entities)
    if not any(m.get("text") or m.get("buttons") or m.get("custom") for m in messages):
        raise DeliveryError(f"Rasa said nothing for {intent} (is the rule in the model?)")
    sender.send(route, messages)
    return messages


def describe(messages: Sequence[OutboundMessage]) -> str:
    """The messages as one JSON line (for logs)."""
    return json.dumps(list(messages), ensure_ascii=False)[:500]
