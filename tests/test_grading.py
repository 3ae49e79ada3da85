import torch

from mtml_lib.data import digits
from mtml_lib.selfcheck import run_check
from mtml_lib.selfcheck.tasks import check_multiple_of_3_task, check_regime_answers
from mtml_lib.tasks import CROSS_ENTROPY, MSE, Task


def reference_task(split, labels_fn=lambda d: (d % 3 == 0).long(), loss=CROSS_ENTROPY):
    pool = digits.load_digits_pool(split=split)
    sample_x, sample_y = digits.empirical_task(pool.images, labels_fn(pool.labels))
    return Task(name="m3", sample_x=sample_x, sample_y=sample_y, loss=loss, out_features=2)


def test_run_check_verdicts(capsys):
    def not_done():
        raise NotImplementedError()

    def wrong():
        raise AssertionError("a hint")

    def crashes():
        return 1 / 0

    assert run_check("a", lambda: None)
    assert not run_check("b", not_done)
    assert not run_check("c", wrong)
    assert not run_check("d", crashes)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[ok] a"
    assert lines[1].startswith("[not yet] b")
    assert lines[2] == "[wrong] c: a hint"
    assert lines[3] == "[wrong] d: your code raised ZeroDivisionError: division by zero"


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_exercise_1_accepts_the_solution_and_explains_mistakes(capsys):
    assert verdict(capsys, check_multiple_of_3_task, reference_task).startswith("[ok]")
    odd = verdict(
        capsys,
        check_multiple_of_3_task,
        lambda split: reference_task(split, lambda d: (d % 2 == 0).long()),
    )
    assert odd.startswith("[wrong]") and "labels are wrong" in odd
    assert "should be CROSS_ENTROPY" in verdict(
        capsys, check_multiple_of_3_task, lambda s: reference_task(s, loss=MSE)
    )
    assert "must return a Task" in verdict(capsys, check_multiple_of_3_task, lambda split: None)

    def stub(split):
        raise NotImplementedError()

    assert verdict(capsys, check_multiple_of_3_task, stub).startswith("[not yet]")


def test_exercise_2(capsys):
    right = {
        "spam_filter_per_user": "multi-task classification",
        "face_attributes": "multi-label learning",
        "steering_and_pedestrians": "tasks with different losses",
    }
    assert verdict(capsys, check_regime_answers, right).startswith("[ok]")
    wrong = verdict(
        capsys, check_regime_answers, {**right, "face_attributes": "multi-task classification"}
    )
    assert wrong.startswith("[wrong]") and "['face_attributes']" in wrong
    assert "is not one of" in verdict(
        capsys, check_regime_answers, {**right, "face_attributes": "transfer learning"}
    )
    assert verdict(capsys, check_regime_answers, lambda: right).startswith("[ok]")

    def stub():
        raise NotImplementedError()

    assert verdict(capsys, check_regime_answers, stub).startswith("[not yet]")


def test_film_exercise(capsys):
    from torch import nn

    from mtml_lib.selfcheck.conditioning import check_film_layer

    class Film(nn.Module):
        def __init__(self, num_tasks, features):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(num_tasks, features))
            self.beta = nn.Parameter(torch.zeros(num_tasks, features))

        def forward(self, h, task_id):
            return self.gamma[task_id] * h + self.beta[task_id]

    class SharedScale(Film):  # one gamma for every task: wrong
        def forward(self, h, task_id):
            return self.gamma[0] * h + self.beta[0]

    class Mixing(Film):  # mixes features: wrong
        def forward(self, h, task_id):
            return self.gamma[task_id] * h.flip(-1) + self.beta[task_id]

    assert verdict(capsys, check_film_layer, Film).startswith("[ok]")
    assert "different tasks should use different" in verdict(capsys, check_film_layer, SharedScale)
    assert "leave h unchanged" in verdict(capsys, check_film_layer, Mixing)


def test_dwa_exercise(capsys):

    from mtml_lib.selfcheck.objective import check_dwa_weights

    def right(previous, before, temperature):
        return previous.numel() * torch.softmax(previous / before / temperature, dim=0)

    def inverted(previous, before, temperature):
        return previous.numel() * torch.softmax(before / previous / temperature, dim=0)

    def unnormalised(previous, before, temperature):
        return torch.softmax(previous / before / temperature, dim=0)

    assert verdict(capsys, check_dwa_weights, right).startswith("[ok]")
    assert "weights are not" in verdict(capsys, check_dwa_weights, inverted)
    assert "sum to the number of tasks" in verdict(capsys, check_dwa_weights, unnormalised)


def test_delta_m_exercise(capsys):
    from mtml_lib.selfcheck.challenges import check_delta_m

    def right(multi, single, higher):
        return sum((1 if h else -1) * (m - s) / s for m, s, h in zip(multi, single, higher)) / len(
            multi
        )

    def flipped(multi, single, higher):
        return -right(multi, single, higher)

    def absolute(multi, single, higher):
        return sum((1 if h else -1) * (m - s) for m, s, h in zip(multi, single, higher)) / len(
            multi
        )

    assert verdict(capsys, check_delta_m, right).startswith("[ok]")
    assert "sign is flipped" in verdict(capsys, check_delta_m, flipped)
    assert "relative differences" in verdict(capsys, check_delta_m, absolute)


def test_nearest_neighbour_exercise(capsys):

    from mtml_lib.selfcheck.meta import check_nearest_neighbour

    def right(support_x, support_y, query_x):
        distance = torch.cdist(query_x.flatten(2), support_x.flatten(2))
        return support_y.gather(1, distance.argmin(-1))

    def farthest(support_x, support_y, query_x):
        distance = torch.cdist(query_x.flatten(2), support_x.flatten(2))
        return support_y.gather(1, distance.argmax(-1))

    def across_episodes(support_x, support_y, query_x):  # mixes episodes up
        flat_s, flat_q = support_x.flatten(2).flatten(0, 1), query_x.flatten(2).flatten(0, 1)
        nearest = torch.cdist(flat_q, flat_s).argmin(-1)
        return support_y.flatten()[nearest].view(query_x.shape[:2])

    assert verdict(capsys, check_nearest_neighbour, right).startswith("[ok]")
    assert "nearest support" in verdict(capsys, check_nearest_neighbour, farthest)
    assert verdict(capsys, check_nearest_neighbour, across_episodes).startswith("[wrong]")


def test_homework_input_exercise(capsys):

    from mtml_lib.selfcheck.blackbox import check_homework_input

    def right(images, labels):
        hidden = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)
        B, rows, N, P = images.shape
        return torch.cat([images, hidden], dim=-1).reshape(B, rows * N, P + N)

    def leaks(images, labels):
        B, rows, N, P = images.shape
        return torch.cat([images, labels], dim=-1).reshape(B, rows * N, P + N)

    assert verdict(capsys, check_homework_input, right).startswith("[ok]")
    assert "must be zeroed" in verdict(capsys, check_homework_input, leaks)
