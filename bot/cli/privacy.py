"""``vecu privacy …``: people's rights and retention from the command line (issue 6).

Commands (registered into ``vecu`` by :func:`register`; each handler returns the exit code):

* ``vecu privacy export PERSON [--out FILE]``: everything about the person as one JSON
  document (:func:`bot.privacy.rights.export_person`);
* ``vecu privacy erase PERSON --yes``: erase the person (:func:`bot.privacy.rights.erase_person`);
  without ``--yes`` it only says what would go, and exits 2;
* ``vecu privacy purge [--days N]``: the retention job now (:func:`bot.privacy.rights.purge`).

``PERSON`` is a person id, a pseudonym (``p_…``), or ``external:<id>``,
``telegram:<chat id>``, ``web:<session id>``. Every command that touches a person writes a
``privacy_audit`` row naming the operating-system user (:meth:`bot.privacy.rights.Actor.cli`).
Exit codes: 0 done, 1 database failure, 2 unknown person or missing confirmation.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.cli.common import cli_language
from bot.i18n import t
from bot.privacy.persons import linked, resolve_person_ref
from bot.privacy.pseudonyms import secret_key
from bot.privacy.rights import Actor, erase_person, export_person, purge
from bot.services import get_services

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def say(key: str, *, err: bool = False, **values: object) -> None:
    print(t(key, cli_language(), **values), file=sys.stderr if err else sys.stdout, flush=True)


def _resolve(session: Any, ref: str, services: Any) -> str | None:
    person = resolve_person_ref(session=session, ref=ref, secret=secret_key(services.settings))
    return person.id if person is not None else None


def _export(args: argparse.Namespace) -> int:
    services = get_services()
    with services.sessions.begin() as session:
        person_id = _resolve(session, args.person, services)
        if person_id is None:
            say("cli.privacy.unknown_person", err=True, ref=args.person)
            return EXIT_USAGE
        document = export_person(
            session=session, person_id=person_id, actor=Actor.cli(), now=services.clock()
        )
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        path.chmod(0o600)  # it is personal data
        target = str(path)
    else:
        print(text, flush=True)
        target = "stdout"
    say("cli.privacy.exported", err=True, person=person_id, target=target)
    return EXIT_OK


def _erase(args: argparse.Namespace) -> int:
    services = get_services()
    with services.sessions.begin() as session:
        person_id = _resolve(session, args.person, services)
        if person_id is None:
            say("cli.privacy.unknown_person", err=True, ref=args.person)
            return EXIT_USAGE
        if not args.yes:
            links = linked(session=session, person_id=person_id)
            say(
                "cli.privacy.confirm",
                err=True,
                person=person_id,
                feedback=len(links.feedback) if links else 0,
                identities=len(links.identities) if links else 0,
            )
            return EXIT_USAGE
        report = erase_person(
            session=session, person_id=person_id, actor=Actor.cli(), now=services.clock()
        )
    assert report is not None  # resolved in the same transaction
    say(
        "cli.privacy.erased",
        person=person_id,
        **{k: v for k, v in asdict(report).items() if k != "person_id"},
    )
    return EXIT_OK


def _purge(args: argparse.Namespace) -> int:
    services = get_services()
    with services.sessions.begin() as session:
        report = purge(
            session=session,
            company=services.company,
            now=services.clock(),
            actor=Actor.cli(),
            retention_days=args.days,
        )
    values = asdict(report)
    values.pop("details")
    say("cli.privacy.purged", **values)
    return EXIT_OK


def _positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise argparse.ArgumentTypeError("--days must be at least 1")
    return days


def register(commands: Any) -> None:
    """Add ``vecu privacy`` to the ``vecu`` sub-command parsers ``commands``."""
    lang = cli_language()
    privacy = commands.add_parser("privacy", help=t("cli.help.privacy", lang))
    sub = privacy.add_subparsers(dest="privacy_command", required=True)
    export = sub.add_parser("export", help=t("cli.help.privacy_export", lang))
    export.add_argument("person", help=t("cli.help.privacy_person", lang))
    export.add_argument("--out", help=t("cli.help.privacy_out", lang))
    export.set_defaults(func=_export)
    erase = sub.add_parser("erase", help=t("cli.help.privacy_erase", lang))
    erase.add_argument("person", help=t("cli.help.privacy_person", lang))
    erase.add_argument("--yes", action="store_true", help=t("cli.help.privacy_yes", lang))
    erase.set_defaults(func=_erase)
    purge = sub.add_parser("purge", help=t("cli.help.privacy_purge", lang))
    purge.add_argument("--days", type=_positive_days, help=t("cli.help.privacy_days", lang))
    purge.set_defaults(func=_purge)
