"""Messaging channels other than the web chat: gateways between an app and Rasa.

Each channel is a subpackage (``telegram``) that receives the app's updates, sends the
user's words to Rasa's REST channel with metadata (language, audience, channel) under a
pseudonymous sender id, and sends Rasa's replies back. The web chat lives in ``bot.web``.
"""
