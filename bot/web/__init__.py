"""The web process of Vécu: public chat page and chat endpoint, JSON API, health check.

:func:`bot.web.app.create_app` builds the FastAPI application; :mod:`bot.channels.web.chat` is the
gateway to Rasa (input hygiene, language, failure handling); :mod:`bot.channels.rasa` the Rasa
REST client interface and its in-tree fake.
"""
