"""Immediate, readable feedback for the exercises in the lab notebooks.

A self-check runs the student's code against a reference and prints one line:
``[ok]``, ``[not yet]`` (the exercise still raises NotImplementedError), or
``[wrong]`` with a hint. It never raises, so a notebook keeps running.

Each notebook's checks live in their own module (:mod:`.tasks` for notebook 01,
:mod:`.conditioning` for 02, :mod:`.objective`, :mod:`.challenges`, :mod:`.meta`,
:mod:`.blackbox`) and return nothing: the printed line is the feedback (a returned
value would also be echoed by the notebook). These are learning aids for the lab
notebooks; homework is graded by :mod:`mtml_lib.grading`.

Example:
    >>> def attempt():
    ...     assert 1 + 1 == 2, "arithmetic is broken"
    >>> run_check("addition", attempt)
    [ok] addition
    True
"""

from __future__ import annotations

from collections.abc import Callable

from ..i18n import translate

__all__ = ["run_check"]


def run_check(title: str, check: Callable[[], None]) -> bool:
    """Run ``check()`` and print the verdict; return whether it passed.

    ``check`` signals a wrong answer by raising AssertionError with a hint.
    """
    try:
        check()
    except NotImplementedError:
        print(
            translate(
                "[not yet] {title}: replace `raise NotImplementedError()` with your code, then run "
                "this cell again."
            ).format(title=title)
        )
        return False
    except AssertionError as error:
        print(translate("[wrong] {title}: {hint}").format(title=title, hint=error))
        return False
    # Any bug in student code becomes feedback, not a crash.
    except Exception as error:  # noqa: BLE001
        raised = translate("your code raised {error}: {message}").format(
            error=type(error).__name__, message=error
        )
        print(translate("[wrong] {title}: {hint}").format(title=title, hint=raised))
        return False
    print(translate("[ok] {title}").format(title=title))
    return True
