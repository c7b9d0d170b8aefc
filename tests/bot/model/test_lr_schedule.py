"""The learning-rate schedule of fine-tuning (training extra only)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bot.model.train import TrainConfig, lr_schedule  # noqa: E402


def _rates(cfg: TrainConfig, total: int) -> list[tuple[float, float]]:
    layer = torch.nn.Linear(2, 2)
    head = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(
        [
            {"params": layer.parameters(), "lr": cfg.lr_layers},
            {"params": head.parameters(), "lr": cfg.lr_heads},
        ]
    )
    sched = lr_schedule(opt, cfg, total)
    rates = []
    for _ in range(total):
        rates.append((opt.param_groups[0]["lr"], opt.param_groups[1]["lr"]))
        opt.step()
        sched.step()
    return rates


def test_default_warms_up_then_anneals_to_almost_zero() -> None:
    cfg = TrainConfig(lr_layers=5e-5, lr_heads=1e-3)
    rates = _rates(cfg, 200)
    assert rates[0] == pytest.approx((5e-5 / 25, 1e-3 / 25))
    peak = max(range(200), key=lambda i: rates[i][1])
    assert peak == 11  # 6 % of 200 steps, counted from 0
    assert rates[peak] == pytest.approx((5e-5, 1e-3))
    assert rates[-1][1] < 1e-3 * 1e-4


@pytest.mark.parametrize("fraction", [0.35, 1.0])
def test_final_fraction_keeps_the_rate_up_to_the_end(fraction: float) -> None:
    cfg = TrainConfig(lr_layers=5e-5, lr_heads=1e-3, lr_final_fraction=fraction)
    rates = _rates(cfg, 200)
    assert rates[-1] == pytest.approx((5e-5 * fraction, 1e-3 * fraction), rel=0.02)
    # the same warm-up, and never below the final rate after it
    assert rates[0] == pytest.approx((5e-5 / 25, 1e-3 / 25))
    assert min(r[1] for r in rates[12:]) >= 1e-3 * fraction * 0.98


def test_final_fraction_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="lr_final_fraction"):
        TrainConfig(lr_final_fraction=1.5)
