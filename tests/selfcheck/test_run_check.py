"""The self-checks' verdicts: [ok], [not yet], [wrong] with a hint."""

from mtml_lib.selfcheck import run_check


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
