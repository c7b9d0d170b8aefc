"""Demo data for a first run of the dashboard (``vecu demo seed``); see :mod:`bot.demo.seed`."""
