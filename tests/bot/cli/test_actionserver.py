"""Tests of bot/cli/actionserver.py: the action server app, its actions and its address."""

from __future__ import annotations

import yaml

from bot.cli import actionserver
from bot.settings import ROOT, get_settings


def _route_paths(app: object) -> set[str]:
    return {route.path.strip("/") for route in app.router.routes}  # type: ignore[attr-defined]


def test_app_serves_the_webhook_and_health() -> None:
    app = actionserver.build_app(warm=False)
    assert {"webhook", "health"} <= _route_paths(app)


def test_every_custom_action_of_the_domain_is_registered_and_nothing_else() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    executor = actionserver.make_executor()
    assert set(executor.actions) == set(domain["actions"])


def test_address_is_loopback_by_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ACTIONS_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert actionserver.default_address() == ("127.0.0.1", 5055)
        monkeypatch.setenv("ACTIONS_URL", "http://127.0.0.1:6055")
        get_settings.cache_clear()
        assert actionserver.default_address() == ("127.0.0.1", 6055)
    finally:
        get_settings.cache_clear()


def test_warm_up_scores_and_encodes_the_touchpoint_examples(make_services, fakes) -> None:  # type: ignore[no-untyped-def]
    from bot.services import set_services

    services = make_services(fakes.NEUTRAL)
    warmed: list[bool] = []

    class Topics:
        def warm(self) -> None:
            warmed.append(True)

    services.topics = Topics()
    set_services(services)
    try:
        actionserver.warm_up()
    finally:
        set_services(None)
    assert warmed == [True]
