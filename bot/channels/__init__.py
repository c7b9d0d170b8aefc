"""Messaging channels: gateways between a messaging app and Rasa.

:mod:`~bot.channels.base` is the seam every channel plugs into, :mod:`~bot.channels.installed`
lists them (one line each). Shared by all: :mod:`~bot.channels.rasa` (the Rasa client) and
:mod:`~bot.channels.inbound` (the fallback record when Rasa cannot answer). One package per
channel: :mod:`~bot.channels.web` (the web chat) and :mod:`~bot.channels.telegram`.
"""
