import pytest
import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
from mtml_lib.models.blackbox import BLACKBOX, InContextTransformer, get_blackbox
from mtml_lib.training import meta_test, meta_train

CLASSIFIERS = sorted(n for n in BLACKBOX if n != "cnp_regression")
SMALL = {
    "lstm_memory": {"hidden": 16},
    "cnp": {"features": 16, "channels": (4, 8)},
    "transformer": {"features": 16, "channels": (4, 8)},
    "hypernetwork": {"features": 16, "channels": (4, 8)},
}


def templates(classes=12, instances=10, noise=0.15, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(classes, 1, 28, 28, generator=g)
    return FewShotDataset(
        (base + noise * torch.randn(classes, instances, 28, 28, generator=g)).clamp(0, 1),
        alphabets=[f"a{c % 3}" for c in range(classes)],
    )


def episode(n_way=3, k_shot=2, n_query=2, batch_size=4, seed=0, device="cpu"):
    return EpisodeSampler(
        templates(),
        n_way=n_way,
        k_shot=k_shot,
        n_query=n_query,
        batch_size=batch_size,
        generator=seed,
        device=device,
    ).sample()


def learner(name, n_way=3):
    torch.manual_seed(0)
    return get_blackbox(name, n_way=n_way, **SMALL[name])


@pytest.mark.parametrize("name", CLASSIFIERS)
class TestContract:
    def test_shapes_loss_and_no_nan(self, name):
        model, batch = learner(name), episode()
        logits = model(batch)
        assert logits.shape == (4, 6, 3) and torch.isfinite(logits).all()
        loss, accuracy = model.loss(batch)
        assert (
            loss.ndim == 0 and accuracy.shape == (4,) and ((accuracy >= 0) & (accuracy <= 1)).all()
        )

    def test_every_parameter_gets_a_gradient(self, name):
        model = learner(name)
        model.loss(episode(batch_size=8))[0].backward()
        missing = [
            n
            for n, p in model.named_parameters()
            if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
        ]
        assert missing == []

    def test_runs_on_the_device_of_its_episodes(self, name, device):
        model = learner(name).to(device)
        assert model(episode(device=device)).device.type == device.type

    def test_query_labels_are_never_an_input(self, name):
        model, batch = learner(name).eval(), episode()
        torch.manual_seed(1)
        before = model(batch)
        batch.query_y = (batch.query_y + 1) % 3
        torch.manual_seed(1)
        assert torch.allclose(model(batch), before)

    def test_bad_episodes(self, name):
        model = learner(name)
        if name != "hypernetwork":  # the hypernetwork serves episodes of any way
            with pytest.raises(
                ValueError, match=r"`episode.n_way` must be the learner's n_way \(3\); got 4"
            ):
                model(episode(n_way=4))
        with pytest.raises(TypeError, match="`episode` must be an EpisodeBatch"):
            model(torch.zeros(3))
        bad = episode()
        bad.support_y = bad.support_y[:, :-1]
        with pytest.raises(ValueError, match=r"`episode.support_y` must have shape \(4, 6\)"):
            model(bad)


@pytest.mark.parametrize("name", ["cnp", "transformer", "hypernetwork"])
def test_set_learners_ignore_the_order_of_the_support_set(name):
    model, batch = learner(name).eval(), episode()
    before = model(batch)
    perm = torch.randperm(batch.support_x.shape[1], generator=torch.Generator().manual_seed(0))
    batch.support_x, batch.support_y = batch.support_x[:, perm], batch.support_y[:, perm]
    assert torch.allclose(model(batch), before, atol=1e-5)


def test_transformer_queries_do_not_see_each_other():
    model, batch = learner("transformer").eval(), episode()
    before = model(batch)
    batch.query_x = batch.query_x.clone()
    batch.query_x[:, 0] = torch.rand_like(batch.query_x[:, 0])  # change one query image
    after = model(batch)
    assert not torch.allclose(after[:, 0], before[:, 0])
    assert torch.allclose(after[:, 1:], before[:, 1:], atol=1e-5)
    mask = InContextTransformer.attention_mask(2, 3, torch.device("cpu"))
    assert mask.tolist() == [
        [False, False, True, True, True],
        [False, False, True, True, True],
        [False, False, False, True, True],
        [False, False, True, False, True],
        [False, False, True, True, False],
    ]


def test_lstm_memory_speaks_the_homework_layout():
    model = learner("lstm_memory", n_way=3)
    sampler = EpisodeSampler(templates(), n_way=3, k_shot=2, n_query=1, batch_size=5, generator=0)
    images, labels = sampler.sample_homework()
    out = model.forward_homework(images, labels)
    assert out.shape == (5, 3, 3, 3)
    changed = labels.clone()
    changed[:, -1] = torch.roll(changed[:, -1], 1, dims=-1)  # other query labels: ignored
    assert torch.allclose(model.forward_homework(images, changed), out)
    with pytest.raises(ValueError, match=r"`images` must have shape \(B, K\+1, 3, 784\)"):
        model.forward_homework(images[..., :100], labels)


def test_hypernetwork_serves_any_way_and_exposes_phi():
    model, batch = learner("hypernetwork", n_way=3), episode(n_way=5)
    weights, bias = model.task_parameters(batch)
    assert weights.shape == (4, 5, 16) and bias.shape == (4, 5)
    assert model(batch).shape == (4, 10, 5)


def test_cnp_regression():
    model = get_blackbox("cnp_regression", hidden=16)
    batch = SinusoidEpisodeSampler(k_shot=5, n_query=7, batch_size=3, generator=0).sample()
    mean, sigma = model(batch)
    assert mean.shape == sigma.shape == (3, 7, 1) and (sigma >= 0.1).all()
    perm = torch.tensor([4, 0, 3, 1, 2])
    batch.support_x, batch.support_y = batch.support_x[:, perm], batch.support_y[:, perm]
    assert torch.allclose(model(batch)[0], mean, atol=1e-6)
    loss, mse = model.loss(batch)
    assert loss.ndim == 0 and mse.shape == (3,)


def test_registry_errors():
    with pytest.raises(ValueError, match="Did you mean 'transformer'"):
        get_blackbox("transfomer", n_way=3)
    with pytest.raises(ValueError, match="`n_way` must be given"):
        get_blackbox("cnp")
    with pytest.raises(ValueError, match="`n_way` must be an integer >= 2; got 1"):
        get_blackbox("cnp", n_way=1)


def test_a_tiny_meta_training_run_beats_chance():
    data = templates(classes=30)
    train, _, test = data.split(by="class", seed=0)
    sampler = EpisodeSampler(train, n_way=2, k_shot=1, n_query=2, batch_size=32, generator=0)
    model = get_blackbox("hypernetwork", n_way=2, **SMALL["hypernetwork"])
    history = meta_train(
        model, sampler, steps=150, lr=3e-3, device="cpu", generator=0, progress=False
    )
    assert history.metrics[0] < 0.6  # it starts near chance (0.5) ...
    accuracy, _ = meta_test(
        model,
        EpisodeSampler(test, n_way=2, k_shot=1, n_query=2, batch_size=100, generator=1),
        episodes=200,
    )
    assert accuracy > 0.65  # ... and learns to learn new classes


@pytest.mark.slow
def test_the_lstm_memory_learner_learns_two_way_glyphs():
    from mtml_lib.data.glyphs import load_glyphs

    train, _, test = load_glyphs().split(by="alphabet")
    model = get_blackbox("lstm_memory", n_way=2)
    sampler = EpisodeSampler(train, n_way=2, k_shot=1, n_query=1, batch_size=128, generator=0)
    meta_train(model, sampler, steps=3000, device="cpu", generator=0, progress=False)
    accuracy, _ = meta_test(
        model,
        EpisodeSampler(test, n_way=2, k_shot=1, n_query=1, batch_size=500, generator=1),
        episodes=1000,
    )
    assert accuracy > 0.85  # chance is 0.5; the classic homework expects > 0.9 after 25,000 steps


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path):
    data = templates(classes=18)
    train, val, _ = data.split(by="class", seed=0)

    def run(steps, checkpoint=None, init_seed=0):
        torch.manual_seed(init_seed)
        model = get_blackbox(
            "lstm_memory", n_way=2, hidden=8
        )  # internal randomness: the query order
        sampler = EpisodeSampler(train, n_way=2, k_shot=1, n_query=2, batch_size=8, generator=0)
        eval_sampler = EpisodeSampler(val, n_way=2, k_shot=1, n_query=2, batch_size=8, generator=1)
        history = meta_train(
            model,
            sampler,
            steps=steps,
            device="cpu",
            generator=3,
            eval_sampler=eval_sampler,
            eval_every=10,
            eval_episodes=16,
            progress=False,
            checkpoint=checkpoint,
            checkpoint_every=10,
        )
        return model, history

    full, reference = run(30)
    path = tmp_path / "meta.pt"
    run(20, path)
    resumed, history = run(30, path, init_seed=9)
    assert torch.equal(history.losses, reference.losses)
    assert (
        history.eval_metrics == reference.eval_metrics and history.best_step == reference.best_step
    )
    for a, b in zip(resumed.state_dict().values(), full.state_dict().values()):
        assert torch.equal(a, b)


