"""Tests of bot/language.py: French (France, Québec), English or unsure, on real messages."""

from __future__ import annotations

import pytest

from bot.language import detect, detect_any

FRENCH = [
    "Mon colis est arrivé écrasé, c'est inacceptable !",
    "La livraison a pris deux semaines, franchement décevant",
    "mon colis est arrive ecrase cest inacceptable",  # no accents
    "J'ai été chargé deux fois sur ma carte",
    "Le livreur a laissé le paquet dans la neige",
    "Merci beaucoup, le service était rapide",
    "Bonjour, je voudrais parler à quelqu'un",
    "C'est correct pis le monde étaient gentils",
    "Chu tanné d'attendre au téléphone, ça fait une heure",
    "L'appli plante à chaque fois que je veux payer",
    "Tsé, la caissière était vraiment fine avec moi",
    "Pantoute satisfait du service à la clientèle",
    "Le site web ne fonctionne pas sur mon cell",
    "J'aimerais un remboursement svp",
    "La facture n'est pas la bonne, il manque un rabais",
    "Ma gestionnaire ne reconnaît jamais le travail de l'équipe",
    "On est débordés depuis des mois, trop de temps supplémentaire",
    "Le scanner ne marche plus depuis lundi",
    "Super expérience en magasin, bravo à l'équipe !",
    "Pourquoi ma commande n'est toujours pas arrivée ?",
    "merci",
    "bonjour",
    "Faque j'ai magasiné en ligne pis ça a pas marché",
    "Le produit est de très bonne qualité",
    "en français svp",
    "non",
    "arrête",
    "Anglais",
]

ENGLISH = [
    "My parcel arrived crushed, this is unacceptable!",
    "The delivery took two weeks, really disappointing",
    "I was charged twice on my credit card",
    "The courier left the package in the snow",
    "Thank you so much, the service was fast",
    "Hello, I would like to talk to someone",
    "The app crashes every time I try to pay",
    "The cashier was really nice to me",
    "I've been on hold for an hour, this is ridiculous",
    "The website doesn't work on my phone",
    "I'd like a refund please",
    "The invoice is wrong, the discount is missing",
    "My manager never recognizes the team's work",
    "We're overloaded, way too much overtime lately",
    "The scanner hasn't worked since Monday",
    "Great experience in store, well done to the team!",
    "Why hasn't my order arrived yet?",
    "thanks",
    "hello",
    "in English please",
    "The product is of very good quality",
    "Nobody answered my email for a week",
    "It's fine, nothing to report",
    "nope",
    "thx",
]

UNSURE = ["", "   ", "ok", "😡😡😡", "👍", "12345", "!!!", "?", "super", "cool", "stop"]

OTHER = [
    ("Das Paket war beschädigt und niemand hilft mir.", "de"),
    ("Ich bin sehr unzufrieden mit der Lieferung", "de"),
    ("El paquete llegó roto y nadie me ayuda", "es"),
    ("Muchas gracias, el servicio fue muy bueno", "es"),
    ("Il pacco è arrivato rotto, grazie per niente", "it"),
    ("Muito obrigado, a entrega foi muito rápida", "pt"),
]


@pytest.mark.parametrize("text", FRENCH)
def test_french(text: str) -> None:
    assert detect(text) == "fr"


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", UNSURE)
def test_unsure_is_none(text: str) -> None:
    assert detect(text) is None
    assert detect_any(text) is None


@pytest.mark.parametrize(("text", "code"), OTHER)
def test_other_languages_are_not_french_or_english(text: str, code: str) -> None:
    assert detect(text) is None
    assert detect_any(text) == code


def test_very_long_input_is_cheap_and_answers() -> None:
    assert detect("le colis " * 50_000) == "fr"


def test_franglais_follows_the_grammar() -> None:
    assert detect("le shipping était way too slow mais le produit est beau") == "fr"


def test_plural_forms_follow_each_language() -> None:
    from bot.i18n import plural_key, t

    assert t(plural_key("dashboard.login.throttled", "fr", 1), "fr", minutes=1).endswith(
        "1 minute."
    )
    assert t(plural_key("dashboard.login.throttled", "fr", 15), "fr", minutes=15).endswith(
        "15 minutes."
    )
    assert plural_key("dashboard.excx.weeks", "fr", 0).endswith(".one")  # "0 semaine"
    assert plural_key("dashboard.excx.weeks", "en", 0).endswith(".other")  # "0 weeks"
    assert plural_key("dashboard.title", "en", 3) == "dashboard.title"  # no forms: the key
