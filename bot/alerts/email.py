"""E-mail alert destination (``type: email`` in ``company.yml``), over SMTP with aiosmtplib.

:class:`EmailDestination` sends one plain-text message per alert to the destination's
``to`` addresses: subject = the alert's title, body = the same text as the Telegram alert
(:func:`bot.channels.telegram.alerts.alert_text`: in the team's language, no excerpt when
confidential, nothing identifying an employee). The idempotency key travels in the
``X-Vecu-Alert-Id`` header and in the ``Message-ID``, so a mail client can spot the
duplicate a crash between sending and committing could cause.

Server settings come from the environment: ``VECU_SMTP_HOST``, ``VECU_SMTP_PORT`` (587),
``VECU_SMTP_USERNAME`` / ``VECU_SMTP_PASSWORD`` (login only when a username is set),
``VECU_SMTP_SECURITY`` (``starttls``, ``tls`` for implicit TLS on 465, or ``none``),
``VECU_SMTP_FROM``. The worker is synchronous: each delivery runs aiosmtplib in its own
short event loop.

Errors: a refused recipient, sender or message (SMTP 5xx) is permanent (the row goes
``dead`` with the server's answer); a connection failure, a timeout or a 4xx is retried.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from bot.alerts.destinations import ALERT_ID_HEADER, Alert, PermanentDeliveryError
from bot.alerts.payload import alert_text
from bot.errors import DeliveryError
from bot.settings import Settings


class EmailDestination:
    """Sends alerts by e-mail (see the module docstring).

    Args:
        to: the recipients.
        settings: the SMTP settings (``VECU_SMTP_*``).
    """

    def __init__(self, to: list[str], *, settings: Settings) -> None:
        self.to = list(to)
        self.settings = settings

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``."""
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = ", ".join(self.to)
        message["Subject"] = " ".join(str(alert.payload.get("title") or "Vécu").split())[:200]
        domain = self.settings.smtp_from.rpartition("@")[2] or "vecu.local"
        message["Message-ID"] = make_msgid(idstring=alert.alert_id, domain=domain)
        message[ALERT_ID_HEADER] = alert.alert_id
        message.set_content(alert_text(alert.payload) + "\n")
        return message

    async def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        security = settings.smtp_security
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=settings.smtp_timeout_s,
        )

    def deliver(self, alert: Alert) -> None:
        """Send the alert's e-mail.

        Raises:
            PermanentDeliveryError: no SMTP host, or the server refused (5xx).
            DeliveryError: connection failure, timeout, temporary refusal (4xx).
        """
        if not self.settings.smtp_host:
            raise PermanentDeliveryError("no SMTP server: set VECU_SMTP_HOST")
        try:
            asyncio.run(self._send(self.message(alert)))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"recipients refused: {exc.recipients}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = PermanentDeliveryError if exc.code >= 500 else DeliveryError
            raise error(f"SMTP {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP failure: {exc.__class__.__name__}: {exc}") from exc
