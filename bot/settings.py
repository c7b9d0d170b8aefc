"""Settings: the one place where Vécu reads its environment.

Every process (web, worker, actions, CLI) builds one :class:`Settings` through
:func:`get_settings`. Secrets come only from the environment (or a local ``.env``
in development); outside development a missing or placeholder secret fails fast.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (where ``models/`` and ``company.yml`` live)."""

PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """Vécu's configuration, read from ``VECU_*`` and a few conventional variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", alias="VECU_ENV"
    )
    database_url: str = Field(default=f"sqlite:///{ROOT / 'var' / 'vecu.db'}", alias="DATABASE_URL")
    company_config: Path = Field(default=ROOT / "company.yml", alias="VECU_COMPANY_CONFIG")
    model_dir: Path = Field(default=ROOT / "models" / "emotion", alias="VECU_MODEL_DIR")
    model_threads: int = Field(default=1, alias="VECU_MODEL_THREADS")
    topic_fallback: bool = Field(default=True, alias="VECU_TOPIC_FALLBACK")
    nlu_dir: Path = Field(default=ROOT / "nlu", alias="VECU_NLU_DIR")
    cache_dir: Path = Field(default=ROOT / "var" / "cache", alias="VECU_CACHE_DIR")
    api_token: str = Field(default=PLACEHOLDER, alias="VECU_API_TOKEN")
    secret_key: str = Field(default=PLACEHOLDER, alias="VECU_SECRET_KEY")
    redis_url: str = Field(default="", alias="VECU_REDIS_URL")
    rasa_url: str = Field(default="http://127.0.0.1:5005", alias="RASA_URL")
    rasa_token: str = Field(default=PLACEHOLDER, alias="RASA_TOKEN")
    actions_url: str = Field(default="http://127.0.0.1:5055", alias="ACTIONS_URL")
    rasa_timeout_s: float = Field(default=30.0, alias="RASA_TIMEOUT_S")
    web_host: str = Field(default="127.0.0.1", alias="VECU_WEB_HOST")
    web_port: int = Field(default=8000, alias="VECU_WEB_PORT")
    max_text_length: int = Field(default=5000, alias="VECU_MAX_TEXT_LENGTH")
    alert_max_attempts: int = Field(default=8, alias="VECU_ALERT_MAX_ATTEMPTS")
    alert_backoff_s: float = Field(default=2.0, alias="VECU_ALERT_BACKOFF_S")
    worker_interval_s: float = Field(default=1.0, alias="VECU_WORKER_INTERVAL_S")
    telegram_customer_token: str = Field(default="", alias="TELEGRAM_CUSTOMER_TOKEN")
    telegram_employee_token: str = Field(default="", alias="TELEGRAM_EMPLOYEE_TOKEN")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL"
    )
    telegram_webhook_secret: str = Field(default="", alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_public_url: str = Field(default="", alias="TELEGRAM_PUBLIC_URL")
    telegram_rate_per_minute: int = Field(default=20, alias="TELEGRAM_RATE_PER_MINUTE")
    telegram_team_token: str = Field(default="", alias="TELEGRAM_TEAM_TOKEN")
    smtp_host: str = Field(default="", alias="VECU_SMTP_HOST")
    smtp_port: int = Field(default=587, alias="VECU_SMTP_PORT")
    smtp_username: str = Field(default="", alias="VECU_SMTP_USERNAME")
    smtp_password: str = Field(default="", alias="VECU_SMTP_PASSWORD")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", alias="VECU_SMTP_SECURITY"
    )
    smtp_from: str = Field(default="vecu@localhost", alias="VECU_SMTP_FROM")
    smtp_timeout_s: float = Field(default=20.0, alias="VECU_SMTP_TIMEOUT_S")
    events_secret: str = Field(default=PLACEHOLDER, alias="VECU_EVENTS_SECRET")
    """Key of the HMAC-SHA256 signature of ``POST /api/v1/events`` (unset: refuses all)."""
    dashboard_session_max_age_s: int = Field(
        default=8 * 3600, ge=60, alias="VECU_DASHBOARD_SESSION_MAX_AGE_S"
    )
    dashboard_login_max_failures: int = Field(
        default=5, ge=1, alias="VECU_DASHBOARD_LOGIN_MAX_FAILURES"
    )
    dashboard_login_window_s: int = Field(default=900, ge=1, alias="VECU_DASHBOARD_LOGIN_WINDOW_S")
    dashboard_login_failure_delay_s: float = Field(
        default=1.0, ge=0, alias="VECU_DASHBOARD_LOGIN_FAILURE_DELAY_S"
    )
    dashboard_cache_s: float = Field(default=60.0, ge=0, alias="VECU_DASHBOARD_CACHE_S")

    @model_validator(mode="after")
    def _secrets_are_set(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("VECU_API_TOKEN", self.api_token),
                    ("VECU_SECRET_KEY", self.secret_key),
                    ("RASA_TOKEN", self.rasa_token),
                )
                if not value or value == PLACEHOLDER
            ]
            if missing:
                raise ConfigurationError(
                    "set these secrets in the environment before starting in production: "
                    + ", ".join(missing)
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (built once; tests call ``cache_clear``)."""
    return Settings()
