"""Traceable few-shot images for the episode and dataset tests."""

import torch

from mtml_lib.data.fewshot import FewShotDataset


def id_dataset(num_classes=12, instances=20, alphabets=None):
    """Images that carry their own class and instance number, to trace every sampled image."""
    images = torch.zeros(num_classes, instances, 28, 28)
    images[:, :, 0, 0] = torch.arange(num_classes, dtype=torch.float)[:, None] / 100
    images[:, :, 0, 1] = torch.arange(instances, dtype=torch.float)[None, :] / 100
    images[:, :, 5:20, 10] = 1.0  # an asymmetric mark, so rotations are visible
    alphabets = alphabets or [f"alphabet{c // 3}" for c in range(num_classes)]
    return FewShotDataset(images, alphabets=alphabets)


def ids(x):
    """(class, instance) numbers of images (..., 1, 28, 28) in their unrotated form."""
    return (x[..., 0, 0, 0] * 100).round().long(), (x[..., 0, 0, 1] * 100).round().long()
