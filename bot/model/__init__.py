"""Training, conversion and evaluation of Vécu's emotion model (``vecu model``).

Imports nothing heavy: torch and friends are imported by the commands that need them.
"""
