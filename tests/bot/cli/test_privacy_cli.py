"""Tests of bot/cli/privacy.py: ``vecu privacy export|erase|purge`` and their audit rows, and
``vecu export`` carrying redacted text only."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.feedback.intake import Message, record
from bot.privacy.pseudonyms import pseudonym
from bot.services import FixedClock, reset_services, set_services
from bot.settings import get_settings
from bot.storage.models import (
    FeedbackRecord,
    PersonIdentityRecord,
    PersonRecord,
    PrivacyAuditRecord,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PERSON = "e" * 32
CHAT_ID = "99887766"
TEXT = "Bonjour, ici Sophie Bergeron, sophie.b@exemple.ca, ma commande CMD-77123 est en retard."


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
    services = make_services(fakes.ANGRY, clock=FixedClock(NOW))
    conversation = pseudonym(CHAT_ID, channel="telegram", secret=services.settings.secret_key)
    with services.sessions.begin() as session:
        session.add(
            PersonRecord(
                id=PERSON,
                kind="customer",
                language="fr",
                time_zone=None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        session.add(
            PersonIdentityRecord(
                person_id=PERSON,
                kind="telegram",
                scope="customer",
                value=CHAT_ID,
                conversation_id=conversation,
                created_at=NOW,
                last_seen_at=NOW,
            )
        )
    record(Message(conversation, TEXT, "fr", channel="telegram"), services=services)
    set_services(services)
    return services


def audits(services: Any) -> list[PrivacyAuditRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(PrivacyAuditRecord).order_by(PrivacyAuditRecord.id)))


def test_vecu_export_carries_only_redacted_text(
    filled: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", "jsonl"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    text = json.loads(line)["text"]
    assert text == ("Bonjour, ici [NOM], [COURRIEL], ma commande [COMMANDE] est en retard.")


def test_privacy_export_writes_a_private_file_and_an_audit_row(
    filled: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export" / "person.json"
    assert main(["privacy", "export", f"telegram:{CHAT_ID}", "--out", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["person"]["id"] == PERSON and len(document["feedback"]) == 1
    assert out.stat().st_mode & 0o777 == 0o600
    assert f"exported to {out}" in capsys.readouterr().err
    [row] = audits(filled)
    assert (row.action, row.actor_kind, row.actor, row.person_id) == (
        "export",
        "cli",
        getpass.getuser(),
        PERSON,
    )


def test_privacy_erase_needs_yes_then_erases(
    filled: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "erase", PERSON]) == 2
    assert "Run again with --yes" in capsys.readouterr().err
    with filled.sessions() as session:
        assert session.get(PersonRecord, PERSON) is not None
    assert audits(filled) == []

    assert main(["privacy", "erase", PERSON, "--yes"]) == 0
    assert f"Person {PERSON} erased: 1 identities" in capsys.readouterr().out
    with filled.sessions() as session:
        assert session.get(PersonRecord, PERSON) is None
        [row] = session.scalars(select(FeedbackRecord)).all()
        assert row.text == "" and row.conversation_id == "anonymised"
    assert [r.action for r in audits(filled)] == ["erase"]


def test_unknown_person_exits_2(filled: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["privacy", "export", "external:nobody"]) == 2
    assert main(["privacy", "erase", "nobody", "--yes"]) == 2
    assert capsys.readouterr().err.count("No person matches") == 2


def test_privacy_purge_uses_the_retention_period(
    filled: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "purge"]) == 0  # 365 days: the feedback is recent
    assert "0 feedback" in capsys.readouterr().out
    filled.clock = FixedClock(NOW + timedelta(days=10))
    assert main(["privacy", "purge", "--days", "5"]) == 0
    assert "1 feedback" in capsys.readouterr().out
    with filled.sessions() as session:
        [row] = session.scalars(select(FeedbackRecord)).all()
        assert row.conversation_id == "anonymised"
        assert session.get(PersonRecord, PERSON) is None  # not seen for 10 days > 5
    assert [(r.action, r.actor_kind) for r in audits(filled)] == [("purge", "cli")] * 2


def test_purge_rejects_a_bad_period(filled: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["privacy", "purge", "--days", "0"])
    assert exc.value.code == 2


def test_worker_once_runs_the_retention_job(filled: Any) -> None:
    assert main(["worker", "--once"]) == 0
    assert [(r.action, r.actor_kind) for r in audits(filled)] == [("purge", "system")]
