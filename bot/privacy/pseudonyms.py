"""Pseudonymous identifiers: raw sender ids never reach Rasa, actions or the database.

This module owns :func:`pseudonym`, a keyed HMAC-SHA256 of ``channel:raw_id``. Channels
(web chat, Telegram gateway) call it before talking to Rasa, so the sender id Rasa, the
actions and the database see is already a pseudonym (``p_`` + 32 hex characters = 128 bits).
The same person on the same channel always gets the same pseudonym; without the key, it
cannot be linked back (Loi 25 / GDPR pseudonymisation).

Key decision: the key is ``VECU_SECRET_KEY``. Outside production, when it is still the
placeholder, Vécu does **not** derive a key from the placeholder (anyone could recompute
pseudonyms from guessed ids); it generates a random key once into ``var/secret.key``
(mode 0600, git-ignored), logs a warning once, and reuses it so pseudonyms stay stable
across restarts. In production the settings refuse to start with the placeholder.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from pathlib import Path

from bot.errors import ConfigurationError
from bot.settings import PLACEHOLDER, ROOT, Settings, get_settings

log = logging.getLogger(__name__)

PREFIX = "p_"
DEV_KEY_FILE = ROOT / "var" / "secret.key"

_lock = threading.Lock()
_dev_keys: dict[Path, str] = {}


def _dev_key(key_file: Path) -> str:
    """Read, or create once, the local development key in ``key_file``."""
    with _lock:
        if key_file in _dev_keys:
            return _dev_keys[key_file]
        key = key_file.read_text(encoding="utf-8").strip() if key_file.exists() else ""
        if not key:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_hex(32)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(key + "\n")
        log.warning(
            "VECU_SECRET_KEY is not set: pseudonyms use the local development key in %s "
            "(set VECU_SECRET_KEY before production)",
            key_file,
        )
        _dev_keys[key_file] = key
        return key


def secret_key(settings: Settings | None = None, *, key_file: Path | None = None) -> str:
    """The key pseudonyms are made with.

    Args:
        settings: the settings to read ``secret_key`` from (default: :func:`get_settings`).
        key_file: where the development key lives (default ``var/secret.key``).

    Raises:
        ConfigurationError: the placeholder key in production (normally caught earlier by
            the settings themselves).
    """
    settings = settings or get_settings()
    if settings.secret_key and settings.secret_key != PLACEHOLDER:
        return settings.secret_key
    if settings.environment == "production":
        raise ConfigurationError("VECU_SECRET_KEY must be set in production")
    return _dev_key(key_file or DEV_KEY_FILE)


def pseudonym(raw_id: str, *, channel: str, secret: str | None = None) -> str:
    """Return the stable pseudonym of ``raw_id`` on ``channel``.

    Args:
        raw_id: the channel's own id of the person (Telegram user id, web session id…).
        channel: the channel name (``web``, ``telegram``…); the same raw id on two channels
            gives two unrelated pseudonyms.
        secret: the key (default: :func:`secret_key`).

    Returns:
        ``p_`` followed by 32 lowercase hex characters.

    Raises:
        ValueError: ``raw_id`` or ``channel`` is empty.
    """
    raw = str(raw_id)
    if not raw.strip():
        raise ValueError("raw_id must not be empty")
    if not channel or not channel.strip():
        raise ValueError("channel must not be empty")
    key = secret if secret is not None else secret_key()
    if not key:
        raise ValueError("secret must not be empty")
    digest = hmac.new(
        key.encode("utf-8"), f"{channel.strip().lower()}:{raw}".encode(), hashlib.sha256
    ).hexdigest()
    return PREFIX + digest[:32]


def is_pseudonym(value: str) -> bool:
    """Whether ``value`` looks like a pseudonym made by :func:`pseudonym`."""
    return (
        len(value) == len(PREFIX) + 32
        and value.startswith(PREFIX)
        and all(c in "0123456789abcdef" for c in value[len(PREFIX) :])
    )
