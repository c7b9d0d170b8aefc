"""Which trained weights are exported: the best-scoring candidate or the last (training extra)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bot.model.train import Kept, TrainConfig, kept  # noqa: E402

NOTHING: Kept = (-1.0, None, {}, {})


def _run(rule: str, scores: list[float]) -> tuple[Kept, torch.nn.Linear]:
    """Score a model whose weight is set to each candidate's index, in training order."""
    model = torch.nn.Linear(1, 1, bias=False)
    current = NOTHING
    for i, score in enumerate(scores):
        with torch.no_grad():
            model.weight.fill_(float(i))
        current = kept(current, score, rule, model, {"epoch": i}, {"val": i})
    return current, model


def test_best_keeps_the_highest_score_and_the_first_of_equals() -> None:
    got, _ = _run("best", [0.60, 0.66, 0.62, 0.66])
    assert got[0] == 0.66
    assert got[2] == {"epoch": 1}
    assert got[3] == {"val": 1}
    assert got[1]["weight"].item() == 1.0


def test_last_keeps_the_final_candidate_even_when_it_scores_lower() -> None:
    got, _ = _run("last", [0.60, 0.66, 0.62])
    assert got[0] == 0.62
    assert got[2] == {"epoch": 2}
    assert got[1]["weight"].item() == 2.0


def test_the_kept_state_is_a_copy_not_the_live_weights() -> None:
    got, model = _run("best", [0.7, 0.1])
    with torch.no_grad():
        model.weight.fill_(42.0)
    assert got[1]["weight"].item() == 0.0


def test_the_rule_is_validated_and_defaults_to_best() -> None:
    assert TrainConfig().keep == "best"
    assert TrainConfig(keep="last").keep == "last"
    with pytest.raises(ValueError, match="keep 'latest' must be one of"):
        TrainConfig(keep="latest")
