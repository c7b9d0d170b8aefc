"""Telegram gateway benchmark: the latency it adds around Rasa, and the updates/s it sustains.

Runs the real gateway (python-telegram-bot application + the web app's webhook route,
secret check included, served in-process through httpx's ASGI transport) against an
offline Bot API on a local socket (:mod:`bot.channels.telegram.fake_api`), so every reply
is a real HTTP ``sendMessage``. Two measurements:

1. **Added latency** (needs a running Rasa + action server, e.g. ``make run``): realistic
   bilingual conversations sent one update at a time; for each update, the webhook call's
   wall time minus the time spent inside Rasa's REST call (measured around the same call)
   is what the gateway adds: JSON parsing, secret check, dedup, rate limit, typing
   indicator, the contact route write, Rasa's health probe, and the ``sendMessage`` calls.
   p50/p95/max are reported, with Rasa's own time for scale.
2. **Throughput**: ``--updates`` text updates from ``--chats`` different private chats, all
   posted concurrently, with a Rasa stand-in that answers at once (so the number is the
   gateway's, not Rasa's); reported as updates/s.

    .venv/bin/python bench/bench_telegram.py                  # both (Rasa on $RASA_URL)
    .venv/bin/python bench/bench_telegram.py --no-rasa        # throughput only
    .venv/bin/python bench/bench_telegram.py --json

It uses a throw-away SQLite database for the contact routes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bot.channels.rasa import FakeRasaClient, HttpRasaClient, RasaMessage
from bot.channels.telegram.fake_api import FakeBotApiServer
from bot.channels.telegram.webhook import SECRET_HEADER, mount_telegram
from bot.scoring.base import StaticScorer
from bot.services import build_services, set_services
from bot.settings import Settings
from bot.storage.migrate import upgrade

SECRET = "bench-secret"
TOKEN = "1:bench"

CONVERSATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fr", ("Bonjour", "ma facture est fausse, on m'a chargé deux fois", '/rate{"rating": 1}',
            "un remboursement rapide", "/affirm", "/deny")),
    ("en", ("Hi", "My parcel arrived crushed, this is unacceptable!", '/rate{"rating": 2}',
            "better packaging", "/deny", "/deny")),
    ("fr", ("Le service en magasin était excellent, merci !", '/rate{"rating": 5}', "/deny")),
    ("en", ("The website keeps crashing at checkout", '/rate{"rating": 1}',
            "a working checkout", "/affirm", "/deny")),
)  # fmt: skip


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class TimedRasa:
    """Wraps a Rasa client and records how long each ``send`` took."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_s = 0.0

    async def send(
        self, sender: str, message: str, metadata: Mapping[str, Any]
    ) -> list[RasaMessage]:
        start = time.perf_counter()
        try:
            return list(await self.inner.send(sender, message, metadata))
        finally:
            self.last_s = time.perf_counter() - start

    async def rasa_ok(self) -> bool:
        return bool(await self.inner.rasa_ok())

    async def actions_ok(self) -> bool:
        return bool(await self.inner.actions_ok())

    async def aclose(self) -> None:
        await self.inner.aclose()


def update(update_id: int, chat: int, language: str, text: str) -> dict[str, Any]:
    """A private text message, or a button press when ``text`` is a payload."""
    user = {"id": chat, "is_bot": False, "first_name": "B", "language_code": language}
    private = {"id": chat, "type": "private", "first_name": "B"}
    if text.startswith("/"):
        message = {"message_id": 1, "date": 0, "chat": private, "text": "…"}
        query = {"id": str(update_id), "from": user, "chat_instance": "b", "message": message,
                 "data": text}  # fmt: skip
        return {"update_id": update_id, "callback_query": query}
    message = {"message_id": update_id, "date": 0, "chat": private, "from": user, "text": text}
    return {"update_id": update_id, "message": message}


def build(settings: Settings, rasa: Any) -> FastAPI:
    app = FastAPI()
    mount_telegram(app, settings=settings, rasa=lambda: rasa)
    return app


