"""Notebook 03's exercise."""

import torch


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_dwa_exercise(capsys):

    from mtml_lib.selfcheck.objective_checks import check_dwa_weights

    def right(previous, before, temperature):
        return previous.numel() * torch.softmax(previous / before / temperature, dim=0)

    def inverted(previous, before, temperature):
        return previous.numel() * torch.softmax(before / previous / temperature, dim=0)

    def unnormalised(previous, before, temperature):
        return torch.softmax(previous / before / temperature, dim=0)

    assert verdict(capsys, check_dwa_weights, right).startswith("[ok]")
    assert "weights are not" in verdict(capsys, check_dwa_weights, inverted)
    assert "sum to the number of tasks" in verdict(capsys, check_dwa_weights, unnormalised)
