"""Small sizes and builders for the conditioning tests."""

import torch

from mtml_lib.models.conditioning import get_conditioning

IN, OUT, T = 12, 3, 4


def make(name, **kwargs):
    """Conditioning choice ``name`` with the test sizes, initialised from seed 0."""
    torch.manual_seed(0)
    return get_conditioning(name, in_features=IN, out_features=OUT, num_tasks=T, **kwargs)


def batch(n=16, seed=0, device="cpu"):
    """A mixed-task batch ``(x (n, IN), task_id (n,))``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN, generator=g)
    task_id = torch.randint(0, T, (n,), generator=g)
    return x.to(device), task_id.to(device)


def model_for(data, name="multihead", seed=0):
    """Conditioning choice ``name`` sized for a multi-task dataset, initialised from ``seed``."""
    torch.manual_seed(seed)
    return get_conditioning(
        name,
        in_features=data.in_features,
        out_features=data.out_features,
        num_tasks=data.num_tasks,
        hidden=(32,),
    )