def test_validation_keeps_the_best_weights():
    data = templates(classes=18)
    train, val, _ = data.split(by="class", seed=0)
    model = learner("hypernetwork", n_way=2)
    sampler = EpisodeSampler(train, n_way=2, k_shot=1, n_query=2, batch_size=8, generator=0)
    eval_sampler = EpisodeSampler(val, n_way=2, k_shot=1, n_query=2, batch_size=16, generator=1)
    history = meta_train(
        model,
        sampler,
        steps=30,
        device="cpu",
        eval_sampler=eval_sampler,
        eval_every=10,
        eval_episodes=32,
        progress=False,
    )
    best = max(range(len(history.eval_metrics)), key=lambda i: (history.eval_metrics[i], -i))
    assert history.best_step == history.eval_steps[best]
    eval_sampler.generator.manual_seed(123)
    assert (
        meta_test(model, eval_sampler, episodes=32)[0] >= 0
    )  # the learner holds the best weights and still runs


def test_meta_train_errors():
    sampler = EpisodeSampler(templates(), n_way=2, k_shot=1, n_query=1, batch_size=2, generator=0)
    with pytest.raises(ValueError, match="`steps` must be an integer >= 1; got 0"):
        meta_train(learner("cnp", n_way=2), sampler, steps=0, progress=False)
    with pytest.raises(TypeError, match="`learner` must be a BlackBoxLearner"):
        meta_train(torch.nn.Linear(2, 2), sampler, steps=1, progress=False)
