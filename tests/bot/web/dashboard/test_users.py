"""Tests of bot/web/dashboard/users.py and the `vecu users` commands (real SQLite database)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from dashboard_helpers import ADMIN, CHEAP, MANAGER

from bot.cli.main import main
from bot.errors import AccountError
from bot.services import Services, reset_services, set_services
from bot.web.dashboard.users import (
    Role,
    add_user,
    authenticate,
    list_users,
    remove_user,
    set_password,
)


def test_accounts_are_created_listed_authenticated_and_removed(services: Services) -> None:
    users = {u.email: u for u in list_users(services=services)}
    assert set(users) == {ADMIN[0], MANAGER[0]}
    assert users[ADMIN[0]].role is Role.ADMIN and users[ADMIN[0]].teams == ()
    assert users[MANAGER[0]].teams == ("logistics",)
    assert users[MANAGER[0]].sees_team("logistics") and not users[MANAGER[0]].sees_team("hr")

    user = authenticate("  LEA@example.org ", MANAGER[1], services=services, cost=CHEAP)
    assert user is not None and user.email == MANAGER[0] and user.last_login_at is not None
    assert authenticate(MANAGER[0], "wrong password!", services=services, cost=CHEAP) is None
    assert authenticate("nobody@example.org", MANAGER[1], services=services, cost=CHEAP) is None

    remove_user(MANAGER[0], services=services)
    assert authenticate(MANAGER[0], MANAGER[1], services=services, cost=CHEAP) is None
    with pytest.raises(AccountError) as refused:
        remove_user(MANAGER[0], services=services)
    assert refused.value.code == "unknown"


def test_refusals_have_stable_codes(services: Services) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"email": ADMIN[0], "password": "long enough password"}, "exists"),
        ({"email": "not-an-email", "password": "long enough password"}, "bad_email"),
        ({"email": "a@example.org", "password": "short"}, "weak_password"),
        (
            {"email": "a@example.org", "password": "long enough password", "role": "boss"},
            "bad_role",
        ),
        (
            {"email": "a@example.org", "password": "long enough password", "teams": ["x"]},
            "bad_team",
        ),
    ]
    for kwargs, code in cases:
        with pytest.raises(AccountError) as refused:
            add_user(**kwargs, services=services, cost=CHEAP)
        assert refused.value.code == code


def test_a_new_password_changes_the_session_key(services: Services) -> None:
    before = authenticate(*ADMIN, services=services, cost=CHEAP)
    assert before is not None
    after = set_password(ADMIN[0], "another long password", services=services, cost=CHEAP)
    assert after.session_key != before.session_key
    assert authenticate(*ADMIN, services=services, cost=CHEAP) is None
    assert authenticate(ADMIN[0], "another long password", services=services, cost=CHEAP)


@pytest.fixture
def installed(services: Services) -> Any:
    set_services(services)
    yield services
    reset_services()


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setenv("VECU_CLI_LANGUAGE", "fr")
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_the_users_commands(
    installed: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        monkeypatch,
        ["users", "add", "Chloe@Example.org", "--role", "manager", "--teams", "billing,logistics"],
        "un mot de passe solide\n",
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Compte créé : chloe@example.org (manager: billing, logistics)" in out.out
    assert "/dashboard" in out.out
    chloe = authenticate("chloe@example.org", "un mot de passe solide", services=installed)
    assert chloe is not None and chloe.teams == ("billing", "logistics")

    assert run_cli(monkeypatch, ["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "chloe@example.org  manager" in listing and ADMIN[0] in listing
    assert "jamais" in listing  # the admin never logged in here
    assert "un mot de passe" not in listing and "scrypt" not in listing

    assert (
        run_cli(monkeypatch, ["users", "passwd", "chloe@example.org"], "encore plus solide\n") == 0
    )
    assert "Mot de passe changé" in capsys.readouterr().out
    assert authenticate("chloe@example.org", "encore plus solide", services=installed)

    assert run_cli(monkeypatch, ["users", "remove", "chloe@example.org"]) == 0
    assert run_cli(monkeypatch, ["users", "remove", "chloe@example.org"]) == 2
    assert "Aucun compte pour ce courriel." in capsys.readouterr().err


def test_the_users_commands_refuse_clearly(
    installed: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_cli(monkeypatch, ["users", "add", "x@example.org", "--role", "admin"], "court\n") == 2
    )
    assert "au moins 10 caractères" in capsys.readouterr().err
    assert run_cli(monkeypatch, ["users", "add", "x@example.org"], "long enough password\n") == 2
    assert "au moins une équipe" in capsys.readouterr().err
    code = run_cli(
        monkeypatch, ["users", "add", "x@example.org", "--teams", "nope"], "long enough pw\n"
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Équipe inconnue" in err and "logistics" in err
    assert (
        run_cli(monkeypatch, ["users", "add", ADMIN[0], "--role", "admin"], "long enough pw\n") == 2
    )
    assert "existe déjà" in capsys.readouterr().err
