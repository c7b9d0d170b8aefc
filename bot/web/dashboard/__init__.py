"""The dashboard: server-rendered Total Experience pages behind a login (French, English).

* :mod:`~bot.web.dashboard.passwords`: scrypt password hashes;
* :mod:`~bot.web.dashboard.users`: accounts (``vecu users …``, :mod:`~bot.cli.users`);
* :mod:`~bot.web.dashboard.security`: sessions, CSRF, login throttling, page language;
* :mod:`~bot.web.dashboard.access`: the logged-in user; API access by token or session;
* :mod:`~bot.web.dashboard.views`: page models (tables, Plotly figures, CSV) from
  :mod:`bot.analytics`;
* :mod:`~bot.web.dashboard.routes`: the routes, mounted by :func:`bot.web.app.create_app`.
"""
