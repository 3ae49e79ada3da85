"""Trusted grader of HW1 (instructor only: never released). See mtml_lib.grading.regrade.

Probes run in the untrusted process on the submission's objects and return raw data;
checks compare that data with the reference solution's, in plain Python.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _compare import close, finite, shape  # noqa: E402

from mtml_lib.course.variants import student_seed  # noqa: E402
from mtml_lib.i18n import translator  # noqa: E402

# Feedback in the course's language, from the graders' own catalog (it stays in the course folder)
_ = translator(pathlib.Path(__file__).parent / "locale", "graders")

ASSIGNMENT = "hw1_multitask"
# The id the graded submission is filed under, set by the untrusted side before any submission
# code runs ("" for the reference solution): part 4's own run is checked at its seed.
STUDENT = ""
EXPERIMENT_STEPS = 300
OWN_STEPS = 600  # part 4's run-experiment cell (read-only): STEPS, at the student's own seed
# Parts 4 and 6 run with seeds of the grader's own, announced nowhere: a table of another run's
# numbers is no answer, and the grader trains the student's models again to check the numbers.
EXPERIMENT_SEED, REC_SEED = 3907, 5261
SAME_RUN = 1e-4  # relative: the student's numbers and the grader's run of the same protocol
MSE_BAND = 0.3  # stated in part 4's text: the reference reaches well below it
REC_STEPS = 300  # part 6, as its text states
AUC_TOLERANCE = 0.04  # part 6: against the reference solution's AUCs (init moves them by ~0.02)
CHANCE_BAND, LIKE_AUC = 0.15, 0.7  # part 6: like weight 0 leaves like at chance; weight 1 trains it


def probe_multihead(ns):
    import torch

    torch.manual_seed(0)
    model = ns["MultiHeadModel"](in_features=4, out_features=2, num_tasks=3, hidden=8)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    task_id = torch.tensor([0, 1, 2, 2, 1, 0])
    out = model(x, task_id)
    alone = torch.cat([model(x[i : i + 1], task_id[i : i + 1]) for i in range(6)])
    shared = {id(p) for p in model.shared_parameters()}
    grads = []  # per task: what its rows alone train, parameter by parameter
    for task in range(3):
        model.zero_grad(set_to_none=True)
        model(x, task_id)[task_id == task].sum().backward()
        grads.append(
            [0.0 if p.grad is None else float(p.grad.abs().sum()) for p in model.parameters()]
        )
    params = [
        {"shared": id(p) in shared, "numel": p.numel(), "grads": [g[i] for g in grads]}
        for i, p in enumerate(model.parameters())
    ]
    return {"out": out.detach(), "alone": alone.detach(), "params": params}


def probe_film(ns):
    import torch

    torch.manual_seed(0)
    film = ns["FiLMModel"](in_features=4, out_features=2, num_tasks=3, hidden=8)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 4, generator=g)
    first = film(x, torch.zeros(5, dtype=torch.long)).detach()
    last = film(x, torch.full((5,), 2)).detach()
    shapes = [list(p.shape) for p in film.task_parameters()]
    start = [[float(p.min()), float(p.max())] for p in film.task_parameters()]
    tasks = torch.tensor([0, 1, 0, 1, 2])
    moved, silenced = [], []
    # task 1's row of each tensor, one at a time (tensors of another shape fail their own check)
    perturbed = film.task_parameters() if shapes == [[3, 8]] * 4 else []
    with torch.no_grad():
        base = film(x, tasks)
        for p in perturbed:  # each must act on its task's rows
            saved = p[1].clone()
            p[1].add_(torch.randn(p.shape[1], generator=g))
            moved.append(film(x, tasks))
            p[1].copy_(saved)
        for p in perturbed[1::2]:  # a very negative beta inside the ReLU silences the layer
            saved = p[1].clone()
            p[1].fill_(-1e4)
            out = film(x, tasks)[tasks == 1]  # (2, out): task 1's rows, then one output each
            silenced.append(float((out[0] - out[1]).abs().max()))
            p[1].copy_(saved)
    return {
        "first": first,
        "last": last,
        "shapes": shapes,
        "start": start,
        "base": base,
        "moved": moved,
        "silenced": silenced,
        "tasks": tasks,
    }


def probe_uncertainty(ns):
    import torch

    method = ns["MyUncertaintyWeighting"](num_tasks=2)
    (s,) = method.parameters()
    start, trainable = s.detach().clone(), bool(s.requires_grad)
    with torch.no_grad():
        s.copy_(torch.tensor([0.3, -0.7]))
    losses = torch.tensor([2.0, 0.5], requires_grad=True)
    value = method.objective(losses)
    value.backward()
    weights = method.loss_weights(losses)
    theta = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    second = ns["MyUncertaintyWeighting"](num_tasks=2)
    applied = second.combine(torch.stack([theta[0] ** 2, 3 * theta[1] ** 2]), [theta])
    return {
        "start": start,
        "trainable": trainable,
        "value": float(value),
        "s_grad": s.grad,
        "losses_grad": losses.grad,
        "weights": weights.detach(),
        "weights_need_grad": bool(weights.requires_grad),
        "applied": applied.detach(),
        "theta_grad": theta.grad,
    }


def _rerun_experiment(ns, seed, steps):
    """Part 4's protocol, run by the grader on the student's models and weighting."""
    import torch

    from mtml_lib.data.multitask_data import MultiTaskDataset
    from mtml_lib.data.sinusoids import related_sinusoids
    from mtml_lib.training import fit

    train = MultiTaskDataset.sample(related_sinusoids(4, relatedness=-0.5), 50, generator=seed)
    test = MultiTaskDataset.sample(
        related_sinusoids(4, relatedness=-0.5, noise=0.0), 500, generator=seed + 1
    )
    mse = {}
    for name, cls in (("multihead", ns["MultiHeadModel"]), ("film", ns["FiLMModel"])):
        torch.manual_seed(seed)
        model = cls(in_features=1, out_features=1, num_tasks=4, hidden=64)
        history = fit(
            model,
            train,
            ns["MyUncertaintyWeighting"](num_tasks=4),
            steps=steps,
            lr=3e-3,
            batch_size=32,
            device="cpu",
            generator=seed,
            eval_data=test,
            progress=False,
        )
        mse[name] = sum(history.final_metrics) / 4
    return mse


def _floats(table):
    table = table if isinstance(table, dict) else {}
    return {str(k): (v if isinstance(v, float) else repr(v)) for k, v in table.items()}


def probe_experiment(ns):
    returned = ns["run_experiment"](steps=EXPERIMENT_STEPS, seed=EXPERIMENT_SEED)
    own_seed = student_seed(ASSIGNMENT, STUDENT)
    return {
        "returned": _floats(returned),
        "independent": _rerun_experiment(ns, EXPERIMENT_SEED, EXPERIMENT_STEPS),
        # the run the notebook itself made (its `results`), and the grader's at the same seed
        "own": _floats(ns.get("results", {})),
        "own_rerun": _rerun_experiment(ns, own_seed, OWN_STEPS),
        "student": STUDENT,
        "seed": own_seed,
    }


def probe_mmoe(ns):
    import torch

    torch.manual_seed(0)
    model = ns["MMoEModel"](in_features=5, out_features=2, num_tasks=3, num_experts=4, hidden=6)
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(4))
    task_id = torch.tensor([0, 1, 2, 2, 1, 0, 1])
    out = model(x, task_id)
    result = {
        "out": out.detach(),
        "numel": sum(p.numel() for p in model.parameters()),
        "gates": model.gate_weights(x, task_id).detach(),
    }
    experts = torch.stack([expert(x) for expert in model.experts], dim=1)  # (B, E, H)
    own = torch.stack([_distribution(model.gates[int(t)](x[b])) for b, t in enumerate(task_id)])
    result["own_gates"] = own.detach()
    result["experts_relu"] = bool((experts >= 0).all()) and bool((experts == 0).any())
    result["expected"] = torch.stack(
        [model.towers[int(t)]((own[b, :, None] * experts[b]).sum(0)) for b, t in enumerate(task_id)]
    ).detach()
    model.zero_grad()
    model(x[:1], task_id[:1]).sum().backward()
    others = [
        p
        for t in (1, 2)
        for p in list(model.gates[t].parameters()) + list(model.towers[t].parameters())
    ]
    result["leak"] = sum(0.0 if p.grad is None else float(p.grad.abs().sum()) for p in others)
    return result


def _distribution(gate_output):
    """A gate's weights over the experts: its output when the module ends in a softmax itself
    (non-negative, summing to 1), else the softmax of its logits."""
    import torch

    if bool((gate_output >= 0).all()) and abs(float(gate_output.sum()) - 1.0) < 1e-5:
        return gate_output
    return torch.softmax(gate_output, -1)


def _rerun_recommender(ns, seed):
    """Part 6's protocol, run by the grader on the student's classes for three of its entries:
    the click baseline, and the shared bottom and the MMoE at like weight 1."""
    import torch

    from mtml_lib.data.multitask_data import MultiTaskDataset
    from mtml_lib.data.recsys import RecommendationSimulator
    from mtml_lib.training import fit
    from mtml_lib.weighting import StaticWeighting

    simulator = RecommendationSimulator(generator=seed)
    click, _, like = simulator.tasks()

    def run(model_class, tasks, sizes, test_sizes, weights):
        data = MultiTaskDataset.sample(tasks, sizes, generator=seed)
        test_data = MultiTaskDataset.sample(tasks, test_sizes, generator=seed + 1)
        torch.manual_seed(seed)
        model = model_class(
            in_features=simulator.num_features, out_features=1, num_tasks=len(weights)
        )
        history = fit(
            model,
            data,
            StaticWeighting(num_tasks=len(weights), weights=weights),
            steps=REC_STEPS,
            lr=3e-3,
            batch_size=64,
            device="cpu",
            generator=seed,
            eval_data=test_data,
            progress=False,
        )
        return [float(metric) for metric in history.final_metrics]

    both = ([click, like], [3000, 1500], [2000, 1000], [1.0, 1.0])
    return {
        "single": run(ns["MultiHeadModel"], [click], [3000], [2000], [1.0]),
        "shared-bottom": run(ns["MultiHeadModel"], *both),
        "mmoe": run(ns["MMoEModel"], *both),
    }


def probe_recommender(ns):
    returned = ns["recommender_experiment"](steps=REC_STEPS, seed=REC_SEED, like_weights=(0.0, 1.0))
    clean = {}
    for key in ("single", "shared-bottom", "mmoe"):
        value = dict(returned).get(key)
        if key == "single":
            clean[key] = [v if isinstance(v, float) else repr(v) for v in list(value)]
        else:
            clean[key] = {
                repr(w): [v if isinstance(v, float) else repr(v) for v in list(pair)]
                for w, pair in dict(value).items()
            }
    clean["rerun"] = _rerun_recommender(ns, REC_SEED)
    return clean


PROBES = {
    "test_multihead": probe_multihead,
    "test_film": probe_film,
    "test_uncertainty": probe_uncertainty,
    "test_experiment": probe_experiment,
    "test_mmoe": probe_mmoe,
    "test_recommender": probe_recommender,
}


def output_shape(got, ref):
    return shape(got["out"]) == [6, 2] and finite(got["out"]), _("one output row per input row")


def rows_independent(got, ref):
    return close(got["out"], got["alone"], 1e-5), _(
        "a row's output must not depend on the rest of the batch"
    )


def shared_is_the_trunk(got, ref):
    sizes = sorted(p["numel"] for p in got["params"] if p["shared"])
    want = sorted(p["numel"] for p in ref["params"] if p["shared"])
    total = sum(p["numel"] for p in got["params"]) == sum(p["numel"] for p in ref["params"])
    return sizes == want and total, _("shared_parameters() must be exactly the two-layer trunk")


def _trained(result, task):
    """The non-shared parameters (by position) that one task's rows give a gradient."""
    return {
        i
        for i, p in enumerate(result["params"])
        if not p["shared"] and len(p["grads"]) == 3 and p["grads"][task] > 0
    }


