"""Trusted grader of HW2 (instructor only: never released). See mtml_lib.grading.regrade."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _compare import close, finite, shape  # noqa: E402

from mtml_lib.i18n import translator  # noqa: E402

# Feedback in the course's language, from the graders' own catalog (it stays in the course folder)
_ = translator(pathlib.Path(__file__).parent / "locale", "graders")

TRAIN_STEPS = 3000
# Part 5 trains with a seed of the grader's own, announced nowhere: a table of another run's
# numbers is no answer, and the run has to happen.
TRAIN_SEED = 4817
ACCURACY_BAND = 0.7  # part 5's text: 1-shot 2-way after 3,000 steps (reference about 0.95)
UNTRAINED_GAP = 0.15  # part 5's text: an untrained model of the class stays this far below
TEST_EPISODES = 1000


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


def probe_sample_batch(ns):
    import torch

    marks = torch.arange(10 * 6, dtype=torch.float32).view(10, 6, 1, 1).expand(-1, -1, 28, 28)
    images, labels = ns["sample_batch"](marks, 40, 3, 3, torch.Generator().manual_seed(1))
    return {
        "images_shape": list(images.shape),
        "ids": images[..., 0].round(),  # class * 6 + instance, of every image
        "labels": labels,
    }


def _reference_sample_batch(images, batch_size, num_classes, num_samples, generator):
    """Part 1's sampler as the text states it (the evaluation probe runs on its episodes)."""
    import torch

    num_all, per_class = images.shape[:2]
    out_images, out_labels = [], []
    for _episode in range(batch_size):
        classes = torch.randperm(num_all, generator=generator)[:num_classes]
        picked = torch.stack(
            [
                images[c, torch.randperm(per_class, generator=generator)[:num_samples]].reshape(
                    num_samples, -1
                )
                for c in classes
            ]
        )
        episode = picked.transpose(0, 1).clone()
        labels = torch.arange(num_classes).expand(num_samples, num_classes).clone()
        order = torch.randperm(num_classes, generator=generator)
        episode[-1], labels[-1] = episode[-1, order], labels[-1, order]
        out_images.append(episode)
        out_labels.append(torch.nn.functional.one_hot(labels, num_classes).float())
    return torch.stack(out_images), torch.stack(out_labels)


def probe_evaluate(ns):
    import torch

    class Known(torch.nn.Module):
        """Right on an episode whose first query is label 0; class 0 for every query otherwise."""

        def __init__(self):
            super().__init__()
            self.grad_seen = []

        def forward(self, images, labels):
            self.grad_seen.append(torch.is_grad_enabled())
            out = labels.clone()
            wrong = labels[:, -1, 0].argmax(-1) != 0  # (B,)
            out[wrong, -1] = 0.0
            out[wrong, -1, :, 0] = 1.0
            return out

    model = Known()
    saved = ns.get("sample_batch")
    ns["sample_batch"] = _reference_sample_batch
    try:
        mean, half = ns["evaluate"](model, num_classes=4, k_shot=1, episodes=60, seed=3)
    finally:
        ns["sample_batch"] = saved
    return {
        "mean": mean if isinstance(mean, float) else repr(mean),
        "half": half if isinstance(half, float) else repr(half),
        "grad_seen": any(model.grad_seen),
        "calls": len(model.grad_seen),
    }


def _glyphs_test_set():
    """The test alphabets, as part 5's text names them, built here: the submission's own
    `meta_test_set` could be anything."""
    from mtml_lib.data.glyphs import load_glyphs

    return load_glyphs().split(by="alphabet")[2]


