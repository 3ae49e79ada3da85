"""The loop core both trainers share: best weights, logs, checkpoints, and refused streams."""

from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

from mtml_lib import distributed
from mtml_lib.training.config import TrainConfig
from mtml_lib.training.core import History, Loop, check_streams_differ


@dataclass(kw_only=True)
class _History(History):
    losses: torch.Tensor = field(default_factory=lambda: torch.zeros(0))


def _loop(config, *, evaluate=None, path=None, streams=()):
    torch.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    if path is not None:
        config = TrainConfig(**{**config.__dict__, "checkpoint": path})
    history = _History()
    loop = Loop(
        config,
        model=model,
        optimizer=optimizer,
        history=history,
        streams=list(streams),
        evaluate=evaluate,
        device=torch.device("cpu"),
    )
    return model, optimizer, history, loop


def _step(model, optimizer):
    def step(i):  # move the weight by +1 each step, and log it
        optimizer.zero_grad()
        (-model.weight.sum()).backward()
        optimizer.step()
        return {"losses": model.weight.detach().sum().clone()}

    return step


def test_steps_are_logged_in_order_and_flushed_once():
    model, optimizer, history, loop = _loop(TrainConfig(steps=4, progress=False))
    loop.run(_step(model, optimizer), start=loop.resume())
    weight0 = history.losses[0] - 0.5
    torch.testing.assert_close(history.losses, weight0 + 0.5 * torch.arange(1.0, 5.0))
    assert loop.logs == {}


def test_keep_best_ends_with_the_weights_that_evaluated_best():
    scores = iter([1.0, 3.0, 2.0, 0.0])  # the second evaluation (step 2) is the best

    def evaluate():
        score = next(scores)
        return score, score

    model, optimizer, history, loop = _loop(
        TrainConfig(steps=4, eval_every=1, keep_best=True, progress=False), evaluate=evaluate
    )
    loop.run(_step(model, optimizer), start=0)
    assert history.eval_steps == [1, 2, 3, 4] and history.eval_metrics == [1.0, 3.0, 2.0, 0.0]
    assert history.best_step == 2
    # the weights after step 2
    assert model.weight.item() == pytest.approx(history.losses[1].item())


def test_keep_best_needs_something_to_evaluate():
    with pytest.raises(ValueError, match="`keep_best` needs something to evaluate on"):
        _loop(TrainConfig(steps=2, keep_best=True, progress=False))


def test_a_resumed_run_continues_the_history_and_the_weights(tmp_path):
    path = tmp_path / "run.pt"
    model, optimizer, whole, loop = _loop(TrainConfig(steps=6, progress=False))
    loop.run(_step(model, optimizer), start=0)
    model, optimizer, _, loop = _loop(
        TrainConfig(steps=3, progress=False, checkpoint_every=3), path=path
    )
    loop.run(_step(model, optimizer), start=loop.resume())
    model, optimizer, resumed, loop = _loop(TrainConfig(steps=6, progress=False), path=path)
    with torch.no_grad():
        model.weight.fill_(-100.0)  # a fresh process starts elsewhere; the checkpoint puts it back
    start = loop.resume()
    assert start == 3
    loop.run(_step(model, optimizer), start=start)
    torch.testing.assert_close(resumed.losses, whole.losses)


def test_streams_that_are_the_same_on_two_ranks_are_refused(monkeypatch):
    monkeypatch.setattr(distributed, "current", lambda: distributed.Context(rank=0, world_size=2))
    monkeypatch.setattr(distributed, "all_gather_objects", lambda value: [value, value])
    with pytest.raises(
        ValueError, match="the sampler's generator must differ between the 2 processes"
    ):
        check_streams_differ(torch.Generator().manual_seed(0), name="the sampler's generator")
    monkeypatch.setattr(distributed, "all_gather_objects", lambda value: [value, b"another stream"])
    check_streams_differ(torch.Generator().manual_seed(0), name="x")  # different streams pass
