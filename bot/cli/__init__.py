"""``vecu``, the command line (:mod:`~bot.cli.main`), and the processes' entry points.

Each command group registers itself (:mod:`~bot.cli.privacy`, :mod:`~bot.cli.users`,
:mod:`~bot.cli.demo`, :mod:`~bot.cli.model`); :mod:`~bot.cli.actionserver` serves Rasa's
actions; :mod:`~bot.cli.scaled` prepares ``make run-scaled``.
"""
