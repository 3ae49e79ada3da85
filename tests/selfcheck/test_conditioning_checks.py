"""Notebook 02's exercise."""

import torch


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_film_exercise(capsys):
    from torch import nn

    from mtml_lib.selfcheck.conditioning_checks import check_film_layer

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
