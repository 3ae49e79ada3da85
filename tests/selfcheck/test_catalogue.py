"""The catalogue of known mistakes, per lab exercise: each notebook's solution passes its
self-check and a stub is "not yet"; plausible wrong solutions (an ignored argument, an input
changed in place, a wrong axis, an off-by-one, the population deviation where the sample one is
asked for, a constant, the library's own implementation) get `[wrong]` with a hint that names
the mistake; plausible correct variants (another order of random draws where the statement
allows it, the softmax inside or outside the gate, an equivalent formula) get `[ok]`.

A variant is an edit ``(old, new)`` of the notebook's own solution, or a whole source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from testkit.exercises import load_solution, load_source, stub

from mtml_lib.selfcheck import (
    blackbox_checks,
    challenge_checks,
    conditioning_checks,
    meta_checks,
    objective_checks,
    task_checks,
)

Variant = tuple[str, str] | str  # an edit of the solution, or a whole source


@dataclasses.dataclass(frozen=True)
class Exercise:
    notebook: str
    name: str
    check: Callable
    # (what the variant is, the variant)
    right: tuple[tuple[str, Variant], ...] = ()
    # (the kind of mistake, the variant, words the hint must contain)
    wrong: tuple[tuple[str, Variant, str], ...] = ()


LIBRARY = "the library's own"
IN_PLACE = "changed its argument"

TRAIN_CONCATENATED = """
def train_multitask(
    model, data, losses, weights, *, steps, tasks_per_step, batch_size, lr, generator
):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        chosen = torch.randperm(len(data), generator=generator)[:tasks_per_step].tolist()
        rows = {
            k: torch.randint(len(data[k][0]), (batch_size,), generator=generator) for k in chosen
        }
        x = torch.cat([data[k][0][rows[k]] for k in chosen])
        task_id = torch.cat([torch.full((batch_size,), k) for k in chosen])
        out = model(x, task_id)
        total = sum(
            weights[k] * losses[k](out[i * batch_size : (i + 1) * batch_size], data[k][1][rows[k]])
            for i, k in enumerate(chosen)
        )
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append(total.item())
    return history
