"""Tests of rasa_addons/linear_intent_model.py (the intent classifier's engine, on Python 3.11).

The Rasa wrapper (rasa_addons/linear_intent.py) is exercised by ``make train``, ``make nlu-cv``
and the Rasa conversation tests; this checks the weighting, the probabilities and the saved file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression

from rasa_addons.linear_intent_model import FILE, LinearIntentModel

TRAIN = [
    ("merci, service parfait", "praise"),
    ("livraison parfaite, bravo", "praise"),
    ("super équipe, merci", "praise"),
    ("colis abîmé, très déçu", "complain"),
    ("facture fausse, déçu", "complain"),
    ("livraison en retard, inacceptable", "complain"),
    ("bonjour", "greet"),
    ("salut", "greet"),
    ("bonjour à vous", "greet"),
]


Data = tuple[CountVectorizer, sparse.csr_matrix, np.ndarray, list[str]]


@pytest.fixture(scope="module")
def data() -> Data:
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3))
    texts, labels = zip(*TRAIN, strict=True)
    counts = vectorizer.fit_transform(texts)
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(len(texts), 8))
    return vectorizer, counts, dense, list(labels)


def test_probabilities_are_scikit_learns_on_tfidf_and_scaled_dense(data: Data) -> None:
    _, counts, dense, labels = data
    model = LinearIntentModel(C=5.0, dense_weight=2.0).fit(counts, dense, labels)
    tfidf = TfidfTransformer(sublinear_tf=True, smooth_idf=True, norm="l2").fit_transform(counts)
    expected = LogisticRegression(C=5.0, max_iter=5000, class_weight="balanced", random_state=42)
    matrix = sparse.hstack([tfidf, sparse.csr_matrix(dense * 2.0)]).tocsr()
    expected.fit(matrix, labels)
    assert model.classes == list(expected.classes_)
    probabilities = model.predict(counts, dense)
    assert np.allclose(probabilities, expected.predict_proba(matrix), atol=1e-6)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_new_phrasings_get_their_intent_ranked_first(data: Data) -> None:
    vectorizer, counts, _, labels = data
    model = LinearIntentModel().fit(counts, None, labels)
    new = vectorizer.transform(["merci, c'était parfait", "très déçu du retard", "bonjour!"])
    rankings = model.ranking(new, None, length=2)
    assert [ranking[0][0] for ranking in rankings] == ["praise", "complain", "greet"]
    assert all(len(ranking) == 2 and ranking[0][1] >= ranking[1][1] for ranking in rankings)


def test_saved_model_loads_without_pickle_and_predicts_the_same(data: Data, tmp_path: Path) -> None:
    _, counts, dense, labels = data
    model = LinearIntentModel(C=3.0, dense_weight=0.5).fit(counts, dense, labels)
    path = model.save(tmp_path / "intent")
    assert path.name == FILE
    with np.load(path, allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["classes", "coef", "idf", "intercept", "settings"]
    loaded = LinearIntentModel.load(tmp_path / "intent")
    assert (loaded.C, loaded.dense_weight, loaded.classes) == (3.0, 0.5, model.classes)
    assert np.array_equal(loaded.predict(counts, dense), model.predict(counts, dense))


def test_two_intents_give_two_columns_that_sum_to_one(data: Data) -> None:
    _, counts, _, labels = data
    rows = [i for i, label in enumerate(labels) if label != "greet"]
    two = [labels[i] for i in rows]
    model = LinearIntentModel().fit(counts[rows], None, two)
    probabilities = model.predict(counts[rows], None)
    assert probabilities.shape == (len(rows), 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predicted = [model.classes[i] for i in probabilities.argmax(axis=1)]
    assert predicted == two


def test_dense_weight_zero_ignores_the_dense_features(data: Data) -> None:
    _, counts, dense, labels = data
    without = LinearIntentModel().fit(counts, None, labels)
    zero = LinearIntentModel(dense_weight=0.0).fit(counts, dense * 100, labels)
    assert np.allclose(zero.predict(counts, dense), without.predict(counts, None))


def test_wrong_input_is_refused_clearly(data: Data) -> None:
    _, counts, dense, labels = data
    with pytest.raises(RuntimeError, match="not trained"):
        LinearIntentModel().predict(counts, dense)
    with pytest.raises(ValueError, match="two intents"):
        LinearIntentModel().fit(counts, dense, ["greet"] * len(labels))
    with pytest.raises(ValueError, match="one row"):
        LinearIntentModel().fit(counts, dense[:2], labels)
    with pytest.raises(ValueError, match="C must be"):
        LinearIntentModel(C=0)
    model = LinearIntentModel().fit(counts, dense, labels)
    with pytest.raises(ValueError, match="sparse features where the model learnt"):
        model.predict(sparse.csr_matrix((1, counts.shape[1] + 1)), dense[:1])
