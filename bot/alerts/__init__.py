"""Alerts: tell the owning team, reliably.

``payload`` builds the alert document in the team's language, ``outbox`` writes one row per
team destination in the feedback's transaction, ``destinations`` delivers (generic webhook,
JSON or Slack-compatible body; an in-tree fake for tests) and ``worker`` drains the outbox
with retries, exponential backoff and jitter.
"""
