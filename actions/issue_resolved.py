"""Action ``action_issue_resolved``: tell the person their issue is resolved.

Triggered by the worker (``EXTERNAL_issue_resolved``, :class:`bot.alerts.closing.PersonDestination`)
when the owning team resolves the issue and the person agreed to hear back. Says
``utter_issue_resolved`` (``utter_question_answered`` when the trigger is
``EXTERNAL_question_answered``: the person had asked a question), then, when the team wrote
closing words (the ``closing_message`` entity of the trigger, from the dashboard's inbox or the
API), ``utter_issue_resolved_message`` with them.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity, latest_intent
from bot.alerts.closing import ANSWERED_INTENT, MESSAGE_ENTITY, closing_message


class ActionIssueResolved(Action):
    """Announce the resolution, with the team's own words when there are some."""

    def name(self) -> str:
        return "action_issue_resolved"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        answered = latest_intent(tracker) == ANSWERED_INTENT
        dispatcher.utter_message(
            response="utter_question_answered" if answered else "utter_issue_resolved"
        )
        found = latest_entity(tracker, MESSAGE_ENTITY)
        message = closing_message(found if isinstance(found, str) else None)
        if message:
            dispatcher.utter_message(response="utter_issue_resolved_message", message=message)
        return []
