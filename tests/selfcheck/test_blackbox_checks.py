"""Notebook 06's exercise."""

import torch


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_sequence_input_exercise(capsys):

    from mtml_lib.selfcheck.blackbox_checks import check_sequence_input

    def right(images, labels):
        hidden = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)
        B, rows, N, P = images.shape
        return torch.cat([images, hidden], dim=-1).reshape(B, rows * N, P + N)

    def leaks(images, labels):
        B, rows, N, P = images.shape
        return torch.cat([images, labels], dim=-1).reshape(B, rows * N, P + N)

    assert verdict(capsys, check_sequence_input, right).startswith("[ok]")
    assert "must be zeroed" in verdict(capsys, check_sequence_input, leaks)