def heads_are_separate(got, ref):
    def size(result, positions):
        return sum(result["params"][i]["numel"] for i in positions)

    own = [_trained(got, task) for task in range(3)]
    ok = all(size(got, own[t]) == size(ref, _trained(ref, t)) for t in range(3))
    ok = ok and not (own[0] & own[1] or own[0] & own[2] or own[1] & own[2])
    ok = ok and all(
        len(p["grads"]) == 3 and min(p["grads"]) > 0 for p in got["params"] if p["shared"]
    )
    return ok, _("each task's rows must train only that task's own head (and the trunk)")


def film_starts_shared(got, ref):
    ok = shape(got["first"]) == [5, 2] and close(got["first"], got["last"], 1e-5)
    ok = ok and got["start"] == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    return ok, _("gamma = 1 and beta = 0 at the start, so the task does not matter yet")


def film_shapes(got, ref):
    return got["shapes"] == ref["shapes"], _("four tensors of shape (num_tasks, hidden)")


def film_routes(got, ref):
    other = [i for i, t in enumerate(got["tasks"]) if t != 1]
    mine = [i for i, t in enumerate(got["tasks"]) if t == 1]
    ok = len(got["moved"]) == 4
    for moved in got["moved"]:
        ok = ok and close([moved[i] for i in other], [got["base"][i] for i in other], 1e-5)
        ok = ok and not close([moved[i] for i in mine], [got["base"][i] for i in mine], 1e-4)
    return (
        ok,
        _("each gamma and beta of every layer must act on its own task's rows, and only on them"),
    )


