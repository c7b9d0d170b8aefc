"""Tests of bot/privacy/deidentify.py: what a manager must never read in a comment.

``deidentify`` is :mod:`bot.privacy.redaction` (the shipped configuration and name models) plus the
manager-view masks (pseudonyms, handles, long digit runs); legacy text (stored before
redaction, ``redacted`` false) is redacted on read, redacted text is not redacted twice.
"""

from __future__ import annotations

import pytest

from bot.company import Company
from bot.privacy.deidentify import deidentify
from bot.privacy.redaction import Redactor, redactor_for


@pytest.fixture(scope="module")
def shipped(company: Company) -> Redactor:
    """The real redactor of ``company.yml`` (order patterns, spaCy name models)."""
    return redactor_for(company)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("écrivez à marie.tremblay+test@exemple.qc.ca svp", "fr", "écrivez à [COURRIEL] svp"),
        ("Appelez-moi au 514-555-0199.", "fr", "Appelez-moi au [TÉLÉPHONE]."),
        ("call me at 514-555-0199 tonight", "en", "call me at [PHONE] tonight"),
        ("au 06 12 34 56 78 le soir", "fr", "au [TÉLÉPHONE] le soir"),
        ("livré au H2X 1Y4 en retard", "fr", "livré au [CODE POSTAL] en retard"),
        ("carte 4111 1111 1111 1111 débitée deux fois", "fr", "carte [CARTE] débitée deux fois"),
        ("commande CMD-123456 jamais reçue", "fr", "commande [COMMANDE] jamais reçue"),
        ("Mme Gagnon a été très désagréable", "fr", "Mme [NOM] a été très désagréable"),
        ("my name is Sarah Connor and nobody called", "en", "my name is [NAME] and nobody called"),
        ("c'est p_0123456789abcdef0123456789abcdef qui parle", "fr", "c'est [ID] qui parle"),
        ("demandez à @jtremblay sur Telegram", "fr", "demandez à [PSEUDO] sur Telegram"),
        ("ask @jtremblay on Telegram", "en", "ask [HANDLE] on Telegram"),
        ("client 98765432 toujours sans réponse", "fr", "client [NUMÉRO] toujours sans réponse"),
    ],
)
def test_legacy_text_is_redacted_on_read_in_its_language(
    shipped: Redactor, text: str, language: str, expected: str
) -> None:
    assert deidentify(text, language, redacted=False, redactor=shipped) == expected


@pytest.mark.parametrize(
    "text",
    ["Livré le 12 mars à 14 h, 3 colis sur 4", "note 2/5, 40 minutes d'attente", "2026-11-23"],
)
def test_ordinary_numbers_stay(shipped: Redactor, text: str) -> None:
    assert deidentify(text, "fr", redactor=shipped) == text


def test_text_stored_redacted_is_not_redacted_again(shipped: Redactor) -> None:
    # Stored redacted: a word the name model might take for a name is not looked at again...
    stored = "[NOM] a livré chez Paris Mode, voir @jtremblay"
    assert deidentify(stored, "fr", redacted=True, redactor=shipped) == (
        "[NOM] a livré chez Paris Mode, voir [PSEUDO]"
    )
    # ...while the same words stored before redaction go through it.
    assert "Marc" not in deidentify("Le livreur Marc était en retard", "fr", redactor=shipped)
    assert deidentify("Le livreur Marc était en retard", "fr", redacted=True, redactor=shipped) == (
        "Le livreur Marc était en retard"
    )


class _Broken(Redactor):
    def redact(self, text: str, language: str | None) -> object:  # type: ignore[override]
        raise RuntimeError("model crashed")


def test_a_failing_redaction_shows_nothing() -> None:
    assert deidentify("Jean Tremblay, 514-555-0199", "fr", redactor=_Broken()) == ""
