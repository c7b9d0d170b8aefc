"""Tests of rasa_addons/e5_encoder.py (the featurizers' engines, run here on Python 3.11).

The Rasa wrapper (rasa_addons/e5_featurizer.py) is exercised by ``make train`` and the Rasa
conversation tests; this checks what it adds to each message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.model.nlu_features import export_feature_graph
from bot.settings import ROOT
from rasa_addons.e5_encoder import E5Encoder, GeneralE5Encoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> E5Encoder:
    out = tmp_path_factory.mktemp("e5")
    export_feature_graph(ROOT / "models" / "emotion", out)
    return E5Encoder(out)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_one_row_per_text_three_unit_parts_and_no_neighbour_effect(encoder: E5Encoder) -> None:
    texts = ["ma facture est fausse", "", None, "Thanks, all good!"]
    rows = encoder.encode(texts)
    assert rows.shape == (4, 896) and rows.dtype == np.float32
    for part in (rows[:, :384], rows[:, 384:640], rows[:, 640:]):
        assert np.allclose(np.linalg.norm(part, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(encoder.encode(["ma facture est fausse"])[0], rows[0])
    assert encoder.dimension == 896


def test_praise_is_closer_to_praise_across_languages_than_to_a_complaint(
    encoder: E5Encoder,
) -> None:
    fr_praise, en_praise, fr_complaint, joual = encoder.encode(
        [
            "merci, la livraison était parfaite",
            "thanks, the delivery was perfect",
            "ma livraison est arrivée en retard et abîmée",
            "mon colis est jamais arrivé pis personne me répond",
        ]
    )
    assert cosine(fr_praise, en_praise) > cosine(fr_praise, fr_complaint)
    assert cosine(joual, fr_complaint) > cosine(joual, fr_praise)


def test_a_missing_graph_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make train"):
        E5Encoder(tmp_path).encode(["bonjour"])


def test_the_general_encoder_gives_one_unit_row_per_text_alone() -> None:
    general = GeneralE5Encoder()
    rows = general.encode(["ma facture est fausse", "", None, "Thanks, all good!"])
    assert rows.shape == (4, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(general.encode(["ma facture est fausse"])[0], rows[0])
    assert general.dimension == 384 and general.encode([]).shape == (0, 0)


def test_the_general_encoder_keeps_what_a_message_asks_across_languages() -> None:
    # what our emotion model sets aside: two questions in two languages are closer to each
    # other than to a thank-you in the first one's language
    fr_question, en_question, fr_thanks = GeneralE5Encoder().encode(
        [
            "à quelle heure ouvre le magasin samedi ?",
            "what time does the store open on Saturday?",
            "merci beaucoup pour votre aide au magasin",
        ]
    )
    assert cosine(fr_question, en_question) > cosine(fr_question, fr_thanks) + 0.05
