"""Episode sampling throughput: the batched sampler against per-episode Python samplers.

The baseline does what the classic black-box homework's data generator does for every
episode: pick N character folders with `random.sample`, list each folder, pick K+1 of its
image files, read and flatten them one at a time, build one-hot labels, shuffle the query
row, and stack. Two versions of it are timed:

* **files**: reading PNG files, as the homework does (the Glyphs meta-training split is
  written to a temporary folder of PNGs first);
* **in memory**: the same loop reading from an array instead of files, a far more
  generous baseline: then both sides are mostly copying pixels.

All three produce the homework layout ``(B, K+1, N, 784)`` images and ``(B, K+1, N, N)``
labels on the CPU from the same split.
"""

from __future__ import annotations

import os
import pathlib
import random
import tempfile

import numpy as np
import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.glyphs import load_glyphs
from mtml_lib.device import get_device

from ._timing import print_table, time_side_by_side


class _PerEpisodeSampler:
    """The homework's loop, one episode and one image at a time;
    subclasses say where images come from.
    """

    def __init__(
        self, *, num_classes: int, n_way: int, k_shot: int, batch_size: int, seed: int = 0
    ):
        self.num_classes, self.n_way, self.k_shot, self.batch_size = (
            num_classes,
            n_way,
            k_shot,
            batch_size,
        )
        self.random = random.Random(seed)

    def instances(self, c: int) -> list:
        """Everything class ``c`` has to pick K+1 images from."""
        raise NotImplementedError

    def read(self, c: int, instance) -> np.ndarray:
        """One flattened image of class ``c``."""
        raise NotImplementedError

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        all_images, all_labels = [], []
        for _ in range(self.batch_size):
            classes = self.random.sample(range(self.num_classes), self.n_way)
            rows = [[] for _ in range(self.k_shot + 1)]
            labels = [[] for _ in range(self.k_shot + 1)]
            for label, c in enumerate(classes):
                for row, instance in enumerate(
                    self.random.sample(self.instances(c), self.k_shot + 1)
                ):
                    rows[row].append(self.read(c, instance))
                    labels[row].append(np.eye(self.n_way)[label])
            order = list(range(self.n_way))
            self.random.shuffle(order)
            rows[-1] = [rows[-1][i] for i in order]
            labels[-1] = [labels[-1][i] for i in order]
            all_images.append(np.stack([np.stack(r) for r in rows]))
            all_labels.append(np.stack([np.stack(r) for r in labels]))
        return np.stack(all_images), np.stack(all_labels)  # (B, K+1, N, 784), (B, K+1, N, N)


class FileSampler(_PerEpisodeSampler):
    """The homework's generator: folders of PNG files,
    each folder listed and one file read at a time.
    """

    def __init__(self, folders: list[pathlib.Path], **kwargs):
        super().__init__(num_classes=len(folders), **kwargs)
        self.folders = folders

    def instances(self, c: int) -> list:
        return sorted(os.listdir(self.folders[c]))

    def read(self, c: int, name) -> np.ndarray:
        from PIL import Image

        return (
            1.0
            - np.asarray(Image.open(self.folders[c] / name), dtype=np.float32).reshape(-1) / 255.0
        )


def write_pngs(images: np.ndarray, root: pathlib.Path) -> list[pathlib.Path]:
    """One folder per class, one PNG per instance (dark ink on white, as Omniglot's files)."""
    from PIL import Image

    folders = []
    for c, instances in enumerate(images):
        folder = root / f"character{c:04d}"
        folder.mkdir()
        for i, image in enumerate(instances):
            Image.fromarray(np.round(255 * (1 - image)).astype(np.uint8)).save(
                folder / f"{i:02d}.png"
            )
        folders.append(folder)
    return folders


class PythonSampler(_PerEpisodeSampler):
    """The same loop, reading images from an array: one image at a time, one episode at a time."""

    def __init__(self, images: np.ndarray, **kwargs):
        super().__init__(num_classes=images.shape[0], **kwargs)
        self.images = images.reshape(images.shape[0], images.shape[1], -1)  # (C, I, 784)

    def instances(self, c: int) -> range:
        return range(self.images.shape[1])

    def read(self, c: int, instance) -> np.ndarray:
        return self.images[c, instance]


def main(device: str = "auto") -> list[dict]:
    device = get_device(device)
    train, _, _ = load_glyphs().split(by="alphabet")
    images = train.images.numpy()
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folders = write_pngs(images, pathlib.Path(tmp))
        for n_way, k_shot in ((5, 1), (20, 5)):
            for batch_size in (32, 256):
                ours = EpisodeSampler(
                    train,
                    n_way=n_way,
                    k_shot=k_shot,
                    n_query=1,
                    batch_size=batch_size,
                    device=device,
                    generator=0,
                )
                files = FileSampler(folders, n_way=n_way, k_shot=k_shot, batch_size=batch_size)
                memory = PythonSampler(images, n_way=n_way, k_shot=k_shot, batch_size=batch_size)
                batched, from_files, in_memory = time_side_by_side(
                    [ours.sample_sequences, files.sample, memory.sample],
                    device=device,
                    warmup=1,
                    rounds=3,
                    calls=1,
                    min_seconds=0.2,
                )
                results.append(
                    {
                        "setting": f"{n_way}-way {k_shot}-shot",
                        "batch_size": batch_size,
                        "batched_eps": batch_size / batched,
                        "files_eps": batch_size / from_files,
                        "memory_eps": batch_size / in_memory,
                    }
                )
                rows.append(
                    [
                        f"{n_way}-way {k_shot}-shot",
                        str(batch_size),
                        f"{batch_size / batched:,.0f}",
                        f"{batch_size / from_files:,.0f}",
                        f"{from_files / batched:.0f}x",
                        f"{batch_size / in_memory:,.0f}",
                        f"{in_memory / batched:.1f}x",
                    ]
                )
    print_table(
        f"Episodes per second, homework layout ({device.type}, {torch.get_num_threads()} threads)",
        [
            "setting",
            "batch",
            "batched",
            "homework (files)",
            "speedup",
            "loop (in memory)",
            "speedup",
        ],
        rows,
    )
    return results


if __name__ == "__main__":
    main()
