"""``vecu employees link --campaign NAME [--days N] [--base-url URL]``: a link that opens the web
chat to employees (:mod:`bot.channels.web.links`), signed with ``VECU_SECRET_KEY``; share it
where employees work (intranet, e-mail, a QR code in the break room). Messages come from the
``cli.employees.*`` catalogue."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlencode

from bot.channels.web import links
from bot.cli.common import EXIT_OK, EXIT_USAGE, cli_language, say
from bot.i18n import t
from bot.settings import PLACEHOLDER, get_settings


def _link(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.secret_key or settings.secret_key == PLACEHOLDER:
        say("cli.employees.no_key", err=True)
        return EXIT_USAGE
    try:
        token = links.issue(settings.secret_key, campaign=args.campaign, days=args.days)
    except ValueError as exc:
        say("cli.employees.bad_args", err=True, error=str(exc))
        return EXIT_USAGE
    query = urlencode({"audience": "employee", "link": token})
    say("cli.employees.link", days=args.days, url=f"{args.base_url.rstrip('/')}/?{query}")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add the ``employees`` command to ``vecu``'s argparse subparsers."""
    lang = cli_language()
    employees = commands.add_parser("employees", help=t("cli.employees.help", lang))
    employees_commands = employees.add_subparsers(dest="employees_command", required=True)
    link = employees_commands.add_parser("link", help=t("cli.employees.help_link", lang))
    link.add_argument("--campaign", required=True, help=t("cli.employees.help_campaign", lang))
    link.add_argument("--days", type=int, default=30, help=t("cli.employees.help_days", lang))
    link.add_argument(
        "--base-url", default="http://127.0.0.1:8000", help=t("cli.employees.help_base", lang)
    )
    link.set_defaults(func=_link)
