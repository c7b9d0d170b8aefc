"""The dashboard's catalogues: French and English have the same keys, and every key the code
and templates use exists (a missing one would be a 500 on a page)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.settings import ROOT

DASHBOARD = ROOT / "bot" / "web" / "dashboard"
USED = re.compile(r"""["'](dashboard\.[a-z_.]+|cli\.users\.[a-z_.]+|cli\.help\.users[a-z_]*)["']""")


def keys(language: str) -> set[str]:
    path = ROOT / "bot" / "locales" / language / "dashboard.yml"
    return set(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_french_and_english_have_the_same_keys() -> None:
    assert keys("fr") == keys("en")


def test_every_key_used_exists() -> None:
    sources = [*DASHBOARD.glob("*.py"), *DASHBOARD.glob("templates/*.html")]
    used = {m for path in sources for m in USED.findall(Path(path).read_text(encoding="utf-8"))}
    dynamic_prefixes = (
        "dashboard.exp.",
        "dashboard.gap.",
        "dashboard.period.",
        "dashboard.audience.",
        "dashboard.language.",
        "dashboard.channel.",
        "dashboard.alerts.status.",
        "dashboard.chart.customer_",
        "cli.users.error.",
    )
    assets = {"dashboard.css", "dashboard.js"}
    static = {k for k in used if not k.endswith((".", "_")) and k not in assets}
    assert len(static) > 100
    plural = {k for k in static if {f"{k}.one", f"{k}.other"} <= keys("en")}  # plural_key
    missing = sorted(static - plural - keys("en"))
    assert missing == []
    for prefix in dynamic_prefixes:
        assert any(k.startswith(prefix) for k in keys("en")), prefix
    for kind in ("intended", "proposed", "expected", "lived"):
        assert {f"dashboard.exp.{kind}", f"dashboard.exp.{kind}_def"} <= keys("en")
    for gap in ("intended_proposed", "expected_lived", "proposed_lived", "intended_lived"):
        assert {f"dashboard.gap.{gap}", f"dashboard.gap.{gap}_means"} <= keys("en")
    for code in ("exists", "unknown", "weak_password", "bad_email", "bad_role", "bad_team"):
        assert f"cli.users.error.{code}" in keys("en")
