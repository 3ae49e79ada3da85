"""Small black-box learners and a dataset of noisy class templates, for the learner and
meta-training tests (a CPU trains them in seconds)."""

import torch

from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.models.blackbox import get_blackbox

SMALL = {
    "lstm_memory": {"hidden": 16},
    "cnp": {"features": 16, "channels": (4, 8)},
    "transformer": {"features": 16, "channels": (4, 8)},
    "hypernetwork": {"features": 16, "channels": (4, 8)},
}


def templates(classes=12, instances=10, noise=0.15, seed=0):
    """``classes`` random 28x28 templates, each seen ``instances`` times with pixel noise."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(classes, 1, 28, 28, generator=g)
    return FewShotDataset(
        (base + noise * torch.randn(classes, instances, 28, 28, generator=g)).clamp(0, 1),
        alphabets=[f"a{c % 3}" for c in range(classes)],
    )


def learner(name, n_way=3):
    """The registry's learner ``name`` at the :data:`SMALL` size, with seeded weights."""
    torch.manual_seed(0)
    return get_blackbox(name, n_way=n_way, **SMALL[name])
