"""The optimiser factory and the learning-rate schedule: every loop builds its optimiser from the
config and takes each step at the schedule's rate; a resumed run continues the schedule."""

import math

import pytest
import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import related_sinusoids
from mtml_lib.models.blackbox import get_blackbox
from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.seeding import seeded
from mtml_lib.training import FitConfig, fit, learning_rate, make_optimizer, meta_train, optim
from mtml_lib.training.replicas import fit_replicas

OPTIONS = {"optimizer": "adamw", "schedule": "cosine", "warmup_steps": 3, "weight_decay": 0.01}


def parameters():
    return [torch.nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)],
)
def test_the_factory_builds_the_named_optimizer(name, kind):
    optimizer = make_optimizer(parameters(), name, lr=0.5, weight_decay=0.1)
    assert type(optimizer) is kind
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert optimizer.param_groups[0]["weight_decay"] == 0.1


def test_the_factory_refuses_bad_input_by_name():
    with pytest.raises(ValueError, match=r"`optimizer` must be a known optimizer, one of "):
        make_optimizer(parameters(), "adamm", lr=0.1)
    with pytest.raises(ValueError, match=r"Did you mean 'adam'\?"):
        make_optimizer(parameters(), "adamm", lr=0.1)
    with pytest.raises(ValueError, match=r"`lr` must be .*got 0"):
        make_optimizer(parameters(), lr=0)
    with pytest.raises(ValueError, match=r"`weight_decay` must be .*got -1"):
        make_optimizer(parameters(), lr=0.1, weight_decay=-1)


def test_the_schedules():
    constant = FitConfig(steps=10, lr=0.2)
    assert [learning_rate(constant, t) for t in range(10)] == [0.2] * 10
    warm = FitConfig(steps=10, lr=0.2, warmup_steps=4)
    assert [learning_rate(warm, t) for t in range(5)] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2])
    cosine = FitConfig(steps=11, lr=0.2, schedule="cosine")
    rates = [learning_rate(cosine, t) for t in range(11)]
    assert rates[0] == 0.2 and rates[5] == pytest.approx(0.1) and rates[10] == pytest.approx(0)
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    assert rates[2] == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.2)))


def test_the_config_refuses_a_bad_optimizer_or_schedule_by_name():
    with pytest.raises(ValueError, match=r"`optimizer` must be one of \['adam', 'adamw', 'sgd'\]"):
        FitConfig(steps=10, optimizer="lion")
    with pytest.raises(ValueError, match=r"`schedule` must be one of \['constant', 'cosine'\]"):
        FitConfig(steps=10, schedule="linear")
    with pytest.raises(ValueError, match=r"`warmup_steps` must be an integer in \[0, 9\]; got 10"):
        FitConfig(steps=10, warmup_steps=10)


@pytest.fixture
def recorded(monkeypatch):
    """The learning rate of every optimiser step the loops take (AdamW, spied on)."""
    rates = []

    class Recording(torch.optim.AdamW):
        def step(self, closure=None):
            rates.append(self.param_groups[0]["lr"])
            return super().step(closure)

    monkeypatch.setitem(optim.OPTIMIZERS, "adamw", Recording)
    return rates


def sinusoids(seed=0):
    return MultiTaskDataset.sample(related_sinusoids(2, relatedness=0.5), 40, generator=seed)


def make_model():
    return get_conditioning("multihead", in_features=1, out_features=1, num_tasks=2, hidden=(8,))


def schedule(steps):
    config = FitConfig(steps=steps, lr=1e-2, **OPTIONS)
    return [learning_rate(config, t) for t in range(steps)]


def test_fit_steps_at_the_schedule(recorded):
    fit(make_model(), sinusoids(), steps=12, lr=1e-2, batch_size=8, progress=False, **OPTIONS)
    assert recorded == pytest.approx(schedule(12))


def test_replicas_step_at_the_schedule_and_match_the_plain_run(recorded):
    train = sinusoids()
    batched = fit_replicas(
        make_model, train, seeds=[3], steps=12, lr=1e-2, batch_size=8, progress=False, **OPTIONS
    )
    assert recorded == pytest.approx(schedule(12))
    with seeded(3):
        model = make_model()
    alone = fit(
        model, train, steps=12, lr=1e-2, batch_size=8, generator=0, progress=False, **OPTIONS
    )
    torch.testing.assert_close(batched.losses[:, 0], alone.losses, rtol=1e-4, atol=1e-6)


def test_meta_training_steps_at_the_schedule(recorded):
    images = torch.rand(9, 4, 28, 28, generator=torch.Generator().manual_seed(0))
    data = FewShotDataset(images, alphabets=["a"] * 9)
    sampler = EpisodeSampler(data, n_way=3, k_shot=1, n_query=1, batch_size=4, generator=0)
    learner = get_blackbox("cnp", n_way=3, features=16, channels=(4, 8))
    meta_train(learner, sampler, steps=12, lr=1e-2, device="cpu", progress=False, **OPTIONS)
    assert recorded == pytest.approx(schedule(12))


def test_a_resumed_run_continues_the_schedule(tmp_path):
    train = sinusoids()
    options = {"steps": 20, "lr": 1e-2, "batch_size": 8, "generator": 1, "progress": False}
    with seeded(0):
        reference = fit(make_model(), train, **options, **OPTIONS).losses

    class Interrupted(Exception):
        pass

    def stop(step, model, losses):
        if step == 12:
            raise Interrupted

    checkpoint = {"checkpoint": tmp_path / "run.pt", "checkpoint_every": 5}
    with seeded(0), pytest.raises(Interrupted):
        fit(make_model(), train, **options, **OPTIONS, **checkpoint, callback=stop)
    with seeded(99):  # a fresh process starts from other weights; the checkpoint has the run's
        resumed = fit(make_model(), train, **options, **OPTIONS, **checkpoint).losses
    torch.testing.assert_close(resumed, reference)


def test_a_checkpoint_of_another_optimizer_is_refused_by_name(tmp_path):
    options = {"steps": 4, "batch_size": 8, "progress": False, "checkpoint": tmp_path / "run.pt"}
    fit(make_model(), sinusoids(), optimizer="adam", **options)
    with pytest.raises(ValueError, match=r"the optimiser Adam; this run uses SGD"):
        fit(make_model(), sinusoids(), optimizer="sgd", **{**options, "steps": 8})
