"""The ``vecu`` command line: operations on a Vécu installation.

Commands (each handler returns the exit code):

* ``vecu export --format jsonl|csv [--out FILE] [--since T] [--touchpoint X] [--team Y]``:
  streams every stored feedback, oldest first (CSV has a header; score maps are JSON
  strings; cells starting with ``= + - @`` are prefixed with ``'`` so spreadsheets never
  run them as formulas);
* ``vecu config check [--file PATH]``: validates the company configuration, prints a
  summary, or every problem and exit code 2;
* ``vecu db upgrade [--revision R]``: applies the Alembic migrations from any directory;
* ``vecu worker [--once]``: delivers queued alerts until interrupted;
* ``vecu alerts status`` / ``vecu alerts requeue [--team T]``: outbox counts per team and
  status; put ``dead`` alerts back in the queue (after fixing a destination);
* ``vecu telegram poll``: runs the Telegram bots by long polling (development);
  ``vecu telegram webhook``: registers their webhooks (``TELEGRAM_PUBLIC_URL``);
* ``vecu privacy export|erase|purge``: people's rights and retention, see
  :mod:`bot.cli.privacy`;
* ``vecu users add|list|remove|passwd``: dashboard accounts (:mod:`bot.cli.users`);
* ``vecu demo seed [--weeks N] [--seed S] [--rows N]``: demo data (:mod:`bot.cli.demo`);
* ``vecu model …``: added by :mod:`bot.cli.model` when that module is installed.

Messages come from the ``cli.*`` catalogue, in the operator's language (``VECU_CLI_LANGUAGE``,
else ``LC_ALL``/``LC_MESSAGES``/``LANG``: French for ``fr*``, English otherwise).
Exit codes: 0 success, 1 runtime failure (database…), 2 invalid usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.outbox import counts, requeue_dead
from bot.alerts.worker import run_worker
from bot.channels.rasa import HttpRasaClient
from bot.channels.telegram.polling import poll
from bot.channels.telegram.webhook import register_webhooks
from bot.cli import demo as demo_cli
from bot.cli import employees as employees_cli
from bot.cli import privacy as privacy_cli
from bot.cli import users as users_cli
from bot.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, cli_language, say
from bot.company import destination_name, load_company
from bot.contact.surveys import run_sender  # issue 6: the contact outbox (surveys) beside alerts
from bot.errors import ConfigurationError, StorageError
from bot.feedback.query import FeedbackView, iter_feedback
from bot.i18n import t
from bot.privacy.rights import run_retention  # issue 6: the retention purge, daily
from bot.services import get_services
from bot.settings import get_settings
from bot.storage.engine import make_engine
from bot.storage.migrate import current_revision, upgrade
from bot.web.dashboard.export import csv_text

# ---- export -------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    return value


def write_jsonl(rows: Iterable[Any], out: IO[str]) -> int:
    """Write one JSON object per feedback; returns how many."""
    count = 0
    for row in rows:
        out.write(json.dumps(dataclasses.asdict(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[Any], out: IO[str]) -> int:
    """Write a CSV with a header row; returns how many feedback rows."""
    names = [f.name for f in dataclasses.fields(FeedbackView)]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        data = dataclasses.asdict(row)
        writer.writerow([_csv_cell(data[name]) for name in names])
        count += 1
    return count


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _export(args: argparse.Namespace) -> int:
    try:
        since = _parse_since(args.since)
    except ValueError:
        say("cli.export.bad_since", err=True, value=args.since)
        return EXIT_USAGE
    rows = iter_feedback(
        since=since, touchpoint=args.touchpoint, team=args.team, services=get_services()
    )
    writer = write_csv if args.format == "csv" else write_jsonl
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            count = writer(rows, handle)
        target = str(path)
    else:
        count = writer(rows, sys.stdout)
        sys.stdout.flush()
        target = "stdout"
    say("cli.export.done", err=True, count=count, target=target)
    return EXIT_OK


# ---- config -------------------------------------------------------------------------------------


def _config_check(args: argparse.Namespace) -> int:
    try:
        path = Path(args.file) if args.file else get_settings().company_config
        company = load_company(path)
    except ConfigurationError as exc:
        say("cli.config.invalid", err=True)
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    language = cli_language()
    say("cli.config.ok", path=path)
    say("cli.config.company", name=company.company.name, languages=", ".join(company.languages))
    say(
        "cli.config.groups",
        count=len(company.emotion_groups),
        groups=", ".join(company.emotion_groups),
    )
    say("cli.config.teams", count=len(company.teams))
    for key, team in company.teams.items():
        destinations = ", ".join(
            f"{destination_name(d, i)} ({d.type}/{d.format})"
            for i, d in enumerate(team.destinations)
        ) or t("cli.config.no_destination", language)
        say("cli.config.team", team=key, destinations=destinations)
    say("cli.config.touchpoints", count=len(company.touchpoints))
    for key, tp in company.touchpoints.items():
        say("cli.config.touchpoint", touchpoint=key, audience=tp.audience, team=tp.team)
    say("cli.config.rules", rules=", ".join(rule.name for rule in company.severity_rules))
    return EXIT_OK


# ---- db -----------------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    try:
        upgrade(engine, args.revision)
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        say("cli.error.storage", err=True, error=str(exc).splitlines()[0])
        return EXIT_FAILURE
    finally:
        engine.dispose()
    say("cli.db.upgraded", url=engine.url.render_as_string(hide_password=True), revision=revision)
    return EXIT_OK


# ---- worker -------------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    services = get_services()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    if not args.once:
        say("cli.worker.started", interval=services.settings.worker_interval_s)

    sender = threading.Thread(
        target=run_sender, kwargs={"services": services, "once": args.once, "stop": stop},
        name="contact-sender", daemon=True,
    )  # fmt: skip
    sender.start()

    retention = threading.Thread(
        target=run_retention, kwargs={"services": services, "once": args.once, "stop": stop},
        name="retention", daemon=True,
    )  # fmt: skip
    retention.start()
    report = run_worker(services=services, once=args.once, stop=stop)
    retention.join(timeout=None if args.once else 30)
    sender.join(timeout=None if args.once else 30)
    say("cli.worker.stopped", sent=report.sent, retried=report.retried, dead=report.dead)
    return EXIT_OK


# ---- telegram -----------------------------------------------------------------------------------


def _telegram_poll(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    rasa = HttpRasaClient(
        settings.rasa_url, settings.actions_url, timeout_s=settings.rasa_timeout_s
    )
    count = asyncio.run(poll(settings, rasa=rasa))
    if count == 0:
        say("telegram.cli.no_token", err=True)
        return EXIT_USAGE
    say("telegram.cli.stopped", count=count)
    return EXIT_OK


def _telegram_webhook(args: argparse.Namespace) -> int:
    registered = asyncio.run(register_webhooks(get_settings()))
    if not registered:
        say("telegram.cli.no_token", err=True)
        return EXIT_USAGE
    for audience, url in registered.items():
        say("telegram.cli.webhook_set", audience=audience, url=url)
    return EXIT_OK


# ---- alerts -------------------------------------------------------------------------------------


def _alerts_status(args: argparse.Namespace) -> int:
    services = get_services()
    with services.sessions() as session:
        found = counts(session)
    if not found:
        say("cli.alerts.empty")
        return EXIT_OK
    for (team, status), count in sorted(found.items()):
        say("cli.alerts.count", team=team, status=status, count=count)
    return EXIT_OK


def _alerts_requeue(args: argparse.Namespace) -> int:
    services = get_services()
    with services.sessions.begin() as session:
        queued = requeue_dead(
            session, company=services.company, now=services.clock(), team=args.team
        )
    say("cli.alerts.requeued", count=queued)
    return EXIT_OK


# ---- parser -------------------------------------------------------------------------------------


try:
    from bot.cli import model as model_cli
except ImportError:  # pragma: no cover - the model tools need the optional train extra (torch)
    model_cli = None  # type: ignore[assignment]

COMMANDS: tuple[Any, ...] = (privacy_cli, users_cli, demo_cli, employees_cli) + (
    (model_cli,) if model_cli else ()
)
"""The command groups that add themselves to ``vecu`` (each module's ``register``)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vecu`` (with ``vecu model`` when available)."""
    lang = cli_language()
    parser = argparse.ArgumentParser(prog="vecu", description=t("cli.help.description", lang))
    commands = parser.add_subparsers(dest="command", required=True)

    export = commands.add_parser("export", help=t("cli.help.export", lang))
    export.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help=t("cli.help.export_format", lang),
    )
    export.add_argument("--out", help=t("cli.help.export_out", lang))
    export.add_argument("--since", help=t("cli.help.export_since", lang))
    export.add_argument("--touchpoint", help=t("cli.help.export_touchpoint", lang))
    export.add_argument("--team", help=t("cli.help.export_team", lang))
    export.set_defaults(func=_export)

    config = commands.add_parser("config", help=t("cli.help.config", lang))
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser("check", help=t("cli.help.config_check", lang))
    check.add_argument("--file", help=t("cli.help.config_file", lang))
    check.set_defaults(func=_config_check)

    db = commands.add_parser("db", help=t("cli.help.db", lang))
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help=t("cli.help.db_upgrade", lang))
    upgrade.add_argument("--revision", default="head", help=t("cli.help.db_revision", lang))
    upgrade.set_defaults(func=_db_upgrade)

    worker = commands.add_parser("worker", help=t("cli.help.worker", lang))
    worker.add_argument("--once", action="store_true", help=t("cli.help.worker_once", lang))
    worker.set_defaults(func=_worker)

    alerts = commands.add_parser("alerts", help=t("cli.help.alerts", lang))
    alerts_commands = alerts.add_subparsers(dest="alerts_command", required=True)
    status = alerts_commands.add_parser("status", help=t("cli.help.alerts_status", lang))
    status.set_defaults(func=_alerts_status)
    requeue = alerts_commands.add_parser("requeue", help=t("cli.help.alerts_requeue", lang))
    requeue.add_argument("--team", help=t("cli.help.alerts_team", lang))
    requeue.set_defaults(func=_alerts_requeue)

    telegram = commands.add_parser("telegram", help=t("telegram.cli.help", lang))
    telegram_commands = telegram.add_subparsers(dest="telegram_command", required=True)
    poll = telegram_commands.add_parser("poll", help=t("telegram.cli.help_poll", lang))
    poll.set_defaults(func=_telegram_poll)
    webhook = telegram_commands.add_parser("webhook", help=t("telegram.cli.help_webhook", lang))
    webhook.set_defaults(func=_telegram_webhook)

    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vecu``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        result: int = args.func(args)
    except ConfigurationError as exc:
        say("cli.error.config", err=True, error=str(exc))
        return EXIT_USAGE
    except StorageError as exc:
        say("cli.error.storage", err=True, error=str(exc))
        return EXIT_FAILURE
    except BrokenPipeError:  # `vecu export | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return result


if __name__ == "__main__":
    sys.exit(main())
