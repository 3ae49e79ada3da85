"""The catalogue of known mistakes, per homework part, against the trusted grader: the solution
earns the part's points; plausible wrong answers (an ignored argument, an input changed in place, a
wrong axis, an off-by-one in the episode layout, the population deviation where the sample one is
asked for, numbers instead of a run, a classmate's seed) lose points with feedback that names the
mistake; plausible correct variants (another order of random draws where the text allows it, the
softmax inside or outside the gate, an equivalent formula) earn every point.

Each entry replaces one answer cell of the source notebook (an edit ``(old, new)`` of the
solution, several edits, or a whole source), runs the notebook's code and the part's probe here,
as the sandbox would, and scores it with the grader's checks. That the same holds inside the
sandbox, for whole submissions, is tests/course/test_pipeline.py's.
"""

from __future__ import annotations

import dataclasses

import pytest
from testkit.homework import (
    COPIED_4,
    COPIED_6,
    PIXEL_MEMORY,
    part_score,
    probe,
    solution,
    student_id_cell,
    with_edits,
)

pytestmark = pytest.mark.slow

HW1, HW2 = "hw1_multitask", "hw2_blackbox"
ME, CLASSMATE = "kim.minji", "lee.jiwoo"


@dataclasses.dataclass(frozen=True)
class Entry:
    assignment: str
    part: str  # the test cell's grade id
    what: str
    cell: str  # the answer cell the variant replaces
    variant: tuple | str  # (old, new), a tuple of them, or a whole source
    words: str | None = None  # a mistake: words its feedback must contain; None: a correct variant
    student: str = ""  # the id the submission is filed under, and written in STUDENT_ID

    def answers(self) -> dict[str, str]:
        if isinstance(self.variant, str):
            text = self.variant
        else:
            edits = self.variant if isinstance(self.variant[0], tuple) else (self.variant,)
            text = with_edits(solution(self.assignment, self.cell), edits)
        answers = {self.cell: text}
        if self.student and self.cell != "student-id":
            answers["student-id"] = student_id_cell(self.assignment, self.student)
        if self.assignment == HW1 and self.part != "test_experiment":
            answers["run-experiment"] = ""  # part 4's run: only part 4's probe reads it
        return answers


def right(assignment, part, what, cell, variant, **kwargs):
    return Entry(assignment, part, what, cell, variant, None, **kwargs)


def wrong(assignment, part, what, cell, variant, words, **kwargs):
    return Entry(assignment, part, what, cell, variant, words, **kwargs)


# --- HW1 ------------------------------------------------------------------------------------

HEADS_LOOP = """        out = features.new_zeros(x.shape[0], self.heads[0].out_features)
        for task, head in enumerate(self.heads):
            rows = task_id == task
            out[rows] = head(features[rows])
        return out"""
HEADS_BATCHED = """\
        weight = torch.stack([h.weight for h in self.heads])[task_id]  # (B, out, H)
        bias = torch.stack([h.bias for h in self.heads])[task_id]  # (B, out)
        return torch.einsum("boh,bh->bo", weight, features) + bias"""
HEADS_MASKED = """        return sum(
            (task_id == t).float()[:, None] * head(features) for t, head in enumerate(self.heads)
        )"""
FILM_EMBEDDINGS = """class FiLMModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, hidden=64):
        super().__init__()
        self.layer1 = nn.Linear(in_features, hidden)
        self.layer2 = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, out_features)
        self.film = nn.ModuleList(nn.Embedding(num_tasks, hidden) for _ in range(4))
        for table, start in zip(self.film, (1.0, 0.0, 1.0, 0.0)):
            nn.init.constant_(table.weight, start)

    def forward(self, x, task_id):
        gamma1, beta1, gamma2, beta2 = (table(task_id) for table in self.film)
        h = torch.relu(gamma1 * self.layer1(x) + beta1)
        h = torch.relu(gamma2 * self.layer2(h) + beta2)
        return self.output(h)

    def task_parameters(self):
        return [table.weight for table in self.film]

    def shared_parameters(self):
        task = {id(p) for p in self.task_parameters()}
        return [p for p in self.parameters() if id(p) not in task]
"""
GATES = "nn.ModuleList(nn.Linear(in_features, num_experts) for _ in range(num_tasks))"
SOFTMAX_GATES = (
    "nn.ModuleList(\n            nn.Sequential(nn.Linear(in_features, num_experts), "
    "nn.Softmax(dim=-1))\n            for _ in range(num_tasks)\n        )"
)
GATE_WEIGHTS = """        logits = torch.stack([gate(x) for gate in self.gates], dim=1)  # (B, T, E)
        mine = logits[torch.arange(x.shape[0]), task_id]  # (B, E): each row's own task
        return torch.softmax(mine, dim=-1)"""
