"""Tests of bot/deidentify.py: what a manager must never read in a comment."""

from __future__ import annotations

import pytest

from bot.deidentify import deidentify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("écrivez à marie.tremblay+test@exemple.qc.ca svp", "écrivez à [email] svp"),
        ("Appelez-moi au 514-555-0199.", "Appelez-moi au [phone]."),
        ("mon numéro : +1 (438) 555 0199", "mon numéro : [phone]"),
        ("au 06 12 34 56 78 le soir", "au [phone] le soir"),
        ("commande 123456789 jamais reçue", "commande [number] jamais reçue"),
        ("c'est p_0123456789abcdef0123456789abcdef qui parle", "c'est [id] qui parle"),
        ("demandez à @jtremblay sur Telegram", "demandez à [handle] sur Telegram"),
    ],
)
def test_identifiers_are_masked(text: str, expected: str) -> None:
    assert deidentify(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Livré le 12 mars à 14 h, 3 colis sur 4", "note 2/5, 40 minutes d'attente", "2026-11-23"],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert deidentify(text) == text
