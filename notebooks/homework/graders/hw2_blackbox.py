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
BUILT_SEED = 6131  # part 5: train(steps=0) at this seed returns the model as built there


def _drawn_from_generator(sample, inputs):
    """Whether ``sample(generator)`` draws its randomness from the generator alone and leaves its
    inputs as they were: the same generator seed gives the same batch whatever the global seed,
    another generator seed another batch. ``inputs``: the tensors it is given."""
    import torch

    before = [t.clone() for t in inputs]
    batches = []
    for seed_of_torch, seed in ((0, 5), (1, 5), (0, 6)):
        torch.manual_seed(seed_of_torch)
        batches.append(sample(torch.Generator().manual_seed(seed)))

    def same(a, b):
        return all(torch.equal(x, y) for x, y in zip(a, b))

    return {
        "reproducible": same(batches[0], batches[1]),
        "varies": not same(batches[0], batches[2]),
        "unchanged": all(torch.equal(a, b) for a, b in zip(before, inputs)),
    }


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
    query_classes = (episode.query_x[:, :, 0, 0, 0] * 100).round()
    drawn = _drawn_from_generator(
        lambda generator: ns["make_batch"](episode, generator),
        [episode.support_x, episode.support_y, episode.query_x, episode.query_y],
    )
    images, labels = ns["make_batch"](episode, torch.Generator().manual_seed(0))
    return {
        "classes": (images[..., 0] * 100).round(),
        "instances": (images[..., 1] * 100).round(),
        "labels": labels,
        "images_shape": list(images.shape),
        "query_classes_by_label": query_classes,
        "drawn": drawn,
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
    given = labels.clone()
    base = model(images, labels).detach()
    unchanged = torch.equal(labels, given)  # a forward that hides the queries in place fails
    labels = given
    query = labels.clone()
    query[:, -1] = torch.roll(query[:, -1], 1, dims=-1)
    support = labels.clone()
    support[:, 0] = torch.roll(support[:, 0], 1, dims=-1)
    last = labels.clone()  # the last class's first support label only: every query must see it
    last[:, 0, -1] = torch.roll(last[:, 0, -1], 1, dims=-1)
    reach = (model(images, last).detach() - base)[:, -1].abs().amax(dim=(0, 2))  # (N,)
    later = images.clone()  # another second query: the first query's prediction must not move
    later[:, -1, 1] = torch.rand(4, 784, generator=g)
    ahead = float((model(later, labels).detach() - base)[:, -1, 0].abs().max())
    return {
        "base": base,
        "query_changed": model(images, query).detach(),
        "support_changed": model(images, support).detach(),
        "parameters": sorted(p.numel() for p in model.parameters()),
        "labels_unchanged": unchanged,
        "query_reach": reach,
        "sees_ahead": ahead,
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

    marks = torch.arange(10 * 6, dtype=torch.float32).view(10, 6, 1, 1).repeat(1, 1, 28, 28)
    drawn = _drawn_from_generator(
        lambda generator: ns["sample_batch"](marks, 8, 3, 3, generator), [marks]
    )
    images, labels = ns["sample_batch"](marks, 40, 3, 3, torch.Generator().manual_seed(1))
    return {
        "images_shape": list(images.shape),
        "ids": images[..., 0].round(),  # class * 6 + instance, of every image
        "labels": labels,
        "drawn": drawn,
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


def _same_weights(a, b):
    import torch

    mine, theirs = a.state_dict(), b.state_dict()
    return mine.keys() == theirs.keys() and all(
        mine[k].shape == theirs[k].shape and torch.equal(mine[k], theirs[k]) for k in mine
    )


def _episodes_drawn(ns, seed):
    """The (n_way, k_shot, n_query) of the samplers one step of ``train(num_classes=3,
    k_shot=2)`` builds (the sampler class is watched while it runs)."""
    real, made = ns.get("EpisodeSampler"), []

    def watched(*args, **kwargs):
        sampler = real(*args, **kwargs)
        made.append((sampler.n_way, sampler.k_shot, sampler.n_query))
        return sampler

    ns["EpisodeSampler"] = watched
    try:
        ns["train"](num_classes=3, steps=1, seed=seed, k_shot=2)
    finally:
        ns["EpisodeSampler"] = real
    return made


def probe_train(ns):
    import torch

    model = ns["train"](num_classes=2, steps=TRAIN_STEPS, seed=TRAIN_SEED)
    # the model train() starts from, as part 5's text builds it, of the class train() returned
    torch.manual_seed(TRAIN_SEED)
    untrained = type(model)(num_classes=2, samples_per_class=2)
    test_set = _glyphs_test_set()
    # steps=0: the model as built at the seed, with the ways and shots asked for
    built = ns["train"](num_classes=3, steps=0, seed=BUILT_SEED, k_shot=2)
    torch.manual_seed(BUILT_SEED)
    follows = _same_weights(built, type(model)(num_classes=3, samples_per_class=3))
    follows = follows and getattr(built, "samples_per_class", None) == 3
    follows = follows and _episodes_drawn(ns, BUILT_SEED) == [(3, 2, 1)]
    return {
        "accuracy": _accuracy(model, test_set),
        "untrained": _accuracy(untrained, test_set),
        "moved": not _same_weights(model, untrained),
        "follows_arguments": bool(follows),
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


def _generator_only(got, what):
    drawn = got["drawn"]
    ok = drawn["reproducible"] is True and drawn["varies"] is True and drawn["unchanged"] is True
    return ok, _(
        "{what}: every random draw from the generator it is given (the same generator seed gives "
        "the same batch whatever the global seed; another seed, another batch), and its inputs "
        "left as they were"
    ).format(what=what)


def make_batch_generator(got, ref):
    return _generator_only(got, "make_batch")


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
    ok = got["labels_unchanged"] is True and close(got["base"], got["query_changed"], 1e-6)
    return ok, _(
        "the query labels must not reach the model, and the labels passed in stay as they were "
        "(hide the queries in a copy)"
    )


def mann_reads_support_labels(got, ref):
    last = lambda x: [episode[-1] for episode in x]  # noqa: E731
    ok = not close(last(got["base"]), last(got["support_changed"]), 1e-4)
    ok = ok and len(got["query_reach"]) == 3 and all(gap > 1e-7 for gap in got["query_reach"])
    ok = ok and got["sees_ahead"] == 0.0
    return ok, _(
        "the support labels must reach the model; every query's prediction sees every support "
        "image and label and none of the queries after it (the sequence runs row after row)"
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


def _learned(got):
    return got["accuracy"] - got["untrained"] > UNTRAINED_GAP


def training_moves_the_weights(got, ref):
    return got["moved"] is True and _learned(got), _(
        "training changed the model's weights from their values at the seed, and the change is "
        "what lifts its accuracy"
    )


def training_follows_its_arguments(got, ref):
    return got["follows_arguments"] is True and _learned(got), _(
        "train(num_classes=3, steps=0, seed=s, k_shot=2) returns the MANN built at seed s with 3 "
        "classes and 3 samples per class, untouched, and its steps draw 3-way 2-shot episodes "
        "(and training lifts the accuracy)"
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


def sampled_from_generator(got, ref):
    return _generator_only(got, "sample_batch")


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
        _(
            "the half-width 1.96 * s / sqrt(episodes), s the sample standard deviation (n - 1) of "
            "the per-episode accuracies"
        )
    )


def evaluate_without_gradients(got, ref):
    return got["calls"] > 0 and not got["grad_seen"], _("predict with gradients off")


CHECKS = {
    "test_sample_batch": [
        (1, sampled_shape),
        (1, sampled_classes),
        (1, sampled_instances),
        (0.5, sampled_query),
        (0.5, sampled_from_generator),
    ],
    "test_make_batch": [
        (0.5, layout_shape),
        (0.5, labels_one_hot_in_order),
        (1, support_consistent),
        (0.5, query_row),
        (0.5, make_batch_generator),
    ],
    "test_mann": [
        (1, mann_shape),
        (1, mann_size),
        (1, mann_hides_query_labels),
        (1, mann_reads_support_labels),
    ],
    "test_query_loss": [(1, loss_value), (1, loss_ignores_support)],
    "test_train": [
        (2, training_reaches_band),
        (0.5, training_moves_the_weights),
        (0.5, training_follows_its_arguments),
    ],
    "test_evaluate": [
        (2, evaluate_mean),
        (1, evaluate_half_width),
        (1, evaluate_without_gradients),
    ],
}

# What the parts ask students to write: replaced by placeholders in the grading sandbox.
UNAVAILABLE = {
    "test_sample_batch": ["mtml_lib.data.sequence_layout"],
    "test_make_batch": ["mtml_lib.data.sequence_layout"],
    "test_mann": ["mtml_lib.models.blackbox"],
    "test_query_loss": ["mtml_lib.models.blackbox"],
    "test_train": ["mtml_lib.models.blackbox", "mtml_lib.data.sequence_layout"],
}


def PREPARE():  # noqa: N802 - the grader interface's name
    """Run by the trusted side before grading: the Glyphs cache the sandbox reads."""
    from mtml_lib.data.glyphs import load_glyphs

    load_glyphs()