GATES_ROW_BY_ROW = """        return torch.stack(
            [torch.softmax(self.gates[int(t)](row), dim=-1) for row, t in zip(x, task_id)]
        )"""
MMOE_SOFTMAX = "return torch.softmax(mine, dim=-1)"
SOFTMAX_LINE = "torch.softmax(mine, dim=-1)"
ONE_STEP = "torch.manual_seed(seed)\n        model = model_class("

HW1_ENTRIES = [
    # part 1
    right(
        HW1,
        "test_multihead",
        "heads as one batched product",
        "multihead",
        (HEADS_LOOP, HEADS_BATCHED),
    ),
    right(
        HW1,
        "test_multihead",
        "every head on every row, masked",
        "multihead",
        (HEADS_LOOP, HEADS_MASKED),
    ),
    wrong(
        HW1,
        "test_multihead",
        "every row through the first head (task_id ignored)",
        "multihead",
        ("out[rows] = head(features[rows])", "out[rows] = self.heads[0](features[rows])"),
        "only that task's own head",
    ),
    wrong(
        HW1,
        "test_multihead",
        "the heads among the shared parameters",
        "multihead",
        ("return list(self.trunk.parameters())", "return list(self.parameters())"),
        "exactly the two-layer trunk",
    ),
    wrong(
        HW1,
        "test_multihead",
        "features centred over the batch",
        "multihead",
        (
            "features = self.trunk(x)",
            "features = self.trunk(x)\n        features = features - features.mean(0)",
        ),
        "must not depend on the rest of the batch",
    ),
    # part 2
    right(HW1, "test_film", "gamma and beta as embeddings", "film", FILM_EMBEDDINGS),
    right(
        HW1,
        "test_film",
        "the modulation with addcmul",
        "film",
        (
            "torch.relu(self.gamma1[task_id] * self.layer1(x) + self.beta1[task_id])",
            "torch.relu(torch.addcmul(self.beta1[task_id], self.gamma1[task_id], self.layer1(x)))",
        ),
    ),
    wrong(
        HW1,
        "test_film",
        "one gamma and beta for every task (task_id ignored)",
        "film",
        (
            "h = torch.relu(self.gamma1[task_id] * self.layer1(x) + self.beta1[task_id])",
            "h = torch.relu(self.gamma1[0] * self.layer1(x) + self.beta1[0])",
        ),
        "act on its own task's rows",
    ),
    wrong(
        HW1,
        "test_film",
        "beta added after the ReLU",
        "film",
        (
            "torch.relu(self.gamma2[task_id] * self.layer2(h) + self.beta2[task_id])",
            "torch.relu(self.gamma2[task_id] * self.layer2(h)) + self.beta2[task_id]",
        ),
        "inside the ReLU",
    ),
    wrong(
        HW1,
        "test_film",
        "gamma started at 0",
        "film",
        (
            "self.gamma1 = nn.Parameter(torch.ones(num_tasks, hidden))",
            "self.gamma1 = nn.Parameter(torch.zeros(num_tasks, hidden))",
        ),
        "gamma = 1 and beta = 0 at the start",
    ),
    wrong(
        HW1,
        "test_film",
        "one gamma shared by the tasks",
        "film",
        (
            (
                "self.gamma2 = nn.Parameter(torch.ones(num_tasks, hidden))",
                "self.gamma2 = nn.Parameter(torch.ones(1, hidden))",
            ),
            ("self.gamma2[task_id]", "self.gamma2[0]"),
        ),
        "four tensors of shape (num_tasks, hidden)",
    ),
    # part 3
    right(
        HW1,
        "test_uncertainty",
        "divided by twice the variance",
        "uncertainty",
        ("0.5 * torch.exp(-s) * losses", "losses / (2 * torch.exp(s))"),
    ),
    right(
        HW1,
        "test_uncertainty",
        "s as an nn.Parameter",
        "uncertainty",
        (
            "torch.zeros(num_tasks, requires_grad=True)",
            "torch.nn.Parameter(torch.zeros(num_tasks))",
        ),
    ),
    wrong(
        HW1,
        "test_uncertainty",
        "the factors 1/2 dropped",
        "uncertainty",
        ("(0.5 * torch.exp(-s) * losses + 0.5 * s)", "(torch.exp(-s) * losses + s)"),
        "the objective follows the formula",
    ),
    wrong(
        HW1,
        "test_uncertainty",
        "weights that keep their gradient (missing detach)",
        "uncertainty",
        (
            "return (0.5 * torch.exp(-self.log_variance)).detach()",
            "return 0.5 * torch.exp(-self.log_variance)",
        ),
        "loss_weights() and the training loop's combine()",
    ),
    wrong(
        HW1,
        "test_uncertainty",
        "s not trainable",
        "uncertainty",
        ("torch.zeros(num_tasks, requires_grad=True)", "torch.zeros(num_tasks)"),
        "is trainable",
    ),
    wrong(
        HW1,
        "test_uncertainty",
        "the losses detached in the objective",
        "uncertainty",
        ("0.5 * torch.exp(-s) * losses", "0.5 * torch.exp(-s) * losses.detach()"),
        "gradients with respect to s and to the losses",
    ),
    # part 4
    right(
        HW1,
        "test_experiment",
        "at the student's own seed",
        "experiment",
        ("results = {}", "results = {}"),
        student=ME,
    ),
    right(
        HW1,
        "test_experiment",
        "the models trained in the other order",
        "experiment",
        (
            '(("multihead", MultiHeadModel), ("film", FiLMModel))',
            '(("film", FiLMModel), ("multihead", MultiHeadModel))',
        ),
        student=ME,
    ),
    right(
        HW1,
        "test_experiment",
        "the mean taken by torch",
        "experiment",
        (
            "float(sum(history.final_metrics) / len(history.final_metrics))",
            "float(torch.tensor(history.final_metrics).mean())",
        ),
        student=ME,
    ),
    wrong(
        HW1,
        "test_experiment",
        "steps ignored",
        "experiment",
        ("steps=steps,", "steps=600,"),
        "the grader's own run of part 4's protocol",
        student=ME,
    ),
    wrong(
        HW1,
        "test_experiment",
        "seed ignored",
        "experiment",
        ("torch.manual_seed(seed)", "torch.manual_seed(0)"),
        "your own run",
        student=ME,
    ),
    wrong(
        HW1,
        "test_experiment",
        "tested on the noisy tasks",
        "experiment",
        (
            "truth = related_sinusoids(4, relatedness=-0.5, noise=0.0)",
            "truth = related_sinusoids(4, relatedness=-0.5)",
        ),
        "the grader's own run of part 4's protocol",
        student=ME,
    ),
    wrong(
        HW1,
        "test_experiment",
        "numbers instead of a run",
        "experiment",
        COPIED_4,
        "your own run",
        student=ME,
    ),
    wrong(
        HW1,
        "test_experiment",
        "a classmate's id in STUDENT_ID",
        "student-id",
        student_id_cell(HW1, CLASSMATE),
        "which STUDENT_ID must hold",
        student=ME,
    ),
    # part 5
    right(
        HW1,
        "test_mmoe",
        "the softmax inside the gate module",
        "mmoe",
        ((GATES, SOFTMAX_GATES), (MMOE_SOFTMAX, "return mine")),
    ),
    right(HW1, "test_mmoe", "the gates row by row", "mmoe", (GATE_WEIGHTS, GATES_ROW_BY_ROW)),
    wrong(
        HW1,
        "test_mmoe",
        "no softmax",
        "mmoe",
        (MMOE_SOFTMAX, "return mine"),
        "softmax of its own task's gate",
    ),
    wrong(
        HW1,
        "test_mmoe",
        "the softmax over the batch (wrong axis)",
        "mmoe",
        (SOFTMAX_LINE, "torch.softmax(mine, dim=0)"),
        "softmax of its own task's gate",
    ),
    wrong(
        HW1,
        "test_mmoe",
        "every row through the first gate",
        "mmoe",
        ("mine = logits[torch.arange(x.shape[0]), task_id]", "mine = logits[:, 0]"),
        "softmax of its own task's gate",
    ),
    wrong(
        HW1,
        "test_mmoe",
        "the experts averaged, not gated",
        "mmoe",
        (
            "mixed = (self.gate_weights(x, task_id)[:, :, None] * experts).sum(dim=1)",
            "mixed = experts.mean(dim=1)",
        ),
        "gate-weighted sum of the experts",
    ),
    wrong(
        HW1,
        "test_mmoe",
        "experts without their ReLU",
        "mmoe",
        (
            "nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())",
            "nn.Linear(in_features, hidden)",
        ),
        "each expert relu(W x + b)",
    ),
    wrong(
        HW1,
        "test_mmoe",
        "every row through the first tower",
        "mmoe",
        ("out[rows] = tower(mixed[rows])", "out[rows] = self.towers[0](mixed[rows])"),
        "the row's tower applied",
    ),
    # part 6
    right(
        HW1,
        "test_recommender",
        "the MMoE trained before the shared bottom",
        "recommender",
        (
            '(("shared-bottom", MultiHeadModel), ("mmoe", MMoEModel))',
            '(("mmoe", MMoEModel), ("shared-bottom", MultiHeadModel))',
        ),
    ),
    wrong(
        HW1,
        "test_recommender",
        "the like weight put on the click objective",
        "recommender",
        (
            "train_and_test(model_class, train, test, [1.0, w])",
            "train_and_test(model_class, train, test, [w, 1.0])",
        ),
        "like AUC within",
    ),
    wrong(
        HW1,
        "test_recommender",
        "like_weights ignored",
        "recommender",
        ("for w in like_weights", "for w in (0.0, 0.25, 1.0, 4.0)"),
        "the returned dict",
    ),
    wrong(
        HW1,
        "test_recommender",
        "models not seeded one by one",
        "recommender",
        (ONE_STEP, "model = model_class("),
        "the grader's run",
    ),
    wrong(
        HW1,
        "test_recommender",
        "a table of numbers instead of a run",
        "recommender",
        COPIED_6,
        "from a run of the stated protocol",
    ),
]

