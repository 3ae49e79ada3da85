"""fit callbacks that record gradient cosines and task affinities on a fixed probe batch."""

import torch

from mtml_lib import fit, get_conditioning
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import related_sinusoids
from mtml_lib.experiments import AffinityRecorder, GradientCosineRecorder
from mtml_lib.metrics import gradient_cosine, task_affinity
from mtml_lib.training import task_losses


def _setup(relatedness):
    data = MultiTaskDataset.sample(related_sinusoids(2, relatedness=relatedness), 200, generator=0)
    torch.manual_seed(0)
    model = get_conditioning("shared", in_features=1, out_features=1, num_tasks=2, hidden=(16,))
    return data, data.batch(64, generator=1), model


def test_a_record_is_the_cosine_on_the_probe_after_that_step():
    data, probe, model = _setup(-1.0)
    recorder = GradientCosineRecorder(data, probe, every=5)
    fit(model, data, steps=11, device="cpu", generator=0, progress=False, callback=recorder)
    assert recorder.steps == [0, 5, 10] and recorder.pair(0, 1).shape == (3,)
    expected = gradient_cosine(task_losses(model, data, probe), model.shared_parameters())
    torch.testing.assert_close(recorder.matrices()[-1], expected)  # step 10 was the last one


def test_conflicting_tasks_have_negative_cosines_on_a_shared_model():
    data, probe, model = _setup(-1.0)
    recorder = GradientCosineRecorder(data, probe, every=10)
    fit(
        model,
        data,
        steps=100,
        lr=3e-3,
        device="cpu",
        generator=0,
        progress=False,
        callback=recorder,
    )
    assert recorder.pair(0, 1).mean() < -0.5


def test_affinity_records_average_over_training():
    data, probe, model = _setup(1.0)
    recorder = AffinityRecorder(data, probe, lr=0.05, every=4)
    fit(model, data, steps=8, device="cpu", generator=0, progress=False, callback=recorder)
    assert recorder.steps == [0, 4] and recorder.mean().shape == (2, 2)
    torch.testing.assert_close(recorder.mean(), recorder.matrices().mean(0))
    again = task_affinity(
        lambda: task_losses(model, data, probe), model.shared_parameters(), lr=0.05
    )
    assert again.shape == (2, 2)
