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


def test_the_verdicts_speak_the_editions_language(capsys):
    from mtml_lib import i18n
    from mtml_lib.selfcheck import run_check

    def wrong():
        raise AssertionError("a hint")

    def stub():
        raise NotImplementedError()

    i18n.set_language("ko")
    try:
        run_check("Exercise 1", lambda: None)
        run_check("Exercise 1", wrong)
        run_check("Exercise 1", stub)
    finally:
        i18n.set_language("en")
    assert capsys.readouterr().out.splitlines() == [
        "[통과] Exercise 1",
        "[오답] Exercise 1: a hint",
        "[아직] Exercise 1: `raise NotImplementedError()`를 여러분의 코드로 바꾼 뒤 이 셀을 다시 "
        "실행하세요.",
    ]
