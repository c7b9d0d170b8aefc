"""Tests of the dashboard login: sessions, expiry, CSRF, throttling, cookie flags (real app)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from dashboard_helpers import ADMIN, CHEAP, MANAGER, TOKEN, csrf_of, dashboard_settings, login
from fastapi.testclient import TestClient

from bot.services import FixedClock, Services, build_services
from bot.web.app import create_app
from bot.web.dashboard.users import remove_user, set_password


def test_pages_need_a_login_and_come_back_after_it(client: TestClient) -> None:
    response = client.get("/dashboard/touchpoints/delivery?period=30d", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/login?next=")
    login_page = client.get(response.headers["location"])
    assert 'name="next" value="/dashboard/touchpoints/delivery?period=30d"' in login_page.text
    form = {
        "email": ADMIN[0],
        "password": ADMIN[1],
        "csrf_token": csrf_of(login_page.text),
        "next": "/dashboard/touchpoints/delivery?period=30d",
    }
    done = client.post("/dashboard/login", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/touchpoints/delivery?period=30d"
    assert client.get(done.headers["location"]).status_code == 200
    for path in ("/dashboard/overview/export.csv", "/dashboard/employees", "/dashboard/alerts"):
        assert client.get(path).status_code == 200


def test_wrong_password_is_a_clear_message_in_the_users_language(client: TestClient) -> None:
    client.headers["accept-language"] = "fr-CA,fr;q=0.9"
    response = login(client, ADMIN[0], "not the password")
    assert response.status_code == 401
    assert "Courriel ou mot de passe incorrect" in response.text
    assert 'value="admin@example.org"' in response.text  # the email is kept, not the password
    assert "not the password" not in response.text
    client.headers["accept-language"] = "en-US,en;q=0.8"
    response = login(client, "nobody@example.org", "whatever at all")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert "vecu_session" not in str(client.get("/dashboard/", follow_redirects=False).headers)


def test_an_open_redirect_is_refused(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/dashboard/../../x\\y"):
        response = login(client, *ADMIN, next=target)
        assert response.headers["location"] == "/dashboard/", target
        client.cookies.clear()


def test_csrf_token_is_required_on_login_and_logout(client: TestClient) -> None:
    client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert "Ce formulaire a expiré" in response.text  # the default language is French
    assert login(client, *ADMIN).status_code == 303
    page = client.get("/dashboard/")
    # A logout without the token (a cross-site form) does nothing.
    client.post("/dashboard/logout", data={}, follow_redirects=False)
    assert client.get("/dashboard/", follow_redirects=False).status_code == 200
    client.post(
        "/dashboard/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_sessions_expire(client: TestClient, clock: FixedClock, services: Services) -> None:
    assert login(client, *ADMIN).status_code == 303
    max_age = services.settings.dashboard_session_max_age_s
    clock.advance(max_age - 60)
    assert client.get("/dashboard/", follow_redirects=False).status_code == 200
    clock.advance(120)
    response = client.get("/dashboard/alerts", follow_redirects=False)
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    page = client.get(response.headers["location"])
    assert "Votre session a expiré" in page.text
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303  # for good


def test_a_new_password_or_a_removed_account_ends_sessions(
    client: TestClient, services: Services
) -> None:
    assert login(client, *MANAGER).status_code == 303
    set_password(MANAGER[0], "a brand new password", services=services, cost=CHEAP)
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303
    assert login(client, MANAGER[0], "a brand new password").status_code == 303
    remove_user(MANAGER[0], services=services)
    assert client.get("/dashboard/", follow_redirects=False).status_code == 303


def test_failed_logins_are_throttled(client: TestClient, clock: FixedClock) -> None:
    for _ in range(5):
        assert login(client, ADMIN[0], "guessing wrong").status_code == 401
    blocked = login(client, *ADMIN)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text and "15 minute" in blocked.text
    clock.advance(15 * 60 + 1)
    assert login(client, *ADMIN).status_code == 303


def test_cookie_flags(client: TestClient, tmp_path: Path) -> None:
    response = login(client, *ADMIN)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("vecu_session=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # development: plain http on localhost works
    production = build_services(
        dashboard_settings(tmp_path, VECU_ENV="production", RASA_TOKEN="rasa-token-0123456789")
    )
    app = create_app(services=production)
    with TestClient(app, base_url="https://testserver") as secure_client:
        page = secure_client.get("/dashboard/login")
        assert "secure" in page.headers["set-cookie"].lower()
    production.dispose()


def test_the_metrics_api_accepts_a_dashboard_session(client: TestClient) -> None:
    import importlib.util

    if importlib.util.find_spec("bot.web.metrics_api") is None:
        pytest.skip("GET /api/v1/metrics is not there yet (bot/web/metrics_api.py)")
    assert client.get("/api/v1/metrics").status_code == 401
    assert client.get("/api/v1/metrics", headers={"authorization": f"Bearer {TOKEN}"}).is_success
    assert login(client, *MANAGER).status_code == 303
    assert client.get("/api/v1/metrics").status_code == 403  # a manager: only their teams
    assert client.get("/api/v1/metrics?team=logistics").status_code == 200
    assert client.get("/api/v1/metrics?team=billing").status_code == 403
    assert (
        client.get("/api/v1/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
    )


@pytest.mark.redis
def test_two_web_replicas_count_failed_logins_together(services: Services) -> None:
    """With VECU_REDIS_URL, a guesser cannot spread attempts over the replicas."""
    import dataclasses

    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        server = redis.Redis.from_url(url, socket_connect_timeout=1)
        server.ping()
    except (redis.RedisError, OSError):
        pytest.skip("no Redis at 127.0.0.1:6379")
    for key in server.scan_iter("vecu:login-failures:*"):
        server.delete(key)
    shared = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"redis_url": url})
    )
    replicas = []
    for _ in range(2):
        app = create_app(services=shared)
        app.state.dashboard.cost = CHEAP
        replicas.append(TestClient(app, base_url="http://testserver"))
    try:
        for n in range(5):
            assert login(replicas[n % 2], ADMIN[0], "guessing wrong").status_code == 401
        assert login(replicas[0], *ADMIN).status_code == 429
        assert login(replicas[1], *ADMIN).status_code == 429
    finally:
        for key in server.scan_iter("vecu:login-failures:*"):
            server.delete(key)


@contextlib.contextmanager
def _live(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free local port (real sockets, real concurrency)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_thirty_parallel_guesses_get_no_more_tries_than_five_in_sequence(
    services: Services, store: str
) -> None:
    """29 wrong passwords and the right one, all at once: the count is taken atomically
    before any password is checked, so at most five reach the check; the rest wait (429)."""
    import dataclasses

    settings_update: dict[str, Any] = {"dashboard_login_failure_delay_s": 0.2}
    if store == "redis":
        import redis

        url = "redis://127.0.0.1:6379/15"
        try:
            server = redis.Redis.from_url(url, socket_connect_timeout=1)
            server.ping()
        except (redis.RedisError, OSError):
            pytest.skip("no Redis at 127.0.0.1:6379")
        for key in server.scan_iter("vecu:login-failures:*"):
            server.delete(key)
        settings_update["redis_url"] = url
    shared = dataclasses.replace(
        services, settings=services.settings.model_copy(update=settings_update)
    )
    app = create_app(services=shared)
    app.state.dashboard.cost = CHEAP
    passwords = ["guessing wrong"] * 29 + [ADMIN[1]]
    with _live(app) as base:
        clients = [httpx.Client(base_url=base, timeout=60) for _ in passwords]
        forms = []
        for client, password in zip(clients, passwords, strict=True):
            token = csrf_of(client.get("/dashboard/login").text)
            forms.append({"email": ADMIN[0], "password": password, "csrf_token": token})
        start = threading.Barrier(len(clients))

        def attempt(n: int) -> int:
            start.wait()
            return clients[n].post("/dashboard/login", data=forms[n]).status_code

        with ThreadPoolExecutor(len(clients)) as pool:
            statuses = list(pool.map(attempt, range(len(clients))))
        for client in clients:
            client.close()
    checked = [s for s in statuses if s in (401, 303)]
    assert len(checked) <= 5, statuses
    assert statuses.count(429) >= len(statuses) - 5, statuses
    assert set(statuses) <= {401, 303, 429}


def test_a_cookie_copied_before_logout_opens_nothing_after_it(client: TestClient) -> None:
    assert login(client, *ADMIN).status_code == 303
    copied = dict(client.cookies)
    assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 200
    page = client.get("/dashboard/")
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
    client.cookies.clear()
    for name, value in copied.items():
        client.cookies.set(name, value)
    stolen = client.get("/dashboard/inbox", follow_redirects=False)
    assert stolen.status_code == 303 and "/dashboard/login" in stolen.headers["location"]
    assert login(client, *ADMIN).status_code == 303  # a new login opens a new session
    assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 200
