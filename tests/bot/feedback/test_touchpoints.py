"""Tests of bot/feedback/touchpoints.py: per-message touchpoint from NLU hint, keywords, context."""

from __future__ import annotations

import pytest

from bot.company import Company
from bot.domain import Audience
from bot.feedback.touchpoints import KeywordMatcher, Source, detect_touchpoint, fold

CUSTOMER = [
    ("Mon colis est arrivé écrasé, c'est inacceptable !", "delivery"),
    ("mon colis est arrive ecrase", "delivery"),
    ("Le livreur a lancé le paquet par-dessus la clôture", "delivery"),
    ("LIVRAISON EN RETARD ENCORE", "delivery"),
    ("Ma commande est en retard", "delivery"),
    ("It arrived late", "delivery"),
    ("My parcel never arrived", "delivery"),
    ("On m'a chargé deux fois!", "billing"),
    ("on ma charge deux fois", "billing"),
    ("Prélèvement en double sur mon compte bancaire", "billing"),
    ("I was charged twice", "billing"),
    ("La facture est fausse", "billing"),
    ("L'appli plante quand je paie", "website"),
    ("Le paiement en ligne ne passe pas", "website"),
    ("the website keeps logging me out", "website"),
    ("La caissière était bête", "store"),
    ("En succursale, personne pour m'aider", "store"),
    ("Super accueil en magasin", "store"),
    ("Le service client ne répond jamais", "support"),
    ("j'ai envoyé trois courriels", "support"),
    ("30 minutes en attente au téléphone", "support"),
    ("nobody answers the phone", "support"),
    ("I spent an hour on the phone with you", "support"),
    ("Le produit est défectueux", "product"),
    ("The item is broken", "product"),
]

EMPLOYEE = [
    ("Le scanner ne marche plus", "tools"),
    ("Mon ordi est trop lent", "tools"),
    ("Le logiciel de caisse plante", "tools"),
    ("Trop de charge de travail cette semaine", "workload"),
    ("On fait du temps supplémentaire tous les jours", "workload"),
    ("Ma gestionnaire ne m'écoute pas", "management"),
    ("Aucune formation pour le nouveau système", "training"),
    ("Ma paie est encore en retard", "pay"),
    ("Le salaire n'a pas suivi l'inflation", "pay"),
    ("Il y a un problème de sécurité dans l'entrepôt", "safety"),
    ("Mon superviseur fait du harcèlement", "safety"),
    ("I was harassed by a customer", "safety"),
]


@pytest.mark.parametrize(("text", "expected"), CUSTOMER)
def test_customer_keywords(company: Company, text: str, expected: str) -> None:
    match = detect_touchpoint(text, company=company, audience=Audience.CUSTOMER)
    assert (match.touchpoint, match.source) == (expected, Source.KEYWORDS)


@pytest.mark.parametrize(("text", "expected"), EMPLOYEE)
def test_employee_keywords(company: Company, text: str, expected: str) -> None:
    match = detect_touchpoint(text, company=company, audience=Audience.EMPLOYEE)
    assert match.touchpoint == expected


def test_employee_touchpoints_are_not_offered_to_customers(company: Company) -> None:
    text = "Mon salaire ne suit pas"
    assert detect_touchpoint(text, company=company, audience="customer").touchpoint is None
    text = "La caissière était bête"
    assert detect_touchpoint(text, company=company, audience="employee").touchpoint is None


def test_a_phone_as_a_device_is_not_a_call_to_support(company: Company) -> None:
    for text in ("La batterie du téléphone est morte", "the phone case cracked", "my new phone"):
        assert detect_touchpoint(text, company=company).touchpoint != "support", text


def test_word_boundaries(company: Company) -> None:
    # "site" inside "visite"/"nécessite", "app" inside "appel"/"happy": not the website
    for text in ("La visite était agréable", "ça nécessite du temps", "so happy", "appelez-moi"):
        assert detect_touchpoint(text, company=company).touchpoint != "website", text


def test_priority_order(company: Company) -> None:
    text = "le colis"
    hinted = detect_touchpoint(text, company=company, hint="billing", context="store")
    assert (hinted.touchpoint, hinted.source) == ("billing", Source.NLU)
    keywords = detect_touchpoint(text, company=company, context="store")
    assert (keywords.touchpoint, keywords.source) == ("delivery", Source.KEYWORDS)
    context = detect_touchpoint("c'était nul", company=company, context="store")
    assert (context.touchpoint, context.source) == ("store", Source.CONTEXT)
    nothing = detect_touchpoint("c'était nul", company=company)
    assert (nothing.touchpoint, nothing.source) == (None, Source.NONE)


