"""The web chat: the page and the JSON chat API of :mod:`bot.web` bring messages here.

:mod:`~bot.channels.web.chat` validates a chat request, pseudonymises the conversation, sends the
words to Rasa and turns its answer into replies (or records the message when Rasa is down).
"""