# --- HW2 ------------------------------------------------------------------------------------

CLASSES_FIRST = """def sample_batch(images, batch_size, num_classes, num_samples, generator):
    C, I = images.shape[:2]
    B, N, K1 = batch_size, num_classes, num_samples
    classes = torch.stack([torch.randperm(C, generator=generator)[:N] for _ in range(B)])
    picks = torch.stack(  # (B, N, K+1)
        [torch.stack([torch.randperm(I, generator=generator)[:K1] for _ in range(N)])
         for _ in range(B)]
    )
    chosen = images[classes[:, :, None], picks].reshape(B, N, K1, -1)  # (B, N, K+1, 784)
    out = chosen.transpose(1, 2).clone()  # (B, K+1, N, 784)
    labels = torch.arange(N).expand(B, K1, N).clone()
    order = torch.stack([torch.randperm(N, generator=generator) for _ in range(B)])  # (B, N)
    out[:, -1] = out[:, -1].gather(1, order[..., None].expand(-1, -1, out.shape[-1]))
    labels[:, -1] = order
    return out, F.one_hot(labels, N).float()
"""
QUERY_LINES = (
    "    query = episode.query_x.reshape(B, N, 784)"
    ".gather(1, order[..., None].expand(-1, -1, 784))\n"
    "    query_labels = episode.query_y.gather(1, order)"
)
QUERY_IN_PLACE = """    episode.query_x.copy_(episode.query_x[torch.arange(B)[:, None], order])
    query = episode.query_x.reshape(B, N, 784)
    query_labels = episode.query_y.gather(1, order)"""
