"""Rasa custom actions: thin adapters onto :mod:`bot`."""
