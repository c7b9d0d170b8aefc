"""The end-to-end tests' stack: real Rasa, action server, web app (and worker), on random ports.

This module owns :func:`free_port`, :func:`run_stack` and :class:`Receiver` (a team's webhook),
shared by ``tests/test_e2e.py`` and
``tests/test_e2e_events.py``: it migrates the database, starts the processes with their logs in
the test's temporary folder, waits for a green ``/healthz`` (failing with the logs otherwise) and
stops everything afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_MODEL = ROOT / "models" / "rasa" / "vecu.tar.gz"


@dataclass
class Receiver:
    """A team's webhook endpoint: keeps every JSON body it receives."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/alerts"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_stack(
    tmp: Path,
    env: dict[str, str],
    *,
    rasa_port: int,
    actions_port: int,
    web_port: int,
    worker: bool,
    timeout_s: float,
) -> Iterator[str]:
    """Start the stack described by ``env``; yield the web app's URL once it is healthy.

    ``tmp/endpoints.yml`` must point Rasa at ``actions_port``; ``worker`` also starts
    ``vecu worker``. Every process is stopped on exit.
    """
    subprocess.run([str(VENV_BIN / "vecu"), "db", "upgrade"], env=env, cwd=ROOT, check=True)
    commands = {
        "rasa": [
            str(RASA), "run", "--model", str(RASA_MODEL), "--endpoints", str(tmp / "endpoints.yml"),
            "--credentials", "credentials.yml", "--interface", "127.0.0.1",
            "--port", str(rasa_port), "--enable-api", "--auth-token", env["RASA_TOKEN"],
        ],
        "actions": [sys.executable, "-m", "bot.cli.actionserver", "--port", str(actions_port)],
        "web": [
            str(VENV_BIN / "uvicorn"), "bot.web.app:app",
            "--host", "127.0.0.1", "--port", str(web_port),
        ],
    }  # fmt: skip
    if worker:
        commands["worker"] = [str(VENV_BIN / "vecu"), "worker"]
    processes = []
    for name, command in commands.items():
        log = (tmp / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        )
    web = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{web}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                logs = "\n".join(
                    f"--- {p.name}\n{p.read_text()[-3000:]}" for p in tmp.glob("*.log")
                )
                pytest.fail(f"the stack did not become healthy:\n{logs}")
            time.sleep(2)
        yield web
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