def _accuracy(model, test_set):
    """Query accuracy on the grader's own 2-way 1-shot test episodes, in the layout written out
    here (the workbook's is unavailable while this part is graded)."""
    import torch

    from mtml_lib.data.episodes import EpisodeSampler

    episode = EpisodeSampler(
        test_set, n_way=2, k_shot=1, n_query=1, batch_size=TEST_EPISODES, generator=7
    ).sample()
    g = torch.Generator().manual_seed(7)
    B = TEST_EPISODES
    support = episode.support_x.reshape(B, 2, 1, 784).transpose(1, 2)
    order = torch.stack([torch.randperm(2, generator=g) for _ in range(B)])
    query = episode.query_x.reshape(B, 2, 784).gather(1, order[..., None].expand(-1, -1, 784))
    labels = torch.cat([episode.support_y.reshape(B, 2, 1).transpose(1, 2), order[:, None]], 1)
    images = torch.cat([support, query[:, None]], dim=1)
    shown = torch.nn.functional.one_hot(labels, 2).float()
    shown[:, -1] = 0.0  # the model never sees the answers it is tested on
    with torch.no_grad():
        predicted = model(images, shown)[:, -1].argmax(-1)
    return float((predicted == order).float().mean())


def probe_train(ns):
    import torch

    model = ns["train"](num_classes=2, steps=TRAIN_STEPS, seed=TRAIN_SEED)
    # the model train() starts from, as part 5's text builds it, of the class train() returned
    torch.manual_seed(TRAIN_SEED)
    untrained = type(model)(num_classes=2, samples_per_class=2)
    test_set = _glyphs_test_set()
    mine, theirs = model.state_dict(), untrained.state_dict()
    moved = mine.keys() != theirs.keys() or any(
        mine[k].shape != theirs[k].shape or not torch.equal(mine[k], theirs[k]) for k in mine
    )
    return {
        "accuracy": _accuracy(model, test_set),
        "untrained": _accuracy(untrained, test_set),
        "moved": bool(moved),
    }


PROBES = {
    "test_sample_batch": probe_sample_batch,
    "test_make_batch": probe_make_batch,
    "test_mann": probe_mann,
    "test_query_loss": probe_query_loss,
    "test_train": probe_train,
    "test_evaluate": probe_evaluate,
}


def layout_shape(got, ref):
    return got["images_shape"] == [40, 3, 3, 784] and shape(got["labels"]) == [
        40,
        3,
        3,
        3,
    ], _("(B, K+1, N, 784) and (B, K+1, N, N)")


def labels_one_hot_in_order(got, ref):
    one_hot = all(sorted(row) == [0.0, 0.0, 1.0] for b in got["labels"] for r in b for row in r)
    support_order = all(
        row.index(1.0) == n for b in got["labels"] for r in b[:2] for n, row in enumerate(r)
    )
    return one_hot and support_order, _("one-hot labels; support rows in label order")


def support_consistent(got, ref):
    ok = all(
        got["classes"][b][0][n] == got["classes"][b][1][n] == got["query_classes_by_label"][b][n]
        and got["instances"][b][0][n] != got["instances"][b][1][n]
        for b in range(40)
        for n in range(3)
    )
    return ok, _("row k holds the k-th support image of every class, in label order")


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
        _("the query row: every class once, in a random order, with its label"),
    )


def mann_shape(got, ref):
    return shape(got["base"]) == [4, 3, 3, 3] and finite(got["base"]), _(
        "predictions of shape (B, K+1, N, N)"
    )


def mann_size(got, ref):
    return got["parameters"] == ref["parameters"], _("two LSTMs: (784 + N) -> 128 -> N")


def mann_hides_query_labels(got, ref):
    return close(got["base"], got["query_changed"], 1e-6), _(
        "the query labels must not reach the model"
    )


def mann_reads_support_labels(got, ref):
    last = lambda x: [episode[-1] for episode in x]  # noqa: E731
    return not close(last(got["base"]), last(got["support_changed"]), 1e-4), _(
        "the support labels must reach the model"
    )


def loss_value(got, ref):
    return close([v[0] for v in got], [v[0] for v in ref], 1e-5), _(
        "the cross-entropy of the query row"
    )


def loss_ignores_support(got, ref):
    return close([v[1] for v in got], [v[0] for v in ref], 1e-5), _("only the query row counts")


def training_reaches_band(got, ref):
    accuracy, untrained = got["accuracy"], got["untrained"]
    ok = (
        isinstance(accuracy, float)
        and isinstance(untrained, float)
        and ACCURACY_BAND < accuracy <= 1.0
        and accuracy - untrained > UNTRAINED_GAP
    )
    return ok, _(
        "1-shot 2-way after {TRAIN_STEPS} steps: test accuracy above {ACCURACY_BAND}, and more "
        "than {UNTRAINED_GAP} above an untrained model of the class train returns"
    ).format(TRAIN_STEPS=TRAIN_STEPS, ACCURACY_BAND=ACCURACY_BAND, UNTRAINED_GAP=UNTRAINED_GAP)


