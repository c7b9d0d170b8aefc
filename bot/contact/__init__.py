"""Contact: when Vécu may speak to a person first, and how to reach them.

:mod:`~bot.contact.ledger` (consent per purpose, caps, quiet hours: the one source of truth),
:mod:`~bot.contact.events` (business events that may trigger a survey),
:mod:`~bot.contact.surveys` (the contact outbox), :mod:`~bot.contact.routes` (how to reach a
person again, their consent to hear back, opt-outs, the web inbox) and
:mod:`~bot.contact.outbound` (trigger an intent in Rasa, deliver its replies on a channel).
"""
