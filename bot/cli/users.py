"""``vecu users``: dashboard accounts from the command line.

* ``vecu users add EMAIL [--role admin|manager] [--teams a,b]``: the password is prompted
  twice on a terminal, or read (first line) from standard input when it is piped;
* ``vecu users list``; ``vecu users remove EMAIL``; ``vecu users passwd EMAIL``.

Messages come from the ``cli.users.*`` catalogue in the operator's language. Exit codes:
0 success, 1 database failure, 2 refused (unknown or duplicate account, weak password…).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.cli.common import cli_language
from bot.errors import AccountError
from bot.i18n import t
from bot.services import get_services
from bot.web.dashboard.passwords import MIN_LENGTH
from bot.web.dashboard.users import add_user, list_users, remove_user, set_password

EXIT_OK = 0
EXIT_USAGE = 2


def say(key: str, *, err: bool = False, **values: object) -> None:
    print(t(key, cli_language(), **values), file=sys.stderr if err else sys.stdout, flush=True)


def read_password() -> str | None:
    """The new password: prompted twice on a terminal, else the first line of stdin.

    Returns:
        ``None`` when the two typed passwords differ.
    """
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    language = cli_language()
    first = getpass.getpass(t("cli.users.prompt", language))
    second = getpass.getpass(t("cli.users.prompt_again", language))
    return first if first == second else None


def _refused(exc: AccountError) -> int:
    extra: dict[str, Any] = {}
    if exc.code == "bad_team":
        extra["teams"] = ", ".join(get_services().company.teams)
    if exc.code == "weak_password":
        extra["min"] = MIN_LENGTH
    say(f"cli.users.error.{exc.code}", err=True, **extra)
    return EXIT_USAGE


def _add(args: argparse.Namespace) -> int:
    teams = [t for t in (args.teams or "").split(",") if t.strip()]
    if args.role == "manager" and not teams:
        say("cli.users.error.no_teams", err=True)
        return EXIT_USAGE
    password = read_password()
    if password is None:
        say("cli.users.mismatch", err=True)
        return EXIT_USAGE
    services = get_services()
    try:
        user = add_user(args.email, password, role=args.role, teams=teams, services=services)
    except AccountError as exc:
        return _refused(exc)
    shown = f": {', '.join(user.teams)}" if user.teams else ""
    settings = services.settings
    say(
        "cli.users.added",
        email=user.email,
        role=user.role.value,
        teams=shown,
        host=settings.web_host,
        port=settings.web_port,
    )
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    users = list_users(services=get_services())
    if not users:
        say("cli.users.none")
        return EXIT_OK
    language = cli_language()
    for user in users:
        last = (
            user.last_login_at.strftime("%Y-%m-%d %H:%M UTC")
            if user.last_login_at
            else t("cli.users.never", language)
        )
        teams = ", ".join(user.teams) or t("cli.users.all_teams", language)
        say("cli.users.row", email=user.email, role=user.role.value, teams=teams, last=last)
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    try:
        remove_user(args.email, services=get_services())
    except AccountError as exc:
        return _refused(exc)
    say("cli.users.removed", email=args.email.strip().lower())
    return EXIT_OK


def _passwd(args: argparse.Namespace) -> int:
    password = read_password()
    if password is None:
        say("cli.users.mismatch", err=True)
        return EXIT_USAGE
    try:
        user = set_password(args.email, password, services=get_services())
    except AccountError as exc:
        return _refused(exc)
    say("cli.users.changed", email=user.email)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``users`` command (``add``, ``list``, ``remove``, ``passwd``) to ``subparsers``."""
    lang = cli_language()
    users = subparsers.add_parser("users", help=t("cli.help.users", lang))
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help=t("cli.help.users_add", lang))
    add.add_argument("email", help=t("cli.help.users_email", lang))
    add.add_argument(
        "--role",
        choices=("admin", "manager"),
        default="manager",
        help=t("cli.help.users_role", lang),
    )
    add.add_argument("--teams", default="", help=t("cli.help.users_teams", lang))
    add.set_defaults(func=_add)
    listing = sub.add_parser("list", help=t("cli.help.users_list", lang))
    listing.set_defaults(func=_list)
    remove = sub.add_parser("remove", help=t("cli.help.users_remove", lang))
    remove.add_argument("email", help=t("cli.help.users_email", lang))
    remove.set_defaults(func=_remove)
    passwd = sub.add_parser("passwd", help=t("cli.help.users_passwd", lang))
    passwd.add_argument("email", help=t("cli.help.users_email", lang))
    passwd.set_defaults(func=_passwd)
