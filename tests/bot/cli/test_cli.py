"""Tests of bot/cli/main.py: export (jsonl, csv), config check, db upgrade, worker --once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.cli.main import build_parser, main
from bot.domain import RatingScale
from bot.feedback.intake import Message, record
from bot.services import reset_services, set_services
from bot.settings import ROOT, get_settings
from bot.storage.engine import make_engine
from bot.storage.migrate import current_revision, head_revision
from bot.storage.models import AlertOutboxRecord


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("VECU_CLI_LANGUAGE", "en")
    monkeypatch.setenv("VECU_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli' / 'vecu.db'}")
    monkeypatch.setenv("VECU_SECRET_KEY", "test")
    get_settings.cache_clear()
    reset_services()
    yield
    reset_services()
    get_settings.cache_clear()


@pytest.fixture
def filled(make_services: Any, fakes: Any) -> Any:
    services = make_services(fakes.ANGRY)
    record(
        Message("p_a", "Mon colis est arrivé écrasé, c'est inacceptable !", "fr"),
        services=services,
    )
    record(Message("p_b", "=HYPERLINK(\"http://x\")", "en", rating=2, scale=RatingScale.CSAT),
           services=services)  # fmt: skip
    record(Message("p_c", 'ligne 1\nligne 2 "citée", virgule', "fr"), services=services)
    set_services(services)
    return services


def test_export_jsonl_to_stdout(filled: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["conversation_id"] for r in lines] == ["p_a", "p_b", "p_c"]
    assert lines[0]["touchpoint"] == "delivery" and lines[0]["sentiment_scores"]["negative"] == 0.9
    assert lines[2]["text"] == 'ligne 1\nligne 2 "citée", virgule'
    assert "3 feedback record(s) exported to stdout." in err


def test_export_csv_to_file(filled: Any, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "feedback.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert rows[0]["touchpoint"] == "delivery" and rows[0]["team"] == "logistics"
    assert json.loads(rows[0]["emotion_scores"])["anger"] == pytest.approx(0.7)
    assert rows[1]["text"] == '\'=HYPERLINK("http://x")'  # never a live formula
    assert rows[2]["text"] == 'ligne 1\nligne 2 "citée", virgule'
    assert rows[1]["rating"] == "2" and rows[0]["rating"] == ""


def test_export_filters(filled: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--team", "logistics"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["export", "--since", "2030-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["export", "--since", "yesterday"]) == 2
    assert "--since must be an ISO 8601" in capsys.readouterr().err


def test_export_on_an_empty_database_writes_only_the_header(
    make_services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    set_services(make_services())
    assert main(["export", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("id,conversation_id,audience")
    assert len(out.splitlines()) == 1


def test_export_on_an_unmigrated_database_fails_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export"]) == 1
    assert "Database error" in capsys.readouterr().err


def test_config_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--file", str(ROOT / "company.yml")]) == 0
    out = capsys.readouterr().out
    assert "Configuration OK" in out
    assert "delivery: customer → logistics" in out
    assert "safety: employee → hr" in out
    assert "demo-webhook (webhook/json)" in out


def test_config_check_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load((ROOT / "company.yml").read_text(encoding="utf-8"))
    data["touchpoints"]["store"]["team"] = "shops"
    data["severity_rules"][0]["severity"] = "critical"
    bad = tmp_path / "company.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["config", "check", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "The configuration is invalid" in err
    assert "touchpoints.store.team: unknown team 'shops'" in err
    assert "severity_rules[0].severity" in err


def test_config_check_speaks_french(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VECU_CLI_LANGUAGE", "fr_CA.UTF-8")
    assert main(["config", "check", "--file", str(ROOT / "company.yml")]) == 0
    assert "Configuration valide" in capsys.readouterr().out


def test_db_upgrade_creates_and_migrates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # works from any directory
    assert main(["db", "upgrade"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    engine = make_engine(get_settings().database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    assert main(["db", "upgrade"]) == 0  # idempotent


def test_worker_once_delivers(
    filled: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    import bot.alerts.worker as worker

    posted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    original = worker.ConfigDestinations

    def with_mock(company: Any, **kw: Any) -> Any:
        return original(company, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(worker, "ConfigDestinations", with_mock)
    assert main(["worker", "--once"]) == 0
    with filled.sessions() as session:
        statuses = set(session.scalars(select(AlertOutboxRecord.status)))
    assert statuses == {"sent"} and len(posted) >= 2
    assert "sent" in capsys.readouterr().out


def test_parser_has_every_command() -> None:
    parser = build_parser()
    help_text = io.StringIO()
    parser.print_help(help_text)
    for command in ("export", "config", "db", "worker"):
        assert command in help_text.getvalue()
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["export", "--format", "xml"])
    assert info.value.code == 2


def test_cli_catalogues_have_the_same_keys_in_both_languages() -> None:
    from bot.i18n import catalogue

    fr = {k for k in catalogue("fr") if k.startswith("cli.")}
    en = {k for k in catalogue("en") if k.startswith("cli.")}
    assert fr == en and len(fr) > 20


def test_alerts_status_and_requeue(
    make_services: Any, fakes: Any, company: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    teams = dict(company.teams)
    teams["logistics"] = teams["logistics"].model_copy(update={"destinations": []})
    services = make_services(
        fakes.ANGRY, company_config=company.model_copy(update={"teams": teams})
    )
    record(Message("p_a", "Le colis est écrasé", "fr"), services=services)
    record(Message("p_b", "La facture est fausse", "fr"), services=services)
    set_services(services)
    assert main(["alerts", "status"]) == 0
    out = capsys.readouterr().out
    assert "logistics: 1 dead" in out and "billing: 1 pending" in out
    # no destination yet: nothing can be re-queued
    assert main(["alerts", "requeue"]) == 0
    assert "0 alert(s) queued again." in capsys.readouterr().out
    # the destination is configured: the dead alert is re-addressed and queued
    services.company = company
    assert main(["alerts", "requeue", "--team", "logistics"]) == 0
    assert "1 alert(s) queued again." in capsys.readouterr().out
    with services.sessions() as session:
        row = session.scalars(
            select(AlertOutboxRecord).where(AlertOutboxRecord.team == "logistics")
        ).one()
    assert (row.status, row.destination, row.attempts) == ("pending", "demo-webhook", 0)


def test_alerts_status_on_an_empty_outbox(
    make_services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    set_services(make_services())
    assert main(["alerts", "status"]) == 0
    assert "The alert outbox is empty." in capsys.readouterr().out
