"""Open-loop load on the web chat: conversations start at a fixed rate, whatever the replies' speed.

Each conversation is three messages (free text, a rating button, a follow-up), French and English,
customers and employees, each sent when the previous reply came back; conversations start every
``3 / rate`` seconds, so a slow stack sees requests pile up instead of the load slowing down (a
closed loop would hide the queue). For each rate it prints the achieved messages per second,
p50 / p95 / p99 reply time, the errors, and the CPU each process of the stack used (from
``/proc``: seconds of CPU per second of wall time, 1.0 = one core).

    make run                                             # in another terminal
    .venv/bin/python bench/bench_load.py                 # rates 5 10 20 40, 120 s each
    .venv/bin/python bench/bench_load.py --rates 10 20 --duration 60 --json

An error is a transport failure, a non-200 answer, or an answer whose ``status`` is not ``ok`` /
``empty`` (Rasa or the action server down: the web app recorded the message itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

CONVERSATIONS = [
    ("fr", "customer", "Mon colis est arrivé écrasé, c'est inacceptable", "un remboursement"),
    ("en", "customer", "I was charged twice on my last invoice", "a refund, simply"),
    ("fr", "customer", "La caissière était vraiment gentille, merci", "rien, c'était parfait"),
    ("en", "customer", "The app keeps crashing when I pay", "an app that works"),
    ("fr", "employee", "Le scanner est encore brisé, je peux pas servir les clients", "un scanner"),
    ("en", "employee", "My manager never answers my questions", "more support"),
]
PROCESSES = {
    "rasa": "rasa run --model",
    "actions": "bot.cli.actionserver",
    "web": "uvicorn bot.web.app",
    "worker": "vecu worker",
    # the scaled stack's balancer and shared engines (make run-scaled)
    "balancer": "haproxy -db",
    "postgresql": "postgres: ",
    "redis": "redis-server",
}


@dataclass
class RateResult:
    """What one rate gave."""

    rate: float
    duration_s: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    achieved_msg_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)


def api_token() -> str:
    """``VECU_API_TOKEN`` from the environment, else from ``./.env`` (employees' messages are
    sent as a trusted integration: the public chat takes them only with a link or the token)."""
    found = (
        re.search(r"^VECU_API_TOKEN=(.*)$", Path(".env").read_text(), re.M)
        if Path(".env").exists()
        else None
    )
    return os.environ.get("VECU_API_TOKEN") or (found.group(1).strip() if found else "")


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of ``values``, ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return round(ordered[index], 1)


def _pids() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {name: [] for name in PROCESSES}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if command.startswith("/bin/sh") or "bench_load" in command:
            continue
        for name, needle in PROCESSES.items():
            if needle in command:
                found[name].append(int(entry.name))
    return found


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


async def _conversation(
    client: httpx.AsyncClient, url: str, script: tuple[str, str, str, str], out: RateResult,
    times: list[float], timeout: float,
) -> None:  # fmt: skip
    language, audience, first, followup = script
    conversation = f"load-{uuid.uuid4().hex[:12]}"
    for text in (first, '/rate{"rating": 2}', followup):
        started = time.perf_counter()
        out.sent += 1
        try:
            response = await client.post(
                f"{url}/api/v1/chat",
                json={"conversation_id": conversation, "text": text, "language": language,
                      "audience": audience},
                timeout=timeout,
            )  # fmt: skip
            good = response.status_code == 200 and response.json().get("status") in ("ok", "empty")
        except (httpx.HTTPError, ValueError):
            good = False
        times.append((time.perf_counter() - started) * 1000)
        if good:
            out.ok += 1
        else:
            out.errors += 1
            return


async def run_rate(
    url: str,
    rate: float,
    duration: float,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RateResult:
    """Start conversations at ``rate / 3`` per second for ``duration`` seconds; wait for them.

    ``transport`` (tests) replaces the network: e.g. ``httpx.ASGITransport(app)``.
    """
    out = RateResult(rate=rate, duration_s=duration)
    times: list[float] = []
    pids = _pids()
    cpu_before = {name: _cpu_seconds(p) for name, p in pids.items()}
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    headers = {"Authorization": f"Bearer {api_token()}"}  # read once, not per message
    async with httpx.AsyncClient(limits=limits, transport=transport, headers=headers) as client:
        tasks = []
        interval = 3.0 / rate
        started = time.perf_counter()
        i = 0
        while (due := i * interval) < duration:
            now = time.perf_counter() - started
            if due > now:
                await asyncio.sleep(due - now)
            script = CONVERSATIONS[i % len(CONVERSATIONS)]
            tasks.append(
                asyncio.create_task(_conversation(client, url, script, out, times, timeout))
            )
            i += 1
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    out.achieved_msg_s = round(out.ok / wall, 2)
    out.p50_ms, out.p95_ms, out.p99_ms = (percentile(times, q) for q in (0.5, 0.95, 0.99))
    out.cpu = {
        name: round((_cpu_seconds(p) - cpu_before[name]) / wall, 2) for name, p in pids.items() if p
    }
    out.processes = {name: len(p) for name, p in pids.items() if p}
    out.rss_mb = {  # per process of each kind (a replica's memory)
        name: round(sum(_rss_mb(pid) for pid in p) / len(p)) for name, p in pids.items() if p
    }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run each rate in turn and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rates", type=float, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per rate")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per reply")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for rate in args.rates:
        result = asyncio.run(run_rate(args.url, rate, args.duration, args.timeout))
        results.append(result)
        if not args.json:
            cpu = ", ".join(
                f"{k}×{result.processes.get(k, 0)} {v:.2f} ({result.rss_mb.get(k, 0):.0f} MiB each)"
                for k, v in result.cpu.items()
            )
            print(
                f"{rate:>5g} msg/s: achieved {result.achieved_msg_s:.1f}, p50 {result.p50_ms} ms, "
                f"p95 {result.p95_ms} ms, p99 {result.p99_ms} ms, errors {result.errors}/"
                f"{result.sent}; CPU (cores) {cpu}",
                flush=True,
            )
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    return 0 if any(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
