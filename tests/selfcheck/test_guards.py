"""The self-checks' guards: the library's own implementation is found however the student's
code reaches it, the library's own calls of it still work, and an argument changed in place is
named."""

import pytest
import torch

import mtml_lib.metrics
from mtml_lib.metrics import t_interval, t_quantile
from mtml_lib.selfcheck.guards import (
    LibraryAnswer,
    call_leaving_inputs,
    library_answer,
    reject_library_modules,
    unchanged,
)

ANSWER = {"mtml_lib.metrics.t_quantile": t_quantile}


def helper(df):
    return t_quantile(df)


def test_a_reference_through_the_students_own_helper_is_found():
    def mine(df):
        return helper(df) * 1.0

    named = pytest.raises(LibraryAnswer, match="mtml_lib.metrics.t_quantile")
    with named, library_answer(mine, ANSWER):
        pass


def test_a_method_that_uses_it_is_found():
    class Mine:
        def quantile(self, df):
            return t_quantile(df)

    with pytest.raises(LibraryAnswer), library_answer(Mine, ANSWER):
        pass


def test_a_call_through_the_module_is_caught_when_it_runs_and_the_module_is_restored():
    def mine(df):
        return mtml_lib.metrics.t_quantile(df)

    with pytest.raises(LibraryAnswer), library_answer(mine, ANSWER):
        mine(3)
    assert mtml_lib.metrics.t_quantile is t_quantile


def test_the_librarys_own_calls_of_it_still_work():
    def mine(values):  # calls a library function that calls the answer itself
        return t_interval(values)

    with library_answer(mine, ANSWER):
        mean, half = mine([0.8, 0.9, 1.0, 0.9])
    assert half > 0


def test_own_code_that_does_not_use_it_passes():
    def mine(df):
        return 1.96 + 2.0 / df

    with library_answer(mine, ANSWER):
        assert mine(10) > 1.96


def test_a_library_class_as_a_submodule_or_a_subclass_is_found():
    from mtml_lib.models.conditioning.moe import MixtureOfExperts

    answers = {"mtml_lib.models.conditioning.MixtureOfExperts": MixtureOfExperts}
    inner = MixtureOfExperts(in_features=2, out_features=1, num_tasks=2, num_experts=2, hidden=3)
    with pytest.raises(LibraryAnswer):
        reject_library_modules(torch.nn.Sequential(torch.nn.Identity(), inner), answers)
    reject_library_modules(torch.nn.Linear(2, 2), answers)

    class Mine(MixtureOfExperts):
        pass

    with pytest.raises(LibraryAnswer), library_answer(Mine, answers):
        pass


def test_an_argument_changed_in_place_is_named():
    x, rest = torch.ones(3), [torch.zeros(2)]
    with pytest.raises(AssertionError, match="`rest` in place"):
        call_leaving_inputs(lambda x, rest: rest[0].add_(1.0), ("x", "rest"), x, rest)
    y = torch.ones(3)
    given = unchanged(y=y)
    assert torch.equal(call_leaving_inputs(lambda y: y * 2, ("y",), y), 2 * torch.ones(3))
    given.verify()
