"""The team bot: the workflow buttons of alerts posted in teams' Telegram group chats.

:class:`TeamActions` handles the callback queries whose data starts with ``vecu:`` (see
:mod:`bot.channels.telegram.alerts`): Acknowledge, Resolve, Reassign (opens a team picker, then
reassigns), Reopen. Every press:

1. is checked against the chat it comes from: only the group chat of a ``type: telegram``
   destination of the team that currently owns the issue (or, for the severities that
   escalate, of the escalation team) may act; anyone else gets a refusal and nothing
   changes;
2. goes through :func:`bot.alerts.workflow.apply` with the presser as actor (channel
   ``telegram``, their Telegram user id, their first name);
3. is answered (a short notice in the team's language: done, already done by whom and
   when, or why it is not possible);
4. edits the alert message: a state line ("✅ Resolved by Alex · 23/11 14:02 UTC") and
   the buttons of the new status (none once reassigned away from this chat).

:func:`add_team_handlers` installs it on an application: the team bot's own
(``TELEGRAM_TEAM_TOKEN``) or, when there is no team bot, the employee bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

from bot.alerts.workflow import Actor, IssueState, Transition, WorkflowResult, apply, current
from bot.channels.telegram.alerts import (
    OP_ACKNOWLEDGE,
    OP_CANCEL,
    OP_REASSIGN_MENU,
    OP_REASSIGN_TO,
    OP_REOPEN,
    OP_RESOLVE,
    STATE_SEPARATOR,
    keyboard,
    parse_callback,
    state_line,
    team_chats,
    team_picker,
    with_state,
)
from bot.errors import StorageError, WorkflowError
from bot.i18n import normalize_language, t
from bot.services import get_services

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^vecu:"
_OPS = {
    OP_ACKNOWLEDGE: Transition.ACKNOWLEDGE,
    OP_RESOLVE: Transition.RESOLVE,
    OP_REASSIGN_TO: Transition.REASSIGN,
    OP_REOPEN: Transition.REOPEN,
}


def _markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """Bot API keyboard JSON → python-telegram-bot's markup."""
    if data is None:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in data["inline_keyboard"]
        ]
    )


