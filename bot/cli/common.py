"""What every ``vecu`` command shares: exit codes and messages in the operator's language."""

from __future__ import annotations

import os
import sys

from bot.i18n import supported_language, t

EXIT_OK = 0


EXIT_FAILURE = 1


EXIT_USAGE = 2


def cli_language() -> str:
    """The operator's language for messages (``fr`` or ``en``)."""
    for name in ("VECU_CLI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return supported_language(value) or "en"
    return "en"


def say(key: str, *, err: bool = False, **values: object) -> None:
    print(t(key, cli_language(), **values), file=sys.stderr if err else sys.stdout, flush=True)
