"""The ``vecu demo`` commands: ``vecu demo seed [--weeks N] [--seed S] [--rows N]``.

This module owns the command-line surface of :mod:`bot.cli.seed`: :func:`register` adds a
``demo`` command to ``vecu``'s subparsers. The command migrates the database, then seeds it
with the shipped model as scorer. Messages come from the ``demo.cli.*`` catalogue.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, cli_language, say
from bot.cli.seed import seed
from bot.errors import StorageError
from bot.i18n import t
from bot.services import get_services
from bot.storage.migrate import upgrade


def _seed(args: argparse.Namespace) -> int:
    if not 1 <= args.weeks <= 104 or (args.rows is not None and args.rows < 0):
        say("demo.cli.bad_args", err=True)
        return EXIT_USAGE
    services = get_services()
    upgrade(services.engine)
    say("demo.cli.seeding", weeks=args.weeks, seed=args.seed, model=services.scorer.version)
    try:
        result = seed(
            engine=services.engine,
            company=services.company,
            scorer=services.scorer,
            weeks=args.weeks,
            seed=args.seed,
            rows=args.rows,
            settings=services.settings,
        )
    except StorageError as exc:
        say("demo.cli.failed", err=True, error=str(exc))
        return EXIT_FAILURE
    say(
        "demo.cli.done",
        feedback=result.feedback,
        alerts=result.alerts,
        bulk=result.bulk,
        seconds=f"{result.seconds:.1f}",
    )
    return EXIT_OK


def register(commands: Any) -> None:
    """Add the ``demo`` command to ``vecu``'s argparse subparsers."""
    lang = cli_language()
    demo = commands.add_parser("demo", help=t("demo.cli.help", lang))
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    seed = demo_commands.add_parser("seed", help=t("demo.cli.help_seed", lang))
    seed.add_argument("--weeks", type=int, default=8, help=t("demo.cli.help_weeks", lang))
    seed.add_argument("--seed", type=int, default=7, help=t("demo.cli.help_random", lang))
    seed.add_argument("--rows", type=int, default=None, help=t("demo.cli.help_rows", lang))
    seed.set_defaults(func=_seed)