@dataclass
class TeamActions:
    """The callback handler of the team chats (see the module docstring).

    Attributes:
        services: the services (company configuration, database); ``None``: process-wide.
    """

    services: Services | None = None

    def _services(self) -> Services:
        if self.services is None:
            self.services = get_services()
        return self.services

    def _chat_team(self, chat_id: str) -> str | None:
        company = self._services().company
        for key in company.teams:
            if chat_id in team_chats(company, key):
                return key
        return None

    def _allowed(self, chat_id: str, owner: IssueState) -> bool:
        """The owning team's chats, and the escalation team's once it was escalated to."""
        company = self._services().company
        allowed = team_chats(company, owner.team)
        escalation = company.escalation
        if escalation is not None and owner.severity in escalation.severities:
            fallback = escalation.teams.get(owner.audience)  # type: ignore[call-overload]
            allowed |= team_chats(company, fallback)
        return chat_id in allowed

    def _language(self, team: str | None) -> str:
        company = self._services().company
        conf = company.team(team)
        return normalize_language(conf.language if conf else company.default_language)

    def _team_label(self, team: str | None, language: str) -> str:
        conf = self._services().company.team(team)
        return conf.label(language) if conf else str(team)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on a workflow button in a team chat (no other handler sees it).

        Raises:
            ApplicationHandlerStop: always, once handled.
        """
        await self._handle(update)
        raise ApplicationHandlerStop

    async def _handle(self, update: Update) -> None:
        query = update.callback_query
        if query is None or query.message is None or query.data is None:
            return
        parsed = parse_callback(query.data)
        if parsed is None:
            return
        op, feedback_id, to_team = parsed
        chat_id = str(query.message.chat.id)
        chat_team = self._chat_team(chat_id)
        language = self._language(chat_team)
        try:
            owner = await asyncio.to_thread(current, feedback_id, services=self._services())
        except WorkflowError:
            await query.answer(t("alerts.workflow.not_found", language), show_alert=True)
            return
        if not self._allowed(chat_id, owner):
            log.warning(
                "workflow button of feedback %s pressed from chat %s: refused", feedback_id, chat_id
            )
            await query.answer(t("alerts.telegram.not_allowed", language), show_alert=True)
            return
        if op == OP_REASSIGN_MENU:
            company = self._services().company
            teams = [(k, c.label(language)) for k, c in company.teams.items() if k != owner.team]
            await query.answer(t("alerts.telegram.pick_team", language))
            with contextlib.suppress(Exception):
                await query.edit_message_reply_markup(
                    reply_markup=_markup(team_picker(feedback_id, teams, language))
                )
            return
        if op == OP_CANCEL:
            await query.answer()
            with contextlib.suppress(Exception):
                await query.edit_message_reply_markup(
                    reply_markup=_markup(keyboard(feedback_id, owner.status, language))
                )
            return
        transition = _OPS.get(op)
        if transition is None:
            await query.answer()
            return
        user = query.from_user
        name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
        actor = Actor(channel="telegram", id=str(user.id), name=name)
        try:
            result = await asyncio.to_thread(
                apply, feedback_id, transition, actor, to_team=to_team, services=self._services()
            )
        except WorkflowError as exc:
            await query.answer(self._explain(exc, transition, language), show_alert=True)
            return
        except StorageError:
            log.exception("workflow change of feedback %s could not be stored", feedback_id)
            await query.answer(t("alerts.telegram.error", language), show_alert=True)
            return
        await query.answer(self._notice(result, language))
        if result.changed:
            await self._edit(query, result, chat_id, language)

    def _explain(self, exc: WorkflowError, transition: Transition, language: str) -> str:
        if exc.code == "invalid_transition":
            reason = t(f"alerts.workflow.invalid_transition.{transition.value}", language)
        elif exc.code == "unknown_team":
            reason = t("alerts.workflow.unknown_team", language)
        else:
            return t("alerts.workflow.not_found", language)
        return t("alerts.telegram.invalid", language, reason=reason)

    def _notice(self, result: WorkflowResult, language: str) -> str:
        team_label = self._team_label(result.team, language)
        if result.changed:
            return t(f"alerts.telegram.done.{result.transition.value}", language, team=team_label)
        event = result.event
        who = (event.actor_name if event else None) or t("alerts.telegram.someone", language)
        when = event.created_at.strftime("%d/%m %H:%M UTC") if event else "?"
        return t(
            f"alerts.telegram.already.{result.transition.value}",
            language,
            who=who,
            when=when,
            team=team_label,
        )

    async def _edit(self, query: Any, result: WorkflowResult, chat_id: str, language: str) -> None:
        event = result.event
        if event is None:
            return
        line = state_line(
            event.action,
            language,
            who=event.actor_name,
            when=event.created_at,
            team_label=self._team_label(event.to_team, language),
        )
        original = query.message.text or ""
        if not original:
            return
        still_ours = chat_id in team_chats(self._services().company, result.team) or (
            result.transition is not Transition.REASSIGN
        )
        markup = keyboard(result.feedback_id, result.status.value, language) if still_ours else None
        with contextlib.suppress(Exception):  # too old, or deleted
            await query.edit_message_text(with_state(original, line), reply_markup=_markup(markup))


def add_team_handlers(
    application: Application[Any, Any, Any, Any, Any, Any], *, services: Services | None = None
) -> TeamActions:
    """Install the workflow buttons' handler (before any other callback handler)."""
    actions = TeamActions(services=services)
    application.add_handler(
        CallbackQueryHandler(actions.on_callback, pattern=CALLBACK_PATTERN), group=-2
    )
    application.bot_data["team_actions"] = actions
    return actions


__all__ = ["STATE_SEPARATOR", "TeamActions", "add_team_handlers"]
