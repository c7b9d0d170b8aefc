"""Tests of bot/alerts/email.py: alerts by e-mail to a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message as MailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.alerts.destinations import ALERT_ID_HEADER, Alert, PermanentDeliveryError
from bot.alerts.email import EmailDestination
from bot.alerts.worker import deliver_due
from bot.company import Company, Destination, Team
from bot.domain import Audience
from bot.errors import DeliveryError
from bot.feedback.intake import Message, record


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """aiosmtpd handler: keeps every message; refuses ``refused@…`` recipients with 550."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, MailMessage]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append((envelope, email.message_from_bytes(content)))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def email_company(company: Company) -> Company:
    teams = dict(company.teams)
    hr = teams["hr"]
    teams["hr"] = Team(
        labels=hr.labels,
        language=hr.language,
        destinations=[Destination(name="mail", type="email", to=["rh@example.com"])],
    )
    return company.model_copy(update={"teams": teams})


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "VECU_SMTP_HOST": "127.0.0.1",
        "VECU_SMTP_PORT": port,
        "VECU_SMTP_SECURITY": "none",
        "VECU_SMTP_FROM": "alertes@vecu.example",
    }


def test_the_worker_mails_a_confidential_employee_alert_without_the_text(
    smtp: tuple[Inbox, int], make_services: Any, fakes: Any, company: Company
) -> None:
    inbox, port = smtp
    services = make_services(
        fakes.ANGRY, company_config=email_company(company), settings=smtp_settings(port)
    )
    record(
        Message(
            conversation_id="p_secret_employee",
            text="Mon superviseur me fait du harcèlement",
            language="fr",
            audience=Audience.EMPLOYEE,
        ),
        services=services,
    )
    report = deliver_due(services=services)
    assert report.sent == 1
    [(envelope, mail)] = inbox.messages
    assert envelope.mail_from == "alertes@vecu.example"
    assert envelope.rcpt_tos == ["rh@example.com"]
    assert mail["Subject"].startswith("Urgent")
    assert mail[ALERT_ID_HEADER]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "Confidentiel" in body
    assert "harcèlement" not in body and "p_secret_employee" not in body


def test_refused_recipient_is_permanent_and_no_server_is_retried(
    smtp: tuple[Inbox, int], make_services: Any, fakes: Any
) -> None:
    inbox, port = smtp
    services = make_services(fakes.ANGRY, settings=smtp_settings(port))
    message = Alert("a-1", "hr", "issue", "high", {"title": "Élevée", "language": "fr"})
    with pytest.raises(PermanentDeliveryError, match="refused"):
        EmailDestination(["refused@example.com"], settings=services.settings).deliver(message)
    closed = make_services(fakes.ANGRY, settings={**smtp_settings(free_port())})
    with pytest.raises(DeliveryError) as down:
        EmailDestination(["rh@example.com"], settings=closed.settings).deliver(message)
    assert not isinstance(down.value, PermanentDeliveryError)
    nowhere = make_services(fakes.ANGRY)
    with pytest.raises(PermanentDeliveryError, match="VECU_SMTP_HOST"):
        EmailDestination(["rh@example.com"], settings=nowhere.settings).deliver(message)
    assert inbox.messages == []


def test_an_email_destination_needs_valid_recipients() -> None:
    with pytest.raises(ValueError, match="needs `to`"):
        Destination(type="email")
    with pytest.raises(ValueError, match="not an e-mail address"):
        Destination(type="email", to=["nobody"])
