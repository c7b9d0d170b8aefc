"""Reply-time benchmark of the web chat (or of Rasa's REST channel directly).

Sends a bilingual, realistic mix of messages (greetings, unprompted complaints, praise,
rating button payloads, follow-ups, employee pulse answers) **sequentially**, one
conversation after another, and reports p50/p95/max reply time and the error count.

    .venv/bin/python bench/bench_chat.py                      # POST http://127.0.0.1:8000/api/v1/chat
    .venv/bin/python bench/bench_chat.py --json               # machine-readable
    .venv/bin/python bench/bench_chat.py --rasa               # POST $RASA_URL/webhooks/rest/webhook
    .venv/bin/python bench/bench_chat.py --count 50 --url http://127.0.0.1:8000

An error is a transport failure, a non-200 answer, or an answer without a real reply: for the
web chat a ``status`` other than ``ok``/``empty`` (Rasa or the action server is down), for Rasa
an empty list (a dead action server is silent). Run it against ``make run``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_RASA_URL = os.environ.get("RASA_URL", "http://127.0.0.1:5005")


def api_token() -> str:
    """``VECU_API_TOKEN`` from the environment, else from ``./.env`` (employees' messages are
    sent as a trusted integration: the public chat takes them only with a link or the token)."""
    found = (
        re.search(r"^VECU_API_TOKEN=(.*)$", Path(".env").read_text(), re.M)
        if Path(".env").exists()
        else None
    )
    return os.environ.get("VECU_API_TOKEN") or (found.group(1).strip() if found else "")


def rate(n: int) -> str:
    """The payload of a rating button (as the domain's buttons send it)."""
    return f'/rate{{"rating": {n}}}'


# (language, audience, messages of one conversation)
CONVERSATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("fr", "customer", (
        "Bonjour",
        "Mon colis est arrivé écrasé, c'est inacceptable !",
        rate(1),
        "Un emballage plus solide et un livreur plus soigneux.",
    )),
    ("en", "customer", (
        "Hi there",
        "My parcel arrived crushed, this is unacceptable!",
        rate(1),
        "Better packaging would have made it right.",
    )),
    ("fr", "customer", (
        "La facture est fausse, on m'a chargé deux fois ce mois-ci",
        rate(2),
        "Un remboursement rapide svp",
    )),
    ("en", "customer", (
        "I was charged twice on my last invoice",
        rate(2),
        "A quick refund and an apology.",
    )),
    ("fr", "customer", (
        "Allo! La caissière au magasin était super gentille, merci!",
        rate(5),
    )),
    ("en", "customer", (
        "The staff at the store were lovely, thanks!",
        rate(5),
    )),
    ("fr", "customer", (
        "Le site plante à chaque fois que je veux payer en ligne 😡",
        rate(1),
        "Que le paiement fonctionne, tout simplement.",
    )),
    ("en", "customer", (
        "The app keeps crashing at checkout",
        rate(2),
        "in English please",
    )),
    ("fr", "customer", (
        "J'ai attendu 45 minutes au téléphone avant de parler à quelqu'un",
        rate(1),
        "Un rappel automatique au lieu de l'attente.",
    )),
    ("en", "customer", (
        "Support answered my email within an hour, great job",
        rate(5),
    )),
    ("fr", "customer", (
        "Le produit est correct sans plus",
        rate(3),
        "en français",
    )),
    ("en", "customer", (
        "The blender stopped working after a week",
        rate(1),
        "A replacement that lasts.",
    )),
    ("fr", "employee", (
        "Salut",
        "Mon ordinateur est tellement lent que je perds une heure par jour",
        "Un nouvel ordi ou plus de mémoire",
    )),
    ("en", "employee", (
        "Hello",
        "The workload has been crazy for weeks, I'm exhausted",
        "More people on the team.",
    )),
    ("fr", "employee", (
        "Mon gestionnaire est vraiment à l'écoute, j'apprécie",
        "merci, c'est tout",
    )),
    ("en", "employee", (
        "I'd love more training on the new tools",
        "stop",
    )),
)  # fmt: skip


