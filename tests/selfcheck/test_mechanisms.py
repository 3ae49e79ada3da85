"""The exercises where students write a mechanism: each notebook's solution passes its
self-check, a stub is "not yet", and a plausible mistake gets a hint that names it."""

import pytest
from testkit.exercises import load_solution, stub

from mtml_lib.selfcheck import blackbox, challenges, conditioning, meta, objective, tasks


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


# (notebook, name, check, [(edit of the solution, words the hint must contain), ...])
EXERCISES = [
    (
        "01_tasks.ipynb",
        "train_multitask",
        tasks.check_training_loop,
        [
            (("weights[k] * losses[k]", "losses[k]"), "the first step's loss should be"),
            (("optimizer.step()", "pass"), "later ones drift"),
            ((".tolist()\n", ".tolist()[::-1]\n"), "the first step's loss should be"),
        ],
    ),
    (
        "02_conditioning.ipynb",
        "stack_as_multiplicative",
        conditioning.check_multiplicative_stack,
        [(("= 1.0  #", "= 0.5  #"), "differs from its own network")],
    ),
    (
        "02_conditioning.ipynb",
        "CrossStitch",
        conditioning.check_cross_stitch,
        [
            (("torch.eye(num_tasks)", "torch.ones(num_tasks, num_tasks)"), "leave every column"),
            (('"ts,sbf->tbf"', '"st,sbf->tbf"'), "sum_s alpha[t, s]"),
        ],
    ),
    (
        "03_objective.ipynb",
        "my_pcgrad",
        objective.check_pcgrad,
        [
            (("if dot < 0:", "if True:"), "When g_i . g_j < 0"),
            (("@ grads[j]\n", "@ projected[j]\n"), "*original*"),
        ],
    ),
    (
        "03_objective.ipynb",
        "my_pareto_front",
        objective.check_pareto_front,
        [(("(losses[a] < losses[b]).any()", "True"), "equal rows do not dominate")],
    ),
    (
        "04_challenges.ipynb",
        "my_affinity",
        challenges.check_affinity,
        [
            (("p.copy_(original)  # back to theta", "pass"), "restored exactly"),
            (("1.0 - losses_fn() / before", "losses_fn() / before - 1.0"), "expected"),
        ],
    ),
    (
        "04_challenges.ipynb",
        "MyMMoELayer",
        challenges.check_mmoe_layer,
        [
            (("gate(x[rows])", "self.gates[0](x[rows])"), "task"),
            (("dim=-1)  # (rows, E)", "dim=0)  # (rows, E)"), "mix the experts"),
        ],
    ),
    (
        "05_meta_learning.ipynb",
        "my_episode",
        meta.check_episode,
        [
            (("[: k_shot + n_query]", "[:1].repeat(k_shot + n_query)"), "an image appears twice"),
            (
                (
                    "torch.randperm(images.shape[0], generator=generator)[:n_way]",
                    "torch.arange(n_way)",
                ),
                "every episode draws the same classes",
            ),
        ],
    ),
    (
        "05_meta_learning.ipynb",
        "my_meta_test",
        meta.check_meta_test,
        [(("len(accuracies) ** 0.5", "len(batches) ** 0.5"), "the half-width is")],
    ),
    (
        "06_black_box_adaptation.ipynb",
        "MySetLearner",
        blackbox.check_set_learner,
        [
            (("codes.mean(dim=1, keepdim=True)", "codes[:, :1]"), "order of the support set"),
            (("codes.mean(dim=1, keepdim=True)", "codes.sum(dim=1, keepdim=True)"), "average"),
        ],
    ),
]


@pytest.mark.parametrize(
    "notebook, name, check, mistakes", EXERCISES, ids=[e[1] for e in EXERCISES]
)
def test_the_solution_passes_a_stub_is_not_yet_and_mistakes_are_named(
    capsys, notebook, name, check, mistakes
):
    assert verdict(capsys, check, load_solution(notebook, name)).startswith("[ok]")
    if name[0].isupper():  # a class: its constructor is the stub

        class Stub(load_solution(notebook, name).__mro__[1]):
            def __init__(self, *args, **kwargs):
                stub()

        assert verdict(capsys, check, Stub).startswith("[not yet]")
    else:
        assert verdict(capsys, check, stub).startswith("[not yet]")
    for edit, words in mistakes:
        said = verdict(capsys, check, load_solution(notebook, name, edit=edit))
        assert said.startswith("[wrong]") and words in said, (edit, said)
