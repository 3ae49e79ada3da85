"""Notebook 01's exercises."""

from mtml_lib.data import digits
from mtml_lib.selfcheck.task_checks import check_multiple_of_3_task, check_regime_answers
from mtml_lib.tasks import CROSS_ENTROPY, MSE, Task


def reference_task(split, labels_fn=lambda d: (d % 3 == 0).long(), loss=CROSS_ENTROPY):
    pool = digits.load_digits_pool(split=split)
    sample_x, sample_y = digits.empirical_task(pool.images, labels_fn(pool.labels))
    return Task(name="m3", sample_x=sample_x, sample_y=sample_y, loss=loss, out_features=2)


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
