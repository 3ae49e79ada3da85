"""Notebook 04's exercise."""


def verdict(capsys, check, *args):
    check(*args)
    return capsys.readouterr().out.strip()


def test_delta_m_exercise(capsys):
    from mtml_lib.selfcheck.challenge_checks import check_delta_m

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
