"""Tests of actions/issue_resolved.py: the resolution, with the team's words when there are some."""

from __future__ import annotations

from action_helpers import make_tracker, responses
from rasa_sdk.executor import CollectingDispatcher

from actions.issue_resolved import ActionIssueResolved


async def test_the_teams_words_follow_the_resolution() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="EXTERNAL_issue_resolved",
        entities=[("closing_message", "  We refunded the\nsecond charge. ")],
    )
    assert await ActionIssueResolved().run(dispatcher, tracker, {}) == []
    assert responses(dispatcher) == ["utter_issue_resolved", "utter_issue_resolved_message"]
    assert dispatcher.messages[1]["message"] == "We refunded the second charge."


async def test_an_answered_question_is_announced_as_answered() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="EXTERNAL_question_answered",
        entities=[("closing_message", "Yes, we deliver on Sundays in Montréal.")],
    )
    await ActionIssueResolved().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_question_answered", "utter_issue_resolved_message"]


async def test_without_words_or_with_blank_ones_only_the_resolution() -> None:
    for entities in ([], [("closing_message", "   ")], [("closing_message", 42)]):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(intent="EXTERNAL_issue_resolved", entities=entities)
        await ActionIssueResolved().run(dispatcher, tracker, {})
        assert responses(dispatcher) == ["utter_issue_resolved"]