"""

GATES = "self.gates = nn.ModuleList(nn.Linear(in_features, num_experts) for _ in range(num_tasks))"
SOFTMAX_GATES = (
    "self.gates = nn.ModuleList(\n"
    "            nn.Sequential(nn.Linear(in_features, num_experts), nn.Softmax(dim=-1))\n"
    "            for _ in range(num_tasks)\n"
    "        )"
)

EXERCISES = [
    Exercise(
        "01_tasks.ipynb",
        "make_multiple_of_3_task",
        task_checks.check_multiple_of_3_task,
        right=(
            (
                "labels from a membership test",
                (
                    "labels = (pool.labels % 3 == 0).long()",
                    "labels = torch.isin(pool.labels, torch.tensor([0, 3, 6, 9])).long()",
                ),
            ),
        ),
        wrong=(
            (
                "split ignored",
                ("load_digits_pool(split=split)", 'load_digits_pool(split="train")'),
                "make_task('test')",
            ),
            (
                "the digit's parity",
                ("pool.labels % 3 == 0", "pool.labels % 2 == 0"),
                "labels are wrong",
            ),
            ("regression loss", ("loss=T.CROSS_ENTROPY", "loss=T.MSE"), "should be CROSS_ENTROPY"),
            ("one output", ("out_features=2", "out_features=1"), "out_features=2"),
        ),
    ),
    Exercise(
        "01_tasks.ipynb",
        "train_multitask",
        task_checks.check_training_loop,
        right=(
            ("the chosen tasks visited in reverse", (".tolist()\n", ".tolist()[::-1]\n")),
            (
                "the chosen tasks visited in sorted order",
                (
                    "chosen = torch.randperm(len(data), generator=generator)[:tasks_per_step]"
                    ".tolist()",
                    "chosen = sorted(torch.randperm(len(data), generator=generator)"
                    "[:tasks_per_step].tolist())",
                ),
            ),
            ("every row drawn first, one forward pass for the step", TRAIN_CONCATENATED),
        ),
        wrong=(
            ("weights ignored", ("weights[k] * losses[k]", "losses[k]"), "weighted sum"),
            ("no optimizer step", ("optimizer.step()", "pass"), "one optimizer step per loop"),
            (
                "the global random state",
                ("torch.randperm(len(data), generator=generator)", "torch.randperm(len(data))"),
                "not from torch's global random state",
            ),
            (
                "the same tasks every step (an ignored draw)",
                (
                    "torch.randperm(len(data), generator=generator)[:tasks_per_step].tolist()",
                    "list(range(tasks_per_step))",
                ),
                "every step used the same tasks",
            ),
            (
                "the wrong task id",
                ("torch.full((batch_size,), k,", "torch.full((batch_size,), 0,"),
                "fill task_id with k",
            ),
            (
                "the mean over tasks returned instead of the sum",
                (
                    "history.append(float(total.detach()))",
                    "history.append(float(total.detach()) / 2)",
                ),
                "weighted sum",
            ),
            (
                "a constant",
                "def train_multitask(model, data, losses, weights, *, steps, **kwargs):\n"
                "    return [0.5] * steps\n",
                "was never called",
            ),
            (
                "the library",
                "def train_multitask(model, data, losses, weights, *, steps, **kwargs):\n"
                "    from mtml_lib.training.multitask_loop import fit\n"
                "    return fit(model, data, steps=steps)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "02_conditioning.ipynb",
        "MyFiLM",
        conditioning_checks.check_film_layer,
        right=(
            (
                "embedding tables",
                "class MyFiLM(nn.Module):\n"
                "    def __init__(self, num_tasks, features):\n"
                "        super().__init__()\n"
                "        self.scale = nn.Embedding(num_tasks, features)\n"
                "        self.shift = nn.Embedding(num_tasks, features)\n"
                "        nn.init.ones_(self.scale.weight)\n"
                "        nn.init.zeros_(self.shift.weight)\n"
                "    def forward(self, h, task_id):\n"
                "        return torch.addcmul(self.shift(task_id), self.scale(task_id), h)\n",
            ),
        ),
        wrong=(
            (
                "task id ignored",
                (
                    "self.gamma[task_id] * h + self.beta[task_id]",
                    "self.gamma[0] * h + self.beta[0]",
                ),
                "different tasks should use different gamma",
            ),
            (
                "input changed in place",
                (
                    "return self.gamma[task_id] * h + self.beta[task_id]",
                    "return h.mul_(self.gamma[task_id]).add_(self.beta[task_id])",
                ),
                IN_PLACE,
            ),
            (
                "not the identity at the start",
                ("torch.ones(num_tasks, features)", "torch.randn(num_tasks, features)"),
                "leave h unchanged",
            ),
            (
                "the library",
                "from mtml_lib.models.conditioning import FiLM\nclass MyFiLM(FiLM):\n    pass\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "02_conditioning.ipynb",
        "stack_as_multiplicative",
        conditioning_checks.check_multiplicative_stack,
        right=(
            (
                "concatenations and repeat_interleave",
                "def stack_as_multiplicative(U, a, V):\n"
                "    T, hidden, _ = U.shape\n"
                "    gates = torch.repeat_interleave(torch.eye(T), hidden, dim=1)\n"
                "    return torch.cat(list(U)), torch.cat(list(a)), torch.cat(list(V), 1), gates\n",
            ),
        ),
        wrong=(
            ("gates that do not silence", ("= 1.0  #", "= 0.5  #"), "differs from its own network"),
            (
                "blocks one unit off",
                (
                    "gates[t, t * hidden : (t + 1) * hidden]",
                    "gates[t, t * hidden : (t + 1) * hidden + 1]",
                ),
                "differs from its own network",
            ),
            (
                "V stacked on the wrong axis",
                ("torch.cat(list(V), dim=1)", "torch.cat(list(V), dim=0).reshape(V.shape[1], -1)"),
                "differs from its own network",
            ),
            (
                "input changed in place",
                ("b1 = a.reshape(T * hidden)", "b1 = a.reshape(T * hidden)\n    U.zero_()"),
                IN_PLACE,
            ),
        ),
    ),
    Exercise(
        "02_conditioning.ipynb",
        "CrossStitch",
        conditioning_checks.check_cross_stitch,
        right=(
            (
                "a matrix product over the flattened columns",
                (
                    'return torch.einsum("ts,sbf->tbf", self.alpha, h)',
                    "return (self.alpha @ h.flatten(1)).view_as(h)",
                ),
            ),
        ),
        wrong=(
            (
                "not the identity at the start",
                ("torch.eye(num_tasks)", "torch.ones(num_tasks, num_tasks)"),
                "leave every column",
            ),
            (
                "alpha transposed (wrong axis)",
                ('"ts,sbf->tbf"', '"st,sbf->tbf"'),
                "sum_s alpha[t, s]",
            ),
            (
                "alpha not learned",
                (
                    "self.alpha = nn.Parameter(torch.eye(num_tasks))",
                    "self.alpha = torch.eye(num_tasks)",
                ),
                "one learnable (3, 3) matrix",
            ),
            (
                "input changed in place",
                (
                    'return torch.einsum("ts,sbf->tbf", self.alpha, h)',
                    'return h.copy_(torch.einsum("ts,sbf->tbf", self.alpha, h))',
                ),
                IN_PLACE,
            ),
        ),
    ),
    Exercise(
        "03_objective.ipynb",
        "my_dwa_weights",
        objective_checks.check_dwa_weights,
        right=(
            (
                "the softmax written out",
                (
                    "return previous.numel() * torch.softmax(rates / temperature, dim=0)",
                    "w = torch.exp(rates / temperature)\n    return len(w) * w / w.sum()",
                ),
            ),
        ),
        wrong=(
            ("temperature ignored", ("rates / temperature", "rates / 2.0"), "the sum is right but"),
            (
                "the ratio upside down",
                ("previous / before_previous", "before_previous / previous"),
                "the sum is right but",
            ),
            ("not scaled by K", ("previous.numel() * ", ""), "sum to the number of tasks"),
            (
                "input changed in place",
                ("rates = previous / before_previous", "rates = previous.div_(before_previous)"),
                IN_PLACE,
            ),
            (
                "the library",
                "from mtml_lib.weighting.dwa import dwa_weights\n"
                "def my_dwa_weights(previous, before_previous, temperature):\n"
                "    return dwa_weights(previous, before_previous, temperature)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "03_objective.ipynb",
        "my_pcgrad",
        objective_checks.check_pcgrad,
        wrong=(
            ("projection without a conflict", ("if dot < 0:", "if True:"), "When g_i . g_j < 0"),
            (
                "projected against the projected gradient",
                ("@ grads[j]\n", "@ projected[j]\n"),
                "*original*",
            ),
            (
                "input changed in place (no copy)",
                ("projected = grads.clone()", "projected = grads"),
                IN_PLACE,
            ),
            (
                "the visiting order ignored",
                ("for j in orders[i]:", "for j in [j for j in range(len(grads)) if j != i]:"),
                "right for two tasks, wrong for",
            ),
            (
                "the library",
                "def my_pcgrad(grads, orders):\n"
                "    import mtml_lib.weighting.pcgrad as reference\n"
                "    return reference.pcgrad(grads)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "03_objective.ipynb",
        "my_pareto_front",
        objective_checks.check_pareto_front,
        right=(
            (
                "broadcast comparisons",
                "def my_pareto_front(losses):\n"
                "    no_worse = (losses[:, None] <= losses[None]).all(-1)\n"
                "    better = (losses[:, None] < losses[None]).any(-1)\n"
                "    return ~(no_worse & better).any(0)\n",
            ),
        ),
        wrong=(
            (
                "equal rows dominate",
                ("(losses[a] < losses[b]).any()", "True"),
                "equal rows do not dominate",
            ),
            (
                "strictly better on every task",
                (
                    "(losses[a] <= losses[b]).all() and (losses[a] < losses[b]).any()",
                    "(losses[a] < losses[b]).all()",
                ),
                "for the losses",
            ),
            (
                "input changed in place",
                (
                    "optimal = torch.ones(",
                    "losses -= losses.min(dim=0).values\n    optimal = torch.ones(",
                ),
                IN_PLACE,
            ),
            (
                "the library",
                "from mtml_lib import pareto\n"
                "def my_pareto_front(losses):\n"
                "    return pareto.pareto_optimal(losses)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "04_challenges.ipynb",
        "my_delta_m",
        challenge_checks.check_delta_m,
        right=(
            (
                "with torch tensors",
                "def my_delta_m(multi_task, single_task, higher_is_better):\n"
                "    m, s = torch.tensor(multi_task), torch.tensor(single_task)\n"
                "    sign = torch.tensor([1.0 if h else -1.0 for h in higher_is_better])\n"
                "    return float((sign * (m - s) / s).mean())\n",
            ),
        ),
        wrong=(
            (
                "sign flipped",
                ("(1 if higher else -1)", "(-1 if higher else 1)"),
                "the sign is flipped",
            ),
            (
                "relative to the multi-task value",
                ("(m - s) / s", "(m - s) / m"),
                "Average the relative",
            ),
            (
                "sum instead of average",
                ("sum(terms) / len(terms)", "sum(terms)"),
                "Average the relative",
            ),
            (
                "input changed in place",
                ("terms = [", "multi_task.sort()\n    terms = ["),
                IN_PLACE,
            ),
            (
                "the library",
                "from mtml_lib.metrics import delta_m\n"
                "def my_delta_m(multi_task, single_task, higher_is_better):\n"
                "    return delta_m(multi_task, single_task, higher_is_better=higher_is_better)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "04_challenges.ipynb",
        "my_affinity",
        challenge_checks.check_affinity,
        wrong=(
            (
                "parameters not restored",
                ("p.copy_(original)  # back to theta", "pass"),
                "restored exactly",
            ),
            (
                "the ratio upside down",
                ("1.0 - losses_fn() / before", "losses_fn() / before - 1.0"),
                "expected",
            ),
            ("lr ignored", ("original - lr * g", "original - 0.05 * g"), "the same for lr = 0.05"),
            (
                "the library",
                "from mtml_lib.metrics import task_affinity\n"
                "def my_affinity(losses_fn, shared, lr):\n"
                "    return task_affinity(losses_fn, shared, lr=lr)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "04_challenges.ipynb",
        "MyMMoELayer",
        challenge_checks.check_mmoe_layer,
        right=(
            (
                "the softmax inside each gate",
                (
                    GATES,
                    SOFTMAX_GATES,
                ),
                ("torch.softmax(gate(x[rows]), dim=-1)", "gate(x[rows])"),
            ),
            (
                "every gate on every row, then each row's own",
                (
                    "        out = x.new_zeros(x.shape[0], outputs.shape[-1])\n",
                    "        every = torch.stack([torch.softmax(g(x), -1) for g in self.gates])\n"
                    "        mine = every[task_id, torch.arange(len(x))]\n"
                    "        return torch.einsum('be,beh->bh', mine, outputs)\n"
                    "        out = x.new_zeros(x.shape[0], outputs.shape[-1])\n",
                ),
            ),
        ),
        wrong=(
            ("one task's gate for every row", ("gate(x[rows])", "self.gates[0](x[rows])"), "task"),
            (
                "softmax over the rows (wrong axis)",
                ("dim=-1)  # (rows, E)", "dim=0)  # (rows, E)"),
                "mix the experts",
            ),
            (
                "the softmax applied twice",
                (
                    GATES,
                    SOFTMAX_GATES,
                ),
                "the softmax applied once",
            ),
            (
                "num_experts ignored",
                ("for _ in range(num_experts)", "for _ in range(3)"),
                "experts and one gate per task",
            ),
            (
                "the library",
                "from mtml_lib.models.conditioning import MixtureOfExperts\n"
                "class MyMMoELayer(MixtureOfExperts):\n    pass\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "05_meta_learning.ipynb",
        "my_nearest_neighbour",
        meta_checks.check_nearest_neighbour,
        right=(
            (
                "squared distances written out",
                "def my_nearest_neighbour(support_x, support_y, query_x):\n"
                "    q, s = query_x.flatten(2), support_x.flatten(2)\n"
                "    d = (q**2).sum(-1)[..., None] - 2 * q @ s.transpose(1, 2)\n"
                "    d = d + (s**2).sum(-1)[:, None]\n"
                "    return support_y.gather(1, d.argmin(-1))\n",
            ),
        ),
        wrong=(
            (
                "the support index, not its label",
                ("support_y.gather(1, distances.argmin(dim=2))", "distances.argmin(dim=2)"),
                "got another label",
            ),
            (
                "the farthest image",
                ("distances.argmin(dim=2)", "distances.argmax(dim=2)"),
                "got another label",
            ),
            (
                "the library",
                "from mtml_lib.models import baselines\n"
                "def my_nearest_neighbour(support_x, support_y, query_x):\n"
                "    return baselines.nearest_neighbour(support_x, support_y, query_x)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "05_meta_learning.ipynb",
        "my_episode",
        meta_checks.check_episode,
        right=(
            (
                "the query instances drawn first",
                ("images[c, picks[:k_shot]]", "images[c, picks[n_query:]]"),
                ("images[c, picks[k_shot:]]", "images[c, picks[:n_query]]"),
            ),
        ),
        wrong=(
            (
                "one instance repeated",
                ("[: k_shot + n_query]", "[:1].repeat(k_shot + n_query)"),
                "an image appears twice",
            ),
            (
                "the same classes every episode",
                (
                    "torch.randperm(images.shape[0], generator=generator)[:n_way]",
                    "torch.arange(n_way)",
                ),
                "every episode draws the same classes",
            ),
            (
                "labels in the classes' order",
                ("[:n_way]\n", "[:n_way].sort().values\n"),
                "follow the classes' order",
            ),
            (
                "support and query overlap (off by one)",
                ("picks[k_shot:]", "picks[k_shot - 1 : -1]"),
                "an image appears twice",
            ),
            (
                "the library",
                "from mtml_lib.data.episodes import EpisodeSampler\n"
                "def my_episode(images, n_way, k_shot, n_query, generator):\n"
                "    sampler = EpisodeSampler(images, n_way=n_way, k_shot=k_shot,\n"
                "                             n_query=n_query)\n"
                "    return sampler.sample()\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "05_meta_learning.ipynb",
        "my_meta_test",
        meta_checks.check_meta_test,
        wrong=(
            (
                "n counts batches, not episodes",
                ("len(accuracies) ** 0.5", "len(batches) ** 0.5"),
                "the half-width is",
            ),
            (
                "the population deviation",
                ("accuracies.std()", "accuracies.std(correction=0)"),
                "divides by n - 1",
            ),
            (
                "the library",
                "from mtml_lib.training.meta_loop import meta_test\n"
                "def my_meta_test(predict, batches):\n"
                "    return meta_test(predict, batches)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "06_black_box_adaptation.ipynb",
        "my_sequence_input",
        blackbox_checks.check_sequence_input,
        right=(
            (
                "a copy with its last row zeroed",
                "def my_sequence_input(images, labels):\n"
                "    B, rows, N, P = images.shape\n"
                "    shown = labels.clone()\n"
                "    shown[:, -1] = 0\n"
                "    return torch.cat([images, shown], -1).reshape(B, rows * N, P + N)\n",
            ),
        ),
        wrong=(
            (
                "the labels zeroed in place",
                "def my_sequence_input(images, labels):\n"
                "    B, rows, N, P = images.shape\n"
                "    labels[:, -1] = 0\n"
                "    return torch.cat([images, labels], -1).reshape(B, rows * N, P + N)\n",
                IN_PLACE,
            ),
            (
                "the query labels shown",
                ("torch.zeros_like(labels[:, -1:])", "labels[:, -1:]"),
                "must be zeroed",
            ),
            (
                "labels before images (wrong axis order)",
                ("torch.cat([images, shown], dim=-1)", "torch.cat([shown, images], dim=-1)"),
                "first 784 features",
            ),
            (
                "the library",
                "from mtml_lib.models.blackbox.memory import LSTMMemory\n"
                "def my_sequence_input(images, labels):\n"
                "    return LSTMMemory(n_way=labels.shape[-1]).forward_layout(images, labels)\n",
                LIBRARY,
            ),
        ),
    ),
    Exercise(
        "06_black_box_adaptation.ipynb",
        "MySetLearner",
        blackbox_checks.check_set_learner,
        right=(
            (
                "the sum over the count",
                (
                    "codes.mean(dim=1, keepdim=True)",
                    "codes.sum(dim=1, keepdim=True) / codes.shape[1]",
                ),
            ),
        ),
        wrong=(
            (
                "the first code only",
                ("codes.mean(dim=1, keepdim=True)", "codes[:, :1]"),
                "order of the support set",
            ),
            (
                "the sum, not the average",
                ("codes.mean(dim=1, keepdim=True)", "codes.sum(dim=1, keepdim=True)"),
                "average",
            ),
            (
                "the library",
                "from mtml_lib.models.blackbox.cnp import CNPClassifier\n"
                "class MySetLearner(CNPClassifier):\n"
                "    def __init__(self, n_way, features, hidden):\n"
                "        super().__init__(n_way=n_way)\n",
                LIBRARY,
            ),
        ),
    ),
]


def verdict(capsys, check, candidate) -> str:
    check(candidate)
    return capsys.readouterr().out.strip()


def build(exercise: Exercise, variant):
    """The solution with the variant's edits applied, or the variant's own source."""
    if isinstance(variant, str):
        return load_source(variant, exercise.name)
    edits = variant if isinstance(variant[0], tuple) else (variant,)
    return load_solution(exercise.notebook, exercise.name, edits=edits)


IDS = [e.name for e in EXERCISES]


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_the_solution_passes_and_a_stub_is_not_yet(capsys, exercise):
    solution = load_solution(exercise.notebook, exercise.name)
    assert verdict(capsys, exercise.check, solution).startswith("[ok]")
    if exercise.name[0].isupper():  # a class: its constructor is the stub

        class Stub(solution.__mro__[1]):
            def __init__(self, *args, **kwargs):
                stub()

        assert verdict(capsys, exercise.check, Stub).startswith("[not yet]")
    else:
        assert verdict(capsys, exercise.check, stub).startswith("[not yet]")


RIGHT = [(e, what, v) for e in EXERCISES for what, *v in e.right]
WRONG = [(e, kind, v, words) for e in EXERCISES for kind, v, words in e.wrong]


@pytest.mark.parametrize(
    "exercise, what, variant", RIGHT, ids=[f"{e.name}: {what}" for e, what, _ in RIGHT]
)
def test_a_correct_variant_passes(capsys, exercise, what, variant):
    variant = variant[0] if len(variant) == 1 else tuple(variant)
    said = verdict(capsys, exercise.check, build(exercise, variant))
    assert said.startswith("[ok]"), (what, said)


@pytest.mark.parametrize(
    "exercise, kind, variant, words",
    WRONG,
    ids=[f"{e.name}: {kind}" for e, kind, _, _ in WRONG],
)
def test_a_known_mistake_is_named(capsys, exercise, kind, variant, words):
    said = verdict(capsys, exercise.check, build(exercise, variant))
    assert said.startswith("[wrong]") and words in said, (kind, said)


def test_every_exercise_of_the_labs_is_in_the_catalogue():
    """Each self-checked mechanism of a lab has its entry, with mistakes of several kinds."""
    from testkit.exercises import checked_exercises

    assert {(e.notebook, e.name) for e in EXERCISES} == checked_exercises()
    for exercise in EXERCISES:
        assert len(exercise.wrong) >= 2, exercise.name
        has_library_entry = any(what == "the library" for what, *_ in exercise.wrong)
        assert has_library_entry == (exercise.name not in NOTHING_IN_THE_LIBRARY), exercise.name


# What the library does not implement, so a solution cannot hand it in.
NOTHING_IN_THE_LIBRARY = {"make_multiple_of_3_task", "stack_as_multiplicative", "CrossStitch"}
