"""Tests of bot/cli/scaled.py: the layout, HAProxy's configuration, the Procfile, preparation."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.cli.scaled import (
    Layout,
    NotReady,
    create_database,
    environment,
    haproxy_config,
    main,
    processes,
    procfile,
)
from bot.settings import ROOT


def test_replicas_listen_beside_the_usual_ports() -> None:
    layout = Layout(rasa=3, actions=2, web=2)
    assert layout.ports("rasa") == [5011, 5012, 5013]
    assert layout.ports("actions") == [5061, 5062]
    assert layout.ports("web") == [8001, 8002]
    assert Layout(database_url="postgresql+psycopg://u@h:5432/d").rasa_database_url == (
        "postgresql://u@h:5432/d"  # Rasa's environment has psycopg2, not psycopg 3
    )


def test_every_replica_is_behind_its_balancer_with_a_health_check(tmp_path: Path) -> None:
    layout = Layout(rasa=3, web=2, actions=2, state_dir=tmp_path)
    config = haproxy_config(layout)
    for kind, front, check in (("web", 8000, "/livez"), ("rasa", 5005, "uri /"),
                               ("actions", 5055, "/health")):  # fmt: skip
        assert f"frontend {kind}\n    bind 127.0.0.1:{front}\n" in config
        assert check in config
        for port in layout.ports(kind):
            assert f"127.0.0.1:{port} check" in config
    assert "retry-on conn-failure empty-response" in config
    assert "option http-buffer-request" in config  # else a POST is never retried (HAProxy 2.6)
    assert "tune.bufsize 65536" in config  # a deflated call to the action servers fits
    assert environment(layout)["COMPRESS_ACTION_SERVER_REQUEST"] == "true"
    assert config.count("on-error mark-down") == 7  # each replica out at its first refusal
    web = config.split("frontend web\n", 1)[1].split("backend", 1)[0]
    assert "http-request set-header X-Request-ID %[unique-id]" in web  # kept on retry
    if shutil.which("haproxy"):
        (tmp_path / "haproxy.cfg").write_text(config)
        checked = subprocess.run(
            ["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr


def test_the_procfile_starts_each_replica_with_the_shared_engines() -> None:
    layout = Layout(rasa=2, actions=2, web=3, workers=4)
    names = list(processes(layout))
    assert names == ["balancer", "rasa1", "rasa2", "actions1", "actions2", "web1", "web2",
                     "web3", "worker1", "worker2", "worker3", "worker4"]  # fmt: skip
    text = procfile(layout)
    assert "--endpoints endpoints.scaled.yml" in text and "--port 5012" in text
    assert "bot.cli.actionserver --port 5062" in text and "--port 8003" in text
    assert "VECU_REDIS_URL=redis://127.0.0.1:6379/0" in text
    assert text.count("DATABASE_URL=postgresql+psycopg://") == len(names)


def test_endpoints_scaled_names_only_variables_the_stack_sets() -> None:
    import re

    text = (ROOT / "endpoints.scaled.yml").read_text(encoding="utf-8")
    wanted = set(re.findall(r"\$\{(\w+)\}", text))
    assert wanted and wanted <= set(environment(Layout()))
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"]["type"] == "SQL"
    assert endpoints["lock_store"]["type"] == "rasa_addons.lock_store.AtomicRedisLockStore"
    assert (ROOT / "rasa_addons" / "lock_store.py").exists()
    assert "${" not in (ROOT / "endpoints.yml").read_text(encoding="utf-8")  # make run: none


def test_the_scaled_stack_refuses_sqlite_and_a_silent_server() -> None:
    with pytest.raises(NotReady, match="needs PostgreSQL"):
        create_database("sqlite:///var/vecu.db")
    with pytest.raises(NotReady, match="does not answer"):
        create_database("postgresql+psycopg://postgres@127.0.0.1:1/vecu_scaled")


def test_prepare_explains_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.scaled.shutil.which", lambda name: None)
    code = main(["prepare", "--out", str(tmp_path)])
    assert code == 2
    assert "HAProxy is not installed: `make balancer`" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prepare", "--replicas", "0"])


@pytest.mark.postgres
def test_create_database_makes_it_once() -> None:
    import sqlalchemy as sa

    url = "postgresql+psycopg://postgres@127.0.0.1:5432/vecu_scaled_unit"
    try:
        assert create_database(url) in (True, False)
    except NotReady:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    assert create_database(url) is False  # already there
    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text('DROP DATABASE IF EXISTS "vecu_scaled_unit" WITH (FORCE)'))
    admin.dispose()


def test_layout_replace_keeps_the_rest() -> None:
    layout = replace(Layout(), web=5)
    assert layout.ports("web")[-1] == 8005 and layout.rasa == 2
