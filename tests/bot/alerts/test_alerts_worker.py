"""Tests of bot/alerts/worker.py and destinations.py: delivery, retries, backoff, dead rows."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.alerts.destinations import (
    ALERT_ID_HEADER,
    Alert,
    FakeDestination,
    PermanentDeliveryError,
    RetryLaterError,
    WebhookDestination,
)
from bot.alerts.resolve import ConfigDestinations
from bot.alerts.worker import backoff_delay, deliver_due, run_worker
from bot.company import load_company
from bot.errors import DeliveryError
from bot.feedback.intake import Message, record
from bot.settings import ROOT
from bot.storage.models import AlertOutboxRecord, OutboxStatus

FLAGSHIP = "Mon colis est arrivé écrasé, c'est inacceptable !"


def outbox(services: Any) -> list[AlertOutboxRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(AlertOutboxRecord).order_by(AlertOutboxRecord.id)))


def alert_one(services: Any, text: str = FLAGSHIP) -> None:
    record(Message(conversation_id="p_c", text=text, language="fr"), services=services)


def resolver(fake: Any) -> Any:
    return lambda team, name: fake


def test_delivers_pending_rows_once(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    alert_one(services)
    fake = FakeDestination()
    report = deliver_due(services=services, destinations=resolver(fake))
    assert (report.sent, report.retried, report.dead) == (1, 0, 0)
    [row] = outbox(services)
    assert row.status == OutboxStatus.SENT and row.attempts == 1
    assert row.sent_at == services.clock()
    [alert] = fake.delivered
    assert alert.alert_id == row.alert_id and alert.team == "logistics"
    assert alert.payload["touchpoint"] == "delivery"
    assert deliver_due(services=services, destinations=resolver(fake)).attempted == 0


def test_retries_with_exponential_backoff_then_dead(make_services: Any, fakes: Any) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)  # max 4 attempts, base 2 s
    alert_one(services)
    fake = FakeDestination(fail_times=10)
    waits = []
    for attempt in range(1, 5):
        report = deliver_due(services=services, destinations=resolver(fake), rng=random.Random(7))
        [row] = outbox(services)
        assert row.attempts == attempt and row.last_error == f"fake failure {attempt}"
        if attempt < 4:
            assert report.retried == 1 and row.status == OutboxStatus.FAILED
            wait = (row.next_attempt_at - clock.now).total_seconds()
            base = 2.0 * 2 ** (attempt - 1)
            assert base / 2 <= wait <= base
            waits.append(wait)
            # not due yet: nothing happens
            assert deliver_due(services=services, destinations=resolver(fake)).attempted == 0
            clock.advance(wait)
        else:
            assert report.dead == 1 and row.status == OutboxStatus.DEAD
    assert waits == sorted(waits)
    assert fake.attempts == 4
    assert len({a.alert_id for a in fake.delivered}) == 0


def test_recovers_after_a_transient_failure(make_services: Any, fakes: Any) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    alert_one(services)
    fake = FakeDestination(fail_times=1)
    deliver_due(services=services, destinations=resolver(fake))
    clock.advance(3600)
    assert deliver_due(services=services, destinations=resolver(fake)).sent == 1
    [row] = outbox(services)
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and row.last_error is None


def test_permanent_failure_and_missing_destination_are_dead_at_once(
    make_services: Any, fakes: Any
) -> None:
    services = make_services(fakes.ANGRY)
    alert_one(services)
    report = deliver_due(
        services=services, destinations=resolver(FakeDestination(fail_times=1, permanent=True))
    )
    assert report.dead == 1 and outbox(services)[0].status == OutboxStatus.DEAD
    alert_one(services)
    report = deliver_due(services=services, destinations=lambda team, name: None)
    assert report.dead == 1
    assert "no longer configured" in (outbox(services)[1].last_error or "")


def test_a_destination_bug_does_not_stop_the_worker(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    alert_one(services)
    alert_one(services)

    class Buggy:
        calls = 0

        def deliver(self, alert: Alert) -> None:
            Buggy.calls += 1
            raise KeyError("bug")

    report = deliver_due(services=services, destinations=lambda team, name: Buggy())
    assert Buggy.calls == 2 and report.retried == 2
    assert all("KeyError" in (r.last_error or "") for r in outbox(services))


def test_run_worker_once_and_stop(make_services: Any, fakes: Any) -> None:
    services = make_services(fakes.ANGRY)
    alert_one(services)
    fake = FakeDestination()
    assert run_worker(services=services, once=True, destinations=resolver(fake)).sent == 1
    stop = threading.Event()
    stop.set()
    assert run_worker(services=services, stop=stop, destinations=resolver(fake)).attempted == 0


def test_backoff_delay_bounds() -> None:
    rng = random.Random(1)
    for attempts in range(1, 20):
        delay = backoff_delay(attempts, base_s=2.0, rng=rng)
        expected = min(3600.0, 2.0 * 2 ** (attempts - 1))
        assert expected / 2 <= delay <= expected


# ---- webhook destination (httpx.MockTransport) --------------------------------------------------


def sample_alert() -> Alert:
    return Alert(
        "id-123",
        "logistics",
        "issue",
        "urgent",
        {"id": "id-123", "title": "T <b>", "summary": "T\nExtrait: x", "fields": []},
    )


def test_webhook_posts_json_with_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    dest = WebhookDestination(
        "https://hooks.example/vecu",
        headers={"Authorization": "Bearer t"},
        transport=httpx.MockTransport(handler),
    )
    dest.deliver(sample_alert())
    [request] = seen
    assert request.method == "POST" and request.headers[ALERT_ID_HEADER] == "id-123"
    assert request.headers["Authorization"] == "Bearer t"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content)["id"] == "id-123"


def test_webhook_slack_format() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    WebhookDestination(
        "https://hooks.slack.example/x", format="slack", transport=httpx.MockTransport(handler)
    ).deliver(sample_alert())
    [body] = bodies
    assert set(body) == {"text", "blocks"} and body["text"] == "T &lt;b&gt;"


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (500, {}, DeliveryError),
        (502, {}, DeliveryError),
        (404, {}, PermanentDeliveryError),
        (400, {}, PermanentDeliveryError),
        (429, {}, DeliveryError),
        (429, {"Retry-After": "120"}, RetryLaterError),
    ],
)
def test_webhook_failures(status: int, headers: dict[str, str], error: type[Exception]) -> None:
    dest = WebhookDestination(
        "https://hooks.example/x",
        transport=httpx.MockTransport(lambda r: httpx.Response(status, headers=headers)),
    )
    with pytest.raises(error) as info:
        dest.deliver(sample_alert())
    assert type(info.value) is error
    if isinstance(info.value, RetryLaterError):
        assert info.value.retry_after_s == 120


def test_webhook_network_error_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    dest = WebhookDestination("https://hooks.example/x", transport=httpx.MockTransport(handler))
    with pytest.raises(DeliveryError) as info:
        dest.deliver(sample_alert())
    assert not isinstance(info.value, PermanentDeliveryError)


def test_retry_after_delays_the_next_attempt(make_services: Any, fakes: Any) -> None:
    clock = fakes.FixedClock()
    services = make_services(fakes.ANGRY, clock=clock)
    alert_one(services)
    transport = httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "600"}))
    deliver_due(services=services, transport=transport)
    [row] = outbox(services)
    assert row.status == OutboxStatus.FAILED
    assert row.next_attempt_at - clock.now >= timedelta(seconds=600)


# ---- end to end with a real HTTP receiver on 127.0.0.1 ------------------------------------------


class Receiver:
    """A tiny webhook receiver on a random local port."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                receiver.received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_flagship_alert_reaches_a_local_receiver(
    make_services: Any, fakes: Any, receiver: Receiver
) -> None:
    company = load_company(ROOT / "company.yml", env={"VECU_ALERT_WEBHOOK_URL": receiver.url})
    services = make_services(fakes.ANGRY, company_config=company)
    alert_one(services)
    destinations = ConfigDestinations(company)
    try:
        report = deliver_due(services=services, destinations=destinations)
    finally:
        destinations.close()
    assert report.sent == 1
    [(headers, body)] = receiver.received
    [row] = outbox(services)
    assert headers[ALERT_ID_HEADER] == row.alert_id == body["id"]
    assert body["team"] == "logistics" and body["touchpoint"] == "delivery"
    assert body["sentiment"]["label"] == "negative" and body["emotion"]["label"] == "anger"
    assert body["excerpt"] == FLAGSHIP


def test_requeued_dead_alert_keeps_its_idempotency_key(make_services: Any, fakes: Any) -> None:
    from bot.alerts.outbox import requeue_dead

    services = make_services(fakes.ANGRY)
    alert_one(services)
    deliver_due(
        services=services, destinations=resolver(FakeDestination(fail_times=1, permanent=True))
    )
    [dead] = outbox(services)
    assert dead.status == OutboxStatus.DEAD
    with services.sessions.begin() as session:
        assert requeue_dead(session, company=services.company, now=services.clock()) == 1
    fake = FakeDestination()
    assert deliver_due(services=services, destinations=resolver(fake)).sent == 1
    [row] = outbox(services)
    assert row.status == OutboxStatus.SENT and row.attempts == 1
    assert fake.delivered[0].alert_id == dead.alert_id
