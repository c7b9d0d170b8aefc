"""Behaviour tests of the shipped model in models/emotion/ (French and English)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.scoring import DEFAULT_GROUPS, GOEMOTIONS_LABELS, OnnxScorer, Scores

MODEL_DIR = Path(__file__).parents[3] / "models" / "emotion"

# Known failures of the shipped model (see card.md), kept as strict xfail so that a better
# model turns them into passes that must be promoted. vecu-emotion-2.3 has none (2.0 failed
# the French and English bill confusion and the French app crash).
KNOWN_FAILURES: set[str] = set()

# (text, expected sentiment, groups allowed first, groups required in the top two)
CASES: list[tuple[str, str, set[str] | None, set[str] | None]] = [
    (
        "Je suis furieux, mon colis a deux semaines de retard",
        "negative",
        {"anger", "frustration"},
        None,
    ),
    ("Merci, service impeccable !", "positive", {"gratitude", "joy"}, None),
    ("Je ne comprends rien à ma facture", "negative", None, {"confusion"}),
    ("I'm furious, my package is two weeks late", "negative", {"anger", "frustration"}, None),
    ("Thanks, flawless service!", "positive", {"gratitude", "joy"}, None),
    ("I don't understand anything on my bill", "negative", None, {"confusion"}),
    ("Merci beaucoup pour votre aide, c'est très apprécié", "positive", {"gratitude"}, None),
    ("Thank you so much for your help!", "positive", {"gratitude"}, None),
    ("Livraison rapide et produit parfait, je suis ravie", "positive", {"joy", "gratitude"}, None),
    ("I love this product, it works perfectly", "positive", {"joy"}, None),
    (
        "L'application plante sans arrêt, c'est vraiment décevant",
        "negative",
        {"frustration", "anger", "sadness"},
        {"frustration"},
    ),
    (
        "The app keeps crashing, it's really disappointing",
        "negative",
        {"frustration", "anger", "sadness"},
        {"frustration"},
    ),
    ("J'ai peur que la batterie prenne feu", "negative", None, {"fear"}),
    ("I'm scared the battery will catch fire", "negative", None, {"fear"}),
    ("C'est dégueulasse, il y avait un cheveu dans mon plat", "negative", None, {"disgust"}),
    ("Disgusting, there was a hair in my food", "negative", None, {"disgust"}),
    (
        "Je n'ai pas les outils pour bien servir les clients, c'est décourageant",
        "negative",
        {"frustration", "sadness"},
        None,
    ),
    (
        "I don't have the tools to serve customers properly, it's discouraging",
        "negative",
        {"frustration", "sadness"},
        None,
    ),
    ("J'ai reçu ma commande hier.", "neutral", {"neutral"}, None),
]


@pytest.fixture(scope="module")
def scorer() -> OnnxScorer:
    if not (MODEL_DIR / "model.onnx").exists():
        pytest.fail(f"the shipped model is missing from {MODEL_DIR}")
    return OnnxScorer(MODEL_DIR, DEFAULT_GROUPS)


@pytest.fixture(scope="module")
def scored(scorer: OnnxScorer) -> list[Scores]:
    return scorer.score([c[0] for c in CASES], raw=True)


@pytest.mark.parametrize(
    "i",
    [
        pytest.param(
            i,
            marks=pytest.mark.xfail(strict=True, reason="known model limit, see card.md"),
        )
        if c[0] in KNOWN_FAILURES
        else i
        for i, c in enumerate(CASES)
    ],
    ids=[c[0][:40] for c in CASES],
)
def test_fixture_messages(scored: list[Scores], i: int) -> None:
    text, sentiment, first, top2 = CASES[i]
    s = scored[i]
    assert s.sentiment_label == sentiment, (text, s.sentiment)
    if first is not None:
        assert s.emotion_label in first, (text, s.top_emotions(3), s.emotions)
    if top2 is not None:
        assert top2 & set(s.top_emotions(2)), (text, s.top_emotions(3), s.emotions)


def test_french_and_english_agree_on_sentiment(scored: list[Scores]) -> None:
    fr_en_pairs = [(0, 3), (1, 4), (2, 5)]
    for a, b in fr_en_pairs:
        assert scored[a].sentiment_label == scored[b].sentiment_label


def test_shipped_directory_is_complete_and_small() -> None:
    files = {p.name for p in MODEL_DIR.iterdir()}
    assert {"model.onnx", "tokenizer.json", "config.json", "card.md"} <= files
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    assert size <= 50_000_000
    cfg = json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    assert tuple(cfg["emotion_labels"]) == GOEMOTIONS_LABELS
    assert cfg["sentiment_labels"] == ["negative", "neutral", "positive"]
    assert set(cfg["thresholds"]) == set(GOEMOTIONS_LABELS)
    assert cfg["prefix"] == "query: " and cfg["max_length"] >= 32
    assert cfg["temperatures"]["sentiment"] > 0 and cfg["temperatures"]["emotion"] > 0


def test_degenerate_inputs(scorer: OnnxScorer) -> None:
    out = scorer.score(["", "😡😡😡", "mot " * 5000, "ok"])
    assert len(out) == 4
    assert all(abs(sum(s.sentiment.values()) - 1) < 1e-6 for s in out)


def test_a_message_scores_the_same_alone_and_in_a_batch(scorer: OnnxScorer) -> None:
    # The int8 graph quantizes activations per run: batched with longer neighbours (padding),
    # a message used to get other scores than alone, in the chat.
    text = "Merci beaucoup pour votre aide, c'est très apprécié"
    alone = scorer.score([text], raw=True)[0]
    batch = scorer.score(
        ["Le livreur a laissé mon colis sous la pluie, tout est trempé et abîmé.", text, "ok"],
        raw=True,
    )[1]
    assert alone.emotions == pytest.approx(batch.emotions, abs=1e-9)
    assert alone.sentiment == pytest.approx(batch.sentiment, abs=1e-9)
