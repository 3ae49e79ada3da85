"""Notebook 05's exercise."""

import torch


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_nearest_neighbour_exercise(capsys):

    from mtml_lib.selfcheck.meta_checks import check_nearest_neighbour

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