async def added_latency(settings: Settings, rounds: int) -> dict[str, Any]:
    rasa = TimedRasa(HttpRasaClient(settings.rasa_url, settings.actions_url, timeout_s=60))
    app = build(settings, rasa)
    transport = httpx.ASGITransport(app=app)
    added: list[float] = []
    inside: list[float] = []
    update_id = 1
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        for round_ in range(rounds):
            for index, (language, messages) in enumerate(CONVERSATIONS):
                chat = 10_000 + round_ * 100 + index
                for text in messages:
                    update_id += 1
                    start = time.perf_counter()
                    response = await client.post(
                        "/telegram/customer/webhook",
                        json=update(update_id, chat, language, text),
                        headers={SECRET_HEADER: SECRET},
                    )
                    total = time.perf_counter() - start
                    assert response.status_code == 200, response.text
                    added.append(total - rasa.last_s)
                    inside.append(rasa.last_s)
    await app.state.telegram.aclose()
    await rasa.aclose()
    ms = [v * 1000 for v in added]
    return {
        "updates": len(ms),
        "added_p50_ms": round(percentile(ms, 50), 1),
        "added_p95_ms": round(percentile(ms, 95), 1),
        "added_max_ms": round(max(ms), 1),
        "rasa_p50_ms": round(percentile([v * 1000 for v in inside], 50), 1),
        "rasa_p95_ms": round(percentile([v * 1000 for v in inside], 95), 1),
    }


async def throughput(settings: Settings, count: int, chats: int) -> dict[str, Any]:
    rasa = FakeRasaClient()
    app = build(settings, rasa)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        warm = update(1, 1, "fr", "bonjour")
        await client.post("/telegram/customer/webhook", json=warm, headers={SECRET_HEADER: SECRET})
        start = time.perf_counter()
        answers = await asyncio.gather(
            *(
                client.post(
                    "/telegram/customer/webhook",
                    json=update(100 + i, 20_000 + i % chats, "fr", f"message {i}"),
                    headers={SECRET_HEADER: SECRET},
                )
                for i in range(count)
            )
        )
        elapsed = time.perf_counter() - start
    await app.state.telegram.aclose()
    assert all(a.status_code == 200 for a in answers)
    return {"updates": count, "chats": chats, "seconds": round(elapsed, 2),
            "updates_per_s": round(count / elapsed, 1)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="conversation rounds (latency)")
    parser.add_argument("--updates", type=int, default=1000, help="updates (throughput)")
    parser.add_argument("--chats", type=int, default=200, help="distinct chats (throughput)")
    parser.add_argument("--no-rasa", action="store_true", help="skip the latency part")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--bot-api-delay-ms", type=float, default=0.0, help="latency of each Bot API answer"
    )
    args = parser.parse_args(argv)

    api = FakeBotApiServer(delay_s=args.bot_api_delay_ms / 1000).start()
    tmp = Path(tempfile.mkdtemp(prefix="vecu-bench-"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        VECU_ENV="test",
        DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        VECU_SECRET_KEY="bench-key",
        TELEGRAM_CUSTOMER_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_RATE_PER_MINUTE=100_000,
        RASA_URL=os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
        ACTIONS_URL=os.environ.get("ACTIONS_URL", "http://127.0.0.1:5055"),
    )
    services = build_services(settings, scorer=StaticScorer({"neutral": 1.0}, {"neutral": 1.0}))
    upgrade(services.engine)
    set_services(services)
    results: dict[str, Any] = {}
    try:
        if not args.no_rasa:
            results["latency"] = asyncio.run(added_latency(settings, args.rounds))
        results["throughput"] = asyncio.run(throughput(settings, args.updates, args.chats))
        results["bot_api_calls"] = len(api.calls)
    finally:
        api.stop()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    if "latency" in results:
        lat = results["latency"]
        print(
            f"gateway added latency over {lat['updates']} updates: p50 {lat['added_p50_ms']} ms, "
            f"p95 {lat['added_p95_ms']} ms, max {lat['added_max_ms']} ms "
            f"(Rasa itself: p50 {lat['rasa_p50_ms']} ms, p95 {lat['rasa_p95_ms']} ms)"
        )
    thr = results["throughput"]
    print(
        f"throughput: {thr['updates']} updates from {thr['chats']} chats in {thr['seconds']} s "
        f"= {thr['updates_per_s']} updates/s (Rasa stand-in answering at once)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
