"""The scaled deployment: N replicas of every process behind HAProxy, on PostgreSQL and Redis.

``make run-scaled`` runs ``python -m bot.cli.scaled prepare`` then starts the Procfile it
writes. The layout (:class:`Layout`) puts HAProxy on the ports the embedded default uses,
so clients, the page and Rasa's ``action_endpoint`` see one address per service:

==========  ==================  ===============================  ============================
service     balancer            replicas (2 by default)          shared state
==========  ==================  ===============================  ============================
web         127.0.0.1:8000      8001, 8002, …  (``/livez``)      PostgreSQL; Redis for login
                                                                 throttling and Telegram flow
rasa        127.0.0.1:5005      5011, 5012, …  (``/``)           conversations: SQL tracker
                                                                 store (PostgreSQL); one
                                                                 conversation at a time: Redis
                                                                 lock store
actions     127.0.0.1:5055      5061, 5062, …  (``/health``)     PostgreSQL (a message is
                                                                 stored once: its message id)
worker      (none)              N processes                      outbox rows claimed with
                                                                 ``FOR UPDATE SKIP LOCKED``
==========  ==================  ===============================  ============================

HAProxy checks each replica every second and retries a request that found a dead replica
(connection refused, or closed without an answer) on another one; a message a killed replica
had half processed is then processed again, and stored once (:mod:`bot.feedback.intake`'s message
id).

:func:`prepare` creates the database when missing, applies Vécu's migrations, lets Rasa's own
``SQLTrackerStore`` create its ``events`` table once (replicas starting together would race
to create it), checks Redis, and writes ``haproxy.cfg`` and ``Procfile`` into ``var/scaled``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa

from bot.settings import ROOT
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/vecu_scaled"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RASA_LOCK_PREFIX = "vecurasa"
"""Key prefix of Rasa's lock store (alphanumeric, Rasa's rule; Vécu's own keys use ``vecu:``)."""
HOST = "127.0.0.1"
TICKET_LOCK_LIFETIME_S = 20


@dataclass(frozen=True)
class Layout:
    """How many of each process, where they listen, which engines they share."""

    rasa: int = 2
    actions: int = 2
    web: int = 2
    workers: int = 2
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    web_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    stats_port: int = 8404
    root: Path = ROOT
    state_dir: Path = ROOT / "var" / "scaled"

    def ports(self, kind: str) -> list[int]:
        """The replicas' ports of ``kind`` (``web``, ``rasa`` or ``actions``)."""
        first = {"web": self.web_port + 1, "rasa": self.rasa_port + 6,
                 "actions": self.actions_port + 6}[kind]  # fmt: skip
        count: int = getattr(self, kind)
        return [first + n for n in range(count)]

    @property
    def rasa_database_url(self) -> str:
        """The same database for Rasa's tracker store (its environment has psycopg2)."""
        scheme, rest = self.database_url.split("://", 1)
        return "postgresql://" + rest if scheme.startswith("postgresql") else self.database_url


