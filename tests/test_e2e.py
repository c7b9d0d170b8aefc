"""End to end: the real Rasa server, action server, web app, worker, database and model.

Everything runs as the Procfile runs it (separate processes on 127.0.0.1, random ports) with
a fresh SQLite database and a local webhook receiver standing in for a team's alert endpoint.
Needs the trained Rasa model (``make train``): ``make e2e`` runs it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.language import detect

pytestmark = pytest.mark.rasa

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_MODEL = ROOT / "models" / "rasa" / "vecu.tar.gz"
TOKEN = "e2e-api-token"
STARTUP_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@dataclass
class Stack:
    web: str
    env: dict[str, str]
    receiver: Receiver
    logs: Path

    def chat(self, conversation_id: str, text: str, **extra: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.web}/api/v1/chat",
            json={"conversation_id": conversation_id, "text": text, **extra},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def feedback(self, conversation_id: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.web}/api/v1/feedback",
            params={"conversation_id": conversation_id},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def run_worker_once(self) -> None:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "vecu"), "worker", "--once"],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not RASA.exists() or not RASA_MODEL.exists():
        pytest.fail("the end-to-end test needs the Rasa environment and model: run `make train`")
    tmp = tmp_path_factory.mktemp("e2e")
    receiver = Receiver()
    hook = receiver.start()
    rasa_port, actions_port, web_port = free_port(), free_port(), free_port()
    (tmp / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
    )
    env = {
        **os.environ,
        "VECU_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp / 'vecu.db'}",
        "VECU_API_TOKEN": TOKEN,
        "VECU_SECRET_KEY": "e2e-secret-key",
        "RASA_TOKEN": "e2e-rasa-token",
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
        "VECU_ALERT_WEBHOOK_URL": hook,
        "HF_HUB_OFFLINE": "1",
    }
    venv_bin = ROOT / ".venv" / "bin"
    subprocess.run([str(venv_bin / "vecu"), "db", "upgrade"], env=env, cwd=ROOT, check=True)
    commands = {
        "rasa": [
            str(RASA), "run", "--model", str(RASA_MODEL), "--endpoints", str(tmp / "endpoints.yml"),
            "--credentials", "credentials.yml", "--interface", "127.0.0.1",
            "--port", str(rasa_port), "--enable-api", "--auth-token", env["RASA_TOKEN"],
        ],
        "actions": [sys.executable, "-m", "bot.actionserver", "--port", str(actions_port)],
        "web": [
            str(venv_bin / "uvicorn"), "bot.web.app:app",
            "--host", "127.0.0.1", "--port", str(web_port),
        ],
    }  # fmt: skip
    processes = []
    for name, command in commands.items():
        log = (tmp / f"{name}.log").open("w")
        processes.append(
            subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        )
    web = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
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
        yield Stack(web=web, env=env, receiver=receiver, logs=tmp)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if receiver.server:
            receiver.server.shutdown()


def replies_text(answer: dict[str, Any]) -> str:
    return " ".join(reply.get("text") or "" for reply in answer["replies"])


def test_unprompted_french_complaint_is_stored_routed_and_alerted(stack: Stack) -> None:
    answer = stack.chat("e2e-fr-colis", "Mon colis est arrivé écrasé, c'est inacceptable !")

    assert answer["language"] == "fr"
    assert answer["replies"], "the assistant must answer"
    assert detect(replies_text(answer)) == "fr", replies_text(answer)
    [record] = stack.feedback("e2e-fr-colis")
    assert record["touchpoint"] == "delivery"
    assert record["team"] == "logistics"
    assert record["sentiment"]["label"] == "negative"
    assert record["emotion"]["label"] != "neutral"
    assert record["audience"] == "customer"

    stack.run_worker_once()
    alerts = [body for body in stack.receiver.bodies if json.dumps(body).find("logistics") >= 0]
    assert alerts, f"no alert reached the logistics webhook: {stack.receiver.bodies}"


def test_english_rated_feedback_flow_with_buttons(stack: Stack) -> None:
    conversation = "e2e-en-billing"
    answer = stack.chat(conversation, "I'd like to give feedback about my bill", language="en")
    assert answer["language"] == "en"
    buttons = [button for reply in answer["replies"] for button in reply.get("buttons") or []]
    assert len(buttons) == 5, answer  # CSAT 1-5
    assert detect(replies_text(answer)) == "en", replies_text(answer)

    low = min(buttons, key=lambda button: button["payload"])
    answer = stack.chat(conversation, low["payload"], language="en")
    assert answer["replies"]

    answer = stack.chat(
        conversation, "I was charged twice this month, this is unacceptable!", language="en"
    )
    assert detect(replies_text(answer)) == "en", replies_text(answer)
    records = stack.feedback(conversation)
    assert [r["touchpoint"] for r in records] == ["billing"]
    assert records[0]["rating"] == 1 and records[0]["scale"] == "csat"
    assert records[0]["team"] == "billing"
    assert records[0]["sentiment"]["label"] == "negative"


def test_french_greeting_and_switch_to_english(stack: Stack) -> None:
    answer = stack.chat("e2e-switch", "Bonjour !")
    assert detect(replies_text(answer)) == "fr", replies_text(answer)
    answer = stack.chat("e2e-switch", "in English please")
    assert detect(replies_text(answer)) == "en", replies_text(answer)
    assert answer["language"] == "en"
    answer = stack.chat("e2e-switch", "My parcel never arrived", language="en")
    assert detect(replies_text(answer)) == "en", replies_text(answer)