def training_moves_the_weights(got, ref):
    learned = got["accuracy"] - got["untrained"] > UNTRAINED_GAP
    return got["moved"] is True and learned, _(
        "training changed the model's weights from their values at the seed, and the change is "
        "what lifts its accuracy"
    )


def sampled_shape(got, ref):
    labels = got["labels"]
    one_hot = shape(labels) == [40, 3, 3, 3] and all(
        sorted(row) == [0.0, 0.0, 1.0] for b in labels for r in b for row in r
    )
    return got["images_shape"] == [40, 3, 3, 784] and one_hot, (
        _("(B, K+1, N, 784) images and one-hot (B, K+1, N, N) labels")
    )


def _classes(got):
    """Per episode, per row: the class of each image and the label it was given."""
    return [
        [[(int(i) // 6, row.index(1.0)) for i, row in zip(ids, rows)] for ids, rows in zip(b, lb)]
        for b, lb in zip(got["ids"], got["labels"])
    ]


def sampled_classes(got, ref):
    ok = shape(got["ids"]) == [40, 3, 3]
    for episode in _classes(got) if ok else []:
        pairs = {pair for row in episode for pair in row}
        ok &= len({c for c, _ in pairs}) == 3 and len({label for _, label in pairs}) == 3
        ok &= len(pairs) == 3  # one class per label, the same in every row
        ok &= [label for _, label in episode[0]] == [0, 1, 2]
    return ok, _(
        "N different classes per episode; each label names one class; support in label order"
    )


def sampled_instances(got, ref):
    ok = shape(got["ids"]) == [40, 3, 3]
    for b in got["ids"] if ok else []:
        ids = [int(i) for row in b for i in row]
        ok &= len(set(ids)) == len(ids)
    return ok, _("a class's K + 1 images are different instances")


def sampled_query(got, ref):
    orders = (
        [[row.index(1.0) for row in b[-1]] for b in got["labels"]]
        if shape(got["labels"]) == [40, 3, 3, 3]
        else []
    )
    ok = bool(orders) and all(sorted(o) == [0, 1, 2] for o in orders)
    return ok and len({tuple(o) for o in orders}) > 1, (
        _("the query row holds every class once, in an order that varies across episodes")
    )


def evaluate_mean(got, ref):
    return isinstance(got["mean"], float) and close(got["mean"], ref["mean"], 1e-6), (
        _("the mean of the per-episode query accuracies")
    )


def evaluate_half_width(got, ref):
    return isinstance(got["half"], float) and close(got["half"], ref["half"], 1e-6), (
        _("the half-width 1.96 * std / sqrt(episodes) of the per-episode accuracies")
    )


def evaluate_without_gradients(got, ref):
    return got["calls"] > 0 and not got["grad_seen"], _("predict with gradients off")


CHECKS = {
    "test_sample_batch": [
        (1, sampled_shape),
        (1, sampled_classes),
        (1, sampled_instances),
        (1, sampled_query),
    ],
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
    "test_train": [(2, training_reaches_band), (1, training_moves_the_weights)],
    "test_evaluate": [
        (2, evaluate_mean),
        (1, evaluate_half_width),
        (1, evaluate_without_gradients),
    ],
}

# What the parts ask students to write: replaced by placeholders in the grading sandbox.
UNAVAILABLE = {
    "test_sample_batch": ["mtml_lib.data.homework_layout"],
    "test_make_batch": ["mtml_lib.data.homework_layout"],
    "test_mann": ["mtml_lib.models.blackbox"],
    "test_query_loss": ["mtml_lib.models.blackbox"],
    "test_train": ["mtml_lib.models.blackbox", "mtml_lib.data.homework_layout"],
}


def PREPARE():  # noqa: N802 - the grader interface's name
    """Run by the trusted side before grading: the Glyphs cache the sandbox reads."""
    from mtml_lib.data.glyphs import load_glyphs

    load_glyphs()