def film_formula(got, ref):
    ok = len(got["silenced"]) == 2 and all(gap <= 1e-6 for gap in got["silenced"])
    return ok, _(
        "beta shifts inside the ReLU, as in the formula: a very negative beta of a task silences "
        "that layer for the task's rows"
    )


def uncertainty_value(got, ref):
    ok = (
        close(got["start"], [0.0, 0.0])
        and got["trainable"]
        and close(got["value"], ref["value"], 1e-5)
    )
    return ok, _("s starts at 0, is trainable, and the objective follows the formula")


def uncertainty_gradients(got, ref):
    return close(got["s_grad"], ref["s_grad"]) and close(got["losses_grad"], ref["losses_grad"]), _(
        "the objective's gradients with respect to s and to the losses"
    )


def uncertainty_interface(got, ref):
    ok = (
        close(got["weights"], ref["weights"])
        and not got["weights_need_grad"]
        and close(got["applied"], ref["applied"])
        and close(got["theta_grad"], ref["theta_grad"])
    )
    return ok, _("loss_weights() and the training loop's combine() with your method")


def experiment_returns(got, ref):
    values, rerun = got["returned"], got["independent"]
    ok = set(values) == {"multihead", "film"} and all(
        isinstance(v, float) and 0 < v < MSE_BAND and close(v, rerun[k], SAME_RUN)
        for k, v in values.items()
    )
    return ok, _(
        "run_experiment returns both models' mean test MSE (expected below {MSE_BAND}), the "
        "numbers the grader's own run of part 4's protocol gives at its seed"
    ).format(MSE_BAND=MSE_BAND)


