"""The scaled stack of ``make test-scaled``: every process of :mod:`bot.cli.scaled` as its own
process group (so one replica can be killed with ``kill -9``), an alert receiver, a load
generator and the engines' restarts.

The stack uses its own ports, PostgreSQL database (``vecu_scaled_test``, recreated) and Redis
database (13, flushed), so it never meets a ``make run`` or ``make run-scaled`` running beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.cli.scaled import RASA_LOCK_PREFIX, Layout, environment, haproxy_config, processes
from tests.e2e_stack import Receiver

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "vecu_scaled_test"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
SECRETS = {
    "VECU_API_TOKEN": "scaled-api-token",
    "VECU_SECRET_KEY": "scaled-secret-key",
    "RASA_TOKEN": "scaled-rasa-token",
    "VECU_EVENTS_SECRET": "scaled-events-secret",
}


@dataclass
class Turn:
    """One message sent by the load and what came back."""

    conversation_id: str
    text: str
    http_status: int = 0
    status: str = ""
    replies: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class ScaledStack:
    layout: Layout
    env: dict[str, str]
    logs: Path
    receiver: Receiver
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.layout.web_port}"

    def start(self, name: str) -> None:
        command = processes(self.layout)[name]
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            ["bash", "-c", command],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches all of it
        )

    def kill(self, name: str) -> None:
        """``kill -9`` the process (its whole group), no goodbye."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def replica_up(self, kind: str, port: int) -> bool:
        path = {"web": "/livez", "rasa": "/", "actions": "/health"}[kind]
        try:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float) -> None:
        """Every replica answers and the web app's health is green through the balancer."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            died = [n for n, p in self.procs.items() if p.poll() is not None]
            if died:
                raise RuntimeError(f"{died} exited:\n{self.tail(died[0])}")
            replicas = all(
                self.replica_up(kind, port)
                for kind in ("web", "rasa", "actions")
                for port in self.layout.ports(kind)
            )
            if replicas:
                try:
                    if httpx.get(f"{self.web}/healthz", timeout=5).status_code == 200:
                        time.sleep(2)  # the balancer's checks see them all (inter 1s, rise 1)
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(2)
        raise RuntimeError("the scaled stack did not start:\n" + self.tail("rasa1"))

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def chat(self, conversation_id: str, text: str, timeout_s: float = 90) -> Turn:
        turn = Turn(conversation_id, text)
        try:
            response = httpx.post(
                f"{self.web}/api/v1/chat",
                json={"conversation_id": conversation_id, "text": text, "language": "fr"},
                timeout=timeout_s,
            )
            turn.http_status = response.status_code
            body = response.json()
            turn.status = str(body.get("status"))
            turn.replies = [r["text"] for r in body.get("replies", [])]
        except (httpx.HTTPError, ValueError) as exc:
            turn.error = f"{type(exc).__name__}: {exc}"
        return turn

    def rasa_say(self, port: int, sender: str, text: str) -> list[dict[str, Any]]:
        """Send ``text`` to one Rasa replica directly (its REST channel)."""
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={
                "sender": sender,
                "message": text,
                "metadata": {"language": "fr", "channel": "web", "audience": "customer"},
            },
            timeout=60,
        )
        response.raise_for_status()
        return list(response.json())

    def tracker_texts(self, port: int, sender: str) -> list[str]:
        response = httpx.get(
            f"http://127.0.0.1:{port}/conversations/{sender}/tracker",
            params={"token": SECRETS["RASA_TOKEN"]},
            timeout=30,
        )
        response.raise_for_status()
        return [e["text"] for e in response.json()["events"] if e["event"] == "user"]


def load(
    stack: ScaledStack,
    *,
    rate: float,
    duration_s: float,
    tag: str,
    during: list[tuple[float, Callable[[], None]]] = (),  # type: ignore[assignment]
) -> list[Turn]:
    """Start ``rate`` conversations per second for ``duration_s`` (open loop), each one French
    complaint; run each ``(at_s, action)`` of ``during`` at its time. Returns every turn."""
    turns: list[Turn] = []
    lock = threading.Lock()
    started = time.monotonic()
    pending = sorted(during, key=lambda item: item[0])

    def one(n: int) -> None:
        text = f"Bonjour, ma livraison {tag} {n} est arrivée en retard et le colis était abîmé"
        turn = stack.chat(f"{tag}-{n}", text)
        with lock:
            turns.append(turn)

    with ThreadPoolExecutor(max_workers=64) as pool:
        n = 0
        while (elapsed := time.monotonic() - started) < duration_s:
            while pending and pending[0][0] <= elapsed:
                threading.Thread(target=pending.pop(0)[1], daemon=True).start()
            due = started + n / rate
            if time.monotonic() >= due:
                pool.submit(one, n)
                n += 1
            else:
                time.sleep(min(0.01, due - time.monotonic()))
    return turns


def rasa_lock_key(sender: str) -> str:
    """The Redis key of a conversation's lock (Rasa's: its prefix, ``lock:``, the sender)."""
    return f"{RASA_LOCK_PREFIX}:lock:{sender}"


def recreate_database() -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"


def build(tmp: Path, hook: str, receiver: Receiver) -> ScaledStack:
    import redis

    from bot.cli.scaled import create_rasa_events
    from bot.storage.engine import make_engine
    from bot.storage.migrate import upgrade

    redis.Redis.from_url(REDIS_URL).flushdb()
    layout = Layout(
        database_url=recreate_database(),
        redis_url=REDIS_URL,
        web_port=18000,
        rasa_port=15005,
        actions_port=15055,
        stats_port=18404,
        state_dir=tmp,
    )
    engine = make_engine(layout.database_url)
    upgrade(engine)
    engine.dispose()
    create_rasa_events(layout)
    (tmp / "haproxy.cfg").write_text(haproxy_config(layout))
    env = {
        **os.environ,
        **SECRETS,
        **environment(layout),
        "VECU_ENV": "development",
        "VECU_ALERT_WEBHOOK_URL": hook,
        "VECU_WORKER_INTERVAL_S": "0.5",
        "VECU_ALERT_BACKOFF_S": "0.5",
        "HF_HUB_OFFLINE": "1",
        "TELEGRAM_CUSTOMER_TOKEN": "",
        "TELEGRAM_EMPLOYEE_TOKEN": "",
    }
    return ScaledStack(layout=layout, env=env, logs=tmp, receiver=receiver)


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=120,
    )


def restart_redis(down_s: float) -> None:
    """Stop the Redis server, wait ``down_s``, start it again as it was configured."""
    import redis

    server = redis.Redis(host="127.0.0.1", port=6379)
    config = {key: server.config_get(key)[key] for key in ("dir", "logfile", "bind", "port")}
    with contextlib.suppress(redis.ConnectionError):  # it closed the connection: going down
        server.shutdown(nosave=True)
    time.sleep(down_s)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", *config["bind"].split(),
         "--port", config["port"], "--save", "", "--appendonly", "no",
         "--dir", config["dir"], "--logfile", config["logfile"] or "/dev/null"],
        check=True, timeout=30,
    )  # fmt: skip


def engines_restartable() -> str | None:
    """Why PostgreSQL and Redis cannot be restarted by the tests here (``None``: they can)."""
    if os.geteuid() != 0:
        return "restarting PostgreSQL and Redis needs root"
    if not shutil.which("pg_ctlcluster") or not os.path.isdir("/etc/postgresql"):
        return "no pg_ctlcluster (Debian's PostgreSQL) to restart PostgreSQL"
    if not shutil.which("redis-server"):
        return "no redis-server to restart Redis"
    return None