HIDE = "shown = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)"
STATISTICS = """    import statistics

    values = accuracy.tolist()
    return statistics.mean(values), 1.96 * statistics.stdev(values) / episodes ** 0.5"""
HALF_WIDTH = """    half_width = 1.96 * accuracy.std() / episodes ** 0.5
    return float(accuracy.mean()), float(half_width)"""
BAND = "1-shot 2-way after"
ARGUMENTS = "train(num_classes=3, steps=0, seed=s, k_shot=2)"

HW2_ENTRIES = [
    # part 1
    right(
        HW2,
        "test_sample_batch",
        "every episode's classes drawn first",
        "sample_batch",
        CLASSES_FIRST,
    ),
    right(
        HW2,
        "test_sample_batch",
        "labels from an identity matrix",
        "sample_batch",
        ("F.one_hot(labels, N).float()", "torch.eye(N)[labels]"),
    ),
    wrong(
        HW2,
        "test_sample_batch",
        "the query row left in label order",
        "sample_batch",
        ("episode[-1], labels[-1] = episode[-1, order], labels[-1, order]", "pass"),
        "in an order that varies across episodes",
    ),
    wrong(
        HW2,
        "test_sample_batch",
        "the global random numbers (generator ignored)",
        "sample_batch",
        (", generator=generator)", ")"),
        "every random draw from the generator",
    ),
    wrong(
        HW2,
        "test_sample_batch",
        "a class's images drawn with replacement",
        "sample_batch",
        (
            "torch.randperm(per_class, generator=generator)[:K1]",
            "torch.randint(per_class, (K1,), generator=generator)",
        ),
        "different instances",
    ),
    wrong(
        HW2,
        "test_sample_batch",
        "classes drawn with replacement",
        "sample_batch",
        (
            "torch.randperm(num_all, generator=generator)[:N]",
            "torch.randint(num_all, (N,), generator=generator)",
        ),
        "N different classes per episode",
    ),
    wrong(
        HW2,
        "test_sample_batch",
        "the images normalised in place",
        "sample_batch",
        (
            "num_all, per_class = images.shape[:2]",
            "num_all, per_class = images.shape[:2]\n    images /= images.max()",
        ),
        "inputs left as they were",
    ),
    # part 2
    right(
        HW2,
        "test_make_batch",
        "the order from sorted uniform draws",
        "make_batch",
        (
            "torch.stack([torch.randperm(N, generator=generator) for _ in range(B)])",
            "torch.rand(B, N, generator=generator).argsort(dim=1)",
        ),
    ),
    right(
        HW2,
        "test_make_batch",
        "labels from an identity matrix",
        "make_batch",
        ("F.one_hot(labels, N).float()", "torch.eye(N)[labels]"),
    ),
    wrong(
        HW2,
        "test_make_batch",
        "the support read class after class (off by the layout)",
        "make_batch",
        (
            (
                "episode.support_x.reshape(B, N, K, 784).transpose(1, 2)",
                "episode.support_x.reshape(B, K, N, 784)",
            ),
            (
                "episode.support_y.reshape(B, N, K).transpose(1, 2)",
                "episode.support_y.reshape(B, K, N)",
            ),
        ),
        "row k holds the k-th support image",
    ),
    wrong(
        HW2,
        "test_make_batch",
        "the global random order (generator ignored)",
        "make_batch",
        ("torch.randperm(N, generator=generator)", "torch.randperm(N)"),
        "every random draw from the generator",
    ),
    wrong(
        HW2,
        "test_make_batch",
        "the queries shuffled, their labels not",
        "make_batch",
        ("query_labels = episode.query_y.gather(1, order)", "query_labels = episode.query_y"),
        "every class once, in a random order, with its label",
    ),
    wrong(
        HW2,
        "test_make_batch",
        "the episode's queries shuffled in place",
        "make_batch",
        (QUERY_LINES, QUERY_IN_PLACE),
        "inputs left as they were",
    ),
    # part 3
    right(
        HW2,
        "test_mann",
        "the queries hidden by a mask",
        "mann",
        (
            HIDE,
            "mask = torch.ones_like(labels)\n        mask[:, -1] = 0\n"
            "        shown = labels * mask",
        ),
    ),
    right(
        HW2,
        "test_mann",
        "the queries hidden in a clone",
        "mann",
        (HIDE, "shown = labels.clone()\n        shown[:, -1] = 0"),
    ),
    wrong(
        HW2,
        "test_mann",
        "the query labels shown",
        "mann",
        (HIDE, "shown = labels"),
        "the query labels must not reach the model",
    ),
    wrong(
        HW2,
        "test_mann",
        "the query labels zeroed in place",
        "mann",
        (HIDE, "labels[:, -1] = 0\n        shown = labels"),
        "stay as they were",
    ),
    wrong(
        HW2,
        "test_mann",
        "the support labels hidden too",
        "mann",
        (HIDE, "shown = torch.zeros_like(labels)"),
        "the support labels must reach the model",
    ),
    wrong(
        HW2,
        "test_mann",
        "the sequence read class after class (wrong axis)",
        "mann",
        (
            "torch.cat([images, shown], dim=-1).reshape(B, rows * N, 784 + N)",
            "torch.cat([images, shown], dim=-1).transpose(1, 2).reshape(B, rows * N, 784 + N)",
        ),
        "row after row",
    ),
    wrong(
        HW2,
        "test_mann",
        "one LSTM and a linear layer",
        "mann",
        (
            (
                "self.layer2 = nn.LSTM(hidden, num_classes, batch_first=True)",
                "self.layer2 = nn.Linear(hidden, num_classes)",
            ),
            ("out, _ = self.layer2(out)", "out = self.layer2(out)"),
        ),
        "two LSTMs",
    ),
    # part 4
    right(
        HW2,
        "test_query_loss",
        "log-softmax against the one-hot labels",
        "query_loss",
        "def query_loss(predictions, labels):\n"
        "    return -(F.log_softmax(predictions[:, -1], dim=-1) * labels[:, -1]).sum(-1).mean()\n",
    ),
    wrong(
        HW2,
        "test_query_loss",
        "every row in the loss",
        "query_loss",
        "def query_loss(predictions, labels):\n    N = labels.shape[-1]\n"
        "    return F.cross_entropy(\n"
        "        predictions.reshape(-1, N), labels.reshape(-1, N).argmax(-1)\n    )\n",
        "only the query row counts",
    ),
    wrong(
        HW2,
        "test_query_loss",
        "summed, not averaged",
        "query_loss",
        ("F.cross_entropy(query, targets)", "F.cross_entropy(query, targets, reduction='sum')"),
        "the cross-entropy of the query row",
    ),
    wrong(
        HW2,
        "test_query_loss",
        "a softmax before the cross-entropy",
        "query_loss",
        ("F.cross_entropy(query, targets)", "F.cross_entropy(query.softmax(-1), targets)"),
        "the cross-entropy of the query row",
    ),
    # part 5
    right(
        HW2,
        "test_train",
        "the gradients zeroed at the top of the loop",
        "train",
        (
            (
                "        images, labels = make_batch(sampler.sample(), shuffle)\n",
                "        optimizer.zero_grad()\n"
                "        images, labels = make_batch(sampler.sample(), shuffle)\n",
            ),
            ("        optimizer.zero_grad()\n        loss.backward()", "        loss.backward()"),
        ),
    ),
    wrong(
        HW2,
        "test_train",
        "no training step taken",
        "train",
        ("    for _ in range(steps):", "    for _ in range(0):"),
        BAND,
    ),
    wrong(
        HW2,
        "test_train",
        "k_shot ignored",
        "train",
        (
            ("samples_per_class=k_shot + 1", "samples_per_class=2"),
            ("k_shot=k_shot, n_query=1", "k_shot=1, n_query=1"),
        ),
        ARGUMENTS,
    ),
    wrong(
        HW2,
        "test_train",
        "seed ignored",
        "train",
        ("torch.manual_seed(seed)", "torch.manual_seed(0)"),
        ARGUMENTS,
    ),
    wrong(
        HW2,
        "test_train",
        "pixel nearest neighbour passed off as the learner",
        "train",
        PIXEL_MEMORY,
        BAND,
    ),
    # part 6
    right(
        HW2,
        "test_evaluate",
        "the statistics module's mean and stdev",
        "evaluate",
        (HALF_WIDTH, STATISTICS),
    ),
    right(
        HW2,
        "test_evaluate",
        "numpy's deviation with ddof=1",
        "evaluate",
        ("accuracy.std()", "torch.tensor(accuracy.numpy().std(ddof=1))"),
    ),
    wrong(
        HW2,
        "test_evaluate",
        "predictions with gradients on",
        "evaluate",
        ("with torch.no_grad():", "if True:"),
        "predict with gradients off",
    ),
    wrong(
        HW2,
        "test_evaluate",
        "the population deviation",
        "evaluate",
        ("accuracy.std()", "accuracy.std(correction=0)"),
        "(n - 1)",
    ),
    wrong(
        HW2,
        "test_evaluate",
        "seed ignored",
        "evaluate",
        ("torch.Generator().manual_seed(seed)", "torch.Generator().manual_seed(0)"),
        "the mean of the per-episode query accuracies",
    ),
    wrong(
        HW2,
        "test_evaluate",
        "the reference's figures instead of a measurement",
        "evaluate",
        "def evaluate(model, num_classes, k_shot, episodes, seed):\n    return 0.946, 0.012\n",
        "the mean of the per-episode query accuracies",
    ),
]

