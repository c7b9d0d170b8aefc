"""The action server: rasa-sdk's Sanic app serving ``actions/``, bound to 127.0.0.1 only.

``rasa run actions`` listens on every interface and has no flag to change that, so Vécu
builds the same app (:func:`rasa_sdk.endpoint.create_app`) and runs it itself on the
configured host and port, in a single process (no fork: the ONNX runtime is never loaded
in a parent process). Once the server listens, the scorer is warmed in the background so
the first message does not pay for loading the model.

Run with ``python -m bot.cli.actionserver`` (see the Procfile).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from bot.privacy.redaction import warm_up as warm_up_redaction
from bot.services import get_services
from bot.settings import get_settings

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor

ACTIONS_PACKAGE = "actions"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055

_log = logging.getLogger(__name__)


def warm_up() -> None:
    """Build the services, score one text, encode the touchpoints' examples (bot/company/topics.py)
    and load the redaction models before a person waits."""
    services = get_services()
    services.scorer.score(["warm-up"])

    warm_up_redaction(services.company)
    if services.topics is not None:  # last: should it fail, the rest is warm already
        services.topics.warm()


async def _warm_up_in_background(app: Sanic) -> None:
    try:
        await asyncio.to_thread(warm_up)
        _log.info("scorer warmed up")
    except Exception:  # the server keeps serving; feedback is stored unscored if need be
        _log.exception("warm-up failed")


def make_executor() -> ActionExecutor:
    """An action executor with every action of :mod:`actions` registered."""
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    return executor


def build_app(*, warm: bool = True) -> Sanic:
    """The rasa-sdk Sanic app serving :func:`make_executor`'s actions.

    Args:
        warm: warm the scorer in the background once the server has started.
    """
    app = create_app(make_executor(), cors_origins="")
    if warm:

        async def start_warm_up(app: Sanic) -> None:
            app.add_task(_warm_up_in_background(app))

        app.register_listener(start_warm_up, "after_server_start")
    return app


def default_address() -> tuple[str, int]:
    """Host and port from ``ACTIONS_URL`` (settings), 127.0.0.1:5055 by default."""
    parts = urlsplit(get_settings().actions_url)
    return parts.hostname or DEFAULT_HOST, parts.port or DEFAULT_PORT


def main(argv: Sequence[str] | None = None) -> None:
    """Start the action server (blocks until stopped)."""
    host, port = default_address()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=host, help=f"interface to bind (default {host})")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port})")
    parser.add_argument("--no-warm-up", action="store_true", help="do not preload the scorer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = build_app(warm=not args.no_warm_up)
    _log.info("action server listening on http://%s:%s", args.host, args.port)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
