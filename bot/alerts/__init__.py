"""Alerts: tell the owning team, reliably.

``payload`` builds the alert document in the team's language, ``outbox`` writes one row per
team destination in the feedback's transaction, ``destinations`` is the contract (generic
webhook, JSON or Slack-compatible body; an in-tree fake for tests; the registry where a channel
adds its destination type), ``email`` sends by SMTP, ``resolve`` builds each team's
destinations from ``company.yml``, ``closing`` tells the person, and ``worker`` drains the
outbox with retries, exponential backoff and jitter.
"""