def haproxy_config(layout: Layout) -> str:
    """HAProxy's configuration: one frontend on the usual port per service, replicas behind."""
    checks = {"web": "GET /livez", "rasa": "GET /", "actions": "GET /health"}
    fronts = {"web": layout.web_port, "rasa": layout.rasa_port, "actions": layout.actions_port}
    parts = [
        "# Written by `python -m bot.cli.scaled prepare` (make run-scaled); do not edit.",
        "global",
        "    maxconn 4096",
        # a request is retried only if it fits in one buffer: Rasa's calls to the action
        # servers (the tracker, the domain) are ~10 KB deflated (COMPRESS_ACTION_SERVER_REQUEST)
        "    tune.bufsize 65536",
        "    log stdout format raw local0",
        "defaults",
        "    mode http",
        # only the requests that went wrong, each with its termination state and retries
        "    log global",
        "    option httplog",
        "    option dontlog-normal",
        "    timeout connect 2s",
        "    timeout client 120s",
        "    timeout server 120s",
        "    timeout http-request 10s",
        "    option http-server-close",
        # a busy replica answers its check late but is alive; a dead one refuses at once
        "    timeout check 10s",
        # a request that found a dead replica, or whose replica died before answering, is
        # sent again to a live one (the message id keeps a half-processed message from being
        # stored twice: the web frontend gives each request an X-Request-ID, kept on retry)
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "    option http-buffer-request",  # a request is retried only once it is all here
        f"frontend stats\n    bind {HOST}:{layout.stats_port}\n    stats enable\n"
        "    stats uri /\n    stats refresh 5s",
    ]
    for kind, port in fronts.items():
        request_id = (
            "\n    unique-id-format %[uuid()]"
            "\n    http-request set-header X-Request-ID %[unique-id]"
            if kind == "web"
            else ""
        )
        parts.append(
            f"frontend {kind}\n    bind {HOST}:{port}{request_id}\n"
            f"    default_backend {kind}_replicas"
        )
        # out of the rotation at the first refused connection, back at the first good check
        servers = "\n".join(
            f"    server {kind}{n + 1} {HOST}:{replica} check inter 1s fall 2 rise 1 "
            "observe layer4 error-limit 1 on-error mark-down"
            for n, replica in enumerate(layout.ports(kind))
        )
        parts.append(
            f"backend {kind}_replicas\n    balance leastconn\n"
            f"    option httpchk\n    http-check send meth {checks[kind].split()[0]} "
            f"uri {checks[kind].split()[1]}\n{servers}"
        )
    return "\n".join(parts) + "\n"


def environment(layout: Layout) -> dict[str, str]:
    """What every process of the scaled stack is given (on top of ``.env``)."""
    redis = urlsplit(layout.redis_url)
    return {
        "DATABASE_URL": layout.database_url,
        "VECU_REDIS_URL": layout.redis_url,
        "RASA_URL": f"http://{HOST}:{layout.rasa_port}",
        "ACTIONS_URL": f"http://{HOST}:{layout.actions_port}",
        # endpoints.scaled.yml
        "RASA_ACTIONS_WEBHOOK": f"http://{HOST}:{layout.actions_port}/webhook",
        "RASA_TRACKER_DB_URL": layout.rasa_database_url,
        "RASA_LOCK_REDIS_HOST": redis.hostname or HOST,
        "RASA_LOCK_REDIS_PORT": str(redis.port or 6379),
        "RASA_LOCK_REDIS_DB": (redis.path or "/0").strip("/") or "0",
        "RASA_LOCK_PREFIX": RASA_LOCK_PREFIX,
        # a replica killed while holding a conversation's lock delays that conversation this
        # long at most (Rasa's default is 60 s; a message takes well under a second)
        "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_LIFETIME_S),
        "RASA_TELEMETRY_ENABLED": "false",  # no reports to Rasa's servers
        # deflated, a call to the action servers fits in the balancer's buffer, which lets it
        # send the call again when an action server dies before answering (52 KB → ~10 KB)
        "COMPRESS_ACTION_SERVER_REQUEST": "true",
    }


def processes(layout: Layout) -> dict[str, str]:
    """Each process of the stack by name (``rasa1``, ``web2``…) and its command line."""
    rasa = (
        "PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 .venv-rasa/bin/rasa run "
        "--model models/rasa/vecu.tar.gz --endpoints endpoints.scaled.yml "
        "--credentials credentials.yml --interface 127.0.0.1 --port {port} "
        '--enable-api --auth-token "$RASA_TOKEN"'
    )
    found = {"balancer": f"haproxy -db -f {layout.state_dir / 'haproxy.cfg'}"}
    for n, port in enumerate(layout.ports("rasa")):
        found[f"rasa{n + 1}"] = rasa.format(port=port)
    for n, port in enumerate(layout.ports("actions")):
        found[f"actions{n + 1}"] = f".venv/bin/python -m bot.cli.actionserver --port {port}"
    for n, port in enumerate(layout.ports("web")):
        found[f"web{n + 1}"] = (
            f".venv/bin/uvicorn bot.web.app:app --host 127.0.0.1 --port {port} --no-access-log"
        )
    for n in range(layout.workers):
        found[f"worker{n + 1}"] = ".venv/bin/vecu worker"
    return found


