"""Tests of bot/privacy/pseudonyms.py: keyed, stable, channel-scoped pseudonyms and the dev key
file."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.privacy.pseudonyms import _dev_keys, is_pseudonym, pseudonym, secret_key
from bot.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_pseudonym_is_a_keyed_hmac() -> None:
    expected = hmac.new(b"k1", b"telegram:12345", hashlib.sha256).hexdigest()[:32]
    assert pseudonym("12345", channel="telegram", secret="k1") == "p_" + expected


def test_pseudonym_is_stable_and_scoped() -> None:
    a = pseudonym("12345", channel="telegram", secret="k1")
    assert a == pseudonym("12345", channel="telegram", secret="k1")
    assert a == pseudonym("12345", channel=" Telegram ", secret="k1")
    assert a != pseudonym("12345", channel="web", secret="k1")
    assert a != pseudonym("12346", channel="telegram", secret="k1")
    assert a != pseudonym("12345", channel="telegram", secret="k2")
    assert is_pseudonym(a) and "12345" not in a


def test_pseudonym_refuses_empty_input() -> None:
    for raw in ("", "   "):
        with pytest.raises(ValueError):
            pseudonym(raw, channel="web", secret="k")
    with pytest.raises(ValueError):
        pseudonym("1", channel="", secret="k")
    with pytest.raises(ValueError):
        pseudonym("1", channel="web", secret="")


def test_is_pseudonym() -> None:
    assert not is_pseudonym("12345")
    assert not is_pseudonym("p_" + "g" * 32)
    assert not is_pseudonym("p_" + "a" * 31)


def test_configured_secret_is_used() -> None:
    assert secret_key(settings(VECU_SECRET_KEY="from-env")) == "from-env"


def test_placeholder_in_development_generates_a_private_key_file_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "var" / "secret.key"
    dev = settings(VECU_ENV="development")
    with caplog.at_level(logging.WARNING, logger="bot.privacy.pseudonyms"):
        first = secret_key(dev, key_file=key_file)
        again = secret_key(dev, key_file=key_file)
    assert first == again and len(first) == 64 and first != "change-me"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sum("VECU_SECRET_KEY is not set" in r.message for r in caplog.records) == 1
    _dev_keys.clear()  # a restart reads the same file back
    assert secret_key(dev, key_file=key_file) == first


def test_placeholder_in_production_is_refused(tmp_path: Path) -> None:
    prod = settings(VECU_ENV="test").model_copy(update={"environment": "production"})
    with pytest.raises(ConfigurationError):
        secret_key(prod, key_file=tmp_path / "secret.key")
    assert not (tmp_path / "secret.key").exists()
