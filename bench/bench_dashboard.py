"""Page-load benchmark of the dashboard on a large database (default 100,000 feedback rows).

Builds a fresh SQLite database (or uses ``--database-url``), migrates it, fills it with
``--rows`` realistic feedback rows over ``--weeks`` weeks (customers' CSAT, NPS and
expectations on every customer touchpoint, employees' means, mirror, eNPS and engagement
answers in teams of 3 to 12 people, comments with sentiment and emotion labels, alerts), creates
an admin account, starts the real web app under uvicorn on a random local port, logs in through
the login form and times each page over HTTP (``--repeat`` times after one warm-up request):

    overview, delivery touchpoint, employees, alerts, the delivery CSV export, /api/v1/metrics

and prints p50 / p95 / max per page (``--json`` for a machine-readable report). The page cache
is off by default (``--cache-s 0``): every request runs its queries. Rows are generated, not
scored by the model: this measures the dashboard, not the model.

    .venv/bin/python bench/bench_dashboard.py                  # make bench-dashboard
    .venv/bin/python bench/bench_dashboard.py --rows 20000 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import socket
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

PAGES = {
    "overview": "/dashboard/",
    "touchpoint (delivery)": "/dashboard/touchpoints/delivery",
    "employees": "/dashboard/employees",
    "alerts": "/dashboard/alerts",
    "CSV export (delivery)": "/dashboard/touchpoints/delivery/export.csv",
    "API /api/v1/metrics": "/api/v1/metrics",
}
EMAIL = "bench@example.org"
PASSWORD = "bench password 0123"
CHUNK = 5_000


@dataclass
class Timing:
    """Load times of one page, in milliseconds."""

    page: str
    path: str
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    bytes: int


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def generate(
    rows: int, weeks: int, company: Any, now: datetime, seed: int = 7
) -> list[dict[str, Any]]:
    """``rows`` feedback rows: 80 % customers, 20 % employees, spread over ``weeks`` weeks."""
    rng = random.Random(seed)
    groups = list(company.emotion_groups)
    customer_tps = [k for k, tp in company.touchpoints.items() if tp.audience == "customer"]
    employee_tps = [k for k, tp in company.touchpoints.items() if tp.audience == "employee"]
    teams = list(company.teams)
    team_sizes = {team: rng.randint(3, 12) for team in teams}
    span_s = weeks * 7 * 86_400
    out: list[dict[str, Any]] = []
    for i in range(rows):
        at = now - timedelta(seconds=rng.randrange(span_s))
        language = "fr" if rng.random() < 0.6 else "en"
        channel = "web" if rng.random() < 0.7 else "telegram"
        emotion = rng.choice(groups)
        sentiment = rng.choices(("negative", "neutral", "positive"), (3, 3, 4))[0]
        member_team = None
        if rng.random() < 0.8:
            audience = "customer"
            touchpoint: str | None = rng.choice(customer_tps)
            scale, rating = rng.choice(
                (
                    ("csat", rng.randint(1, 5)),
                    ("nps", rng.randint(0, 10)),
                    ("expectation", rng.randint(1, 5)),
                    (None, None),
                    (None, None),
                )
            )
            who = f"p_c{rng.randrange(rows // 3 + 1):08d}"
        else:
            audience = "employee"
            member_team = rng.choice(teams)
            who = f"p_e{member_team}{rng.randrange(team_sizes[member_team]):03d}"
            scale, rating = rng.choice(
                (
                    ("enps", rng.randint(0, 10)),
                    ("engagement", rng.randint(1, 5)),
                    ("means", rng.randint(1, 5)),
                    ("mirror", rng.randint(1, 5)),
                    (None, None),
                )
            )
            if scale in ("means", "mirror"):
                touchpoint = rng.choice(customer_tps)
            else:
                touchpoint = rng.choice([*employee_tps, None])
        tp = company.touchpoint(touchpoint)
        negative = sentiment == "negative"
        text = f"message {i} ({emotion})"
        out.append(
            {
                "conversation_id": who,
                "audience": audience,
                "channel": channel,
                "language": language,
                "kind": "rating" if scale else "comment",
                "parent_id": None,
                "touchpoint": touchpoint,
                "touchpoint_source": "keywords",
                "rating": rating,
                "scale": scale,
                "text": text,
                "original_length": len(text),
                "truncated": False,
                "sentiment_label": sentiment,
                "sentiment_scores": {
                    s: (0.8 if s == sentiment else 0.1) for s in ("negative", "neutral", "positive")
                },
                "emotion_label": emotion,
                "emotion_scores": {
                    g: (0.6 if g == emotion else 0.4 / (len(groups) - 1)) for g in groups
                },
                "raw_emotions": None,
                "model_version": "bench",
                "team": tp.team if tp else None,
                "severity": "normal" if negative else "low",
                "confidential": False,
                "negative": negative,
                "created_at": at,
                "updated_at": at,
                "status": rng.choice(("open", "acknowledged", "resolved")) if negative else "open",
                "acknowledged_at": at + timedelta(hours=rng.uniform(0.2, 30)) if negative else None,
                "resolved_at": at + timedelta(hours=rng.uniform(30, 90)) if negative else None,
                "member_team": member_team,
            }
        )
    return out


def fill(engine: Any, company: Any, rows: int, weeks: int, now: datetime) -> float:
    """Insert the generated rows (and an alert per negative customer row); returns seconds."""
    from sqlalchemy import insert

    from bot.storage.models import AlertOutboxRecord, FeedbackRecord

    started = time.perf_counter()
    data = generate(rows, weeks, company, now)
    for offset in range(0, len(data), CHUNK):
        chunk = data[offset : offset + CHUNK]
        with engine.begin() as connection:
            ids = (
                connection.execute(insert(FeedbackRecord).returning(FeedbackRecord.id), chunk)
                .scalars()
                .all()
            )
            alerts = [
                {
                    "alert_id": f"bench-{fid}",
                    "feedback_id": fid,
                    "team": row["team"],
                    "destination": "demo-webhook",
                    "kind": "issue",
                    "severity": row["severity"],
                    "payload": {},
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "last_error": None,
                    "created_at": row["created_at"],
                    "sent_at": row["created_at"],
                }
                for fid, row in zip(ids, chunk, strict=True)
                if row["negative"] and row["team"]
            ]
            if alerts:
                connection.execute(insert(AlertOutboxRecord), alerts)
    return time.perf_counter() - started


def serve(app: Any) -> tuple[Any, threading.Thread, str]:
    """Start ``app`` under uvicorn on a random local port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise SystemExit("uvicorn did not start")
    return server, thread, f"http://127.0.0.1:{port}"


