"""Meta-training and meta-testing: learning happens, resume is exact, the best weights are kept."""

import pytest
import torch
from testkit.blackbox import SMALL, learner, templates

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
from mtml_lib.models.blackbox import get_blackbox
from mtml_lib.training import meta_test, meta_train


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
        # internal randomness: the query order
        model = get_blackbox("lstm_memory", n_way=2, hidden=8)
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
    # the learner holds the best weights and still runs
    assert meta_test(model, eval_sampler, episodes=32)[0] >= 0


def test_meta_train_errors():
    sampler = EpisodeSampler(templates(), n_way=2, k_shot=1, n_query=1, batch_size=2, generator=0)
    with pytest.raises(ValueError, match="`steps` must be an integer >= 1; got 0"):
        meta_train(learner("cnp", n_way=2), sampler, steps=0, progress=False)
    with pytest.raises(TypeError, match="`learner` must be a BlackBoxLearner"):
        meta_train(torch.nn.Linear(2, 2), sampler, steps=1, progress=False)


def _memory_run(generator):
    torch.manual_seed(0)
    learner = get_blackbox("lstm_memory", n_way=2, hidden=8)
    sampler = EpisodeSampler(templates(), n_way=2, k_shot=1, n_query=2, batch_size=4, generator=0)
    before = torch.get_rng_state()
    history = meta_train(
        learner, sampler, steps=5, device="cpu", generator=generator, progress=False
    )
    return history.losses, torch.equal(before, torch.get_rng_state())


def test_the_learners_randomness_comes_from_the_generator_not_the_global_stream():
    first, untouched = _memory_run(3)
    again, _ = _memory_run(3)
    other, _ = _memory_run(4)
    assert untouched  # meta_train neither seeds nor draws from torch's global stream
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.slow
def test_compile_compiles_the_step_and_matches_the_eager_run():
    import torch._dynamo
    from torch._dynamo.utils import counters

    def run(compile):
        torch.manual_seed(0)
        learner = get_blackbox("cnp_regression", hidden=16)
        sampler = SinusoidEpisodeSampler(k_shot=5, n_query=10, batch_size=8, generator=0)
        history = meta_train(
            learner, sampler, steps=5, device="cpu", progress=False, compile=compile
        )
        return history.losses, learner.state_dict()

    torch._dynamo.reset()
    counters.clear()
    eager = run(False)
    assert counters["stats"]["unique_graphs"] == 0
    compiled = run(True)
    assert counters["stats"]["unique_graphs"] >= 1  # a graph was really compiled
    torch.testing.assert_close(compiled[0], eager[0], rtol=1e-4, atol=1e-5)
    for name, value in eager[1].items():
        torch.testing.assert_close(compiled[1][name], value, rtol=1e-4, atol=1e-5)


def test_meta_test_keeps_every_episode_for_a_paired_comparison():
    """The kept values give the mean and half-width back, one per episode, and the same sampler
    seed gives the same episodes: what lets two learners be compared episode by episode."""
    from mtml_lib.metrics import confidence_interval

    test = templates(seed=5)
    results = []
    for name in ("cnp", "transformer"):
        sampler = EpisodeSampler(test, n_way=3, k_shot=1, n_query=2, batch_size=40, generator=7)
        results.append(meta_test(learner(name), sampler, episodes=100))
    for result in results:
        mean, half = result
        assert result.values.shape == (100,) and (mean, half) == confidence_interval(result.values)
    same = EpisodeSampler(test, n_way=3, k_shot=1, n_query=2, batch_size=40, generator=7)
    again = meta_test(learner("cnp"), same, episodes=100)
    assert torch.equal(again.values, results[0].values)  # the same episodes, episode by episode