@dataclass(frozen=True)
class Turn:
    """One message to send."""

    conversation_id: str
    language: str
    audience: str
    text: str


def turns(count: int) -> Iterator[Turn]:
    """``count`` messages, conversation after conversation (a fresh id each time)."""
    sent = 0
    while True:
        for language, audience, messages in CONVERSATIONS:
            conversation_id = f"bench-{uuid.uuid4()}"
            for text in messages:
                if sent == count:
                    return
                yield Turn(conversation_id, language, audience, text)
                sent += 1


@dataclass
class Report:
    """What one run measured (milliseconds)."""

    target: str
    count: int
    ok: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    first_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _check_web(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"http_{response.status_code}"
    status = response.json().get("status", "ok")
    return None if status in ("ok", "empty") else f"chat_{status}"


def _check_rasa(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"http_{response.status_code}"
    return None if response.json() else "empty_reply"


def run(client: httpx.Client, *, base_url: str, count: int, rasa: bool = False) -> Report:
    """Send ``count`` messages sequentially and measure each reply time.

    Args:
        client: the HTTP client (tests pass a ``TestClient``).
        base_url: the web app's (or, with ``rasa``, Rasa's) base URL.
        count: how many messages.
        rasa: talk to Rasa's REST channel instead of ``/api/v1/chat``.
    """
    base_url = base_url.rstrip("/")
    url = f"{base_url}/webhooks/rest/webhook" if rasa else f"{base_url}/api/v1/chat"
    report = Report(target=f"POST {url}", count=count)
    timings: list[float] = []
    errors: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    token = api_token()
    for turn in turns(count):
        languages[turn.language] += 1
        if rasa:
            body: dict[str, Any] = {
                "sender": turn.conversation_id,
                "message": turn.text,
                "metadata": {
                    "language": turn.language,
                    "audience": turn.audience,
                    "channel": "bench",
                },
            }
        else:
            body = asdict(turn)
        start = time.perf_counter()
        try:
            headers = {"Authorization": f"Bearer {token}"} if token and not rasa else {}
            response = client.post(url, json=body, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            problem = _check_rasa(response) if rasa else _check_web(response)
        except (httpx.HTTPError, ValueError) as exc:
            elapsed = (time.perf_counter() - start) * 1000
            problem = type(exc).__name__
        timings.append(elapsed)
        if problem:
            errors[problem] += 1
    ordered = sorted(timings)
    report.errors = sum(errors.values())
    report.ok = count - report.errors
    report.error_kinds = dict(errors)
    report.languages = dict(languages)
    if timings:
        report.first_ms = round(timings[0], 1)
        report.p50_ms = round(percentile(ordered, 50), 1)
        report.p95_ms = round(percentile(ordered, 95), 1)
        report.max_ms = round(ordered[-1], 1)
        report.mean_ms = round(sum(timings) / len(timings), 1)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point (exit 1 when every message failed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help=f"base URL (default {DEFAULT_URL}, or RASA_URL with --rasa)")
    parser.add_argument("--rasa", action="store_true", help="hit Rasa's REST channel directly")
    parser.add_argument("--count", type=int, default=200, help="messages to send (default 200)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    base_url = args.url or (DEFAULT_RASA_URL if args.rasa else DEFAULT_URL)
    with httpx.Client(timeout=args.timeout) as client:
        report = run(client, base_url=base_url, count=args.count, rasa=args.rasa)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(f"target : {report.target}")
        print(f"sent   : {report.count} messages, sequentially ({report.languages})")
        print(
            f"reply  : p50 {report.p50_ms} ms · p95 {report.p95_ms} ms · max {report.max_ms} ms"
            f" · mean {report.mean_ms} ms · first {report.first_ms} ms"
        )
        print(f"errors : {report.errors} {report.error_kinds or ''}".rstrip())
    if report.ok == 0:
        if all(kind.startswith("chat_") for kind in report.error_kinds):
            hint = "the web app answered, but Rasa or the action server is down (GET /healthz)"
        else:
            hint = f"is the server running at {base_url}? (make run)"
        print(f"every message failed: {hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
