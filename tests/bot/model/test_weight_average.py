"""The moving average of trained weights (training extra only)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bot.model.train import TrainConfig, WeightAverage  # noqa: E402


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model[1].weight.requires_grad_(False)  # frozen: not averaged
    return model


def test_average_follows_the_ramped_decay() -> None:
    model = _model()
    start = model[0].weight.detach().clone()
    avg = WeightAverage(model, decay=0.9)
    want = start.double()
    for n, value in enumerate([1.0, -2.0, 3.0, 0.5, 4.0], start=1):
        with torch.no_grad():
            model[0].weight.fill_(value)
        avg.update()
        d = min(0.9, (1 + n) / (10 + n))
        want = d * want + (1 - d) * value
    state = avg.state_dict(model.state_dict())
    assert torch.allclose(state["0.weight"].double(), want, atol=1e-6)
    # the model itself keeps its own weights: averaging never touches training
    assert torch.equal(model[0].weight, torch.full_like(start, 4.0))


def test_state_dict_replaces_only_trained_parameters() -> None:
    model = _model()
    avg = WeightAverage(model, decay=0.5)
    base = model.state_dict()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    avg.update()
    state = avg.state_dict(model.state_dict())
    assert set(state) == set(base)
    assert not torch.equal(state["0.bias"], model[0].bias)  # averaged
    assert torch.equal(state["1.weight"], model[1].weight)  # frozen: the model's own
    assert torch.equal(state["1.running_mean"], model[1].running_mean)  # buffer: as is
    # loading the average and training on does not move the average
    model.load_state_dict(state)
    with torch.no_grad():
        model[0].bias.add_(10.0)
    assert torch.equal(avg.state_dict(model.state_dict())["0.bias"], state["0.bias"])
    # ... while the next update reads the model's weights as loaded and trained on
    avg.update()
    moved = avg.state_dict(model.state_dict())["0.bias"]
    d = min(0.5, 3 / 12)  # second update: the ramp still rules
    assert torch.allclose(moved, d * state["0.bias"] + (1 - d) * model[0].bias.detach())


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, -0.1])
def test_config_rejects_decays_outside_zero_one(decay: float) -> None:
    with pytest.raises(ValueError, match="ema_decays"):
        TrainConfig(ema_decays=[0.999, decay])


def test_config_has_no_average_by_default() -> None:
    assert TrainConfig().ema_decays == []


def test_ramp_two_is_the_mean_of_the_updates_then_exponential() -> None:
    model = _model()
    start = model[0].weight.detach().double().clone()
    values = [1.0, -2.0, 3.0, 0.5, 4.0, -1.0]
    slow = WeightAverage(model, decay=0.99, ramp=2.0)  # cap never reached in 6 updates
    fast = WeightAverage(model, decay=0.75, ramp=2.0)  # cap from the 2nd update on
    for value in values:
        with torch.no_grad():
            model[0].weight.fill_(value)
        slow.update()
        fast.update()
    # below the cap: the mean of the updates, the starting weights counted twice
    mean = (2 * start + sum(values)) / (len(values) + 2)
    got = slow.state_dict(model.state_dict())["0.weight"].double()
    assert torch.allclose(got, mean, atol=1e-6)
    # first update at 2/3, then 0.75 throughout: a plain exponential average
    want = 2 / 3 * start + 1 / 3 * values[0]
    for value in values[1:]:
        want = 0.75 * want + 0.25 * value
    got = fast.state_dict(model.state_dict())["0.weight"].double()
    assert torch.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("ramp", [1.0, 0.5, 0.0])
def test_config_rejects_a_ramp_that_never_updates(ramp: float) -> None:
    with pytest.raises(ValueError, match="ema_ramp"):
        TrainConfig(ema_decays=[0.999], ema_ramp=ramp)