def log_in(client: httpx.Client) -> None:
    """Log in through the real form (CSRF token included)."""
    page = client.get("/dashboard/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not found:
        raise SystemExit("no login form")
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1)}
    answer = client.post("/dashboard/login", data=form)
    if answer.status_code != 303:
        raise SystemExit(f"login failed: {answer.status_code}")


def measure(client: httpx.Client, repeat: int, query: str) -> list[Timing]:
    """Time every page ``repeat`` times after one warm-up request."""
    timings = []
    for name, path in PAGES.items():
        url = path + query
        client.get(url).raise_for_status()  # warm-up
        samples, size = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            answer = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            size = len(answer.content)
        timings.append(
            Timing(
                name,
                url,
                repeat,
                round(percentile(samples, 50), 1),
                round(percentile(samples, 95), 1),
                round(max(samples), 1),
                size,
            )
        )
    return timings


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="feedback rows (100000)")
    parser.add_argument("--weeks", type=int, default=12, help="weeks the rows span (12)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument("--period", default="90d", help="the pages' period filter (90d)")
    parser.add_argument("--database-url", help="an empty database to use (default: temp SQLite)")
    parser.add_argument(
        "--cache-s",
        type=float,
        default=0,
        help="VECU_DASHBOARD_CACHE_S of the app (default 0: every request builds its page)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args(argv)

    from bot.company import load_company
    from bot.services import build_services
    from bot.settings import ROOT, Settings
    from bot.storage.migrate import upgrade
    from bot.web.app import create_app
    from bot.web.dashboard.users import add_user

    workdir = tempfile.mkdtemp(prefix="vecu-bench-dashboard-")
    url = args.database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        VECU_ENV="development",
        DATABASE_URL=url,
        VECU_COMPANY_CONFIG=ROOT / "company.yml",
        VECU_API_TOKEN="bench-token-0123456789",
        VECU_SECRET_KEY="bench-secret-0123456789",
        VECU_DASHBOARD_LOGIN_FAILURE_DELAY_S=0,
        VECU_DASHBOARD_CACHE_S=args.cache_s,
    )
    company = load_company(settings.company_config)
    from bot.scoring.base import StaticScorer

    scorer = StaticScorer({"neutral": 1.0}, {g: 0.1 for g in company.emotion_groups})
    services = build_services(settings, company=company, scorer=scorer)
    upgrade(services.engine)
    now = datetime.now(UTC)
    print(f"filling {args.rows} rows into {url} …", file=sys.stderr, flush=True)
    fill_s = fill(services.engine, company, args.rows, args.weeks, now)
    add_user(EMAIL, PASSWORD, role="admin", services=services)
    server, thread, base = serve(create_app(services=services))
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            log_in(client)
            timings = measure(client, args.repeat, f"?period={args.period}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.dispose()
    report = {
        "rows": args.rows,
        "weeks": args.weeks,
        "database": services.engine.dialect.name,
        "fill_s": round(fill_s, 1),
        "repeat": args.repeat,
        "period": args.period,
        "cache_s": args.cache_s,
        "pages": [asdict(t) for t in timings],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{args.rows} feedback rows ({report['database']}, filled in {fill_s:.1f} s), "
            f"{args.repeat} requests per page after a warm-up, period {args.period}, "
            f"page cache {args.cache_s:g} s:"
        )
        print(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
        for t in timings:
            print(f"{t.page:<26} {t.p50_ms:>8.1f} {t.p95_ms:>8.1f} {t.max_ms:>8.1f} {t.bytes:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