def test_raw_entity_values_are_read_as_keywords(company: Company) -> None:
    match = detect_touchpoint("il est où ?", company=company, hint="facture")
    assert (match.touchpoint, match.source) == ("billing", Source.NLU)
    match = detect_touchpoint("where is it", company=company, hint="parcel", context="store")
    assert (match.touchpoint, match.source) == ("delivery", Source.NLU)


def test_invalid_hints_are_ignored(company: Company) -> None:
    assert detect_touchpoint("le colis", company=company, hint="parapluie").touchpoint == "delivery"
    assert detect_touchpoint("x", company=company, hint=" Delivery ").touchpoint == "delivery"
    employee_hint = detect_touchpoint("rien", company=company, hint="pay", context="tools")
    assert employee_hint.touchpoint is None


def test_most_mentioned_touchpoint_wins_then_earliest(company: Company) -> None:
    text = "Le livreur a perdu le colis, la livraison est ratée, et la facture aussi"
    assert detect_touchpoint(text, company=company).touchpoint == "delivery"
    assert detect_touchpoint("facture puis colis", company=company).touchpoint == "billing"


def test_safety_wins_over_other_employee_touchpoints(company: Company) -> None:
    text = "ma gestionnaire, mon horaire, ma charge de travail, et du harcèlement"
    assert detect_touchpoint(text, company=company, audience="employee").touchpoint == "safety"


def test_fold_and_matcher() -> None:
    assert fold("  Chargé   DEUX-fois ’ ") == "charge deux fois '"
    matcher = KeywordMatcher(["chargé deux fois", "colis", ""])
    assert matcher.matches("On m'a CHARGE deux  fois")
    assert matcher.matches("trois colis")  # plural
    assert not matcher.matches("colissimo")
    assert [w for _, w in matcher.find("colis et chargé deux fois")] == [
        "colis",
        "charge deux fois",
    ]
    assert not KeywordMatcher([]).matches("anything")


@pytest.mark.parametrize(
    ("text", "primary", "others"),
    [
        (
            "Hi, I was charged twice on my last invoice and nobody answers the phone",
            "billing",
            ("support",),
        ),
        ("ma commande est jamais arrivée pis personne me répond", "delivery", ("support",)),
        ("Le colis est arrivé abîmé et la facture était fausse", "delivery", ("billing",)),
        ("The app crashed at checkout, then the store had no stock", "website", ("store",)),
        ("Mon colis est arrivé écrasé", "delivery", ()),
    ],
)
def test_every_touchpoint_named_is_kept_primary_first(
    company: Company, text: str, primary: str, others: tuple[str, ...]
) -> None:
    match = detect_touchpoint(text, company=company)
    assert (match.touchpoint, match.others) == (primary, others)


def test_nlu_entities_and_context_weigh_with_the_keywords(company: Company) -> None:
    text = "I was charged twice on my invoice and nobody answers, I stayed on hold"
    # two keywords each: the earliest wins, an entity agreeing with the other breaks the tie
    assert detect_touchpoint(text, company=company).touchpoint == "billing"
    hinted = detect_touchpoint(text, company=company, hint="support")
    assert (hinted.touchpoint, hinted.others, hinted.source) == (
        "support",
        ("billing",),
        Source.NLU,
    )
    # an entity does not outweigh two keywords of another touchpoint
    assert (
        detect_touchpoint("colis, livreur, facture", company=company, hint="billing").touchpoint
        == "delivery"
    )
    # an entity alone names a touchpoint the keywords miss, and is kept among the others
    match = detect_touchpoint("le colis", company=company, hint="store", mentions=("billing",))
    assert match.touchpoint == "billing" and set(match.others) == {"store", "delivery"}
    assert match.source is Source.NLU
    # the conversation's touchpoint breaks a tie between two touchpoints the message names
    tie = "la facture et le colis"
    assert detect_touchpoint(tie, company=company).touchpoint == "billing"
    assert detect_touchpoint(tie, company=company, context="delivery").touchpoint == "delivery"


def test_feminine_endings_match() -> None:
    matcher = KeywordMatcher(["jamais arrivé", "livré"])
    assert matcher.matches("elle est jamais arrivée")
    assert matcher.matches("commandes livrées hier")
