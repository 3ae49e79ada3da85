"""The black-box learners: one contract for every registry entry; each learner's own properties."""

import pytest
import torch
from testkit.blackbox import learner, templates

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
from mtml_lib.models.blackbox import BLACKBOX, InContextTransformer, get_blackbox

CLASSIFIERS = sorted(n for n in BLACKBOX if n != "cnp_regression")


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

    def test_the_episode_is_left_as_it_was(self, name):
        model, batch = learner(name), episode()
        fields = ("support_x", "support_y", "query_x", "query_y")
        before = {f: getattr(batch, f).clone() for f in fields}
        model.loss(batch)
        assert [f for f in fields if not torch.equal(getattr(batch, f), before[f])] == []

    def test_training_steps_lower_the_loss(self, name):
        """Steps of Adam on one batch of episodes fit it: the loss is differentiable end to end
        in the learner's own parameters, and its gradient points downhill."""
        model, batch = learner(name), episode(batch_size=8)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        with torch.no_grad():
            first = float(model.loss(batch)[0])
        for _ in range(40):
            loss, _ = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            assert float(model.loss(batch)[0]) < 0.8 * first

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


def test_lstm_memory_speaks_the_sequence_layout():
    model = learner("lstm_memory", n_way=3)
    sampler = EpisodeSampler(templates(), n_way=3, k_shot=2, n_query=1, batch_size=5, generator=0)
    images, labels = sampler.sample_sequences()
    out = model.forward_layout(images, labels)
    assert out.shape == (5, 3, 3, 3)
    changed = labels.clone()
    changed[:, -1] = torch.roll(changed[:, -1], 1, dims=-1)  # other query labels: ignored
    assert torch.allclose(model.forward_layout(images, changed), out)
    with pytest.raises(ValueError, match=r"`images` must have shape \(B, K\+1, 3, 784\)"):
        model.forward_layout(images[..., :100], labels)


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
