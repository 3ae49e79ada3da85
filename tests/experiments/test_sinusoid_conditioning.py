"""The conditioning experiment behind notebook 02's explorer."""

import torch

from mtml_lib.experiments import fit_related_sinusoids


def test_the_run_reproduces_and_scores_against_the_true_functions():
    a = fit_related_sinusoids("multihead", relatedness=0.5, steps=20, device="cpu")
    b = fit_related_sinusoids("multihead", relatedness=0.5, steps=20, device="cpu")
    assert a.history.final_metrics == b.history.final_metrics
    assert all(t.name for t in a.truth) and a.train.sizes == [20] * 4
    assert torch.equal(a.history.losses, b.history.losses)