def experiment_is_yours(got, ref):
    own, rerun = got["own"], got["own_rerun"]
    ok = set(own) == {"multihead", "film"} and all(
        isinstance(v, float) and 0 < rerun[k] < MSE_BAND and close(v, rerun[k], SAME_RUN)
        for k, v in own.items()
    )
    return ok, _(
        "the results your notebook shows are your own run: at your seed ({seed}, from the id "
        "'{student}' your work is filed under, which STUDENT_ID must hold) the grader's run of "
        "your models gives them, both below {MSE_BAND}"
    ).format(seed=got["seed"], student=got["student"], MSE_BAND=MSE_BAND)


def mmoe_shape(got, ref):
    return shape(got["out"]) == [7, 2] and finite(got["out"]) and got["numel"] == ref["numel"], _(
        "output (B, out_features); 4 experts, 3 gates and 3 towers of the stated sizes"
    )


def mmoe_gates(got, ref):
    sums = [sum(row) for row in got["gates"]] if shape(got["gates"]) == [7, 4] else []
    return close(sums, [1.0] * 7, 1e-5) and close(got["gates"], got["own_gates"], 1e-5), _(
        "each row's gate is the softmax of its own task's gate (in the gate module or after it)"
    )


def mmoe_mixes(got, ref):
    return close(got["out"], got["expected"], 1e-5) and got["experts_relu"] is True, (
        _(
            "the output is the row's tower applied to the gate-weighted sum of the experts, each "
            "expert relu(W x + b)"
        )
    )


def mmoe_routes(got, ref):
    return got["leak"] == 0.0, _("a task-0 row must not train another task's gate or tower")


def _pairs(result, key):
    table = result.get(key, {})
    return table if isinstance(table, dict) else {}


def _is_the_run(got):
    """The function's numbers for the three entries the grader trained again are that run's."""
    rerun = got["rerun"]
    single = got["single"][:1] if isinstance(got["single"], list) else []
    return close(single, rerun["single"], SAME_RUN) and all(
        close(_pairs(got, key).get("1.0", []), rerun[key], SAME_RUN)
        for key in ("shared-bottom", "mmoe")
    )