def procfile(layout: Layout) -> str:
    """The Procfile of the stack: every process with the scaled environment."""
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in environment(layout).items())
    lines = ["# Written by `python -m bot.cli.scaled prepare` (make run-scaled); do not edit."]
    lines += [f"{name}: env {env} {command}" for name, command in processes(layout).items()]
    return "\n".join(lines) + "\n"


class NotReady(RuntimeError):
    """Something the scaled stack needs is missing; the message says what to do."""


def create_database(url: str) -> bool:
    """Create the PostgreSQL database of ``url`` when missing; ``True`` when created."""
    target = sa.engine.make_url(url)
    if not target.drivername.startswith("postgresql"):
        raise NotReady(f"the scaled stack needs PostgreSQL, not {target.drivername}")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).first()
            if exists:
                return False
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
            return True
    except sa.exc.OperationalError as exc:
        raise NotReady(
            f"PostgreSQL does not answer at {target.host}:{target.port or 5432} "
            f"({exc.orig.__class__.__name__}); start it or set VECU_SCALED_DATABASE_URL"
        ) from None
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    """Redis answers at ``url``."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        raise NotReady(
            f"Redis does not answer at {url} ({exc.__class__.__name__}); "
            "start it or set VECU_SCALED_REDIS_URL"
        ) from None


def create_rasa_events(layout: Layout) -> None:
    """Let Rasa's ``SQLTrackerStore`` create its table once, before the replicas start."""
    python = layout.root / ".venv-rasa" / "bin" / "python"
    code = (
        "import sys; from rasa.core.tracker_store import SQLTrackerStore; "
        "SQLTrackerStore(dialect='postgresql', host=sys.argv[1])"
    )
    done = subprocess.run(
        [str(python), "-c", code, layout.rasa_database_url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise NotReady(f"Rasa's tracker store could not be prepared:\n{done.stderr[-2000:]}")


def prepare(layout: Layout) -> list[str]:
    """Check and prepare everything; write ``haproxy.cfg`` and ``Procfile`` in its state dir.

    Returns:
        What was done, one line each.

    Raises:
        NotReady: HAProxy, PostgreSQL or Redis is missing.
    """
    if shutil.which("haproxy") is None:
        raise NotReady("HAProxy is not installed: `make balancer` installs it (Debian, root)")
    done = []
    if create_database(layout.database_url):
        done.append(f"created the database {layout.database_url.rsplit('/', 1)[-1]}")
    engine = make_engine(layout.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    done.append("applied Vécu's migrations")
    create_rasa_events(layout)
    done.append("Rasa's tracker store is ready (events table)")
    check_redis(layout.redis_url)
    done.append(f"Redis answers ({layout.redis_url})")
    out = layout.state_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "haproxy.cfg").write_text(haproxy_config(layout), encoding="utf-8")
    (out / "Procfile").write_text(procfile(layout), encoding="utf-8")
    done.append(f"wrote {out / 'haproxy.cfg'} and {out / 'Procfile'}")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.cli.scaled prepare [--replicas N] [--workers N] [--out DIR]``."""
    parser = argparse.ArgumentParser(description="Prepare the scaled stack (make run-scaled).")
    parser.add_argument("command", choices=["prepare"])
    parser.add_argument("--replicas", type=int, default=2, help="Rasa, actions and web (2)")
    parser.add_argument("--workers", type=int, default=2, help="outbox workers (2)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "scaled")
    args = parser.parse_args(argv)
    if args.replicas < 1 or args.workers < 1:
        parser.error("--replicas and --workers must be at least 1")
    layout = replace(
        Layout(),
        rasa=args.replicas,
        actions=args.replicas,
        web=args.replicas,
        workers=args.workers,
        database_url=args.database_url,
        redis_url=args.redis_url,
        state_dir=args.out,
    )
    try:
        for line in prepare(layout):
            print(f"    {line}")
    except NotReady as exc:
        print(f"    the scaled stack cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