ENTRIES = HW1_ENTRIES + HW2_ENTRIES


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Every part's probe data on the instructor's solution, per assignment."""
    folder = tmp_path_factory.mktemp("reference")
    return {a: probe(a, _parts(a), {}, folder / f"{a}.ipynb") for a in (HW1, HW2)}


def _parts(assignment):
    return sorted({e.part for e in ENTRIES if e.assignment == assignment})


def _score(entry, references, path):
    data = probe(entry.assignment, [entry.part], entry.answers(), path, student=entry.student)
    return part_score(entry.assignment, entry.part, data, references[entry.assignment])


@pytest.mark.parametrize("assignment", [HW1, HW2])
def test_the_solution_earns_every_point(references, assignment):
    for part in _parts(assignment):
        result = part_score(assignment, part, references[assignment], references[assignment])
        assert result.points == result.max_points, (part, result.messages)


RIGHT = [e for e in ENTRIES if e.words is None]
WRONG = [e for e in ENTRIES if e.words is not None]


@pytest.mark.parametrize("entry", RIGHT, ids=[f"{e.assignment} {e.part}: {e.what}" for e in RIGHT])
def test_a_correct_variant_earns_every_point(references, tmp_path, entry):
    result = _score(entry, references, tmp_path / "submission.ipynb")
    assert result.points == result.max_points, result.messages


@pytest.mark.parametrize("entry", WRONG, ids=[f"{e.assignment} {e.part}: {e.what}" for e in WRONG])
def test_a_known_mistake_loses_points_and_is_named(references, tmp_path, entry):
    result = _score(entry, references, tmp_path / "submission.ipynb")
    assert result.points < result.max_points
    assert any(entry.words in message for message in result.messages), result.messages


def test_every_part_has_its_entries():
    """Each autograded part of both homeworks: a correct variant and mistakes of several kinds."""
    from testkit.homework import grader

    for assignment in (HW1, HW2):
        for part in grader(assignment).CHECKS:
            entries = [e for e in ENTRIES if e.assignment == assignment and e.part == part]
            assert any(e.words is None for e in entries), part
            assert sum(e.words is not None for e in entries) >= 3, part