def recommender_format(got, ref):
    ok = _is_the_run(got) and (
        len(got["single"]) == 2
        and all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in got["single"])
        and all(
            set(_pairs(got, key)) == {"0.0", "1.0"}
            and all(
                len(pair) == 2 and all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in pair)
                for pair in _pairs(got, key).values()
            )
            for key in ("shared-bottom", "mmoe")
        )
    )
    return ok, _(
        "the returned dict: single [2 AUCs], shared-bottom and mmoe {weight: [2 AUCs]}, from a "
        "run of the stated protocol (the grader's run of three of your models gives the same)"
    )


def recommender_single(got, ref):
    mine, theirs = got["single"], ref["single"]
    ok = len(mine) == len(theirs) == 2 and all(
        isinstance(a, float) and abs(a - b) <= AUC_TOLERANCE for a, b in zip(mine, theirs)
    )
    ok = ok and close(mine[0], got["rerun"]["single"][0], SAME_RUN)
    return ok, _(
        "the single-task baselines' AUCs within {AUC_TOLERANCE} of the reference's, and the "
        "click baseline's the one the grader's run of your model gives"
    ).format(AUC_TOLERANCE=AUC_TOLERANCE)


def _near_reference(got, ref, key):
    mine, theirs = _pairs(got, key).get("1.0", []), _pairs(ref, key).get("1.0", [])
    return (
        len(mine) == len(theirs) == 2
        and all(isinstance(a, float) and abs(a - b) <= AUC_TOLERANCE for a, b in zip(mine, theirs))
        and close(mine, got["rerun"][key], SAME_RUN)
    )


def recommender_shared_bottom(got, ref):
    return _near_reference(got, ref, "shared-bottom"), (
        _(
            "the shared bottom's AUCs at like weight 1 within {AUC_TOLERANCE} of the reference's, "
            "and the ones the grader's run of your model gives"
        ).format(AUC_TOLERANCE=AUC_TOLERANCE)
    )


def recommender_mmoe(got, ref):
    return _near_reference(got, ref, "mmoe"), (
        _(
            "the MMoE's AUCs at like weight 1 within {AUC_TOLERANCE} of the reference's, and the "
            "ones the grader's run of your model gives"
        ).format(AUC_TOLERANCE=AUC_TOLERANCE)
    )


def recommender_like_weight(got, ref):
    ok = _is_the_run(got)
    for key in ("shared-bottom", "mmoe"):
        untrained = _pairs(got, key).get("0.0", [None, None])[1]
        trained = _pairs(got, key).get("1.0", [None, None])[1]
        ok = ok and isinstance(untrained, float) and abs(untrained - 0.5) <= CHANCE_BAND
        ok = ok and isinstance(trained, float) and trained > LIKE_AUC
    return ok, (
        _(
            "like AUC within {CHANCE_BAND} of chance at weight 0 and above {LIKE_AUC} at weight 1"
        ).format(CHANCE_BAND=CHANCE_BAND, LIKE_AUC=LIKE_AUC)
    )


CHECKS = {
    "test_multihead": [
        (1, output_shape),
        (1, rows_independent),
        (0.5, shared_is_the_trunk),
        (0.5, heads_are_separate),
    ],
    "test_film": [
        (1, film_starts_shared),
        (1, film_shapes),
        (0.5, film_routes),
        (0.5, film_formula),
    ],
    "test_uncertainty": [
        (1, uncertainty_value),
        (1, uncertainty_gradients),
        (1, uncertainty_interface),
    ],
    "test_experiment": [(1, experiment_returns), (1, experiment_is_yours)],
    "test_mmoe": [(1, mmoe_shape), (1, mmoe_gates), (1, mmoe_mixes), (1, mmoe_routes)],
    "test_recommender": [
        (1, recommender_format),
        (1, recommender_single),
        (1, recommender_shared_bottom),
        (1, recommender_mmoe),
        (1, recommender_like_weight),
    ],
}

# What the parts ask students to write: replaced by placeholders in the grading sandbox.
UNAVAILABLE = {
    "test_multihead": ["mtml_lib.models.conditioning"],
    "test_film": ["mtml_lib.models.conditioning"],
    "test_uncertainty": ["mtml_lib.weighting.uncertainty"],
    "test_experiment": ["mtml_lib.models.conditioning", "mtml_lib.weighting.uncertainty"],
    "test_mmoe": ["mtml_lib.models.conditioning"],
    "test_recommender": ["mtml_lib.models.conditioning"],
}
