"""Trusted grader of HW2 (instructor only: never released). See mtml_lib.homework.regrade."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _compare import close, finite, shape  # noqa: E402

TRAIN_STEPS = 3000
ACCURACY_BAND = (
    0.7  # 1-shot 2-way after 3,000 steps: the reference reaches about 0.95; chance is 0.5
)


def _id_dataset():
    import torch

    from mtml_lib.data.fewshot import FewShotDataset

    images = torch.zeros(10, 6, 28, 28)
    images[:, :, 0, 0] = torch.arange(10.0)[:, None] / 100  # the class, readable from every image
    images[:, :, 0, 1] = torch.arange(6.0)[None, :] / 100  # the instance
    return FewShotDataset(images, alphabets=["a"] * 10)


def probe_make_batch(ns):
    import torch

    from mtml_lib.data.episodes import EpisodeSampler

    episode = EpisodeSampler(
        _id_dataset(), n_way=3, k_shot=2, n_query=1, batch_size=40, generator=0
    ).sample()
    images, labels = ns["make_batch"](episode, torch.Generator().manual_seed(0))
    return {
        "classes": (images[..., 0] * 100).round(),
        "instances": (images[..., 1] * 100).round(),
        "labels": labels,
        "images_shape": list(images.shape),
        "query_classes_by_label": (episode.query_x[:, :, 0, 0, 0] * 100).round(),
    }


def probe_mann(ns):
    import torch

    torch.manual_seed(0)
    model = ns["MANN"](num_classes=3, samples_per_class=2)
    g = torch.Generator().manual_seed(1)
    images = torch.rand(4, 3, 3, 784, generator=g)
    labels = torch.nn.functional.one_hot(
        torch.stack([torch.randperm(3, generator=g) for _ in range(12)]).view(4, 3, 3), 3
    ).float()
    base = model(images, labels).detach()
    query = labels.clone()
    query[:, -1] = torch.roll(query[:, -1], 1, dims=-1)
    support = labels.clone()
    support[:, 0] = torch.roll(support[:, 0], 1, dims=-1)
    return {
        "base": base,
        "query_changed": model(images, query).detach(),
        "support_changed": model(images, support).detach(),
        "parameters": sorted(p.numel() for p in model.parameters()),
    }


def probe_query_loss(ns):
    import torch

    g = torch.Generator().manual_seed(3)
    values = []
    for rows, n in ((3, 4), (2, 5)):
        logits = torch.randn(5, rows, n, n, generator=g)
        onehot = torch.nn.functional.one_hot(
            torch.stack([torch.randperm(n, generator=g) for _ in range(5 * rows)]).view(5, rows, n),
            n,
        ).float()
        changed = logits.clone()
        changed[:, :-1] += 10 * torch.randn(5, rows - 1, n, n, generator=g)
        values.append(
            [float(ns["query_loss"](logits, onehot)), float(ns["query_loss"](changed, onehot))]
        )
    return values


def probe_train(ns):
    return {"accuracy": ns["train"](num_classes=2, steps=TRAIN_STEPS, seed=0)}


PROBES = {
    "test_make_batch": probe_make_batch,
    "test_mann": probe_mann,
    "test_query_loss": probe_query_loss,
    "test_train": probe_train,
}


def layout_shape(got, ref):
    return got["images_shape"] == [40, 3, 3, 784] and shape(got["labels"]) == [
        40,
        3,
        3,
        3,
    ], "(B, K+1, N, 784) and (B, K+1, N, N)"


def labels_one_hot_in_order(got, ref):
    one_hot = all(sorted(row) == [0.0, 0.0, 1.0] for b in got["labels"] for r in b for row in r)
    support_order = all(
        row.index(1.0) == n for b in got["labels"] for r in b[:2] for n, row in enumerate(r)
    )
    return one_hot and support_order, "one-hot labels; support rows in label order"


def support_consistent(got, ref):
    ok = all(
        got["classes"][b][0][n] == got["classes"][b][1][n] == got["query_classes_by_label"][b][n]
        and got["instances"][b][0][n] != got["instances"][b][1][n]
        for b in range(40)
        for n in range(3)
    )
    return ok, "row k holds the k-th support image of every class, in label order"


def query_row(got, ref):
    permuted, shuffled, consistent = True, False, True
    for b in range(40):
        order = [row.index(1.0) for row in got["labels"][b][2]]
        permuted &= sorted(order) == [0, 1, 2]
        shuffled |= order != [0, 1, 2]
        consistent &= all(
            got["classes"][b][2][n] == got["query_classes_by_label"][b][order[n]] for n in range(3)
        )
    return (
        permuted and shuffled and consistent,
        "the query row: every class once, in a random order, with its label",
    )


def mann_shape(got, ref):
    return shape(got["base"]) == [4, 3, 3, 3] and finite(
        got["base"]
    ), "predictions of shape (B, K+1, N, N)"


def mann_size(got, ref):
    return got["parameters"] == ref["parameters"], "two LSTMs: (784 + N) -> 128 -> N"


def mann_hides_query_labels(got, ref):
    return close(
        got["base"], got["query_changed"], 1e-6
    ), "the query labels must not reach the model"


def mann_reads_support_labels(got, ref):
    last = lambda x: [episode[-1] for episode in x]  # noqa: E731
    return not close(
        last(got["base"]), last(got["support_changed"]), 1e-4
    ), "the support labels must reach the model"


def loss_value(got, ref):
    return close(
        [v[0] for v in got], [v[0] for v in ref], 1e-5
    ), "the cross-entropy of the query row"


def loss_ignores_support(got, ref):
    return close([v[1] for v in got], [v[0] for v in ref], 1e-5), "only the query row counts"


def training_reaches_band(got, ref):
    accuracy = got["accuracy"]
    return (
        isinstance(accuracy, float) and ACCURACY_BAND < accuracy <= 1.0,
        f"1-shot 2-way after {TRAIN_STEPS} steps: test accuracy above {ACCURACY_BAND}",
    )


CHECKS = {
    "test_make_batch": [
        (0.5, layout_shape),
        (0.5, labels_one_hot_in_order),
        (1, support_consistent),
        (1, query_row),
    ],
    "test_mann": [
        (1, mann_shape),
        (1, mann_size),
        (1, mann_hides_query_labels),
        (1, mann_reads_support_labels),
    ],
    "test_query_loss": [(1, loss_value), (1, loss_ignores_support)],
    "test_train": [(3, training_reaches_band)],
}

# What the parts ask students to write: replaced by placeholders in the grading sandbox.
UNAVAILABLE = {
    "test_make_batch": ["mtml_lib.data.homework_layout"],
    "test_mann": ["mtml_lib.models.blackbox"],
    "test_train": ["mtml_lib.models.blackbox", "mtml_lib.data.homework_layout"],
}


def PREPARE():  # noqa: N802 - the grader interface's name
    """Run by the trusted side before grading: the Glyphs cache the sandbox reads."""
    from mtml_lib.data.glyphs import load_glyphs

    load_glyphs()
