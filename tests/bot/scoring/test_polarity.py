"""Tests of bot/scoring/polarity.py: clauses, and mixed messages (rules, then the real model)."""

from __future__ import annotations

import pytest

from bot.scoring.base import Scores
from bot.scoring.groups import DEFAULT_GROUPS
from bot.scoring.onnx import OnnxScorer
from bot.scoring.polarity import Polarity, Segment, polarity, segments, texts_to_score
from bot.settings import ROOT


def scores(neg: float, neu: float, pos: float) -> Scores:
    return Scores({"negative": neg, "neutral": neu, "positive": pos}, {"neutral": 1.0}, "t")


POSITIVE = scores(0.05, 0.1, 0.85)
NEUTRAL_LEAN_POSITIVE = scores(0.05, 0.49, 0.46)
FLAT = scores(0.23, 0.53, 0.24)
NEGATIVE = scores(0.7, 0.2, 0.1)


def test_segments_cut_at_contrast_words_and_sentence_ends() -> None:
    assert segments("Great app, but checkout freezes. Support was slow") == [
        Segment("Great app", False),
        Segment("checkout freezes", True),
        Segment("Support was slow", False),
    ]
    assert segments("Le livreur était gentil, mais le colis était abîmé") == [
        Segment("Le livreur était gentil", False),
        Segment("le colis était abîmé", True),
    ]
    assert segments("correct PAR CONTRE la facture, sauf que rien") == [
        Segment("correct", False),
        Segment("la facture", True),
        Segment("rien", True),
    ]
    # no contrast inside words ("butter", "maison"), one clause is not split
    assert segments("the butter in the maison was fine") == [
        Segment("the butter in the maison was fine", False)
    ]
    assert segments("") == [] and segments("ok") == []


def test_one_clause_is_scored_once() -> None:
    assert texts_to_score("Merci beaucoup !") == (["Merci beaucoup !"], [])
    texts, parts = texts_to_score("Super, mais lent")
    assert texts == ["Super, mais lent", "Super", "lent"] and len(parts) == 2


def test_mixed_needs_a_positive_clause_and_a_non_positive_one() -> None:
    contrast = [Segment("a", False), Segment("b", True)]
    sentences = [Segment("a", False), Segment("b", False)]
    assert polarity(POSITIVE, contrast, [POSITIVE, FLAT]) is Polarity.MIXED
    assert polarity(FLAT, contrast, [NEUTRAL_LEAN_POSITIVE, FLAT]) is Polarity.MIXED
    assert polarity(NEGATIVE, contrast, [FLAT, POSITIVE]) is Polarity.MIXED
    # two positive clauses, or no positive one: the whole message decides
    assert polarity(POSITIVE, contrast, [POSITIVE, POSITIVE]) is Polarity.POSITIVE
    assert polarity(NEGATIVE, contrast, [NEGATIVE, FLAT]) is Polarity.NEGATIVE
    # without a contrast word, the other clause must lean negative
    assert polarity(POSITIVE, sentences, [POSITIVE, FLAT]) is Polarity.POSITIVE
    assert polarity(POSITIVE, sentences, [POSITIVE, NEGATIVE]) is Polarity.MIXED
    # one clause, or mismatched lists: the whole message decides
    assert polarity(POSITIVE, [], []) is Polarity.POSITIVE
    assert polarity(FLAT, contrast, [POSITIVE]) is Polarity.NEUTRAL


@pytest.fixture(scope="module")
def scorer() -> OnnxScorer:
    return OnnxScorer(ROOT / "models" / "emotion", DEFAULT_GROUPS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love the new app but the checkout page keeps freezing", Polarity.MIXED),
        ("J'adore la nouvelle appli mais la page de paiement gèle tout le temps", Polarity.MIXED),
        ("Le livreur était super gentil, mais le colis était abîmé", Polarity.MIXED),
        ("The staff were friendly but the delivery was late", Polarity.MIXED),
        ("Tout était parfait, merci. Sauf que la facture était fausse", Polarity.MIXED),
        ("It arrived late but the driver was lovely", Polarity.MIXED),
        ("Merci beaucoup, le livreur était très gentil", Polarity.POSITIVE),
        ("The delivery was fast. Thanks a lot!", Polarity.POSITIVE),
        ("Le colis est arrivé écrasé !!", Polarity.NEGATIVE),
        ("Terrible experience. Never again.", Polarity.NEGATIVE),
    ],
)
def test_the_shipped_model_reads_mixed_messages(
    scorer: OnnxScorer, text: str, expected: Polarity
) -> None:
    texts, parts = texts_to_score(text)
    scored = scorer.score(texts)
    assert polarity(scored[0], parts, scored[1:]) is expected
