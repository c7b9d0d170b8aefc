"""Team alerts in a Telegram group chat: the message, its buttons, and the destination.

This module owns what a team sees on Telegram:

- :func:`alert_text`: the alert as plain text (no parse mode, so nothing a person wrote can
  become markup or a mention), in the team's language, from Vécu's alert document
  (:mod:`bot.alerts.payload`): title, touchpoint, severity, emotion, sentiment, rating,
  reference and the excerpt (none when confidential). An employee's alert carries no
  identifier of who spoke (the document has none).
- :func:`state_line` / :func:`with_state`: the line appended to the message when someone
  acts ("✅ Resolved by Alex · 23/11 14:02 UTC").
- :func:`keyboard`: the inline buttons for an issue's status (Acknowledge, Resolve,
  Reassign; Reopen once resolved) and :func:`team_picker` for Reassign. ``callback_data``
  is ``vecu:<op>:<feedback id>[:<team>]`` (well under Telegram's 64 bytes).
- :class:`TelegramTeamDestination`: the worker's destination ``type: telegram``: one
  ``sendMessage`` to the team's ``chat_id`` through the team bot (``TELEGRAM_TEAM_TOKEN``,
  else the employee bot), over httpx (the worker is synchronous).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx

from bot.alerts.destinations import Alert, PermanentDeliveryError, register_destination
from bot.alerts.payload import alert_text
from bot.company import Company
from bot.company import Destination as DestinationConfig
from bot.contact.outbound import PermanentOutboundError, TelegramSender, split_text
from bot.errors import DeliveryError
from bot.i18n import normalize_language, t
from bot.settings import Settings

CALLBACK_PREFIX = "vecu"
STATE_SEPARATOR = "\n\n— "
"""What separates the alert from its state lines in the Telegram message."""

OP_ACKNOWLEDGE = "a"
OP_RESOLVE = "r"
OP_REASSIGN_MENU = "m"
OP_REASSIGN_TO = "t"
OP_CANCEL = "x"
OP_REOPEN = "o"


def callback(op: str, feedback_id: int, team: str | None = None) -> str:
    """The ``callback_data`` of a workflow button."""
    parts = [CALLBACK_PREFIX, op, str(feedback_id)] + ([team] if team else [])
    return ":".join(parts)


def parse_callback(data: str) -> tuple[str, int, str | None] | None:
    """``(op, feedback id, team)`` from ``callback_data``, or ``None`` if it is not ours."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != CALLBACK_PREFIX or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3] if len(parts) == 4 else None


def _when(moment: datetime) -> str:
    return moment.strftime("%d/%m %H:%M UTC")


def state_line(
    action: str, language: str, *, who: str | None, when: datetime, team_label: str | None = None
) -> str:
    """One state line (``action``: acknowledged, resolved, reassigned, reopened, escalated)."""
    return t(
        f"alerts.telegram.state.{action}",
        language,
        who=who or t("alerts.telegram.someone", language),
        when=_when(when),
        team=team_label or "",
    )


def with_state(text: str, line: str) -> str:
    """The message ``text`` with ``line`` appended to its state lines."""
    return f"{text}{STATE_SEPARATOR}{line}"


def keyboard(feedback_id: int, status: str, language: str) -> dict[str, Any] | None:
    """The inline keyboard (Bot API JSON) for an issue in ``status``."""
    language = normalize_language(language)

    def button(op: str, key: str) -> dict[str, str]:
        return {
            "text": t(f"alerts.telegram.button.{key}", language),
            "callback_data": callback(op, feedback_id),
        }

    if status == "open":
        row = [
            button(OP_ACKNOWLEDGE, "acknowledge"),
            button(OP_RESOLVE, "resolve"),
            button(OP_REASSIGN_MENU, "reassign"),
        ]
    elif status == "acknowledged":
        row = [button(OP_RESOLVE, "resolve"), button(OP_REASSIGN_MENU, "reassign")]
    elif status == "resolved":
        row = [button(OP_REOPEN, "reopen")]
    else:
        return None
    return {"inline_keyboard": [row]}


def team_picker(
    feedback_id: int, teams: Iterable[tuple[str, str]], language: str
) -> dict[str, Any]:
    """The Reassign menu: one button per ``(team key, label)``, then Cancel."""
    rows = [
        [{"text": label, "callback_data": callback(OP_REASSIGN_TO, feedback_id, key)}]
        for key, label in teams
    ]
    rows.append(
        [
            {
                "text": t("alerts.telegram.button.cancel", normalize_language(language)),
                "callback_data": callback(OP_CANCEL, feedback_id),
            }
        ]
    )
    return {"inline_keyboard": rows}


def team_chats(company: Company, team: str | None) -> set[str]:
    """The Telegram chat ids of ``team``'s ``type: telegram`` destinations."""
    conf = company.team(team)
    if conf is None:
        return set()
    return {str(d.chat_id) for d in conf.destinations if d.type == "telegram" and d.chat_id}


class TelegramTeamDestination:
    """Posts alerts to a team's Telegram group chat with the workflow buttons.

    Args:
        chat_id: the group chat.
        token: the team bot's token (empty: every delivery fails permanently, with the
            reason, so the row waits as ``dead`` for an operator).
        base_url: the Bot API base URL (``TELEGRAM_API_BASE_URL``).
        client: an ``httpx.Client`` to share.
    """

    def __init__(
        self,
        chat_id: str,
        *,
        token: str,
        base_url: str,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.chat_id = chat_id
        self.token = token
        self._bot = TelegramSender(
            {"team": token}, base_url=base_url, timeout_s=timeout_s, client=client
        )

    def deliver(self, alert: Alert) -> None:
        """``sendMessage`` the alert (text split to fit; buttons on the last piece)."""
        if not self.token:
            raise PermanentDeliveryError(
                "no Telegram team bot: set TELEGRAM_TEAM_TOKEN (or TELEGRAM_EMPLOYEE_TOKEN)"
            )
        payload = alert.payload
        language = normalize_language(str(payload.get("language") or "fr"))
        feedback_id = payload.get("feedback_id")
        # A team told that a message also names its area ("also") reads it; the owner acts.
        actionable = payload.get("kind") != "also"
        markup = (
            keyboard(int(feedback_id), "open", language)
            if feedback_id is not None and actionable
            else None
        )
        pieces = split_text(alert_text(payload))
        try:
            for index, piece in enumerate(pieces):
                body: dict[str, Any] = {"chat_id": self.chat_id, "text": piece}
                if markup is not None and index == len(pieces) - 1:
                    body["reply_markup"] = markup
                self._bot.call(self.token, "sendMessage", body)
        except PermanentOutboundError as exc:
            raise PermanentDeliveryError(str(exc)) from exc
        except DeliveryError:
            raise


def team_token(settings: Settings) -> str:
    """The token of the bot that posts team alerts (team bot, else the employee bot)."""
    return (settings.telegram_team_token or settings.telegram_employee_token).strip()


def _build(
    config: DestinationConfig, *, settings: Settings | None, client: httpx.Client
) -> TelegramTeamDestination:
    return TelegramTeamDestination(
        str(config.chat_id),
        token=team_token(settings) if settings else "",
        base_url=settings.telegram_api_base_url if settings else "",
        timeout_s=config.timeout_s,
        client=client,
    )


register_destination("telegram", _build)
