"""The noisy-OR loss on Ekman's families (training extra only)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bot.model.train import family_loss, family_matrix  # noqa: E402
from bot.scoring.groups import EKMAN_GROUPS, GOEMOTIONS_LABELS  # noqa: E402


def test_family_matrix_is_goemotions_ekman_mapping() -> None:
    fam = family_matrix()
    assert fam.shape == (28, 7)
    assert np.array_equal(fam.sum(1), np.ones(28))  # every label in exactly one family
    anger = list(EKMAN_GROUPS).index("anger")
    assert fam[GOEMOTIONS_LABELS.index("annoyance"), anger] == 1.0


def test_family_loss_is_bce_of_the_noisy_or_probability() -> None:
    torch.manual_seed(0)
    fam = torch.from_numpy(family_matrix())
    logits = torch.randn(5, 28)
    gold = (torch.rand(5, 28) < 0.1).float()
    mask = torch.ones(5, 28)
    weight = torch.ones(5)
    got = family_loss(logits, gold, mask, weight, fam)
    p = torch.sigmoid(logits.double())
    p_fam = 1 - torch.exp(torch.log1p(-p) @ fam.double())
    y = (gold.double() @ fam.double() > 0).double()
    want = torch.nn.functional.binary_cross_entropy(p_fam, y)
    assert float(got) == pytest.approx(float(want), rel=1e-4)


def test_family_loss_skips_partly_supervised_families_and_unweighted_rows() -> None:
    fam = torch.from_numpy(family_matrix())
    logits = torch.full((2, 28), -6.0)
    gold = torch.zeros(2, 28)
    anger = [GOEMOTIONS_LABELS.index(x) for x in ("anger", "annoyance", "disapproval")]
    logits[0, anger[1]] = 6.0  # row 0 says "annoyance" but the gold family is absent
    mask = torch.zeros(2, 28)
    mask[0, anger[0]] = 1.0  # ... and only "anger" of the family is supervised
    weight = torch.tensor([1.0, 0.0])
    assert float(family_loss(logits, gold, mask, weight, fam)) == 0.0
    mask[0, anger] = 1.0  # now the whole family is: the false annoyance costs
    assert float(family_loss(logits, gold, mask, weight, fam)) > 0.5


def test_family_loss_gradient_spreads_over_the_family() -> None:
    fam = torch.from_numpy(family_matrix())
    logits = torch.full((1, 28), -4.0, requires_grad=True)
    gold = torch.zeros(1, 28)
    gold[0, GOEMOTIONS_LABELS.index("annoyance")] = 1.0
    loss = family_loss(logits, gold, torch.ones(1, 28), torch.ones(1), fam)
    loss.backward()
    assert logits.grad is not None
    grads = logits.grad[0]
    for label in ("anger", "annoyance", "disapproval"):
        assert grads[GOEMOTIONS_LABELS.index(label)] < 0  # raising any member helps
    assert grads[GOEMOTIONS_LABELS.index("joy")] > 0  # joy's family is absent
